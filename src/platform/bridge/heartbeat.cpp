#include "platform/bridge/heartbeat.hpp"

#include <algorithm>

namespace pitwall::bridge {

HeartbeatMonitor::HeartbeatMonitor(const Clock& clock, Millis interval, int max_missed)
    : clock_(clock),
      interval_(std::max(interval, Millis(1))),
      limit_ms_(interval_.count() * std::max(max_missed, 1)),
      next_due_ms_(clock.now_ms() + interval_.count()),
      last_heard_ms_(clock.now_ms()) {}

Millis HeartbeatMonitor::until_due() const {
    return Millis(std::max<std::int64_t>(0, next_due_ms_ - clock_.now_ms()));
}

void HeartbeatMonitor::sent() {
    const auto now = clock_.now_ms();
    next_due_ms_ = now + interval_.count();
    // The oldest unanswered heartbeat counts: sending another does not excuse the first.
    if (awaiting_since_ms_ < 0) awaiting_since_ms_ = now;
}

void HeartbeatMonitor::acked() {
    awaiting_since_ms_ = -1;
}

bool HeartbeatMonitor::missed() const {
    return awaiting_since_ms_ >= 0 && clock_.now_ms() - awaiting_since_ms_ >= limit_ms_;
}

void HeartbeatMonitor::heard() {
    last_heard_ms_ = clock_.now_ms();
}

bool HeartbeatMonitor::silent() const {
    return clock_.now_ms() - last_heard_ms_ > limit_ms_;
}

Millis reconnect_delay(unsigned attempt, double jitter, Millis base, Millis cap) {
    base = std::max(base, Millis(1));
    cap = std::max(cap, base);
    Millis step = base;
    for (unsigned i = 0; i < attempt && step < cap; ++i) step = step > cap / 2 ? cap : step * 2;
    if (!(jitter >= 0.0)) jitter = 0.0;  // also NaN
    if (jitter > 1.0) jitter = 1.0;
    const auto half = step.count() / 2;
    const auto jittered = std::min(half, static_cast<std::int64_t>(static_cast<double>(half) * jitter));
    return Millis(step.count() - half + jittered);
}

}  // namespace pitwall::bridge
