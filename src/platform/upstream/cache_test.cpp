#include "platform/upstream/cache.hpp"

#include <atomic>
#include <future>
#include <latch>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "platform/store/kv.hpp"
#include "support/servers.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::upstream {
namespace {

using namespace std::chrono_literals;

enum class Engine { embedded, redis };

void PrintTo(Engine engine, std::ostream* out) {
    *out << (engine == Engine::embedded ? "embedded" : "redis");
}
std::string engine_name(const ::testing::TestParamInfo<Engine>& info) {
    return ::testing::PrintToString(info.param);
}

template <typename T>
T must(Result<T> result) {
    if (!result) throw std::runtime_error(result.error().code + " (" + result.error().detail + ")");
    return std::move(result).value();
}
void must(Status status) {
    if (!status) throw std::runtime_error(status.error().code + " (" + status.error().detail + ")");
}

// The upstream: counts its calls, answers what the test says.
class Upstream {
  public:
    Fetcher answering(std::string value) {
        return [this, value] {
            ++calls;
            return Result<std::string>(value);
        };
    }
    Fetcher failing(ErrorKind kind, std::string code,
                    std::vector<std::pair<std::string, std::string>> args = {}) {
        return [this, kind, code, args] {
            ++calls;
            return Result<std::string>(Error(kind, code, args, "upstream said no"));
        };
    }
    std::atomic<int> calls{0};
};

const CachePolicy fresh_minute{60s, 0s, 0s};
const CachePolicy stale_ten_minutes{60s, 10min, 0s};
const CachePolicy negative_half_minute{60s, 0s, 30s};

class CacheTest : public ::testing::TestWithParam<Engine> {
  protected:
    void SetUp() override {
        if (!embedded()) test_support::shared_redis().flush_all();
        kv_ = open();
        cache_ = std::make_unique<Cache>(*kv_, clock_, options());
    }

    [[nodiscard]] bool embedded() const { return GetParam() == Engine::embedded; }

    // Another handle on the same store, as another server node would have.
    std::unique_ptr<store::Kv> open() {
        if (embedded()) return must(store::open_embedded_kv({(dir_.path() / "kv.db").string()}, clock_));
        return must(store::open_redis_kv({test_support::shared_redis().url()}, clock_));
    }
    static CacheOptions options() {
        CacheOptions o;
        // Waiting for another node polls through the ManualClock, which makes each step instant; a long
        // lock keeps that wait bounded by the other node's work, not by the clock racing ahead.
        o.lock_ttl = 10min;
        o.wait_step = 50ms;
        return o;
    }

    ManualClock clock_;
    test_support::TempDir dir_{"pitwall-cache"};
    std::unique_ptr<store::Kv> kv_;
    std::unique_ptr<Cache> cache_;
    Upstream upstream_;
};

TEST_P(CacheTest, AFreshValueIsServedWithoutCallingTheUpstream) {
    EXPECT_EQ(must(cache_->get("member:1", fresh_minute, upstream_.answering("Ece"))), "Ece");
    EXPECT_EQ(must(cache_->get("member:1", fresh_minute, upstream_.answering("other"))), "Ece");
    clock_.advance(59s);
    EXPECT_EQ(must(cache_->get("member:1", fresh_minute, upstream_.answering("other"))), "Ece");
    EXPECT_EQ(upstream_.calls, 1);
    const auto stats = cache_->stats();
    EXPECT_EQ(stats.misses, 1u);
    EXPECT_EQ(stats.hits, 2u);
    EXPECT_EQ(stats.upstream_calls, 1u);
    EXPECT_EQ(stats.saved(), 2u);
}

TEST_P(CacheTest, AnExpiredValueIsFetchedAgain) {
    EXPECT_EQ(must(cache_->get("k", fresh_minute, upstream_.answering("v1"))), "v1");
    clock_.advance(60s);
    EXPECT_EQ(must(cache_->get("k", fresh_minute, upstream_.answering("v2"))), "v2");
    EXPECT_EQ(must(cache_->get("k", fresh_minute, upstream_.answering("v3"))), "v2");
    EXPECT_EQ(upstream_.calls, 2);
    EXPECT_EQ(cache_->stats().misses, 2u);
}

TEST_P(CacheTest, AStaleValueIsServedAndRefreshedOnce) {
    cache_->set_inline_refresh(true);
    EXPECT_EQ(must(cache_->get("k", stale_ten_minutes, upstream_.answering("v1"))), "v1");
    clock_.advance(61s);
    EXPECT_EQ(must(cache_->get("k", stale_ten_minutes, upstream_.answering("v2"))), "v1");  // stale, now
    EXPECT_EQ(upstream_.calls, 2);                                                          // refreshed
    EXPECT_EQ(must(cache_->get("k", stale_ten_minutes, upstream_.answering("v3"))), "v2");  // fresh again
    const auto stats = cache_->stats();
    EXPECT_EQ(stats.stale_hits, 1u);
    EXPECT_EQ(stats.refreshes, 1u);
    EXPECT_EQ(stats.hits, 1u);
    EXPECT_EQ(stats.upstream_calls, 2u);
}

TEST_P(CacheTest, ConcurrentStaleReadsStartOneBackgroundRefresh) {
    EXPECT_EQ(must(cache_->get("k", stale_ten_minutes, upstream_.answering("v1"))), "v1");
    clock_.advance(2min);

    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> refresh_calls{0};
    const Fetcher slow = [&, released] {
        ++refresh_calls;
        released.wait();
        return Result<std::string>("v2");
    };
    std::vector<std::thread> readers;
    std::atomic<int> stale_answers{0};
    for (int i = 0; i < 20; ++i)
        readers.emplace_back([&] {
            if (must(cache_->get("k", stale_ten_minutes, slow)) == "v1") ++stale_answers;
        });
    for (auto& reader : readers) reader.join();  // none waited for the refresh
    EXPECT_EQ(stale_answers, 20);
    release.set_value();
    cache_->wait_refreshes();
    EXPECT_EQ(refresh_calls, 1);
    EXPECT_EQ(must(cache_->get("k", stale_ten_minutes, upstream_.answering("v3"))), "v2");
    const auto stats = cache_->stats();
    EXPECT_EQ(stats.stale_hits, 20u);
    EXPECT_EQ(stats.refreshes, 1u);
}

TEST_P(CacheTest, AFailedRefreshKeepsServingStaleUntilStaleForEnds) {
    cache_->set_inline_refresh(true);
    EXPECT_EQ(must(cache_->get("k", stale_ten_minutes, upstream_.answering("v1"))), "v1");
    clock_.advance(5min);
    const auto down = upstream_.failing(ErrorKind::unavailable, "http_client.unreachable");
    EXPECT_EQ(must(cache_->get("k", stale_ten_minutes, down)), "v1");
    EXPECT_EQ(must(cache_->get("k", stale_ten_minutes, down)), "v1");  // tries again, still stale
    clock_.advance(6min);                                              // 11 min old: past ttl + stale_for
    const auto gone = cache_->get("k", stale_ten_minutes, down);
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().code, "http_client.unreachable");
    EXPECT_EQ(upstream_.calls, 4);
    EXPECT_EQ(cache_->stats().fetch_errors, 3u);
}

TEST_P(CacheTest, NotFoundIsCachedForTheNegativeTtl) {
    const auto missing = upstream_.failing(ErrorKind::not_found, "iracing.no_member", {{"id", "42"}});
    for (int i = 0; i < 3; ++i) {
        const auto answer = cache_->get("member:42", negative_half_minute, missing);
        ASSERT_FALSE(answer.ok());
        EXPECT_EQ(answer.error().kind, ErrorKind::not_found);
        EXPECT_EQ(answer.error().code, "iracing.no_member");
        EXPECT_EQ(answer.error().arg("id"), "42");
    }
    EXPECT_EQ(upstream_.calls, 1);
    EXPECT_EQ(cache_->stats().negative_hits, 2u);

    clock_.advance(30s);
    EXPECT_EQ(must(cache_->get("member:42", negative_half_minute, upstream_.answering("Ece"))), "Ece");
    EXPECT_EQ(upstream_.calls, 2);

    // Without a negative ttl, not_found is not cached.
    EXPECT_FALSE(cache_->get("member:43", fresh_minute, missing).ok());
    EXPECT_FALSE(cache_->get("member:43", fresh_minute, missing).ok());
    EXPECT_EQ(upstream_.calls, 4);
}

TEST_P(CacheTest, OtherErrorsAreNeverCached) {
    const auto limited = upstream_.failing(ErrorKind::rate_limited, "upstream.rate_limited");
    for (int i = 0; i < 3; ++i) {
        const auto answer = cache_->get("k", negative_half_minute, limited);
        ASSERT_FALSE(answer.ok());
        EXPECT_EQ(answer.error().code, "upstream.rate_limited");
    }
    EXPECT_EQ(upstream_.calls, 3);
    EXPECT_EQ(must(cache_->get("k", negative_half_minute, upstream_.answering("v"))), "v");
    const auto stats = cache_->stats();
    EXPECT_EQ(stats.fetch_errors, 3u);
    EXPECT_EQ(stats.negative_hits, 0u);
}

TEST_P(CacheTest, AHundredConcurrentMissesMakeOneUpstreamCall) {
    constexpr int callers = 100;
    std::atomic<int> calls{0};
    const Fetcher slow = [&] {
        ++calls;
        std::this_thread::sleep_for(50ms);  // not time passing: keeps the call open while others arrive
        return Result<std::string>("season 2024 s1");
    };
    std::latch start(callers);
    std::vector<std::string> answers(callers);
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i)
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            answers[static_cast<std::size_t>(i)] = must(cache_->get("series", fresh_minute, slow));
        });
    for (auto& thread : threads) thread.join();

    EXPECT_EQ(calls, 1);
    for (const auto& answer : answers) EXPECT_EQ(answer, "season 2024 s1");
    EXPECT_EQ(clock_.slept_ms(), 0);  // the others waited in-process, none had to poll the store
    const auto stats = cache_->stats();
    EXPECT_EQ(stats.hits + stats.misses, 100u);
    EXPECT_EQ(stats.upstream_calls, 1u);
    EXPECT_EQ(stats.misses - stats.coalesced, 1u);
    EXPECT_EQ(stats.saved(), 99u);
}

TEST_P(CacheTest, TwoNodesMissingTogetherMakeOneUpstreamCall) {
    auto other_kv = open();
    Cache other(*other_kv, clock_, options());

    std::promise<void> started;
    std::thread first([&] {
        const Fetcher slow = [&] {
            started.set_value();
            // Slow until the other node is seen waiting (its polls sleep on the clock).
            const auto deadline = std::chrono::steady_clock::now() + 10s;
            while (clock_.slept_ms() == 0 && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(1ms);
            return Result<std::string>("from the first node");
        };
        EXPECT_EQ(must(cache_->get("laps", fresh_minute, slow)), "from the first node");
    });
    started.get_future().wait();
    EXPECT_EQ(must(other.get("laps", fresh_minute, upstream_.answering("from the second node"))),
              "from the first node");
    first.join();

    EXPECT_EQ(upstream_.calls, 0);
    EXPECT_GT(clock_.slept_ms(), 0);
    const auto stats = other.stats();
    EXPECT_EQ(stats.misses, 1u);
    EXPECT_EQ(stats.coalesced, 1u);
    EXPECT_EQ(stats.upstream_calls, 0u);
    EXPECT_EQ(cache_->stats().upstream_calls, 1u);
    EXPECT_EQ(must(kv_->get("pw:lock:fetch:laps")), std::nullopt);  // released
}

TEST_P(CacheTest, ABackgroundRefreshRunsOnceAcrossNodes) {
    auto other_kv = open();
    Cache other(*other_kv, clock_, options());
    EXPECT_EQ(must(cache_->get("k", stale_ten_minutes, upstream_.answering("v1"))), "v1");
    clock_.advance(2min);
    // The other node holds the fetch lock (it is refreshing): this node serves stale and skips.
    ASSERT_TRUE(must(kv_->set_if_absent("pw:lock:fetch:k", "other node", 10min)));
    cache_->set_inline_refresh(true);
    EXPECT_EQ(must(cache_->get("k", stale_ten_minutes, upstream_.answering("v2"))), "v1");
    EXPECT_EQ(upstream_.calls, 1);
    EXPECT_EQ(cache_->stats().refreshes, 0u);
    must(kv_->del("pw:lock:fetch:k"));

    other.set_inline_refresh(true);
    EXPECT_EQ(must(other.get("k", stale_ten_minutes, upstream_.answering("v2"))), "v1");
    EXPECT_EQ(upstream_.calls, 2);
    EXPECT_EQ(must(cache_->get("k", stale_ten_minutes, upstream_.answering("v3"))), "v2");  // shared
}

TEST_P(CacheTest, PutAndInvalidate) {
    ASSERT_TRUE(cache_->put("k", "stored by a job", fresh_minute).ok());
    EXPECT_EQ(must(cache_->get("k", fresh_minute, upstream_.answering("fetched"))), "stored by a job");
    EXPECT_EQ(upstream_.calls, 0);
    ASSERT_TRUE(cache_->invalidate("k").ok());
    EXPECT_EQ(must(cache_->get("k", fresh_minute, upstream_.answering("fetched"))), "fetched");
    EXPECT_EQ(upstream_.calls, 1);
    EXPECT_TRUE(must(kv_->get("pw:cache:k")).has_value());  // under the prefix
}

TEST_P(CacheTest, ValuesKeepEveryByte) {
    constexpr char raw[] = "a|1|o|\0\xff\n end";
    const std::string binary(raw, sizeof(raw) - 1);
    EXPECT_EQ(must(cache_->get("bin", fresh_minute, upstream_.answering(binary))), binary);
    EXPECT_EQ(must(cache_->get("bin", fresh_minute, upstream_.answering("x"))), binary);
    EXPECT_EQ(must(cache_->get("empty", fresh_minute, upstream_.answering(""))), "");
    EXPECT_EQ(must(cache_->get("empty", fresh_minute, upstream_.answering("x"))), "");
    EXPECT_EQ(upstream_.calls, 2);
    // Something else under the key is treated as a miss, then replaced.
    must(kv_->set("pw:cache:junk", "not an envelope"));
    EXPECT_EQ(must(cache_->get("junk", fresh_minute, upstream_.answering("v"))), "v");
    EXPECT_EQ(must(cache_->get("junk", fresh_minute, upstream_.answering("w"))), "v");
}

TEST_P(CacheTest, AThrowingFetcherLeavesNothingBehind) {
    const Fetcher throwing = []() -> Result<std::string> { throw std::runtime_error("bug"); };
    EXPECT_THROW((void)cache_->get("k", fresh_minute, throwing), std::runtime_error);
    EXPECT_EQ(must(cache_->get("k", fresh_minute, upstream_.answering("v"))), "v");  // no stuck flight
    EXPECT_EQ(must(kv_->get("pw:lock:fetch:k")), std::nullopt);
}

TEST_P(CacheTest, StatsAddUp) {
    cache_->set_inline_refresh(true);
    const auto missing = upstream_.failing(ErrorKind::not_found, "iracing.no_member");
    for (int round = 0; round < 5; ++round) {
        for (int key = 0; key < 4; ++key) {
            const auto name = "k" + std::to_string(key);
            (void)cache_->get(name, stale_ten_minutes, upstream_.answering("v"));
            (void)cache_->get("gone" + name, negative_half_minute, missing);
            (void)cache_->get("gone" + name, negative_half_minute, missing);
        }
        clock_.advance(45s);
    }
    const auto stats = cache_->stats();
    EXPECT_EQ(stats.hits + stats.stale_hits + stats.negative_hits + stats.misses, 60u);
    EXPECT_EQ(stats.upstream_calls, stats.misses - stats.coalesced + stats.refreshes);
    EXPECT_EQ(stats.upstream_calls, static_cast<std::uint64_t>(upstream_.calls.load()));
    EXPECT_EQ(stats.saved(), 60u - (stats.misses - stats.coalesced));
    EXPECT_GT(stats.hits, 0u);
    EXPECT_GT(stats.stale_hits, 0u);
    EXPECT_GT(stats.negative_hits, 0u);
    EXPECT_EQ(stats.errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(Engines, CacheTest, ::testing::Values(Engine::embedded, Engine::redis), engine_name);

// A store that is down: every call fails.
class DownKv final : public store::Kv {
  public:
    static Error down() { return Error(ErrorKind::unavailable, "store.unavailable", {}, "down"); }
    Result<std::optional<std::string>> get(std::string_view) override { return down(); }
    Status set(std::string_view, std::string_view, Ttl) override { return down(); }
    Result<bool> set_if_absent(std::string_view, std::string_view, Ttl) override { return down(); }
    Result<bool> compare_and_set(std::string_view, std::string_view, std::string_view, Ttl) override {
        return down();
    }
    Result<bool> compare_and_delete(std::string_view, std::string_view) override { return down(); }
    Result<bool> del(std::string_view) override { return down(); }
    Result<std::int64_t> incr(std::string_view, std::int64_t) override { return down(); }
    Result<bool> expire(std::string_view, Ttl) override { return down(); }
    Status publish(std::string_view, std::string_view) override { return down(); }
    Result<std::unique_ptr<store::Subscription>> subscribe(std::string_view, MessageHandler) override {
        return down();
    }
    Result<std::string> push(std::string_view, std::string_view, Ttl) override { return down(); }
    Result<std::vector<store::QueueItem>> claim(std::string_view, std::size_t, Ttl) override {
        return down();
    }
    Result<bool> ack(std::string_view, std::string_view) override { return down(); }
    Result<bool> nack(std::string_view, std::string_view, Ttl) override { return down(); }
    Result<store::QueueCounts> queue_counts(std::string_view) override { return down(); }
    Status ping() override { return down(); }
    store::KvStats stats() const override { return {}; }
    std::string_view engine() const override { return "down"; }
};

TEST(CacheWithoutStore, AStoreOutageFallsThroughToTheUpstream) {
    ManualClock clock;
    DownKv kv;
    Cache cache(kv, clock);
    Upstream upstream;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(must(cache.get("k", fresh_minute, upstream.answering("v"))), "v");
    EXPECT_EQ(upstream.calls, 3);
    const auto stats = cache.stats();
    EXPECT_EQ(stats.errors, 3u);
    EXPECT_EQ(stats.misses, 3u);
    EXPECT_EQ(stats.upstream_calls, 3u);
    EXPECT_FALSE(cache.put("k", "v", fresh_minute).ok());  // a job writing is told

    // Still single-flight within the process.
    std::atomic<int> calls{0};
    const Fetcher slow = [&] {
        ++calls;
        std::this_thread::sleep_for(50ms);
        return Result<std::string>("v");
    };
    std::latch start(10);
    std::vector<std::thread> threads;
    for (int i = 0; i < 10; ++i)
        threads.emplace_back([&] {
            start.arrive_and_wait();
            EXPECT_EQ(must(cache.get("shared", fresh_minute, slow)), "v");
        });
    for (auto& thread : threads) thread.join();
    EXPECT_GE(calls, 1);
    EXPECT_LT(calls, 10);
}

}  // namespace
}  // namespace pitwall::upstream
