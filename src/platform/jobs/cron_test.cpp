#include "platform/jobs/cron.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pitwall::jobs {
namespace {

using namespace std::chrono;

// "2024-02-29 13:05:07" (UTC) as a SystemTime; an optional ".mmm" adds milliseconds.
SystemTime at(const std::string& text) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
    const int read = std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d.%d", &y, &mo, &d, &h, &mi, &s, &ms);
    EXPECT_GE(read, 6) << text;
    const sys_days day{year{y} / month{static_cast<unsigned>(mo)} / static_cast<unsigned>(d)};
    return SystemTime(day + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms});
}

std::string show(std::optional<SystemTime> t) {
    if (!t) return "never";
    const auto secs = floor<seconds>(*t);
    const auto day = floor<days>(secs);
    const year_month_day date{day};
    const hh_mm_ss time{secs - day};
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u %02ld:%02ld:%02ld", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                  static_cast<long>(time.seconds().count()));
    return buffer;
}

CronExpression cron(const std::string& text) {
    auto parsed = CronExpression::parse(text);
    EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed.ok() ? "" : parsed.error().code);
    if (!parsed) return *CronExpression::parse("* * * * *");
    return std::move(*parsed);
}

struct NextCase {
    std::string expression;
    std::string after;
    std::string expected;  // "never" for none
};

// 2024-01-01 is a Monday; 2024 is a leap year.
const std::vector<NextCase> next_cases = {
    {"* * * * *", "2024-01-01 00:00:00", "2024-01-01 00:01:00"},  // strictly after
    {"* * * * *", "2024-01-01 00:00:59.999", "2024-01-01 00:01:00"},
    {"0 * * * *", "2024-01-01 00:00:00", "2024-01-01 01:00:00"},
    {"*/15 * * * *", "2024-01-01 00:14:59", "2024-01-01 00:15:00"},
    {"*/15 * * * *", "2024-01-01 00:45:00", "2024-01-01 01:00:00"},
    {"1/20 * * * *", "2024-01-01 00:21:00", "2024-01-01 00:41:00"},
    {"5-20/5 3 * * *", "2024-01-01 03:20:00", "2024-01-02 03:05:00"},
    {"0 9-17/4 * * *", "2024-01-01 13:00:00", "2024-01-01 17:00:00"},
    {"0 9-17/4 * * *", "2024-01-01 17:00:00", "2024-01-02 09:00:00"},
    {"0,30 8,20 * * *", "2024-01-01 08:30:00", "2024-01-01 20:00:00"},
    // names, any case; 0 and 7 are Sunday
    {"30 8 * * MON-FRI", "2024-01-05 09:00:00", "2024-01-08 08:30:00"},
    {"0 0 * * sun", "2024-01-01 00:00:00", "2024-01-07 00:00:00"},
    {"0 0 * * 7", "2024-01-01 00:00:00", "2024-01-07 00:00:00"},
    {"0 0 * * 0", "2024-01-01 00:00:00", "2024-01-07 00:00:00"},
    {"0 0 * * 5-7", "2024-01-07 00:00:00", "2024-01-12 00:00:00"},
    {"0 12 * * 1-5/2", "2024-01-01 12:00:00", "2024-01-03 12:00:00"},
    {"0 0 * Feb Mon", "2024-01-01 00:00:00", "2024-02-05 00:00:00"},
    {"0 0 1 jan,JUL *", "2024-02-01 00:00:00", "2024-07-01 00:00:00"},
    {"0 0 1 mar-may/2 *", "2024-03-01 00:00:00", "2024-05-01 00:00:00"},
    // lists and month rollovers
    {"0 0 1,15 * *", "2024-01-15 00:00:00", "2024-02-01 00:00:00"},
    {"0 0 31 * *", "2024-01-31 00:00:00", "2024-03-31 00:00:00"},
    {"0 0 30 * *", "2024-01-30 00:00:00", "2024-03-30 00:00:00"},
    // day of month OR day of week when both are restricted (Vixie)
    {"0 0 13 * FRI", "2024-01-01 00:00:00", "2024-01-05 00:00:00"},
    {"0 0 13 * FRI", "2024-01-12 00:00:00", "2024-01-13 00:00:00"},
    {"0 0 13 * FRI", "2024-01-13 00:00:00", "2024-01-19 00:00:00"},
    // ... but AND when one of them starts with `*`
    {"0 0 */2 * MON", "2024-01-01 00:00:00", "2024-01-15 00:00:00"},
    {"0 0 1 * *", "2024-01-01 00:00:00", "2024-02-01 00:00:00"},
    // leap day, year end
    {"0 0 29 2 *", "2024-03-01 00:00:00", "2028-02-29 00:00:00"},
    {"0 0 29 2 *", "2024-02-28 23:59:59", "2024-02-29 00:00:00"},
    {"0 0 29 2 *", "2096-03-01 00:00:00", "2104-02-29 00:00:00"},  // 2100 is not a leap year
    {"59 23 31 12 *", "2024-12-31 23:59:00", "2025-12-31 23:59:00"},
    {"0 0 * * *", "2024-12-31 23:59:59", "2025-01-01 00:00:00"},
    {"* * * * *", "2024-12-31 23:59:30", "2025-01-01 00:00:00"},
    // six fields: seconds first
    {"*/10 * * * * *", "2024-01-01 00:00:05", "2024-01-01 00:00:10"},
    {"*/10 * * * * *", "2024-01-01 00:00:50", "2024-01-01 00:01:00"},
    {"30 0 0 * * *", "2024-01-01 00:00:00", "2024-01-01 00:00:30"},
    {"* * * * * *", "2024-12-31 23:59:59.500", "2025-01-01 00:00:00"},
    {"15,45 30 12 29 2 *", "2024-02-29 12:30:15", "2024-02-29 12:30:45"},
    // nicknames
    {"@hourly", "2024-01-01 00:00:00", "2024-01-01 01:00:00"},
    {"@daily", "2024-01-01 00:00:00", "2024-01-02 00:00:00"},
    {"@midnight", "2024-01-01 12:00:00", "2024-01-02 00:00:00"},
    {"@WEEKLY", "2024-01-01 00:00:00", "2024-01-07 00:00:00"},
    {"@monthly", "2024-01-15 00:00:00", "2024-02-01 00:00:00"},
    {"@yearly", "2024-01-01 00:00:00", "2025-01-01 00:00:00"},
    {"@annually", "2024-06-01 00:00:00", "2025-01-01 00:00:00"},
    {"  0 0 * * *  ", "2024-01-01 00:00:00", "2024-01-02 00:00:00"},
    {"0\t0 *  * *", "2024-01-01 00:00:00", "2024-01-02 00:00:00"},
    // impossible dates never fire
    {"0 0 30 2 *", "2024-01-01 00:00:00", "never"},
    {"0 0 31 4,6,9,11 *", "2024-01-01 00:00:00", "never"},
};

TEST(CronExpression, NextFireTimes) {
    for (const auto& c : next_cases) {
        const auto expression = cron(c.expression);
        EXPECT_EQ(show(expression.next_after(at(c.after))), c.expected)
            << "'" << c.expression << "' after " << c.after;
    }
}

TEST(CronExpression, LastFireTimeAtOrBefore) {
    const std::vector<NextCase> cases = {
        {"0 * * * *", "2024-01-01 05:00:00", "2024-01-01 05:00:00"},  // at counts
        {"0 * * * *", "2024-01-01 05:59:59", "2024-01-01 05:00:00"},
        {"0 0 1 * *", "2024-03-15 10:00:00", "2024-03-01 00:00:00"},
        {"0 0 31 * *", "2024-05-01 00:00:00", "2024-03-31 00:00:00"},
        {"0 0 29 2 *", "2024-02-28 00:00:00", "2020-02-29 00:00:00"},
        {"0 0 13 * FRI", "2024-01-12 23:00:00", "2024-01-12 00:00:00"},
        {"30 8 * * MON-FRI", "2024-01-07 12:00:00", "2024-01-05 08:30:00"},
        {"59 23 31 12 *", "2025-01-01 00:00:00", "2024-12-31 23:59:00"},
        {"*/10 * * * * *", "2024-01-01 00:00:00", "2024-01-01 00:00:00"},
        {"*/10 * * * * *", "2024-01-01 00:00:09", "2024-01-01 00:00:00"},
        {"*/10 * * * * *", "2024-01-01 00:00:00.999", "2024-01-01 00:00:00"},
        {"0 0 30 2 *", "2024-12-31 00:00:00", "never"},
    };
    for (const auto& c : cases)
        EXPECT_EQ(show(cron(c.expression).last_at_or_before(at(c.after))), c.expected)
            << "'" << c.expression << "' at or before " << c.after;
}

// Walking forward slot by slot and looking back from each slot (and from just before it) agree, for
// expressions whose matching days depend on the month, the weekday and the leap year.
TEST(CronExpression, ForwardAndBackwardSearchesAgree) {
    for (const char* text : {"*/7 */5 * * *", "0 0 13 * FRI", "0 0 */2 * MON", "15 4 29-31 * *", "0 0 29 2 *",
                             "*/20 * 9-10 * * SAT", "0 0 * * *", "0 0 1 */3 *"}) {
        const auto expression = cron(text);
        auto previous = expression.last_at_or_before(at("2023-12-01 00:00:00"));
        auto t = at("2023-12-01 00:00:00");
        for (int i = 0; i < 400 && t < at("2150-01-01 00:00:00"); ++i) {
            auto next = expression.next_after(t);
            ASSERT_TRUE(next) << text;
            ASSERT_GT(*next, t) << text;
            EXPECT_EQ(expression.last_at_or_before(*next), next) << text << " " << show(next);
            EXPECT_EQ(show(expression.last_at_or_before(*next - seconds{1})), show(previous))
                << text << " before " << show(next);
            previous = next;
            t = *next;
        }
    }
}

TEST(CronExpression, KeepsItsTextAndKnowsAboutSeconds) {
    EXPECT_EQ(cron("  */5 * * * *\n").text(), "*/5 * * * *");
    EXPECT_FALSE(cron("*/5 * * * *").has_seconds());
    EXPECT_TRUE(cron("*/5 * * * * *").has_seconds());
    EXPECT_EQ(cron("@daily").text(), "@daily");
    EXPECT_FALSE(cron("@daily").has_seconds());
}

TEST(CronExpression, NeverOverflowsAtTheEndsOfTime) {
    const auto every_minute = cron("* * * * *");
    EXPECT_FALSE(every_minute.next_after(SystemTime::max()));
    EXPECT_TRUE(every_minute.next_after(SystemTime::min()));
    EXPECT_FALSE(every_minute.last_at_or_before(SystemTime::min()));
    EXPECT_TRUE(every_minute.last_at_or_before(SystemTime::max()));
    EXPECT_FALSE(cron("0 0 30 2 *").next_after(SystemTime::min()));
    EXPECT_FALSE(cron("0 0 30 2 *").last_at_or_before(SystemTime::max()));
}

struct BadCase {
    std::string expression;
    std::string code;
    std::string field;  // empty: the error has no field
    std::string value;  // checked when not empty
};

const std::vector<BadCase> bad_cases = {
    {"", "cron.empty", "", ""},
    {" \t\n", "cron.empty", "", ""},
    {std::string(257, '*'), "cron.too_long", "", ""},
    {"* * * *", "cron.field_count", "", ""},
    {"* * * * * * *", "cron.field_count", "", ""},
    {"@reboot", "cron.unknown_nickname", "", "@reboot"},
    {"@daily 5", "cron.unknown_nickname", "", ""},
    {"60 * * * *", "cron.out_of_range", "minute", "60"},
    {"* 25 * * *", "cron.out_of_range", "hour", "25"},
    {"* * 0 * *", "cron.out_of_range", "day_of_month", "0"},
    {"* * 32 * *", "cron.out_of_range", "day_of_month", "32"},
    {"* * * 13 *", "cron.out_of_range", "month", "13"},
    {"* * * 0 *", "cron.out_of_range", "month", "0"},
    {"* * * * 8", "cron.out_of_range", "day_of_week", "8"},
    {"60 * * * * *", "cron.out_of_range", "second", "60"},
    {"99999999999999999999 * * * *", "cron.out_of_range", "minute", ""},
    {"* * * foo *", "cron.bad_field", "month", "foo"},
    {"* * * * MONDAY", "cron.bad_field", "day_of_week", "MONDAY"},
    {"* JAN * * *", "cron.bad_field", "hour", "JAN"},
    {"* * * * 1.5", "cron.bad_field", "day_of_week", ""},
    {"1,,2 * * * *", "cron.bad_field", "minute", ""},
    {",1 * * * *", "cron.bad_field", "minute", ""},
    {"1, * * * *", "cron.bad_field", "minute", ""},
    {"-1 * * * *", "cron.bad_field", "minute", ""},
    {"1- * * * *", "cron.bad_field", "minute", ""},
    {"/5 * * * *", "cron.bad_field", "minute", ""},
    {"* * * * * ?", "cron.bad_field", "day_of_week", "?"},
    {"*/0 * * * *", "cron.bad_step", "minute", "0"},
    {"*/x * * * *", "cron.bad_step", "minute", "x"},
    {"*/61 * * * *", "cron.bad_step", "minute", "61"},
    {"1-2/ * * * *", "cron.bad_step", "minute", ""},
    {"* */-1 * * *", "cron.bad_step", "hour", "-1"},
    {"* * 1/2/3 * *", "cron.bad_step", "day_of_month", "2/3"},
    {"5-1 * * * *", "cron.bad_range", "minute", "5-1"},
    {"* * * DEC-JAN *", "cron.bad_range", "month", "DEC-JAN"},
    {"* * * * SAT-SUN", "cron.bad_range", "day_of_week", "SAT-SUN"},
};

TEST(CronExpression, RejectsBadExpressionsNamingTheField) {
    for (const auto& c : bad_cases) {
        auto parsed = CronExpression::parse(c.expression);
        ASSERT_FALSE(parsed.ok()) << "'" << c.expression << "'";
        const Error& error = parsed.error();
        EXPECT_EQ(error.kind, ErrorKind::invalid_input) << c.expression;
        EXPECT_EQ(error.code, c.code) << "'" << c.expression << "'";
        EXPECT_EQ(error.arg("field"), c.field) << "'" << c.expression << "'";
        if (!c.value.empty()) {
            EXPECT_EQ(error.arg("value"), c.value) << "'" << c.expression << "'";
        }
    }
}

TEST(CronExpression, ErrorsCarryTheirArguments) {
    auto count = CronExpression::parse("* * * *");
    EXPECT_EQ(count.error().arg("count"), "4");
    auto range = CronExpression::parse("* 24 * * *");
    EXPECT_EQ(range.error().arg("min"), "0");
    EXPECT_EQ(range.error().arg("max"), "23");
    auto step = CronExpression::parse("*/0 * * * *");
    EXPECT_EQ(step.error().arg("max"), "60");
    auto too_long = CronExpression::parse(std::string(1000, ' ') + "* * * * *");
    EXPECT_EQ(too_long.error().arg("max"), "256");
}

}  // namespace
}  // namespace pitwall::jobs
