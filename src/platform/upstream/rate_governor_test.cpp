#include "platform/upstream/rate_governor.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace pitwall::upstream {
namespace {

using namespace std::chrono_literals;

std::int64_t epoch_s(SystemTime t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// A clock whose sleep_for() lets time pass only as far as the test allows: the test can hold waiting
// callers at a chosen moment. now() never moves otherwise.
class GatedClock final : public Clock {
  public:
    [[nodiscard]] SystemTime now() const override { return SystemTime(Millis(ms_.load())); }
    void sleep_for(Millis duration) const override {
        std::unique_lock lock(mutex_);
        ++sleepers_;
        changed_.notify_all();
        changed_.wait(lock, [&] { return allowance_ms_ >= duration.count(); });
        --sleepers_;
        allowance_ms_ -= duration.count();
        ms_ += duration.count();
    }
    void allow(Millis more) {
        std::lock_guard lock(mutex_);
        allowance_ms_ += more.count();
        changed_.notify_all();
    }

  private:
    mutable std::atomic<std::int64_t> ms_{1'700'000'000'000};
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    mutable std::int64_t allowance_ms_ = 0;
    mutable int sleepers_ = 0;
};

// Polls (in real time, bounded) until the condition holds.
bool eventually(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

GovernorOptions options(std::int64_t limit, Millis window, Refill refill = Refill::window) {
    GovernorOptions o;
    o.name = "iracing";
    o.limit = limit;
    o.window = window;
    o.refill = refill;
    return o;
}

// iRacing's side: `limit` requests per fixed window, windows starting at `origin` + k * window.
class FakeIracing {
  public:
    struct Answer {
        std::int64_t limit, remaining, reset_s;
    };
    FakeIracing(std::int64_t limit, Millis window, SystemTime origin)
        : limit_(limit), window_(window), origin_(origin) {}

    Answer request(SystemTime now, Priority priority) {
        std::lock_guard lock(mutex_);
        const auto index = (now - origin_) / window_;
        auto& count = counts_[index];
        ++count;
        if (priority == Priority::background) ++background_[index];
        const auto reset = origin_ + window_ * (index + 1);
        return {limit_, std::max<std::int64_t>(0, limit_ - count), epoch_s(reset)};
    }
    std::map<std::int64_t, std::int64_t> counts() const {
        std::lock_guard lock(mutex_);
        return counts_;
    }
    std::map<std::int64_t, std::int64_t> background() const {
        std::lock_guard lock(mutex_);
        return background_;
    }

  private:
    std::int64_t limit_;
    Millis window_;
    SystemTime origin_;
    mutable std::mutex mutex_;
    std::map<std::int64_t, std::int64_t> counts_;
    std::map<std::int64_t, std::int64_t> background_;
};

struct Grant {
    SystemTime at;
    Priority priority;
};

// `threads` callers hammer the governor concurrently; time moves 250 ms between rounds, only when every
// caller has arrived at the barrier, so a grant's time is exact. max_wait is 0: acquire() never sleeps.
std::vector<Grant> run_rounds(RateGovernor& governor, ManualClock& clock, int threads, int rounds,
                              const std::function<void(SystemTime, Priority)>& on_grant = {}) {
    std::mutex mutex;
    std::vector<Grant> grants;
    std::barrier sync(threads, [&]() noexcept { clock.advance(250ms); });
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
            const auto priority = t % 3 == 0 ? Priority::interactive : Priority::background;
            for (int round = 0; round < rounds; ++round) {
                for (int attempt = 0; attempt < 3; ++attempt) {
                    if (!governor.acquire(priority).ok()) break;
                    const auto now = clock.now();
                    if (on_grant) on_grant(now, priority);
                    std::lock_guard lock(mutex);
                    grants.push_back({now, priority});
                }
                sync.arrive_and_wait();
            }
        });
    for (auto& worker : workers) worker.join();
    return grants;
}

TEST(RateGovernor, HeadersKeepEveryUpstreamWindowWithinTheLimit) {
    ManualClock clock;
    auto o = options(20, 10s);
    o.max_wait = 0ms;
    RateGovernor governor(clock, o);
    // The upstream's windows do not start when ours would: they end 7 s after the start.
    FakeIracing upstream(20, 10s, clock.now() - 3s);
    const auto grants = run_rounds(governor, clock, 6, 40 * 20, [&](SystemTime now, Priority priority) {
        const auto answer = upstream.request(now, priority);
        governor.observe_headers(answer.limit, answer.remaining, answer.reset_s);
    });

    const auto counts = upstream.counts();
    ASSERT_GE(counts.size(), 20u);
    for (const auto& [window, count] : counts) EXPECT_LE(count, 20) << "window " << window;
    for (const auto& [window, count] : upstream.background()) EXPECT_LE(count, 20 - 4) << "window " << window;
    EXPECT_GE(grants.size(), 20u * 19);  // the budget is used, not wasted
    const auto stats = governor.stats();
    EXPECT_EQ(stats.granted_interactive + stats.granted_background, grants.size());
    EXPECT_GT(stats.granted_interactive, 0u);
    EXPECT_GT(stats.granted_background, 0u);
}

TEST(RateGovernor, WithoutHeadersNoWindowLongSpanHoldsMoreThanTheLimit) {
    ManualClock clock;
    auto o = options(20, 10s);
    o.max_wait = 0ms;
    RateGovernor governor(clock, o);
    auto grants = run_rounds(governor, clock, 6, 40 * 20);
    std::sort(grants.begin(), grants.end(), [](const Grant& a, const Grant& b) { return a.at < b.at; });
    ASSERT_GE(grants.size(), 20u * 19);
    // Whatever the upstream's window alignment, none of its windows can see more than the limit.
    for (std::size_t i = 0, j = 0; i < grants.size(); ++i) {
        while (j < grants.size() && grants[j].at < grants[i].at + 10s) ++j;
        ASSERT_LE(j - i, 20u) << "from grant " << i;
    }
}

TEST(RateGovernor, TokenBucketNeverGrantsMoreThanItHolds) {
    ManualClock clock;
    auto o = options(20, 10s, Refill::continuous);
    o.name = "garage61";
    o.max_wait = 0ms;
    RateGovernor governor(clock, o);
    auto grants = run_rounds(governor, clock, 6, 40 * 10);
    std::sort(grants.begin(), grants.end(), [](const Grant& a, const Grant& b) { return a.at < b.at; });
    ASSERT_GE(grants.size(), 20u * 10);
    // A full bucket of 20 plus 2 tokens a second: the most any span [a, b] may hold.
    for (std::size_t i = 0; i < grants.size(); ++i)
        for (std::size_t j = i; j < grants.size(); ++j) {
            const auto seconds = std::chrono::duration<double>(grants[j].at - grants[i].at).count();
            ASSERT_LE(static_cast<double>(j - i + 1), 20 + seconds * 2 + 1e-9) << i << ".." << j;
        }
}

TEST(RateGovernor, ConcurrentWaitersAreAllServedAtTheAllowedRate) {
    ManualClock clock;
    auto o = options(10, 10s);
    o.max_wait = 1h;
    RateGovernor governor(clock, o);
    const auto start = clock.now();
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i)
                if (!governor.acquire(t % 2 ? Priority::interactive : Priority::background).ok()) ++failures;
        });
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures.load(), 0);
    const auto stats = governor.stats();
    EXPECT_EQ(stats.granted_interactive, 100u);
    EXPECT_EQ(stats.granted_background, 100u);
    EXPECT_GT(stats.waits, 0u);
    // 200 requests at 10 per 10 s: the last can go no earlier than 190 s after the first.
    EXPECT_GE(clock.now() - start, 190s);
}

TEST(RateGovernor, HeadersLowerTheBudgetAndNeverRaiseItWithinAWindow) {
    ManualClock clock;
    RateGovernor governor(clock, options(240, 60s));
    EXPECT_EQ(governor.stats().remaining, 240);
    const auto reset = clock.now() + 30s;
    governor.observe_headers(240, 10, epoch_s(reset));
    auto stats = governor.stats();
    EXPECT_EQ(stats.remaining, 10);
    EXPECT_EQ(stats.reset_at, reset);

    governor.observe_headers(240, 200, epoch_s(reset));  // same window: the local count stands
    EXPECT_EQ(governor.stats().remaining, 10);
    governor.observe_headers(240, 0, epoch_s(clock.now() - 5s));  // a window that has ended: ignored
    EXPECT_EQ(governor.stats().remaining, 10);

    for (int i = 0; i < 10; ++i) ASSERT_TRUE(governor.acquire(Priority::interactive, clock.now()).ok());
    EXPECT_EQ(governor.stats().remaining, 0);
    EXPECT_FALSE(governor.acquire(Priority::interactive, clock.now()).ok());

    clock.set_ms(std::chrono::duration_cast<Millis>(reset.time_since_epoch()).count());  // the window rolls
    EXPECT_EQ(governor.stats().remaining, 240);
    EXPECT_EQ(governor.stats().reset_at, reset + 60s);
    governor.observe_headers(240, 100, epoch_s(reset + 60s));
    EXPECT_EQ(governor.stats().remaining, 100);
    governor.observe_headers(120, std::nullopt, std::nullopt);  // a smaller limit caps the budget
    EXPECT_EQ(governor.stats().limit, 120);
    governor.observe_headers(120, 90, std::nullopt);
    EXPECT_EQ(governor.stats().remaining, 90);
}

TEST(RateGovernor, BackgroundStopsAtTheReserveWhileInteractiveProceeds) {
    ManualClock clock;
    RateGovernor governor(clock, options(10, 60s));  // reserve: 20 % of 10 = 2
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(governor.acquire(Priority::background, clock.now()).ok()) << i;
    const auto refused = governor.acquire(Priority::background, clock.now());
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "upstream.rate_limited");
    EXPECT_EQ(governor.stats().remaining, 2);
    EXPECT_TRUE(governor.acquire(Priority::interactive, clock.now()).ok());
    EXPECT_TRUE(governor.acquire(Priority::interactive, clock.now()).ok());
    EXPECT_FALSE(governor.acquire(Priority::interactive, clock.now()).ok());
    const auto stats = governor.stats();
    EXPECT_EQ(stats.granted_background, 8u);
    EXPECT_EQ(stats.granted_interactive, 2u);
    EXPECT_EQ(clock.slept_ms(), 0);

    // Once the window has passed, background work goes again.
    EXPECT_TRUE(governor.acquire(Priority::background).ok());
    EXPECT_GE(clock.slept_ms(), 60'000);
}

TEST(RateGovernor, AWaitingInteractiveCallerGoesBeforeEarlierBackgroundCallers) {
    GatedClock clock;
    RateGovernor governor(clock, options(10, 60s));  // reserve 2
    const auto start = clock.now();
    governor.observe_throttled(start + 5s);                 // everybody waits 5 s
    governor.observe_headers(10, 3, epoch_s(start + 60s));  // then one request above the reserve

    std::thread background1([&] { EXPECT_TRUE(governor.acquire(Priority::background).ok()); });
    ASSERT_TRUE(eventually([&] { return governor.stats().waits == 1; }));
    std::thread background2([&] { EXPECT_TRUE(governor.acquire(Priority::background).ok()); });
    ASSERT_TRUE(eventually([&] { return governor.stats().waits == 2; }));
    std::thread interactive([&] { EXPECT_TRUE(governor.acquire(Priority::interactive).ok()); });
    ASSERT_TRUE(eventually([&] { return governor.stats().waits == 3; }));

    clock.allow(5s);  // up to the end of the 429, not to the window's reset
    interactive.join();
    auto stats = governor.stats();
    EXPECT_EQ(stats.granted_interactive, 1u);
    EXPECT_EQ(stats.granted_background, 0u);  // the budget left is the reserve
    EXPECT_EQ(clock.now(), start + 5s);

    clock.allow(1h);
    background1.join();
    background2.join();
    stats = governor.stats();
    EXPECT_EQ(stats.granted_background, 2u);
    EXPECT_GE(clock.now(), start + 60s);
}

TEST(RateGovernor, AThrottleBlocksEveryoneUntilItsTime) {
    ManualClock clock;
    RateGovernor governor(clock, options(240, 60s));
    const auto until = clock.now() + 30s;
    governor.observe_throttled(until);
    auto stats = governor.stats();
    EXPECT_EQ(stats.throttled, 1u);
    EXPECT_EQ(stats.remaining, 0);
    EXPECT_FALSE(governor.acquire(Priority::interactive, clock.now() + 10s).ok());
    EXPECT_EQ(clock.slept_ms(), 0);  // refused at once: the wait was known to be too long

    ASSERT_TRUE(governor.acquire(Priority::interactive).ok());
    EXPECT_GE(clock.now(), until);
    EXPECT_LT(clock.now(), until + 250ms);
    stats = governor.stats();
    EXPECT_EQ(stats.waits, 1u);
    EXPECT_GE(stats.waited_ms, 30'000u);
}

TEST(RateGovernor, AWaitLongerThanMaxWaitOrTheDeadlineIsRefusedAtOnce) {
    ManualClock clock;
    auto o = options(2, 60s);
    o.max_wait = 10s;
    RateGovernor governor(clock, o);
    ASSERT_TRUE(governor.acquire(Priority::interactive).ok());
    ASSERT_TRUE(governor.acquire(Priority::interactive).ok());
    const auto refused = governor.acquire(Priority::interactive);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().kind, ErrorKind::rate_limited);
    EXPECT_EQ(refused.error().code, "upstream.rate_limited");
    EXPECT_EQ(refused.error().arg("upstream"), "iracing");
    EXPECT_EQ(refused.error().arg("seconds"), "60");
    EXPECT_EQ(clock.slept_ms(), 0);

    clock.advance(55s);  // 5 s to go: within max_wait, but not within a 1 s deadline
    EXPECT_FALSE(governor.acquire(Priority::interactive, clock.now() + 1s).ok());
    EXPECT_EQ(clock.slept_ms(), 0);
    EXPECT_TRUE(governor.acquire(Priority::interactive).ok());
    EXPECT_EQ(clock.slept_ms(), 5000);

    auto all_reserved = options(10, 60s);
    all_reserved.reserve_fraction = 1.0;
    RateGovernor interactive_only(clock, all_reserved);
    EXPECT_FALSE(interactive_only.acquire(Priority::background).ok());
    EXPECT_TRUE(interactive_only.acquire(Priority::interactive).ok());
}

TEST(RateGovernor, TheTokenBucketRefillsContinuously) {
    ManualClock clock;
    auto o = options(60, 60s, Refill::continuous);  // one token a second
    o.name = "garage61";
    RateGovernor governor(clock, o);
    for (int i = 0; i < 60; ++i) ASSERT_TRUE(governor.acquire(Priority::interactive, clock.now()).ok()) << i;
    EXPECT_EQ(governor.stats().remaining, 0);
    EXPECT_FALSE(governor.acquire(Priority::interactive, clock.now()).ok());

    clock.advance(1s);
    EXPECT_EQ(governor.stats().remaining, 1);
    clock.advance(500ms);
    EXPECT_EQ(governor.stats().remaining, 1);
    EXPECT_TRUE(governor.acquire(Priority::interactive, clock.now()).ok());
    EXPECT_EQ(governor.stats().remaining, 0);
    EXPECT_TRUE(governor.acquire(Priority::interactive).ok());  // half a token away
    EXPECT_EQ(clock.slept_ms(), 500);

    clock.advance(30s);
    EXPECT_EQ(governor.stats().remaining, 30);
    clock.advance(1h);
    EXPECT_EQ(governor.stats().remaining, 60);  // never above the bucket's size

    // A 429 empties the bucket.
    governor.observe_throttled(clock.now() + 2s);
    EXPECT_EQ(governor.stats().remaining, 0);
    EXPECT_TRUE(governor.acquire(Priority::interactive).ok());
    EXPECT_EQ(governor.stats().throttled, 1u);
}

}  // namespace
}  // namespace pitwall::upstream
