// A small bounded thread pool for blocking upstream work (libcurl transfers through auth::HttpClient,
// cache refreshes), so that it never runs on an I/O thread. The queue is bounded: when it is full,
// submit() answers upstream.busy instead of buffering without end.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace pitwall::upstream {

struct BlockingPoolStats {
    std::size_t queued = 0;  // submitted, not started
    std::size_t running = 0;
    std::uint64_t completed = 0;
    std::uint64_t rejected = 0;  // submit() answered upstream.busy
};

class BlockingPool {
  public:
    // `threads` workers and at most `max_queue` tasks waiting for one (both at least 1).
    BlockingPool(std::size_t threads, std::size_t max_queue);
    // Runs what is already queued, then joins the workers.
    ~BlockingPool();
    BlockingPool(const BlockingPool&) = delete;
    BlockingPool& operator=(const BlockingPool&) = delete;

    // Queues `task`; its result (or exception) arrives through the future. Fails with upstream.busy
    // (kind unavailable) when max_queue tasks are already waiting or the pool is shutting down.
    template <class F>
    [[nodiscard]] Result<std::future<std::invoke_result_t<std::decay_t<F>>>> submit(F&& task) {
        using R = std::invoke_result_t<std::decay_t<F>>;
        auto packaged = std::make_shared<std::packaged_task<R()>>(std::forward<F>(task));
        auto future = packaged->get_future();
        if (auto queued = enqueue([packaged] { (*packaged)(); }); !queued) return std::move(queued).error();
        return future;
    }

    // Stops taking tasks, runs the queued ones and joins the workers. Called by the destructor; never
    // from one of the pool's own tasks.
    void shutdown();

    [[nodiscard]] BlockingPoolStats stats() const;
    [[nodiscard]] std::size_t threads() const { return workers_.size(); }

  private:
    [[nodiscard]] Status enqueue(std::function<void()> task);
    void work();

    const std::size_t max_queue_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::size_t running_ = 0;
    std::uint64_t completed_ = 0;
    std::uint64_t rejected_ = 0;
    std::vector<std::thread> workers_;
};

}  // namespace pitwall::upstream
