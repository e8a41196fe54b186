// Handler bookkeeping shared by the KV engines' pub/sub (internal to platform/store).
#pragma once

#include <functional>
#include <mutex>
#include <string_view>

#include "platform/store/kv.hpp"

namespace pitwall::store {

// One subscriber's handler. Delivery and cancellation take the same mutex, so once a Subscription is
// destroyed its handler is not running and never runs again. The mutex is recursive so that a handler
// may destroy its own Subscription.
class HandlerSlot {
  public:
    explicit HandlerSlot(Kv::MessageHandler handler) : handler_(std::move(handler)) {}

    // False when the handler threw: at-most-once delivery has nobody to report it to but the stats.
    bool deliver(std::string_view channel, std::string_view message) {
        std::lock_guard lock(mutex_);
        if (!active_) return true;
        try {
            handler_(channel, message);
            return true;
        } catch (...) {
            return false;
        }
    }

    void cancel() {
        std::lock_guard lock(mutex_);
        active_ = false;
    }

  private:
    std::recursive_mutex mutex_;
    bool active_ = true;
    Kv::MessageHandler handler_;
};

// Runs `on_end` when destroyed.
class CallbackSubscription final : public Subscription {
  public:
    explicit CallbackSubscription(std::function<void()> on_end) : on_end_(std::move(on_end)) {}
    ~CallbackSubscription() override { on_end_(); }
    CallbackSubscription(const CallbackSubscription&) = delete;
    CallbackSubscription& operator=(const CallbackSubscription&) = delete;

  private:
    std::function<void()> on_end_;
};

}  // namespace pitwall::store
