// Liveness of a bridge connection (docs/bridge.md, "Heartbeats"), on an injected clock.
//
// The side that heartbeats (the bot, every heartbeat_ms from hello) calls due()/sent() and, when the
// heartbeat_ack arrives, acked(); missed() turns true when `max_missed` heartbeats in a row went
// unanswered (the oldest has waited that many intervals): the connection is dead even if TCP has not
// noticed, so the bot closes it and reconnects after reconnect_delay(). The side that answers (the
// server) calls heard() on every frame and drops a connection that stays silent() as long.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/clock.hpp"

namespace pitwall::bridge {

class HeartbeatMonitor {
  public:
    static constexpr int default_max_missed = 2;

    // The clock must outlive the monitor; interval and max_missed are at least 1. Starts as if a
    // frame was just heard and a heartbeat just acked: the first heartbeat is due one interval from now.
    HeartbeatMonitor(const Clock& clock, Millis interval, int max_missed = default_max_missed);

    [[nodiscard]] Millis interval() const { return interval_; }

    // ---- the heartbeating side ----
    [[nodiscard]] bool due() const { return until_due() == Millis::zero(); }
    [[nodiscard]] Millis until_due() const;
    void sent();
    void acked();
    [[nodiscard]] bool missed() const;

    // ---- the answering side ----
    void heard();
    [[nodiscard]] bool silent() const;

  private:
    const Clock& clock_;
    Millis interval_;
    std::int64_t limit_ms_;  // max_missed intervals
    std::int64_t next_due_ms_;
    std::int64_t awaiting_since_ms_ = -1;  // when the unanswered heartbeat went out; -1: none
    std::int64_t last_heard_ms_;
};

// How long to wait before reconnect attempt `attempt` (0 for the first): exponential back-off from
// `base`, capped at `cap`, with "equal jitter": half of it fixed, the other half scaled by `jitter`, a
// uniform random number in [0, 1) that the caller draws (so tests choose it). Many bots that lost the
// server together do not come back in lockstep.
[[nodiscard]] Millis reconnect_delay(unsigned attempt, double jitter, Millis base = std::chrono::seconds(1),
                                     Millis cap = std::chrono::seconds(60));

}  // namespace pitwall::bridge
