#include "platform/jobs/cron.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <chrono>
#include <span>
#include <vector>

namespace pitwall::jobs {

namespace {

using namespace std::chrono;

struct Field {
    std::string_view key;  // the `field` argument of errors; translated by the messages
    int min;
    int max;
    std::span<const std::string_view> names;  // names[i] means min + i
};

constexpr std::array<std::string_view, 12> month_names = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> day_names = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

const Field second_field{"second", 0, 59, {}};
const Field minute_field{"minute", 0, 59, {}};
const Field hour_field{"hour", 0, 23, {}};
const Field day_of_month_field{"day_of_month", 1, 31, {}};
const Field month_field{"month", 1, 12, month_names};
const Field day_of_week_field{"day_of_week", 0, 7, day_names};  // 7 is Sunday too

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != b[i]) return false;
    return true;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

std::vector<std::string_view> split_fields(std::string_view text) {
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) ++i;
        const std::size_t start = i;
        while (i < text.size() && !is_space(text[i])) ++i;
        if (i > start) fields.push_back(text.substr(start, i - start));
    }
    return fields;
}

bool all_digits(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    return true;
}

using Args = std::vector<std::pair<std::string, std::string>>;

Args field_args(const Field& field, std::string_view value) {
    return {{"field", std::string(field.key)}, {"value", std::string(value)}};
}

// One value of a field: a number or, for months and days of the week, a three-letter name.
Result<int> parse_value(const Field& field, std::string_view token) {
    if (all_digits(token)) {
        int value = 0;
        auto [end, errc] = std::from_chars(token.data(), token.data() + token.size(), value);
        if (errc != std::errc() || end != token.data() + token.size() || value < field.min ||
            value > field.max) {
            auto args = field_args(field, token);
            args.emplace_back("min", std::to_string(field.min));
            args.emplace_back("max", std::to_string(field.max));
            return Error{ErrorKind::invalid_input, "cron.out_of_range", std::move(args)};
        }
        return value;
    }
    for (std::size_t i = 0; i < field.names.size(); ++i)
        if (equals_ignoring_case(token, field.names[i])) return field.min + static_cast<int>(i);
    return Error{ErrorKind::invalid_input, "cron.bad_field", field_args(field, token)};
}

// One list item: `*`, `a`, `a-b`, each optionally followed by `/step`.
Status parse_item(const Field& field, std::string_view item, std::uint64_t& bits) {
    std::string_view base = item;
    int step = 1;
    bool stepped = false;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
        base = item.substr(0, slash);
        const std::string_view step_text = item.substr(slash + 1);
        const int span = field.max - field.min + 1;
        auto [end, errc] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
        if (!all_digits(step_text) || errc != std::errc() || end != step_text.data() + step_text.size() ||
            step < 1 || step > span) {
            auto args = field_args(field, step_text);
            args.emplace_back("max", std::to_string(span));
            return Error{ErrorKind::invalid_input, "cron.bad_step", std::move(args)};
        }
        stepped = true;
    }
    if (base.empty()) return Error{ErrorKind::invalid_input, "cron.bad_field", field_args(field, item)};

    int first = field.min;
    int last = field.max;
    if (base != "*") {
        const auto dash = base.find('-');
        auto low = parse_value(field, base.substr(0, dash));
        if (!low) return std::move(low).error();
        first = *low;
        if (dash != std::string_view::npos) {
            auto high = parse_value(field, base.substr(dash + 1));
            if (!high) return std::move(high).error();
            last = *high;
            if (first > last)
                return Error{ErrorKind::invalid_input, "cron.bad_range", field_args(field, base)};
        } else if (!stepped) {
            last = first;
        }
    }
    for (int value = first; value <= last; value += step) bits |= std::uint64_t{1} << value;
    return {};
}

// A whole field: a comma-separated list of items. `star` tells whether it starts with `*`.
Status parse_field(const Field& field, std::string_view text, std::uint64_t& bits, bool* star = nullptr) {
    if (star) *star = text.starts_with('*');
    std::size_t start = 0;
    while (true) {
        const auto comma = text.find(',', start);
        const auto item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
        if (item.empty()) return Error{ErrorKind::invalid_input, "cron.bad_field", field_args(field, text)};
        if (auto parsed = parse_item(field, item, bits); !parsed) return parsed;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return {};
}

struct Nickname {
    std::string_view name;
    std::string_view expression;
};
constexpr std::array<Nickname, 7> nicknames = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

// A broken-down UTC time the search moves field by field.
struct Civil {
    int year = 1970;
    int month = 1;  // 1-12
    int day = 1;    // 1-31; 0 or 32 mean "before/after this month" and make the search carry
    int hour = 0;
    int minute = 0;
    int second = 0;
};

Civil to_civil(sys_seconds t) {
    const auto day = floor<days>(t);
    const year_month_day date{day};
    const hh_mm_ss time{t - day};
    return {static_cast<int>(date.year()),
            static_cast<int>(static_cast<unsigned>(date.month())),
            static_cast<int>(static_cast<unsigned>(date.day())),
            static_cast<int>(time.hours().count()),
            static_cast<int>(time.minutes().count()),
            static_cast<int>(time.seconds().count())};
}

sys_seconds from_civil(const Civil& c) {
    const sys_days day{year{c.year} / month{static_cast<unsigned>(c.month)} / static_cast<unsigned>(c.day)};
    return day + hours{c.hour} + minutes{c.minute} + seconds{c.second};
}

// Mask of bits at or above `bit` (bit < 64).
constexpr std::uint64_t from_bit(int bit) {
    return ~std::uint64_t{0} << bit;
}
// Mask of bits at or below `bit` (0 <= bit < 63).
constexpr std::uint64_t up_to_bit(int bit) {
    return (std::uint64_t{2} << bit) - 1;
}
int lowest(std::uint64_t bits) {
    return std::countr_zero(bits);
}
int highest(std::uint64_t bits) {
    return 63 - std::countl_zero(bits);
}

}  // namespace

// The search itself: moves a Civil time forward (or backward) one field at a time, jumping straight
// to the next matching value of the field with bit operations, so a call costs a handful of
// iterations per month or day it passes, never one per second.
struct CronSearch {
    const CronExpression& cron;
    int cached_year = 0;
    int cached_month = 0;
    std::uint64_t cached_days = 0;

    // The days of month `m` of year `y` that match, Vixie's OR/AND rule applied.
    std::uint64_t matching_days(int y, int m) {
        if (y == cached_year && m == cached_month) return cached_days;
        const year_month ym{year{y}, month{static_cast<unsigned>(m)}};
        const int length = static_cast<int>(static_cast<unsigned>((ym / last).day()));
        const std::uint64_t valid = up_to_bit(length) & ~std::uint64_t{1};
        const std::uint64_t by_date = cron.days_of_month_ & valid;
        std::uint64_t by_weekday = 0;
        const int first_weekday = static_cast<int>(weekday{sys_days{ym / 1}}.c_encoding());
        for (int d = 1; d <= length; ++d)
            if (cron.days_of_week_ & (1u << ((first_weekday + d - 1) % 7)))
                by_weekday |= std::uint64_t{1} << d;
        const bool restricted_both = !cron.day_of_month_star_ && !cron.day_of_week_star_;
        cached_year = y;
        cached_month = m;
        cached_days = restricted_both ? (by_date | by_weekday) : (by_date & by_weekday);
        return cached_days;
    }

    std::optional<Civil> forward(Civil c, int limit_year) {
        const auto start_of_month = [&c] { c.day = 1, c.hour = 0, c.minute = 0, c.second = 0; };
        while (true) {
            if (c.year > limit_year) return std::nullopt;
            if (c.month > 12) c.year += 1, c.month = 1, start_of_month();
            if (c.year > limit_year) return std::nullopt;

            const std::uint64_t months = cron.months_ & from_bit(c.month);
            if (months == 0) {
                c.month = 13;
                continue;
            }
            if (lowest(months) != c.month) c.month = lowest(months), start_of_month();

            const std::uint64_t days = matching_days(c.year, c.month) & from_bit(c.day);
            if (days == 0) {
                c.month += 1, start_of_month();
                continue;
            }
            if (lowest(days) != c.day) c.day = lowest(days), c.hour = 0, c.minute = 0, c.second = 0;

            const std::uint64_t hours = cron.hours_ & from_bit(c.hour);
            if (hours == 0) {
                c.day += 1, c.hour = 0, c.minute = 0, c.second = 0;
                continue;
            }
            if (lowest(hours) != c.hour) c.hour = lowest(hours), c.minute = 0, c.second = 0;

            const std::uint64_t minutes = cron.minutes_ & from_bit(c.minute);
            if (minutes == 0) {
                c.hour += 1, c.minute = 0, c.second = 0;
                continue;
            }
            if (lowest(minutes) != c.minute) c.minute = lowest(minutes), c.second = 0;

            const std::uint64_t seconds = cron.seconds_ & from_bit(c.second);
            if (seconds == 0) {
                c.minute += 1, c.second = 0;
                continue;
            }
            c.second = lowest(seconds);
            return c;
        }
    }

    std::optional<Civil> backward(Civil c, int limit_year) {
        const auto end_of_day = [&c] { c.hour = 23, c.minute = 59, c.second = 59; };
        const auto previous_month = [&] {
            if (c.month > 1) {
                c.month -= 1;
            } else {
                c.year -= 1, c.month = 12;
            }
            c.day = 31, end_of_day();
        };
        while (true) {
            if (c.year < limit_year) return std::nullopt;

            const std::uint64_t months = cron.months_ & up_to_bit(c.month);
            if (months == 0) {
                c.year -= 1, c.month = 12, c.day = 31, end_of_day();
                continue;
            }
            if (highest(months) != c.month) c.month = highest(months), c.day = 31, end_of_day();

            const std::uint64_t days = matching_days(c.year, c.month) & up_to_bit(c.day);
            if (days == 0) {
                previous_month();
                continue;
            }
            if (highest(days) != c.day) c.day = highest(days), end_of_day();

            const std::uint64_t hours = cron.hours_ & up_to_bit(c.hour);
            if (hours == 0) {
                c.day -= 1, end_of_day();  // day 0 matches nothing: the next pass moves to the month before
                continue;
            }
            if (highest(hours) != c.hour) c.hour = highest(hours), c.minute = 59, c.second = 59;

            const std::uint64_t minutes = cron.minutes_ & up_to_bit(c.minute);
            if (minutes == 0) {
                if (c.hour > 0) {
                    c.hour -= 1, c.minute = 59, c.second = 59;
                } else {
                    c.day -= 1, end_of_day();
                }
                continue;
            }
            if (highest(minutes) != c.minute) c.minute = highest(minutes), c.second = 59;

            const std::uint64_t seconds = cron.seconds_ & up_to_bit(c.second);
            if (seconds == 0) {
                if (c.minute > 0) {
                    c.minute -= 1, c.second = 59;
                } else if (c.hour > 0) {
                    c.hour -= 1, c.minute = 59, c.second = 59;
                } else {
                    c.day -= 1, end_of_day();
                }
                continue;
            }
            c.second = highest(seconds);
            return c;
        }
    }
};

Result<CronExpression> CronExpression::parse(std::string_view text) {
    if (text.size() > max_length)
        return Error{ErrorKind::invalid_input, "cron.too_long", {{"max", std::to_string(max_length)}}};
    text = trim(text);
    if (text.empty()) return Error{ErrorKind::invalid_input, "cron.empty"};

    std::string_view expanded = text;
    if (text.starts_with('@')) {
        expanded = {};
        for (const auto& nickname : nicknames)
            if (equals_ignoring_case(text, nickname.name)) expanded = nickname.expression;
        if (expanded.empty())
            return Error{ErrorKind::invalid_input, "cron.unknown_nickname", {{"value", std::string(text)}}};
    }

    const auto fields = split_fields(expanded);
    if (fields.size() != 5 && fields.size() != 6)
        return Error{
            ErrorKind::invalid_input, "cron.field_count", {{"count", std::to_string(fields.size())}}};

    CronExpression cron;
    cron.text_ = std::string(text);
    cron.has_seconds_ = fields.size() == 6;
    const std::size_t offset = cron.has_seconds_ ? 1 : 0;

    std::uint64_t seconds = 0, minutes = 0, hours = 0, days_of_month = 0, months = 0, days_of_week = 0;
    if (cron.has_seconds_) {
        if (auto parsed = parse_field(second_field, fields[0], seconds); !parsed)
            return std::move(parsed).error();
    } else {
        seconds = 1;  // second 0
    }
    if (auto parsed = parse_field(minute_field, fields[offset], minutes); !parsed)
        return std::move(parsed).error();
    if (auto parsed = parse_field(hour_field, fields[offset + 1], hours); !parsed)
        return std::move(parsed).error();
    if (auto parsed =
            parse_field(day_of_month_field, fields[offset + 2], days_of_month, &cron.day_of_month_star_);
        !parsed)
        return std::move(parsed).error();
    if (auto parsed = parse_field(month_field, fields[offset + 3], months); !parsed)
        return std::move(parsed).error();
    if (auto parsed =
            parse_field(day_of_week_field, fields[offset + 4], days_of_week, &cron.day_of_week_star_);
        !parsed)
        return std::move(parsed).error();
    if (days_of_week & (std::uint64_t{1} << 7)) days_of_week = (days_of_week | 1) & 0x7f;  // 7: Sunday

    cron.seconds_ = seconds;
    cron.minutes_ = minutes;
    cron.hours_ = static_cast<std::uint32_t>(hours);
    cron.days_of_month_ = static_cast<std::uint32_t>(days_of_month);
    cron.months_ = static_cast<std::uint16_t>(months);
    cron.days_of_week_ = static_cast<std::uint8_t>(days_of_week);
    return cron;
}

std::optional<SystemTime> CronExpression::next_after(SystemTime t) const {
    // Whole seconds throughout: a SystemTime in seconds cannot overflow, whatever t is.
    const sys_seconds start = floor<seconds>(t) + seconds{1};
    const Civil from = to_civil(start);
    CronSearch search{*this};
    const auto found = search.forward(from, from.year + horizon_years);
    if (!found) return std::nullopt;
    const sys_seconds when = from_civil(*found);
    if (when > floor<seconds>(SystemTime::max())) return std::nullopt;
    return time_point_cast<SystemTime::duration>(when);
}

std::optional<SystemTime> CronExpression::last_at_or_before(SystemTime t) const {
    const Civil from = to_civil(floor<seconds>(t));
    CronSearch search{*this};
    const auto found = search.backward(from, from.year - horizon_years);
    if (!found) return std::nullopt;
    const sys_seconds when = from_civil(*found);
    if (when < ceil<seconds>(SystemTime::min())) return std::nullopt;
    return time_point_cast<SystemTime::duration>(when);
}

}  // namespace pitwall::jobs
