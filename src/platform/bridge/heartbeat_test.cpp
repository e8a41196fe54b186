#include "platform/bridge/heartbeat.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace pitwall::bridge {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Heartbeat, DueEveryIntervalAndMissedWhenTheAckNeverComes) {
    ManualClock clock;
    HeartbeatMonitor monitor(clock, milliseconds(1000));
    EXPECT_FALSE(monitor.due());
    EXPECT_EQ(monitor.until_due(), milliseconds(1000));
    clock.advance(milliseconds(1000));
    ASSERT_TRUE(monitor.due());
    monitor.sent();
    EXPECT_FALSE(monitor.due());
    clock.advance(milliseconds(300));
    monitor.acked();
    clock.advance(milliseconds(700));
    EXPECT_FALSE(monitor.missed());
    ASSERT_TRUE(monitor.due());

    monitor.sent();  // this one is never answered
    clock.advance(milliseconds(1000));
    EXPECT_FALSE(monitor.missed());  // one missed: not yet
    ASSERT_TRUE(monitor.due());
    monitor.sent();  // nor this one; it does not excuse the first
    clock.advance(milliseconds(999));
    EXPECT_FALSE(monitor.missed());
    clock.advance(milliseconds(1));
    EXPECT_TRUE(monitor.missed());  // two in a row
    monitor.acked();
    EXPECT_FALSE(monitor.missed());

    HeartbeatMonitor strict(clock, milliseconds(1000), 1);
    clock.advance(milliseconds(1000));
    strict.sent();
    clock.advance(milliseconds(1000));
    EXPECT_TRUE(strict.missed());
}

TEST(Heartbeat, AnsweringSideDropsAPeerSilentForTwoIntervals) {
    ManualClock clock;
    HeartbeatMonitor monitor(clock, milliseconds(500));
    clock.advance(milliseconds(900));
    monitor.heard();
    clock.advance(milliseconds(1000));
    EXPECT_FALSE(monitor.silent());
    clock.advance(milliseconds(1));
    EXPECT_TRUE(monitor.silent());
}

TEST(Heartbeat, ReconnectDelayBacksOffWithJitterUpToTheCap) {
    struct Case {
        unsigned attempt;
        double jitter;
        long long expected_ms;
    };
    const Case cases[] = {
        {0, 0.0, 500},
        {0, 0.999, 999},
        {1, 0.0, 1000},
        {1, 0.5, 1500},
        {2, 0.0, 2000},
        {5, 0.0, 16000},
        {6, 0.0, 30000},
        {6, 1.0, 60000},
        {7, 0.25, 37500},
        {1000, 0.0, 30000},
        {1, -3.0, 1000},
        {1, 7.0, 2000},
        {1, std::numeric_limits<double>::quiet_NaN(), 1000},
    };
    for (const auto& c : cases)
        EXPECT_EQ(reconnect_delay(c.attempt, c.jitter).count(), c.expected_ms)
            << "attempt " << c.attempt << " jitter " << c.jitter;
    EXPECT_EQ(reconnect_delay(3, 0.0, milliseconds(100), milliseconds(250)).count(), 125);
    EXPECT_EQ(reconnect_delay(100, 1.0, milliseconds(1), Millis::max()).count() > 0, true);
}

}  // namespace
}  // namespace pitwall::bridge
