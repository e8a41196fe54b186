// Cron expressions, evaluated in UTC: the schedules of the background jobs (scheduler.hpp).
//
//   minute hour day-of-month month day-of-week            standard five fields
//   second minute hour day-of-month month day-of-week     six fields: seconds first (our extension,
//                                                          used for sub-minute test schedules)
//
// Each field takes `*`, numbers, lists `a,b`, ranges `a-b` and steps `*/n`, `a-b/n`, `a/n` (from a to
// the field's maximum). Months take JAN-DEC and days of the week SUN-SAT, in any case; 0 and 7 are
// both Sunday. Nicknames: @hourly, @daily (@midnight), @weekly, @monthly, @yearly (@annually).
//
// Day matching follows Vixie cron: when both day fields are restricted a day matches if EITHER
// matches (`0 0 1 * MON` fires on the 1st and on every Monday). A day field counts as unrestricted
// when it starts with `*`, so `*/2` in one day field still ANDs with the other, as in Vixie and cronie.
//
// Input is untrusted (admins type schedules): parse() bounds the text and reports the offending field
// as error cron.* with a `field` argument (second, minute, hour, day_of_month, month, day_of_week)
// that the messages translate. next_after() searches a bounded horizon and never loops forever.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace pitwall::jobs {

class CronExpression {
  public:
    static constexpr std::size_t max_length = 256;
    // next_after()/last_at_or_before() look this many years from t. Every date a field combination
    // can produce recurs well within it (Feb 29 across the skipped leap year of 2100 is 8 years);
    // a schedule that never fires inside it (30 FEB) never fires at all.
    static constexpr int horizon_years = 30;

    [[nodiscard]] static Result<CronExpression> parse(std::string_view text);
    // Never fires (and has no text): lets JobSpec be filled in field by field.
    CronExpression() = default;

    // The first fire time strictly after t, or nullopt when none falls within the horizon (or the
    // representable time range).
    [[nodiscard]] std::optional<SystemTime> next_after(SystemTime t) const;
    // The last fire time at or before t, or nullopt when none falls within the horizon before t.
    // The scheduler uses it to find the latest missed slot without walking every slot in a gap.
    [[nodiscard]] std::optional<SystemTime> last_at_or_before(SystemTime t) const;

    // As given to parse(), trimmed.
    [[nodiscard]] const std::string& text() const { return text_; }
    // True for six-field expressions.
    [[nodiscard]] bool has_seconds() const { return has_seconds_; }

  private:
    std::string text_;
    bool has_seconds_ = false;
    // Bit i set: value i matches. Days of the week use 0-6 (Sunday 0); months and days of the month
    // use their calendar numbers (bit 0 unused).
    std::uint64_t seconds_ = 0;
    std::uint64_t minutes_ = 0;
    std::uint32_t hours_ = 0;
    std::uint32_t days_of_month_ = 0;
    std::uint16_t months_ = 0;
    std::uint8_t days_of_week_ = 0;
    bool day_of_month_star_ = false;
    bool day_of_week_star_ = false;

    friend struct CronSearch;  // cron.cpp
};

}  // namespace pitwall::jobs
