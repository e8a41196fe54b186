#include "platform/upstream/blocking_pool.hpp"

#include <algorithm>
#include <string>

namespace pitwall::upstream {

BlockingPool::BlockingPool(std::size_t threads, std::size_t max_queue)
    : max_queue_(std::max<std::size_t>(1, max_queue)) {
    threads = std::max<std::size_t>(1, threads);
    workers_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

BlockingPool::~BlockingPool() {
    shutdown();
}

void BlockingPool::shutdown() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& worker : workers_)
        if (worker.joinable()) worker.join();
}

Status BlockingPool::enqueue(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= max_queue_) {
            ++rejected_;
            return Error(ErrorKind::unavailable, "upstream.busy", {},
                         stopping_
                             ? "the blocking pool is shutting down"
                             : "the blocking pool's queue is full (" + std::to_string(max_queue_) + ")");
        }
        queue_.push_back(std::move(task));
    }
    ready_.notify_one();
    return {};
}

void BlockingPool::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left to run
        auto task = std::move(queue_.front());
        queue_.pop_front();
        ++running_;
        lock.unlock();
        task();  // a packaged_task: exceptions go to its future
        lock.lock();
        --running_;
        ++completed_;
    }
}

BlockingPoolStats BlockingPool::stats() const {
    std::lock_guard lock(mutex_);
    return {queue_.size(), running_, completed_, rejected_};
}

}  // namespace pitwall::upstream
