#include "features/planner/jres.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <system_error>

#include <boost/json.hpp>

#include "core/json.hpp"

namespace pitwall::planner {
namespace {

using Args = std::vector<std::pair<std::string, std::string>>;

// Error arguments stay short whatever the input holds (keys can be long): at most 64 bytes, cut on a
// UTF-8 character boundary.
std::string clip(std::string_view text) {
    constexpr std::size_t kMax = 64;
    if (text.size() <= kMax) return std::string(text);
    std::size_t end = kMax;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return std::string(text.substr(0, end)) + "…";
}

std::string number_text(double value) {
    char buffer[64];
    auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc() ? std::string(buffer, ptr) : std::string("?");
}

Error fail(ErrorKind kind, std::string code, const std::string& field, Args more = {}) {
    Args args{{"field", field}};
    for (auto& a : more) args.push_back(std::move(a));
    return Error(kind, std::move(code), std::move(args), "jres: " + field);
}

// Numbers are kept to 15 significant digits. Boost.JSON 1.81 does not round every long decimal
// correctly (90.77777777777777777 and its own shortest output can read back one bit apart); a value
// with 15 digits reads back exactly, so export_jres's output parses to the same input.
double canonical(double value) {
    char buffer[64];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific, 14);
    double out = value;
    if (ec == std::errc()) std::from_chars(buffer, end, out);
    return out;
}

std::optional<double> as_number_raw(const boost::json::value& v);

// A JSON number, or a decimal string ("-3", "5.5"); finite only; canonical().
std::optional<double> as_number(const boost::json::value& v) {
    auto n = as_number_raw(v);
    if (n) *n = canonical(*n);
    return n;
}

std::optional<double> as_number_raw(const boost::json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_double()) return std::isfinite(v.get_double()) ? std::optional(v.get_double()) : std::nullopt;
    if (v.is_string()) {
        const auto s = v.get_string();
        if (s.empty() || s.size() > 32) return std::nullopt;
        const char* first = s.data();
        if (*first == '+') return std::nullopt;
        double out = 0;
        auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), out);
        if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(out)) return std::nullopt;
        return out;
    }
    return std::nullopt;
}

// Reads a required (or optional) number within [min, max].
Result<std::optional<double>> read_number(const boost::json::object& o, std::string_view name,
                                          const std::string& field, double min, double max, bool required) {
    const auto* v = o.if_contains(name);
    if (!v || v->is_null()) {
        if (required) return fail(ErrorKind::invalid_input, "planner.jres_missing", field);
        return std::optional<double>{};
    }
    auto n = as_number(*v);
    if (!n) return fail(ErrorKind::invalid_input, "planner.jres_wrong_type", field);
    if (*n < min || *n > max)
        return fail(ErrorKind::invalid_input, "planner.jres_out_of_range", field,
                    {{"min", number_text(min)}, {"max", number_text(max)}});
    return std::optional<double>(*n);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t count, int& out) {
    if (pos + count > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

bool valid_name_bytes(std::string_view name) {
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7F) return false;
    return true;
}

std::size_t code_points(std::string_view text) {
    std::size_t n = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

struct RoleFlags {
    bool driver;
    bool spotter;
};

std::optional<RoleFlags> parse_role_text(std::string_view role) {
    if (role == "Driver and Spotter") return RoleFlags{true, true};
    if (role == "Driver Only") return RoleFlags{true, false};
    if (role == "Spotter Only") return RoleFlags{false, true};
    return std::nullopt;
}

Result<JresMember> parse_member(const boost::json::value& value, std::size_t index) {
    const std::string at = "teamMembers[" + std::to_string(index) + "]";
    if (!value.is_object()) return fail(ErrorKind::invalid_input, "planner.jres_wrong_type", at);
    const auto& o = value.get_object();
    JresMember m;

    const auto* name = o.if_contains("name");
    if (!name || name->is_null()) return fail(ErrorKind::invalid_input, "planner.jres_missing", at + ".name");
    if (!name->is_string()) return fail(ErrorKind::invalid_input, "planner.jres_wrong_type", at + ".name");
    m.name = std::string(name->get_string());
    if (m.name.empty() || !valid_name_bytes(m.name))
        return fail(ErrorKind::invalid_input, "planner.jres_bad_name", at + ".name");
    if (code_points(m.name) > kJresMaxNameChars)
        return fail(ErrorKind::invalid_input, "planner.jres_name_too_long", at + ".name",
                    {{"max", std::to_string(kJresMaxNameChars)}});

    std::optional<bool> flags[2];
    const char* flag_names[2] = {"isDriver", "isSpotter"};
    for (int i = 0; i < 2; ++i) {
        const auto* f = o.if_contains(flag_names[i]);
        if (!f || f->is_null()) continue;
        if (!f->is_bool())
            return fail(ErrorKind::invalid_input, "planner.jres_wrong_type", at + "." + flag_names[i]);
        flags[i] = f->get_bool();
    }
    const auto* role = o.if_contains("role");
    if (role && !role->is_null()) {
        if (!role->is_string())
            return fail(ErrorKind::invalid_input, "planner.jres_wrong_type", at + ".role");
        auto parsed = parse_role_text(role->get_string());
        if (!parsed) return fail(ErrorKind::invalid_input, "planner.jres_bad_role", at + ".role");
        if ((flags[0] && *flags[0] != parsed->driver) || (flags[1] && *flags[1] != parsed->spotter))
            return fail(ErrorKind::invalid_input, "planner.jres_bad_role", at + ".role");
        m.role = std::string(role->get_string());
        m.is_driver = parsed->driver;
        m.is_spotter = parsed->spotter;
    } else {
        if (!flags[0] && !flags[1])
            return fail(ErrorKind::invalid_input, "planner.jres_missing", at + ".isDriver");
        m.is_driver = flags[0].value_or(false);
        m.is_spotter = flags[1].value_or(false);
    }

    auto stints = read_number(o, "preferredStints", at + ".preferredStints", 1, 1000, true);
    if (!stints) return std::move(stints).error();
    if (std::trunc(**stints) != **stints)
        return fail(ErrorKind::invalid_input, "planner.jres_wrong_type", at + ".preferredStints");
    m.preferred_stints = static_cast<std::int64_t>(**stints);

    auto tz = read_number(o, "timezone", at + ".timezone", -12, 14, true);
    if (!tz) return std::move(tz).error();
    m.timezone_hours = **tz;

    auto rest = read_number(o, "minimumRestHours", at + ".minimumRestHours", 0, kJresMaxHours, false);
    if (!rest) return std::move(rest).error();
    m.minimum_rest_hours = *rest;
    return m;
}

boost::json::value number_value(double v) {
    if (std::trunc(v) == v && std::fabs(v) < 9.0e15) return static_cast<std::int64_t>(v);
    return v;
}

}  // namespace

std::string_view jres_availability_name(JresAvailability a) {
    switch (a) {
        case JresAvailability::unavailable:
            return "Unavailable";
        case JresAvailability::preferred:
            return "Preferred";
        case JresAvailability::available:
            return "Available";
    }
    return "Unavailable";
}

std::optional<std::int64_t> parse_iso8601(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (s.size() < 20 || s.size() > 40) return std::nullopt;
    if (!digits(s, 0, 4, year) || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
        !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, hour) || s[13] != ':' ||
        !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
        return std::nullopt;
    if (year < 1900 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59)
        return std::nullopt;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const int month_days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
    if (day < 1 || day > month_days) return std::nullopt;

    std::size_t pos = 19;
    if (s[pos] == '.') {
        const std::size_t start = ++pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
        if (pos == start || pos - start > 9) return std::nullopt;
    }
    std::int64_t offset = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh = 0, om = 0;
        if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
           hour * 3600 + minute * 60 + second - offset;
}

std::string format_iso8601(std::int64_t t) {
    // H. Hinnant's civil_from_days.
    const std::int64_t days = floor_div(t, 86400);
    const std::int64_t secs = t - days * 86400;
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.000Z",
                  static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    return buffer;
}

JresAvailability JresInput::availability_at(const std::string& name, std::int64_t time) const {
    auto it = availability.find(name);
    if (it == availability.end()) return JresAvailability::unavailable;
    auto hour = it->second.find(floor_div(time, 3600) * 3600);
    return hour == it->second.end() ? JresAvailability::unavailable : hour->second;
}

std::size_t JresInput::count(const std::string& name, JresAvailability value) const {
    auto it = availability.find(name);
    if (it == availability.end()) return 0;
    std::size_t n = 0;
    for (const auto& [hour, v] : it->second) n += v == value;
    return n;
}

const JresMember* JresInput::member(std::string_view name) const {
    for (const auto& m : team_members)
        if (m.name == name) return &m;
    return nullptr;
}

Result<JresInput> parse_jres(std::string_view text) {
    if (text.size() > kJresMaxBytes)
        return Error(ErrorKind::too_large, "planner.jres_too_large", {{"max", std::to_string(kJresMaxBytes)}},
                     "jres: " + std::to_string(text.size()) + " bytes");
    auto parsed = json::parse(text, "planner.jres_not_json");
    if (!parsed) return std::move(parsed).error();
    if (!parsed->is_object())
        return Error(ErrorKind::invalid_input, "planner.jres_not_json", {}, "jres: not an object");
    const auto& o = parsed->get_object();
    JresInput in;

    if (const auto* s = o.if_contains("success"); s && s->is_bool()) in.success = s->get_bool();

    const auto* start = o.if_contains("raceStartUTC");
    if (!start || start->is_null())
        return fail(ErrorKind::invalid_input, "planner.jres_missing", "raceStartUTC");
    if (!start->is_string()) return fail(ErrorKind::invalid_input, "planner.jres_bad_time", "raceStartUTC");
    auto start_time = parse_iso8601(start->get_string());
    if (!start_time) return fail(ErrorKind::invalid_input, "planner.jres_bad_time", "raceStartUTC");
    in.race_start_utc = *start_time;

    struct NumberField {
        const char* name;
        double* target;
        double min, max;
    };
    const NumberField numbers[] = {
        {"durationHours", &in.duration_hours, 0.01, kJresMaxHours},
        {"avgLapTimeInSeconds", &in.avg_lap_time_s, 1, 3600},
        {"pitTimeInSeconds", &in.pit_time_s, 0, 3600},
        {"fuelTankSize", &in.fuel_tank_size, 0.001, 100000},
        {"fuelUsePerLap", &in.fuel_use_per_lap, 0.001, 100000},
    };
    for (const auto& f : numbers) {
        auto n = read_number(o, f.name, f.name, f.min, f.max, true);
        if (!n) return std::move(n).error();
        *f.target = **n;
    }
    if (in.fuel_use_per_lap > in.fuel_tank_size)
        return fail(ErrorKind::invalid_input, "planner.jres_fuel_below_one_lap", "fuelUsePerLap");

    const auto* members = o.if_contains("teamMembers");
    if (!members || members->is_null())
        return fail(ErrorKind::invalid_input, "planner.jres_missing", "teamMembers");
    if (!members->is_array()) return fail(ErrorKind::invalid_input, "planner.jres_wrong_type", "teamMembers");
    const auto& list = members->get_array();
    if (list.empty()) return fail(ErrorKind::invalid_input, "planner.jres_missing", "teamMembers");
    if (list.size() > kJresMaxMembers)
        return fail(ErrorKind::invalid_input, "planner.jres_too_many", "teamMembers",
                    {{"max", std::to_string(kJresMaxMembers)}});
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
        auto m = parse_member(list[i], i);
        if (!m) return std::move(m).error();
        if (!names.insert(m->name).second)
            return fail(ErrorKind::invalid_input, "planner.jres_duplicate",
                        "teamMembers[" + std::to_string(i) + "].name");
        in.team_members.push_back(std::move(*m));
    }
    bool any_driver = false;
    for (const auto& m : in.team_members) any_driver = any_driver || m.is_driver;
    if (!any_driver) return fail(ErrorKind::invalid_input, "planner.jres_no_driver", "teamMembers");

    if (const auto* first = o.if_contains("firstStintDriver"); first && !first->is_null()) {
        if (!first->is_string())
            return fail(ErrorKind::invalid_input, "planner.jres_wrong_type", "firstStintDriver");
        const std::string name(first->get_string());
        if (!name.empty()) {
            const auto* m = in.member(name);
            if (!m)
                return fail(ErrorKind::invalid_input, "planner.jres_unknown_member", "firstStintDriver",
                            {{"name", clip(name)}});
            if (!m->is_driver)
                return fail(ErrorKind::invalid_input, "planner.jres_not_a_driver", "firstStintDriver",
                            {{"name", clip(name)}});
            in.first_stint_driver = name;
        }
    }

    // The hours a grid may list: from the hour before the race's first hour to the hour after the
    // finish (see the header).
    const auto end = in.race_start_utc + static_cast<std::int64_t>(std::ceil(in.duration_hours * 3600));
    const std::int64_t first_hour = floor_div(in.race_start_utc, 3600) * 3600 - 3600;
    const std::int64_t last_hour = -floor_div(-end, 3600) * 3600;

    const auto* availability = o.if_contains("availability");
    if (!availability || availability->is_null())
        return fail(ErrorKind::invalid_input, "planner.jres_missing", "availability");
    if (!availability->is_object())
        return fail(ErrorKind::invalid_input, "planner.jres_wrong_type", "availability");
    for (const auto& [key, hours] : availability->get_object()) {
        const std::string name(key);
        const std::string at = "availability[\"" + clip(name) + "\"]";
        if (!names.contains(name))
            return fail(ErrorKind::invalid_input, "planner.jres_unknown_member", at, {{"name", clip(name)}});
        if (!hours.is_object()) return fail(ErrorKind::invalid_input, "planner.jres_wrong_type", at);
        auto& grid = in.availability[name];
        for (const auto& [hour_key, value] : hours.get_object()) {
            const std::string field = at + "[\"" + clip(hour_key) + "\"]";
            auto hour = parse_iso8601(hour_key);
            if (!hour || floor_div(*hour, 3600) * 3600 != *hour)
                return fail(ErrorKind::invalid_input, "planner.jres_bad_time", field);
            if (*hour < first_hour || *hour > last_hour)
                return fail(ErrorKind::invalid_input, "planner.jres_hour_outside_race", field);
            if (!value.is_string())
                return fail(ErrorKind::invalid_input, "planner.jres_bad_availability", field);
            const auto v = value.get_string();
            JresAvailability a;
            if (v == "Available")
                a = JresAvailability::available;
            else if (v == "Preferred")
                a = JresAvailability::preferred;
            else if (v == "Unavailable")
                a = JresAvailability::unavailable;
            else
                return fail(ErrorKind::invalid_input, "planner.jres_bad_availability", field);
            if (!grid.emplace(*hour, a).second)
                return fail(ErrorKind::invalid_input, "planner.jres_duplicate", field);
        }
    }
    return in;
}

Result<PlanInput> to_plan_input(const JresInput& in) {
    PlanInput out;
    out.race_start = in.race_start_utc;
    out.duration_s = std::llround(in.duration_hours * 3600);
    out.lap_s = in.avg_lap_time_s;
    out.pit_loss_s = in.pit_time_s;
    out.fuel_tank = in.fuel_tank_size;
    out.fuel_per_lap = in.fuel_use_per_lap;
    out.max_consecutive_stints = 0;
    out.minimum_rest_hours = 0;
    out.fair_share = true;
    MemberId id = 0;
    for (const auto& m : in.team_members) {
        Member member;
        member.id = ++id;
        member.name = m.name;
        member.is_driver = m.is_driver;
        member.is_spotter = m.is_spotter;
        const auto minutes = std::llround(m.timezone_hours * 60);
        if (minutes != 0) {
            char zone[32];
            std::snprintf(zone, sizeof zone, "%c%02lld:%02lld", minutes < 0 ? '-' : '+',
                          std::llabs(minutes) / 60, std::llabs(minutes) % 60);
            member.time_zone = zone;
        }
        member.max_consecutive_stints = static_cast<int>(m.preferred_stints);
        member.minimum_rest_hours = m.minimum_rest_hours;
        if (auto it = in.availability.find(m.name); it != in.availability.end()) {
            for (const auto& [hour, value] : it->second)
                member.availability[hour] = value == JresAvailability::preferred ? Availability::preferred
                                            : value == JresAvailability::available
                                                ? Availability::available
                                                : Availability::unavailable;
        }
        out.spotters = out.spotters || m.is_spotter;
        if (m.is_driver) out.declared_drivers.push_back(member.id);
        if (in.first_stint_driver && *in.first_stint_driver == m.name) {
            if (!m.is_driver)
                return fail(ErrorKind::invalid_input, "planner.jres_not_a_driver", "firstStintDriver",
                            {{"name", clip(m.name)}});
            out.pinned_starter = member.id;
        }
        out.members.push_back(std::move(member));
    }
    if (in.first_stint_driver && !out.pinned_starter)
        return fail(ErrorKind::invalid_input, "planner.jres_unknown_member", "firstStintDriver",
                    {{"name", clip(*in.first_stint_driver)}});
    return out;
}

std::string export_jres(const JresInput& in) {
    boost::json::object o;
    if (in.success) o["success"] = *in.success;
    boost::json::object availability;
    for (const auto& m : in.team_members) {
        auto it = in.availability.find(m.name);
        if (it == in.availability.end()) continue;
        boost::json::object grid;
        for (const auto& [hour, value] : it->second)
            grid[format_iso8601(hour)] = std::string(jres_availability_name(value));
        availability[m.name] = std::move(grid);
    }
    o["availability"] = std::move(availability);
    boost::json::array members;
    for (const auto& m : in.team_members) {
        boost::json::object j;
        j["name"] = m.name;
        j["timezone"] = number_text(m.timezone_hours);
        if (m.role) j["role"] = *m.role;
        j["isDriver"] = m.is_driver;
        j["isSpotter"] = m.is_spotter;
        j["preferredStints"] = m.preferred_stints;
        if (m.minimum_rest_hours) j["minimumRestHours"] = number_value(*m.minimum_rest_hours);
        members.push_back(std::move(j));
    }
    o["teamMembers"] = std::move(members);
    o["durationHours"] = number_value(in.duration_hours);
    o["raceStartUTC"] = format_iso8601(in.race_start_utc);
    o["avgLapTimeInSeconds"] = number_value(in.avg_lap_time_s);
    o["fuelTankSize"] = number_value(in.fuel_tank_size);
    o["fuelUsePerLap"] = number_value(in.fuel_use_per_lap);
    o["pitTimeInSeconds"] = number_value(in.pit_time_s);
    if (in.first_stint_driver) o["firstStintDriver"] = *in.first_stint_driver;
    return boost::json::serialize(o);
}

}  // namespace pitwall::planner
