// Keeps one upstream API's request budget (iRacing /data, Garage61) so a sync never locks the team
// out: every request to that upstream asks acquire() first and reports what the upstream answered.
//
// Two budget models, chosen per upstream:
//   Refill::window      iRacing: `limit` requests per fixed window; each response's x-ratelimit-limit,
//                       -remaining and -reset (epoch seconds) headers are authoritative: remaining becomes
//                       min(local count, header) and the window ends at the header's reset. Until the
//                       first headers arrive the window's alignment is unknown, so no `window`-long span
//                       ever holds more than `limit` grants (counted locally).
//   Refill::continuous  Garage61: no rate headers; a token bucket of `limit` tokens refilled
//                       continuously at `limit` per `window`.
// Background work stops when the budget is down to the reserve (reserve_fraction of the limit); that
// share is kept for interactive requests. Waiting interactive callers are served before waiting
// background ones; within a priority callers are served in arrival order. A 429 stops everyone until
// the time the upstream named.
//
// Waiting goes through Clock::sleep_for in steps of at most 250 ms, taken by one waiting thread at a
// time while the others wait on a condition variable; with a ManualClock every wait is instant.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace pitwall::upstream {

enum class Priority { interactive, background };

enum class Refill {
    window,      // fixed windows announced by x-ratelimit-* headers (iRacing)
    continuous,  // token bucket without headers (Garage61)
};

struct GovernorOptions {
    std::string name;  // the upstream, for errors and logs ("iracing", "garage61")
    std::int64_t limit = 240;
    std::chrono::milliseconds window{60000};
    // Share of each window that background work may not use: kept for interactive requests.
    double reserve_fraction = 0.2;
    // acquire() fails instead of waiting longer than this.
    std::chrono::milliseconds max_wait{120000};
    Refill refill = Refill::window;
};

struct GovernorStats {
    std::uint64_t granted_interactive = 0;
    std::uint64_t granted_background = 0;
    std::uint64_t waits = 0;      // acquire() calls that had to wait
    std::uint64_t waited_ms = 0;  // clock time those calls waited, summed
    std::uint64_t throttled = 0;  // 429s reported through observe_throttled()
    std::int64_t remaining = 0;   // requests that may be sent now (reserve included)
    std::int64_t limit = 0;
    SystemTime reset_at{};  // when the budget is next refilled (continuous: when it is full again)
};

class RateGovernor {
  public:
    RateGovernor(const Clock& clock, GovernorOptions options);
    RateGovernor(const RateGovernor&) = delete;
    RateGovernor& operator=(const RateGovernor&) = delete;

    // Blocks until a request may be sent, then counts it as sent. Fails with upstream.rate_limited
    // (kind rate_limited, args upstream and seconds) as soon as the wait would end after max_wait or
    // after `deadline`, whichever comes first; a failed acquire() counts nothing.
    [[nodiscard]] Status acquire(Priority priority, std::optional<SystemTime> deadline = std::nullopt);

    // What a response said; absent headers are nullopt. Headers describing a window that has already
    // ended are ignored. A header never raises the budget of the current window above the local count.
    void observe_headers(std::optional<std::int64_t> limit, std::optional<std::int64_t> remaining,
                         std::optional<std::int64_t> reset_epoch_s);
    // A 429 arrived: nobody is granted before `until`.
    void observe_throttled(SystemTime until);

    [[nodiscard]] GovernorStats stats() const;
    [[nodiscard]] const GovernorOptions& options() const { return options_; }

  private:
    using Ticket = std::uint64_t;

    // Applies the passage of time: rolls windows, refills the bucket, forgets old grants.
    void refresh(SystemTime now) const;
    [[nodiscard]] std::int64_t budget() const;
    [[nodiscard]] std::int64_t reserve() const;
    [[nodiscard]] bool eligible(Ticket ticket, Priority priority, SystemTime now) const;
    // The earliest time the budget allows a request of this priority (queue order aside).
    [[nodiscard]] SystemTime ready_at(Priority priority, SystemTime now) const;
    void grant(Priority priority, SystemTime now);
    void leave(Ticket ticket, Priority priority);

    const Clock& clock_;
    GovernorOptions options_;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::int64_t limit_;
    // State that only follows the clock is mutable so that stats() can bring it up to date.
    mutable std::deque<SystemTime> grants_;  // grant times within the last window
    // Refill::window, once headers told where the window ends.
    bool window_known_ = false;
    mutable SystemTime reset_at_{};
    mutable std::int64_t remaining_ = 0;
    // Refill::continuous.
    mutable double tokens_ = 0;
    mutable SystemTime refilled_at_{};

    SystemTime blocked_until_{};
    std::deque<Ticket> waiting_interactive_;
    std::deque<Ticket> waiting_background_;
    Ticket next_ticket_ = 0;
    bool timekeeper_ = false;  // one waiter sleeps on the clock, the others wait for it

    std::uint64_t granted_interactive_ = 0;
    std::uint64_t granted_background_ = 0;
    std::uint64_t waits_ = 0;
    std::uint64_t waited_ms_ = 0;
    std::uint64_t throttled_ = 0;
};

}  // namespace pitwall::upstream
