#include "platform/store/kv.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "platform/store/sql_test_fixture.hpp"

namespace pitwall::store {
namespace {

using namespace std::chrono_literals;
using Ttl = Kv::Ttl;

enum class Engine { embedded, redis };

void PrintTo(Engine engine, std::ostream* out) {
    *out << (engine == Engine::embedded ? "embedded" : "redis");
}
std::string engine_name(const ::testing::TestParamInfo<Engine>& info) {
    return ::testing::PrintToString(info.param);
}

// Collects pub/sub deliveries; waits for them with a bound instead of sleeping.
class Inbox {
  public:
    Kv::MessageHandler handler() {
        return [this](std::string_view channel, std::string_view message) {
            {
                std::lock_guard lock(mutex_);
                messages_.emplace_back(channel, message);
            }
            arrived_.notify_all();
        };
    }
    std::vector<std::pair<std::string, std::string>> wait_for(std::size_t count) {
        std::unique_lock lock(mutex_);
        arrived_.wait_for(lock, 5s, [&] { return messages_.size() >= count; });
        return messages_;
    }
    std::vector<std::pair<std::string, std::string>> messages() {
        std::lock_guard lock(mutex_);
        return messages_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::vector<std::pair<std::string, std::string>> messages_;
};

class KvTest : public ::testing::TestWithParam<Engine> {
  protected:
    void SetUp() override {
        if (!embedded()) test_support::shared_redis().flush_all();
        kv_ = open();
    }

    [[nodiscard]] bool embedded() const { return GetParam() == Engine::embedded; }

    // Another handle on the same store (Redis: another client, as another server node would be).
    std::unique_ptr<Kv> open() {
        if (embedded()) return must(open_embedded_kv({(dir_.path() / "kv.db").string()}, clock_));
        return must(open_redis_kv({test_support::shared_redis().url()}, clock_));
    }

    // Lets a key's TTL run out. Embedded expiry follows the injected clock; Redis expires keys on its
    // own clock, so there a short real TTL is polled until the key is gone (bounded).
    Ttl short_ttl() const { return embedded() ? 1000ms : 200ms; }
    void let_expire(std::string_view key) {
        if (embedded()) {
            clock_.advance(short_ttl());
            return;
        }
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (std::chrono::steady_clock::now() < deadline && must(kv_->get(key)).has_value())
            std::this_thread::sleep_for(10ms);
    }

    std::optional<std::string> get(std::string_view key) { return must(kv_->get(key)); }

    ManualClock clock_;
    test_support::TempDir dir_{"pitwall-kv"};
    std::unique_ptr<Kv> kv_;
};

TEST_P(KvTest, GetSetDelete) {
    EXPECT_EQ(get("missing"), std::nullopt);
    must(kv_->set("k", "v1"));
    EXPECT_EQ(get("k"), "v1");
    must(kv_->set("k", "v2"));
    EXPECT_EQ(get("k"), "v2");

    const std::string binary("\0\xff\x01 value\0", 10);
    const std::string binary_key("key\0\xfe", 5);
    must(kv_->set(binary_key, binary));
    EXPECT_EQ(get(binary_key), binary);
    EXPECT_EQ(get("key"), std::nullopt);
    must(kv_->set("empty", ""));
    EXPECT_EQ(get("empty"), "");

    EXPECT_TRUE(must(kv_->del("k")));
    EXPECT_FALSE(must(kv_->del("k")));
    EXPECT_EQ(get("k"), std::nullopt);
    EXPECT_EQ(kv_->engine(), embedded() ? "embedded" : "redis");
    must(kv_->ping());
}

TEST_P(KvTest, ValueExpiresAfterItsTtl) {
    must(kv_->set("session", "data", short_ttl()));
    must(kv_->set("forever", "data"));
    if (embedded()) {
        clock_.advance(short_ttl() - 1ms);
        EXPECT_EQ(get("session"), "data");
        clock_.advance(1ms);
    } else {
        let_expire("session");
    }
    EXPECT_EQ(get("session"), std::nullopt);
    EXPECT_FALSE(must(kv_->del("session")));  // an expired key does not exist
    EXPECT_EQ(get("forever"), "data");
}

TEST_P(KvTest, SetWithoutTtlClearsTheExpiry) {
    must(kv_->set("k", "short", short_ttl()));
    must(kv_->set("k", "long"));
    must(kv_->set("probe", "x", short_ttl()));
    let_expire("probe");
    EXPECT_EQ(get("k"), "long");
}

TEST_P(KvTest, SetIfAbsentIsALock) {
    EXPECT_TRUE(must(kv_->set_if_absent("lock", "owner-a", short_ttl())));
    EXPECT_FALSE(must(kv_->set_if_absent("lock", "owner-b", short_ttl())));
    EXPECT_EQ(get("lock"), "owner-a");
    let_expire("lock");
    EXPECT_TRUE(must(kv_->set_if_absent("lock", "owner-b", short_ttl())));
    EXPECT_EQ(get("lock"), "owner-b");

    std::atomic<int> winners = 0;
    std::atomic<int> failures = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            auto won = kv_->set_if_absent("race", "thread-" + std::to_string(t), 60s);
            if (!won)
                ++failures;
            else if (*won)
                ++winners;
        });
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(winners, 1);
}

TEST_P(KvTest, CompareAndSet) {
    EXPECT_FALSE(must(kv_->compare_and_set("lock", "a", "b", 60s)));
    EXPECT_EQ(get("lock"), std::nullopt);
    must(kv_->set("lock", "a"));
    EXPECT_FALSE(must(kv_->compare_and_set("lock", "not-a", "b", 60s)));
    EXPECT_EQ(get("lock"), "a");
    EXPECT_TRUE(must(kv_->compare_and_set("lock", "a", "b", short_ttl())));
    EXPECT_EQ(get("lock"), "b");
    let_expire("lock");  // the new TTL applies
    EXPECT_EQ(get("lock"), std::nullopt);
    EXPECT_FALSE(must(kv_->compare_and_set("lock", "b", "c", 60s)));
}

TEST_P(KvTest, CompareAndDelete) {
    EXPECT_FALSE(must(kv_->compare_and_delete("lock", "a")));
    must(kv_->set("lock", "a"));
    EXPECT_FALSE(must(kv_->compare_and_delete("lock", "b")));
    EXPECT_EQ(get("lock"), "a");
    EXPECT_TRUE(must(kv_->compare_and_delete("lock", "a")));
    EXPECT_EQ(get("lock"), std::nullopt);
}

TEST_P(KvTest, IncrIsAtomic) {
    EXPECT_EQ(must(kv_->incr("n")), 1);
    EXPECT_EQ(must(kv_->incr("n", 5)), 6);
    EXPECT_EQ(must(kv_->incr("n", -10)), -4);
    EXPECT_EQ(get("n"), "-4");

    std::atomic<int> failures = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i)
                if (!kv_->incr("n").ok()) ++failures;
        });
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(get("n"), "7996");

    must(kv_->set("text", "abc"));
    const auto refused = kv_->incr("text");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "store.query_failed");
    EXPECT_EQ(get("text"), "abc");
}

TEST_P(KvTest, IncrKeepsTheExpiry) {
    must(kv_->set("window", "5", short_ttl()));
    EXPECT_EQ(must(kv_->incr("window")), 6);
    let_expire("window");
    EXPECT_EQ(get("window"), std::nullopt);
    EXPECT_EQ(must(kv_->incr("window")), 1);  // counts afresh once expired
}

TEST_P(KvTest, ExpireSetsAndClearsAnExpiry) {
    EXPECT_FALSE(must(kv_->expire("missing", 60s)));
    must(kv_->set("k", "v"));
    must(kv_->set("kept", "v", short_ttl()));
    EXPECT_TRUE(must(kv_->expire("k", short_ttl())));
    EXPECT_TRUE(must(kv_->expire("kept", Ttl::zero())));
    let_expire("k");
    EXPECT_EQ(get("k"), std::nullopt);
    EXPECT_EQ(get("kept"), "v");
    EXPECT_FALSE(must(kv_->expire("k", 60s)));
}

TEST_P(KvTest, PublishReachesEverySubscriberOfTheChannel) {
    auto publisher = embedded() ? nullptr : open();  // Redis: from another client
    Kv& out = publisher ? *publisher : *kv_;
    Inbox news_a;
    Inbox news_b;
    Inbox other;
    auto subscription_a = must(kv_->subscribe("news", news_a.handler()));
    auto subscription_b = must(kv_->subscribe("news", news_b.handler()));
    auto subscription_other = must(kv_->subscribe("other", other.handler()));

    const std::string binary("race\0start\xff", 11);
    must(out.publish("news", binary));
    const auto received = news_a.wait_for(1);
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].first, "news");
    EXPECT_EQ(received[0].second, binary);
    EXPECT_EQ(news_b.wait_for(1).size(), 1u);

    // Once a subscription is gone its handler never runs: b still gets the next message, a does not.
    subscription_a.reset();
    must(out.publish("news", "second"));
    EXPECT_EQ(news_b.wait_for(2).size(), 2u);
    EXPECT_EQ(news_a.messages().size(), 1u);

    must(out.publish("other", "hello"));
    EXPECT_EQ(other.wait_for(1).size(), 1u);
    EXPECT_EQ(news_b.messages().size(), 2u);
}

TEST_P(KvTest, HandlerMayEndItsOwnSubscription) {
    Inbox inbox;
    Inbox witness;
    std::unique_ptr<Subscription> own;
    auto record = inbox.handler();
    own = must(kv_->subscribe("ch", [&](std::string_view channel, std::string_view message) {
        record(channel, message);
        own.reset();
    }));
    auto watching = must(kv_->subscribe("ch", witness.handler()));
    must(kv_->publish("ch", "one"));
    ASSERT_EQ(witness.wait_for(1).size(), 1u);
    must(kv_->publish("ch", "two"));
    ASSERT_EQ(witness.wait_for(2).size(), 2u);
    EXPECT_EQ(inbox.messages().size(), 1u);
}

TEST_P(KvTest, QueueClaimAckNack) {
    const std::string first = must(kv_->push("dm", "one"));
    const std::string second = must(kv_->push("dm", "two"));
    const std::string third = must(kv_->push("dm", "three"));
    EXPECT_NE(first, second);
    EXPECT_EQ(must(kv_->queue_counts("dm")).ready, 3);

    auto claimed = must(kv_->claim("dm", 2, 30s));
    ASSERT_EQ(claimed.size(), 2u);
    EXPECT_EQ(claimed[0].id, first);
    EXPECT_EQ(claimed[0].payload, "one");
    EXPECT_EQ(claimed[0].attempts, 1);
    EXPECT_EQ(claimed[1].id, second);
    const auto counts = must(kv_->queue_counts("dm"));
    EXPECT_EQ(counts.ready, 1);
    EXPECT_EQ(counts.delayed, 2);

    // Claimed items stay invisible until their visibility ends.
    auto rest = must(kv_->claim("dm", 10, 30s));
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0].payload, "three");
    EXPECT_TRUE(must(kv_->claim("dm", 10, 30s)).empty());
    clock_.advance(29s);
    EXPECT_TRUE(must(kv_->claim("dm", 10, 30s)).empty());

    clock_.advance(1s);
    auto again = must(kv_->claim("dm", 10, 30s));
    ASSERT_EQ(again.size(), 3u);
    EXPECT_EQ(again[0].id, first);
    EXPECT_EQ(again[0].attempts, 2);
    EXPECT_EQ(again[1].id, second);
    EXPECT_EQ(again[2].id, third);
    EXPECT_EQ(again[2].attempts, 2);

    EXPECT_TRUE(must(kv_->ack("dm", first)));
    EXPECT_FALSE(must(kv_->ack("dm", first)));
    EXPECT_TRUE(must(kv_->nack("dm", second, 5s)));
    EXPECT_TRUE(must(kv_->claim("dm", 10, 30s)).empty());
    clock_.advance(5s);
    auto retried = must(kv_->claim("dm", 10, 30s));
    ASSERT_EQ(retried.size(), 1u);
    EXPECT_EQ(retried[0].id, second);
    EXPECT_EQ(retried[0].attempts, 3);

    EXPECT_FALSE(must(kv_->ack("dm", "no-such-id")));
    EXPECT_FALSE(must(kv_->nack("dm", "12345", 0s)));
    EXPECT_FALSE(must(kv_->ack("other-queue", second)));
    const auto end = must(kv_->queue_counts("dm"));
    EXPECT_EQ(end.ready, 0);
    EXPECT_EQ(end.delayed, 2);
}

TEST_P(KvTest, DelayedPushBecomesVisibleLater) {
    must(kv_->push("jobs", "later", 10s));
    const auto counts = must(kv_->queue_counts("jobs"));
    EXPECT_EQ(counts.ready, 0);
    EXPECT_EQ(counts.delayed, 1);
    EXPECT_TRUE(must(kv_->claim("jobs", 1, 30s)).empty());
    clock_.advance(10s);
    auto claimed = must(kv_->claim("jobs", 1, 30s));
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].payload, "later");
    EXPECT_TRUE(must(kv_->claim("other", 1, 30s)).empty());
}

TEST_P(KvTest, QueueSurvivesReopening) {
    const std::string payload("payload\0with nul", 16);
    const std::string id = must(kv_->push("dm", payload));
    ASSERT_EQ(must(kv_->claim("dm", 1, 30s)).size(), 1u);
    kv_.reset();

    kv_ = open();
    clock_.advance(30s);
    auto claimed = must(kv_->claim("dm", 1, 30s));
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].id, id);
    EXPECT_EQ(claimed[0].payload, payload);
    EXPECT_EQ(claimed[0].attempts, 2);
    EXPECT_TRUE(must(kv_->ack("dm", id)));
}

TEST_P(KvTest, CountsOperations) {
    const KvStats before = kv_->stats();
    must(kv_->set("k", "v"));
    (void)get("k");
    must(kv_->set("text", "abc"));
    EXPECT_FALSE(kv_->incr("text").ok());
    const KvStats after = kv_->stats();
    EXPECT_EQ(after.reads - before.reads, 1u);
    EXPECT_EQ(after.writes - before.writes, 3u);
    EXPECT_EQ(after.errors - before.errors, 1u);
}

INSTANTIATE_TEST_SUITE_P(Engines, KvTest, ::testing::Values(Engine::embedded, Engine::redis), engine_name);

TEST(EmbeddedKvTest, ExpiredKeysAreSweptByLaterWrites) {
    ManualClock clock;
    test_support::TempDir dir("pitwall-kv");
    const auto path = (dir.path() / "kv.db").string();
    auto kv = must(open_embedded_kv({path}, clock));
    for (int i = 0; i < 300; ++i) must(kv->set("old:" + std::to_string(i), "v", 1s));
    clock.advance(2s);
    // A sweep runs at least once every 256 writes with a TTL.
    for (int i = 0; i < 256; ++i) must(kv->set("new:" + std::to_string(i), "v", 1h));

    auto db = must(open_sqlite({path}));
    constexpr Statement expired{"test.expired", "SELECT COUNT(*) FROM kv WHERE expires_at <= $1"};
    EXPECT_EQ(must(db->execute(expired, {clock.now_ms()})).first().int64(0), 0);
}

TEST(RedisKvTest, UnreachableServerIsUnavailable) {
    ManualClock clock;
    const auto kv =
        open_redis_kv({"redis://127.0.0.1:" + std::to_string(test_support::free_tcp_port())}, clock);
    ASSERT_FALSE(kv.ok());
    EXPECT_EQ(kv.error().code, "store.unavailable");
    EXPECT_EQ(kv.error().kind, ErrorKind::unavailable);
}

TEST(RedisKvTest, RefusesBadUrlsWithoutEchoingThePassword) {
    ManualClock clock;
    for (const char* url :
         {"http://127.0.0.1:6379", "redis://", "redis://host:0", "redis://host:65536", "redis://host/db",
          "redis://password-only@host", "redis://:hunter2@host:port", "redis://[::1"}) {
        const auto kv = open_redis_kv({url}, clock);
        ASSERT_FALSE(kv.ok()) << url;
        EXPECT_EQ(kv.error().code, "store.bad_url") << url;
        EXPECT_EQ(kv.error().kind, ErrorKind::invalid_input) << url;
        EXPECT_EQ(kv.error().detail.find("hunter2"), std::string::npos) << kv.error().detail;
    }
}

TEST(RedisKvTest, SelectsTheDatabaseFromTheUrl) {
    ManualClock clock;
    auto& server = test_support::shared_redis();
    server.flush_all();
    auto db0 = must(open_redis_kv({server.url()}, clock));
    auto db3 = must(open_redis_kv({server.url(3)}, clock));
    must(db3->set("k", "in three"));
    EXPECT_EQ(must(db3->get("k")), "in three");
    EXPECT_EQ(must(db0->get("k")), std::nullopt);
}

TEST(RedisKvTest, AuthenticatesWithThePasswordFromTheUrl) {
    ManualClock clock;
    test_support::RedisServer server({"--requirepass", "s3cret:@"});
    const std::string address = "127.0.0.1:" + std::to_string(server.port());
    auto kv = must(open_redis_kv({"redis://:s3cret%3A%40@" + address}, clock));
    must(kv->set("k", "v"));
    EXPECT_EQ(must(kv->get("k")), "v");

    const auto refused = open_redis_kv({"redis://:wrong@" + address}, clock);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "store.unavailable");
    const auto anonymous = open_redis_kv({"redis://" + address}, clock);
    ASSERT_TRUE(anonymous.ok());  // connecting works; commands are refused
    EXPECT_FALSE((*anonymous)->get("k").ok());
}

TEST(RedisKvTest, RecoversAfterARestart) {
    ManualClock clock;
    test_support::RedisServer server;
    auto kv = must(open_redis_kv({server.url(), 2, 500}, clock));
    Inbox inbox;
    auto subscription = must(kv->subscribe("events", inbox.handler()));
    must(kv->set("k", "v"));

    server.stop();
    const auto down = kv->get("k");
    ASSERT_FALSE(down.ok());
    EXPECT_EQ(down.error().code, "store.unavailable");
    EXPECT_FALSE(kv->publish("events", "lost").ok());

    server.start();  // same port, empty (no persistence)
    EXPECT_EQ(must(kv->get("k")), std::nullopt);
    must(kv->set("k", "again"));
    EXPECT_EQ(must(kv->get("k")), "again");

    // The subscriber reconnects and subscribes again on its own; publish until it is back.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (inbox.messages().empty() && std::chrono::steady_clock::now() < deadline) {
        must(kv->publish("events", "back"));
        inbox.wait_for(1);
    }
    ASSERT_FALSE(inbox.messages().empty());
    EXPECT_EQ(inbox.messages()[0].second, "back");
}

}  // namespace
}  // namespace pitwall::store
