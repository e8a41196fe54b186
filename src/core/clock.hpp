// Time is injected: everything that waits, expires or schedules takes a Clock so that
// tests move time forward instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace pitwall {

using SystemTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
  public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual SystemTime now() const = 0;

    [[nodiscard]] std::int64_t now_ms() const {
        return std::chrono::duration_cast<Millis>(now().time_since_epoch()).count();
    }

    // Waits until `duration` has passed on this clock. Rate limiters and retry back-offs wait through
    // the clock, so a ManualClock turns their waits into instant, deterministic jumps.
    virtual void sleep_for(Millis duration) const = 0;
};

class SystemClock final : public Clock {
  public:
    [[nodiscard]] SystemTime now() const override { return std::chrono::system_clock::now(); }
    void sleep_for(Millis duration) const override {
        if (duration > Millis::zero()) std::this_thread::sleep_for(duration);
    }
    static const SystemClock& instance() {
        static const SystemClock clock;
        return clock;
    }
};

// A clock tests move by hand. sleep_for() moves it forward instead of waiting, and counts the wait.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(std::int64_t start_ms = 1'700'000'000'000) : ms_(start_ms) {}
    [[nodiscard]] SystemTime now() const override { return SystemTime(Millis(ms_.load())); }
    void sleep_for(Millis duration) const override {
        if (duration <= Millis::zero()) return;
        ms_ += duration.count();
        slept_ms_ += duration.count();
    }
    [[nodiscard]] std::int64_t slept_ms() const { return slept_ms_.load(); }
    void advance(Millis by) { ms_ += by.count(); }
    void set_ms(std::int64_t ms) { ms_ = ms; }

  private:
    mutable std::atomic<std::int64_t> ms_;
    mutable std::atomic<std::int64_t> slept_ms_{0};
};

}  // namespace pitwall
