#include "platform/upstream/blocking_pool.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pitwall::upstream {
namespace {

using namespace std::chrono_literals;

TEST(BlockingPool, RunsTasksAndReturnsTheirResults) {
    BlockingPool pool(2, 16);
    EXPECT_EQ(pool.threads(), 2u);
    std::vector<std::future<int>> futures;
    for (int i = 0; i < 10; ++i) futures.push_back(std::move(*pool.submit([i] { return i * i; })));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(futures[static_cast<std::size_t>(i)].get(), i * i);

    auto text = pool.submit([] { return std::string("lap"); });
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(text->get(), "lap");
    auto nothing = pool.submit([] {});
    ASSERT_TRUE(nothing.ok());
    nothing->get();
}

TEST(BlockingPool, ExceptionsArriveThroughTheFuture) {
    BlockingPool pool(1, 4);
    auto failing = pool.submit([]() -> int { throw std::runtime_error("upstream exploded"); });
    ASSERT_TRUE(failing.ok());
    EXPECT_THROW(failing->get(), std::runtime_error);
    // The worker survives.
    EXPECT_EQ(pool.submit([] { return 7; })->get(), 7);
}

TEST(BlockingPool, AFullQueueIsBusyInsteadOfGrowing) {
    BlockingPool pool(1, 2);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<void> started;
    auto running = pool.submit([&, released] {
        started.set_value();
        released.wait();
        return 1;
    });
    started.get_future().wait();  // the only worker is busy now
    auto queued1 = pool.submit([] { return 2; });
    auto queued2 = pool.submit([] { return 3; });
    ASSERT_TRUE(queued1.ok());
    ASSERT_TRUE(queued2.ok());
    auto rejected = pool.submit([] { return 4; });
    ASSERT_FALSE(rejected.ok());
    EXPECT_EQ(rejected.error().code, "upstream.busy");
    EXPECT_EQ(rejected.error().kind, ErrorKind::unavailable);
    const auto busy = pool.stats();
    EXPECT_EQ(busy.queued, 2u);
    EXPECT_EQ(busy.running, 1u);
    EXPECT_EQ(busy.rejected, 1u);

    release.set_value();
    EXPECT_EQ(running->get(), 1);
    EXPECT_EQ(queued1->get(), 2);
    EXPECT_EQ(queued2->get(), 3);
    EXPECT_TRUE(pool.submit([] { return 5; }).ok());  // room again
}

TEST(BlockingPool, ShutdownRunsWhatIsQueuedThenRefusesNewWork) {
    std::atomic<int> ran{0};
    std::vector<std::future<void>> futures;
    {
        BlockingPool pool(1, 100);
        for (int i = 0; i < 50; ++i) futures.push_back(std::move(*pool.submit([&] { ++ran; })));
        pool.shutdown();
        EXPECT_EQ(ran.load(), 50);
        auto late = pool.submit([] {});
        ASSERT_FALSE(late.ok());
        EXPECT_EQ(late.error().code, "upstream.busy");
        EXPECT_EQ(pool.stats().completed, 50u);
    }
    for (auto& future : futures) future.get();
}

TEST(BlockingPool, ManyThreadsSubmitAtOnce) {
    BlockingPool pool(2, 10'000);
    std::atomic<int> sum{0};
    std::vector<std::thread> submitters;
    for (int t = 0; t < 8; ++t)
        submitters.emplace_back([&] {
            for (int i = 0; i < 200; ++i) ASSERT_TRUE(pool.submit([&] { sum += 1; }).ok());
        });
    for (auto& thread : submitters) thread.join();
    pool.shutdown();
    EXPECT_EQ(sum.load(), 1600);
}

}  // namespace
}  // namespace pitwall::upstream
