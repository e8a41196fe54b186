#include "platform/upstream/rate_governor.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

namespace pitwall::upstream {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr milliseconds max_step{250};
// Reset times arrive in whole seconds: a header within this of the known reset names the same window.
constexpr milliseconds same_window_tolerance{1000};

std::int64_t ms_between(SystemTime from, SystemTime to) {
    return duration_cast<milliseconds>(to - from).count();
}

}  // namespace

RateGovernor::RateGovernor(const Clock& clock, GovernorOptions options)
    : clock_(clock), options_(std::move(options)) {
    options_.limit = std::max<std::int64_t>(1, options_.limit);
    options_.window = std::max(options_.window, milliseconds(1));
    options_.reserve_fraction = std::clamp(options_.reserve_fraction, 0.0, 1.0);
    options_.max_wait =
        std::clamp(options_.max_wait, milliseconds::zero(), milliseconds(std::chrono::hours(24)));
    limit_ = options_.limit;
    tokens_ = static_cast<double>(limit_);
    refilled_at_ = clock_.now();
}

void RateGovernor::refresh(SystemTime now) const {
    while (!grants_.empty() && grants_.front() + options_.window <= now) grants_.pop_front();
    if (options_.refill == Refill::continuous) {
        if (now > refilled_at_) {
            const double per_ms = static_cast<double>(limit_) / static_cast<double>(options_.window.count());
            tokens_ = std::min(static_cast<double>(limit_),
                               tokens_ + static_cast<double>(ms_between(refilled_at_, now)) * per_ms);
            refilled_at_ = now;
        }
        return;
    }
    if (window_known_ && now >= reset_at_) {
        const auto windows = ms_between(reset_at_, now) / options_.window.count() + 1;
        reset_at_ += options_.window * windows;
        remaining_ = limit_;
    }
}

std::int64_t RateGovernor::budget() const {
    std::int64_t left = 0;
    if (options_.refill == Refill::continuous)
        left = static_cast<std::int64_t>(std::floor(tokens_));
    else if (window_known_)
        left = remaining_;
    else
        left = limit_ - static_cast<std::int64_t>(grants_.size());
    return std::max<std::int64_t>(0, left);
}

std::int64_t RateGovernor::reserve() const {
    const auto kept =
        static_cast<std::int64_t>(std::floor(static_cast<double>(limit_) * options_.reserve_fraction));
    return std::clamp<std::int64_t>(kept, 0, limit_);
}

bool RateGovernor::eligible(Ticket ticket, Priority priority, SystemTime now) const {
    if (now < blocked_until_) return false;
    if (priority == Priority::interactive) return waiting_interactive_.front() == ticket && budget() >= 1;
    return waiting_interactive_.empty() && waiting_background_.front() == ticket && budget() > reserve();
}

SystemTime RateGovernor::ready_at(Priority priority, SystemTime now) const {
    const std::int64_t need = priority == Priority::interactive ? 1 : reserve() + 1;
    if (need > limit_) return SystemTime::max();  // background work with a reserve of everything
    SystemTime ready = now;
    if (budget() < need) {
        if (options_.refill == Refill::continuous) {
            const double missing = static_cast<double>(need) - tokens_;
            const double wait_ms = std::ceil(missing * static_cast<double>(options_.window.count()) /
                                             static_cast<double>(limit_));
            ready = now + milliseconds(static_cast<std::int64_t>(wait_ms));
        } else if (window_known_) {
            ready = reset_at_;
        } else {
            // The oldest grants must leave the window until `need` slots are free.
            const auto must_leave = static_cast<std::int64_t>(grants_.size()) - (limit_ - need);
            ready = grants_[static_cast<std::size_t>(must_leave - 1)] + options_.window;
        }
    }
    return std::max(ready, blocked_until_);
}

void RateGovernor::grant(Priority priority, SystemTime now) {
    grants_.push_back(now);
    if (options_.refill == Refill::continuous)
        tokens_ -= 1;
    else if (window_known_)
        --remaining_;
    ++(priority == Priority::interactive ? granted_interactive_ : granted_background_);
}

void RateGovernor::leave(Ticket ticket, Priority priority) {
    auto& queue = priority == Priority::interactive ? waiting_interactive_ : waiting_background_;
    queue.erase(std::find(queue.begin(), queue.end(), ticket));
}

Status RateGovernor::acquire(Priority priority, std::optional<SystemTime> deadline) {
    std::unique_lock lock(mutex_);
    const SystemTime start = clock_.now();
    SystemTime give_up_at = start + options_.max_wait;
    if (deadline && *deadline < give_up_at) give_up_at = *deadline;

    const Ticket ticket = next_ticket_++;
    (priority == Priority::interactive ? waiting_interactive_ : waiting_background_).push_back(ticket);
    bool waited = false;
    for (;;) {
        const SystemTime now = clock_.now();
        refresh(now);
        if (eligible(ticket, priority, now)) {
            grant(priority, now);
            leave(ticket, priority);
            if (waited)
                waited_ms_ += static_cast<std::uint64_t>(std::max<std::int64_t>(0, ms_between(start, now)));
            changed_.notify_all();  // the next in line may go as well
            return {};
        }
        const SystemTime ready = ready_at(priority, now);
        if (ready > give_up_at || now >= give_up_at) {
            leave(ticket, priority);
            changed_.notify_all();  // a head that gives up lets the others move
            const auto wait_ms =
                ready == SystemTime::max() ? options_.window.count() : ms_between(now, ready);
            const auto seconds = std::max<std::int64_t>(1, (wait_ms + 999) / 1000);
            return Error(ErrorKind::rate_limited, "upstream.rate_limited",
                         {{"upstream", options_.name}, {"seconds", std::to_string(seconds)}},
                         options_.name + ": the request budget allows the next request in " +
                             std::to_string(wait_ms) + " ms, later than the caller waits");
        }
        if (!waited) {
            waited = true;
            ++waits_;
        }
        if (ready > now && !timekeeper_) {
            // This waiter lets time pass for everyone; the others wait until it wakes.
            timekeeper_ = true;
            const auto step = std::clamp(duration_cast<milliseconds>(ready - now), milliseconds(1), max_step);
            lock.unlock();
            clock_.sleep_for(step);
            lock.lock();
            timekeeper_ = false;
            changed_.notify_all();
        } else {
            changed_.wait(lock);
        }
    }
}

void RateGovernor::observe_headers(std::optional<std::int64_t> limit, std::optional<std::int64_t> remaining,
                                   std::optional<std::int64_t> reset_epoch_s) {
    std::lock_guard lock(mutex_);
    const SystemTime now = clock_.now();
    refresh(now);
    if (remaining) remaining = std::max<std::int64_t>(0, *remaining);
    if (limit && *limit > 0) {
        limit_ = *limit;
        tokens_ = std::min(tokens_, static_cast<double>(limit_));
        remaining_ = std::min(remaining_, limit_);
    }
    std::optional<SystemTime> reset;
    if (reset_epoch_s) reset = SystemTime(std::chrono::seconds(*reset_epoch_s));

    if (options_.refill == Refill::continuous) {
        if (remaining) tokens_ = std::min(tokens_, static_cast<double>(*remaining));
        if (remaining == 0 && reset && *reset > now) blocked_until_ = std::max(blocked_until_, *reset);
    } else if (reset) {
        if (*reset > now) {  // otherwise the response describes a window that has ended
            const std::int64_t estimate = budget();
            if (window_known_ && *reset > reset_at_ + same_window_tolerance)
                remaining_ =
                    std::min(remaining.value_or(limit_), limit_);  // a window we have not rolled into
            else
                remaining_ = remaining ? std::min(estimate, *remaining) : estimate;
            reset_at_ = *reset;
            window_known_ = true;
        }
    } else if (remaining) {
        const std::int64_t estimate = budget();
        if (!window_known_) {
            // No reset given: the current window ends at most one window from now.
            reset_at_ = now + options_.window;
            window_known_ = true;
        }
        remaining_ = std::min(estimate, *remaining);
    }
    changed_.notify_all();
}

void RateGovernor::observe_throttled(SystemTime until) {
    std::lock_guard lock(mutex_);
    refresh(clock_.now());
    blocked_until_ = std::max(blocked_until_, until);
    if (options_.refill == Refill::continuous) tokens_ = std::min(tokens_, 0.0);
    ++throttled_;
    changed_.notify_all();
}

GovernorStats RateGovernor::stats() const {
    std::lock_guard lock(mutex_);
    const SystemTime now = clock_.now();
    refresh(now);
    GovernorStats stats;
    stats.granted_interactive = granted_interactive_;
    stats.granted_background = granted_background_;
    stats.waits = waits_;
    stats.waited_ms = waited_ms_;
    stats.throttled = throttled_;
    stats.remaining = now < blocked_until_ ? 0 : budget();
    stats.limit = limit_;
    if (options_.refill == Refill::continuous) {
        const double missing = static_cast<double>(limit_) - tokens_;
        stats.reset_at =
            now + milliseconds(static_cast<std::int64_t>(std::ceil(
                      missing * static_cast<double>(options_.window.count()) / static_cast<double>(limit_))));
    } else if (window_known_) {
        stats.reset_at = reset_at_;
    } else {
        stats.reset_at = grants_.empty() ? now : grants_.front() + options_.window;
    }
    stats.reset_at = std::max(stats.reset_at, blocked_until_);
    return stats;
}

}  // namespace pitwall::upstream
