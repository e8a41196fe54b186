#include "integrations/iracing/models.hpp"

#include <charconv>
#include <chrono>

#include <boost/json.hpp>

#include "core/json.hpp"

namespace pitwall::integrations::iracing {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

Error bad_answer(std::string_view what) {
    return Error(ErrorKind::unavailable, "iracing.bad_answer", {}, std::string(what));
}

Result<value> parse(std::string_view text) {
    return json::parse(text, "iracing.bad_answer", ErrorKind::unavailable);
}

int int_of(const object& o, std::string_view name, int fallback = 0) {
    return static_cast<int>(json::integer_or(o, name, fallback));
}

// An array either at the top level or under one of `keys` of the top-level object.
const array* rows(const value& v, std::initializer_list<std::string_view> keys) {
    if (v.is_array()) return &v.get_array();
    if (!v.is_object()) return nullptr;
    for (auto key : keys)
        if (const auto* a = json::array(v.get_object(), key)) return a;
    return nullptr;
}

License license_of(const object& o) {
    License l;
    l.category_id = int_of(o, "category_id");
    l.category = json::text(o, "category");
    if (l.category.empty()) l.category = std::string(category_key(l.category_id));
    l.license_level = int_of(o, "license_level");
    l.safety_rating = json::number(o, "safety_rating").value_or(0);
    l.irating = json::integer_or(o, "irating", 0);
    l.group_name = json::text(o, "group_name");
    l.group_id = int_of(o, "group_id");
    return l;
}

std::string track_name_of(const object& o) {
    if (const auto* t = json::object(o, "track")) return json::text(*t, "track_name");
    return json::text(o, "track_name");
}

ResultRow result_row(const object& o) {
    ResultRow r;
    r.cust_id = json::integer_or(o, "cust_id", 0);
    r.team_id = json::integer_or(o, "team_id", 0);
    r.display_name = json::text(o, "display_name");
    r.finish_position = int_of(o, "finish_position");
    r.laps_complete = int_of(o, "laps_complete");
    r.incidents = int_of(o, "incidents");
    r.best_lap_time = json::integer_or(o, "best_lap_time", -1);
    r.car_id = json::integer_or(o, "car_id", 0);
    r.oldi_rating = json::integer_or(o, "oldi_rating", 0);
    r.newi_rating = json::integer_or(o, "newi_rating", 0);
    if (const auto* drivers = json::array(o, "driver_results"))
        for (const auto& d : *drivers)
            if (d.is_object()) r.driver_results.push_back(result_row(d.get_object()));
    return r;
}

}  // namespace

std::string_view license_class(int group_id) {
    switch (group_id) {
        case 1:
            return "R";
        case 2:
            return "D";
        case 3:
            return "C";
        case 4:
            return "B";
        case 5:
            return "A";
        case 6:
        case 7:
            return "P";
        default:
            return "R";
    }
}

std::string_view category_key(int category_id) {
    switch (category_id) {
        case 1:
            return "oval";
        case 2:
            return "road";
        case 3:
            return "dirt_oval";
        case 4:
            return "dirt_road";
        case 5:
            return "sports_car";
        case 6:
            return "formula_car";
        default:
            return "";
    }
}

Result<std::vector<Member>> parse_members(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const array* list = rows(*v, {"members"});
    if (!list) return bad_answer("member/get without members");
    std::vector<Member> out;
    for (const auto& item : *list) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        Member m;
        m.cust_id = json::integer_or(o, "cust_id", 0);
        if (m.cust_id <= 0) continue;
        m.display_name = json::text(o, "display_name");
        m.last_login = json::text(o, "last_login");
        // An array in member/get, an object keyed by category in member/info.
        if (const auto* a = json::array(o, "licenses")) {
            for (const auto& l : *a)
                if (l.is_object()) m.licenses.push_back(license_of(l.get_object()));
        } else if (const auto* by_category = json::object(o, "licenses")) {
            for (const auto& [key, l] : *by_category)
                if (l.is_object()) {
                    auto license = license_of(l.get_object());
                    if (license.category.empty()) license.category = std::string(key);
                    m.licenses.push_back(std::move(license));
                }
        }
        out.push_back(std::move(m));
    }
    return out;
}

Result<ChartData> parse_chart(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    if (!v->is_object()) return bad_answer("chart_data not an object");
    const auto& o = v->get_object();
    ChartData c;
    c.cust_id = json::integer_or(o, "cust_id", 0);
    c.category_id = int_of(o, "category_id");
    c.blackout = json::boolean_or(o, "blackout", false);
    if (const auto* data = json::array(o, "data"))
        for (const auto& p : *data) {
            if (!p.is_object()) continue;
            auto when = json::text(p.get_object(), "when");
            auto value = json::integer(p.get_object(), "value");
            if (when.size() >= 10 && value) c.points.push_back({when.substr(0, 10), *value});
        }
    return c;
}

Result<std::vector<RecentRace>> parse_recent_races(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const array* list = rows(*v, {"races"});
    if (!list) return bad_answer("member_recent_races without races");
    std::vector<RecentRace> out;
    for (const auto& item : *list) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        RecentRace r;
        r.subsession_id = json::integer_or(o, "subsession_id", 0);
        if (r.subsession_id <= 0) continue;
        r.series_id = json::integer_or(o, "series_id", 0);
        r.season_id = json::integer_or(o, "season_id", 0);
        r.series_name = json::text(o, "series_name");
        r.car_id = json::integer_or(o, "car_id", 0);
        r.session_start_time = json::text(o, "session_start_time");
        r.start_position = int_of(o, "start_position");
        r.finish_position = int_of(o, "finish_position");
        r.laps = int_of(o, "laps");
        r.incidents = int_of(o, "incidents");
        r.strength_of_field = json::integer_or(o, "strength_of_field", 0);
        r.oldi_rating = json::integer_or(o, "oldi_rating", 0);
        r.newi_rating = json::integer_or(o, "newi_rating", 0);
        r.track_name = track_name_of(o);
        out.push_back(std::move(r));
    }
    return out;
}

Result<MemberSummary> parse_member_summary(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    if (!v->is_object()) return bad_answer("member_summary not an object");
    const auto& o = v->get_object();
    MemberSummary s;
    s.cust_id = json::integer_or(o, "cust_id", 0);
    if (const auto* year = json::object(o, "this_year")) {
        s.official_sessions = int_of(*year, "num_official_sessions");
        s.league_sessions = int_of(*year, "num_league_sessions");
        s.official_wins = int_of(*year, "num_official_wins");
        s.league_wins = int_of(*year, "num_league_wins");
    }
    return s;
}

Result<std::vector<Season>> parse_seasons(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const array* list = rows(*v, {"seasons"});
    if (!list) return bad_answer("series/seasons not a list");
    std::vector<Season> out;
    for (const auto& item : *list) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        Season s;
        s.season_id = json::integer_or(o, "season_id", 0);
        if (s.season_id <= 0) continue;
        s.series_id = json::integer_or(o, "series_id", 0);
        s.season_name = json::text(o, "season_name");
        s.series_name = json::text(o, "series_name");
        if (s.series_name.empty()) s.series_name = s.season_name;
        s.official = json::boolean_or(o, "official", false);
        if (const auto* weeks = json::array(o, "schedules"))
            for (const auto& w : *weeks) {
                if (!w.is_object()) continue;
                const auto& wo = w.get_object();
                ScheduleWeek week;
                week.race_week_num = int_of(wo, "race_week_num");
                week.start_date = json::text(wo, "start_date");
                week.category_id = int_of(wo, "category_id");
                if (const auto* t = json::object(wo, "track")) {
                    week.track_name = json::text(*t, "track_name");
                    week.config_name = json::text(*t, "config_name");
                }
                s.schedules.push_back(std::move(week));
            }
        out.push_back(std::move(s));
    }
    return out;
}

Result<RaceGuide> parse_race_guide(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    if (!v->is_object()) return bad_answer("race_guide not an object");
    const auto& o = v->get_object();
    RaceGuide g;
    g.block_begin_time = json::text(o, "block_begin_time");
    g.block_end_time = json::text(o, "block_end_time");
    if (const auto* sessions = json::array(o, "sessions"))
        for (const auto& item : *sessions) {
            if (!item.is_object()) continue;
            const auto& so = item.get_object();
            GuideSession s;
            s.season_id = json::integer_or(so, "season_id", 0);
            s.series_id = json::integer_or(so, "series_id", 0);
            s.race_week_num = int_of(so, "race_week_num");
            s.start_time = json::text(so, "start_time");
            s.end_time = json::text(so, "end_time");
            s.session_id = json::integer_or(so, "session_id", 0);
            s.entry_count = int_of(so, "entry_count");
            if (s.series_id > 0 && !s.start_time.empty()) g.sessions.push_back(std::move(s));
        }
    return g;
}

Result<SubsessionResult> parse_result(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    if (!v->is_object()) return bad_answer("results/get not an object");
    const auto& o = v->get_object();
    SubsessionResult r;
    r.subsession_id = json::integer_or(o, "subsession_id", 0);
    if (r.subsession_id <= 0) return bad_answer("results/get without subsession_id");
    r.series_id = json::integer_or(o, "series_id", 0);
    r.series_name = json::text(o, "series_name");
    r.start_time = json::text(o, "start_time");
    r.track_name = track_name_of(o);
    if (const auto* sessions = json::array(o, "session_results"))
        for (const auto& s : *sessions) {
            if (!s.is_object()) continue;
            const auto& so = s.get_object();
            // The race is simsession 0 (earlier sessions are negative).
            if (json::integer_or(so, "simsession_number", -1) != 0) continue;
            if (const auto* results = json::array(so, "results"))
                for (const auto& row : *results)
                    if (row.is_object()) r.race.push_back(result_row(row.get_object()));
        }
    return r;
}

Result<std::vector<LeagueSession>> parse_league_sessions(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const array* list = rows(*v, {"sessions"});
    if (!list) return bad_answer("league/season_sessions without sessions");
    std::vector<LeagueSession> out;
    for (const auto& item : *list) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        LeagueSession s;
        s.session_id = json::integer_or(o, "session_id", 0);
        if (s.session_id <= 0) continue;
        s.subsession_id = json::integer_or(o, "subsession_id", 0);
        s.launch_at = json::text(o, "launch_at");
        s.track_name = track_name_of(o);
        s.has_results = json::boolean_or(o, "has_results", false);
        out.push_back(std::move(s));
    }
    return out;
}

Result<std::vector<HostedSession>> parse_hosted_sessions(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    if (!v->is_array()) return bad_answer("search_hosted chunks not an array");
    std::vector<HostedSession> out;
    for (const auto& item : v->get_array()) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        HostedSession s;
        s.subsession_id = json::integer_or(o, "subsession_id", 0);
        if (s.subsession_id <= 0) continue;
        s.session_id = json::integer_or(o, "session_id", 0);
        s.start_time = json::text(o, "start_time");
        s.track_name = track_name_of(o);
        s.league_id = json::integer_or(o, "league_id", 0);
        s.league_season_id = json::integer_or(o, "league_season_id", 0);
        out.push_back(std::move(s));
    }
    return out;
}

Result<std::vector<Car>> parse_cars(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const array* list = rows(*v, {});
    if (!list) return bad_answer("car/get not an array");
    std::vector<Car> out;
    for (const auto& item : *list) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        Car c{json::integer_or(o, "car_id", 0), json::text(o, "car_name"),
              json::text(o, "car_name_abbreviated")};
        if (c.car_id > 0) out.push_back(std::move(c));
    }
    return out;
}

Result<std::vector<Track>> parse_tracks(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const array* list = rows(*v, {});
    if (!list) return bad_answer("track/get not an array");
    std::vector<Track> out;
    for (const auto& item : *list) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        Track t{json::integer_or(o, "track_id", 0), json::text(o, "track_name"), json::text(o, "config_name"),
                int_of(o, "category_id")};
        if (t.track_id > 0) out.push_back(std::move(t));
    }
    return out;
}

Result<std::vector<DriverMatch>> parse_driver_matches(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const array* list = rows(*v, {});
    if (!list) return bad_answer("lookup/drivers not an array");
    std::vector<DriverMatch> out;
    for (const auto& item : *list) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        DriverMatch d{json::integer_or(o, "cust_id", 0), json::text(o, "display_name"),
                      json::boolean_or(o, "profile_disabled", false)};
        if (d.cust_id > 0) out.push_back(std::move(d));
    }
    return out;
}

std::optional<std::int64_t> parse_iso_time_ms(std::string_view s) {
    // YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+00:00)
    auto number = [&](std::size_t at, std::size_t len) -> std::optional<int> {
        if (at + len > s.size()) return std::nullopt;
        int out = 0;
        auto [ptr, ec] = std::from_chars(s.data() + at, s.data() + at + len, out);
        if (ec != std::errc() || ptr != s.data() + at + len) return std::nullopt;
        return out;
    };
    if (s.size() < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':')
        return std::nullopt;
    auto y = number(0, 4), mo = number(5, 2), d = number(8, 2), h = number(11, 2), mi = number(14, 2);
    if (!y || !mo || !d || !h || !mi) return std::nullopt;
    int sec = 0;
    int millis = 0;
    std::size_t at = 16;
    if (at < s.size() && s[at] == ':') {
        auto ss = number(at + 1, 2);
        if (!ss) return std::nullopt;
        sec = *ss;
        at += 3;
        if (at < s.size() && s[at] == '.') {
            ++at;
            int digits = 0;
            for (; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, ++digits)
                if (digits < 3) millis = millis * 10 + (s[at] - '0');
            if (digits == 0) return std::nullopt;
            for (; digits < 3; ++digits) millis *= 10;
        }
    }
    const auto rest = s.substr(at);
    if (!(rest.empty() || rest == "Z" || rest == "+00:00" || rest == "+0000")) return std::nullopt;
    using namespace std::chrono;
    const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
    if (!ymd.ok() || *h > 23 || *mi > 59 || sec > 60) return std::nullopt;
    const auto tp = sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{sec} + milliseconds{millis};
    return duration_cast<milliseconds>(tp.time_since_epoch()).count();
}

}  // namespace pitwall::integrations::iracing
