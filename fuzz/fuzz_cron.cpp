// Fuzzes cron expressions (admins type job schedules): the input up to the first newline is the
// expression; up to 8 bytes after it pick an extra point in time to search from. A bad expression must
// come back as an invalid_input error "cron.*" naming a known field (if any); a good one must search
// forward and backward without crashing, looping or overflowing, at the ends of time too, and the
// two searches must agree: the next fire time after t is later than t and is itself a fire time, the
// last one at or before t is not later than t, and nothing fires between the two.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "platform/jobs/cron.hpp"

namespace {

using pitwall::SystemTime;
using pitwall::jobs::CronExpression;
using namespace std::chrono;

void check_error(const pitwall::Error& error) {
    static const std::set<std::string> codes = {
        "cron.empty",     "cron.too_long",     "cron.field_count", "cron.unknown_nickname",
        "cron.bad_field", "cron.out_of_range", "cron.bad_range",   "cron.bad_step"};
    static const std::set<std::string> fields = {"",      "second",       "minute",     "hour",
                                                 "month", "day_of_month", "day_of_week"};
    PITWALL_FUZZ_CHECK(error.kind == pitwall::ErrorKind::invalid_input);
    PITWALL_FUZZ_CHECK(codes.contains(error.code));
    PITWALL_FUZZ_CHECK(fields.contains(error.arg("field")));
}

void check_around(const CronExpression& cron, SystemTime t) {
    const auto next = cron.next_after(t);
    const auto last = cron.last_at_or_before(t);
    if (next) {
        PITWALL_FUZZ_CHECK(*next > t);
        PITWALL_FUZZ_CHECK(cron.last_at_or_before(*next) == next);
    }
    if (last) {
        PITWALL_FUZZ_CHECK(*last <= t);
        const auto after_last = cron.next_after(*last);
        // Nothing fires in (last, t]; the first after `last` is `next` when both searches reach it.
        if (after_last) PITWALL_FUZZ_CHECK(*after_last > t);
        if (next && *next - *last < years(CronExpression::horizon_years - 1))
            PITWALL_FUZZ_CHECK(after_last == next);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const std::string_view text = input.substr(0, newline);

    auto parsed = CronExpression::parse(text);
    if (!parsed) {
        check_error(parsed.error());
        return 0;
    }
    const CronExpression& cron = *parsed;
    PITWALL_FUZZ_CHECK(cron.text().size() <= CronExpression::max_length);
    auto again = CronExpression::parse(cron.text());  // the kept text parses to the same schedule
    PITWALL_FUZZ_CHECK(again.ok() && again->has_seconds() == cron.has_seconds());

    check_around(cron, SystemTime(milliseconds(1'704'067'200'000)));  // 2024-01-01 00:00:00 UTC
    check_around(cron, SystemTime::min());
    check_around(cron, SystemTime::max());
    (void)cron.next_after(SystemTime::max() - hours(24 * 365));
    if (newline != std::string_view::npos) {
        std::int64_t raw = 0;
        const auto extra = input.substr(newline + 1);
        std::memcpy(&raw, extra.data(), std::min(extra.size(), sizeof raw));
        // Any millisecond from 1970 to 2200.
        constexpr std::int64_t span = 7'258'118'400'000;
        const std::int64_t ms = ((raw % span) + span) % span;
        check_around(cron, SystemTime(milliseconds(ms)));
    }
    return 0;
}
