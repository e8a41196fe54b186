#include "fake_iracing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include <boost/json.hpp>

#include "fake_host.hpp"
#include "fake_util.hpp"
#include "platform/auth/secret_mask.hpp"
#include "platform/http/pipeline.hpp"

namespace pitwall::fakes {
namespace json = boost::json;
namespace {

constexpr std::string_view kErrorUri = "https://oauth.iracing.com/oauth2/book/errors.html";
constexpr std::int64_t kMaxMs = std::numeric_limits<std::int64_t>::max();

http::Response oauth_error(int status, std::string_view error, std::string_view description) {
    return util::json(status, json::object{{"status", status},
                                           {"status_reason", std::string(http::status_reason(status))},
                                           {"error", error},
                                           {"error_description", description},
                                           {"error_uri", kErrorUri}});
}

http::Response maintenance_response() {
    return util::json(503, json::object{{"error", "Site Maintenance"},
                                        {"note",
                                         "The site is currently undergoing maintenance. Please try your "
                                         "request later."}});
}

http::Response data_error(int status, std::string_view error, std::string_view message) {
    return util::json(status, json::object{{"error", error}, {"message", message}});
}

std::string amz_date(std::int64_t ms) {
    std::string iso = iso8601(ms);  // 2024-05-01T12:00:00Z
    std::string out;
    for (char c : iso)
        if (c != '-' && c != ':') out += c;
    return out;  // 20240501T120000Z
}

http::Response s3_error(int status, std::string_view code, std::string_view message, std::string extra,
                        std::uint64_t id) {
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
                      "</Code><Message>" + std::string(message) + "</Message>" + extra + "<RequestId>" +
                      util::hex(id, 16) + "</RequestId><HostId>" + util::hex(util::mix(id, 7), 16) +
                      "</HostId></Error>";
    return http::Response::text(status, std::move(xml), "application/xml");
}

const char* category_key(int track_category) {
    switch (track_category) {
        case kOval:
            return "oval";
        case kDirtOval:
            return "dirt_oval";
        case kDirtRoad:
            return "dirt_road";
        default:
            return "road";
    }
}

std::string_view licence_key(int category_id) {
    switch (category_id) {
        case kOval:
            return "oval";
        case kDirtOval:
            return "dirt_oval";
        case kDirtRoad:
            return "dirt_road";
        case kFormulaCar:
            return "formula_car";
        default:
            return "sports_car";
    }
}

// What a /data handler produced: a payload for the link (status 200), a chunked result, or an error
// answered directly.
struct Payload {
    int status = 200;
    json::value body;
    std::string error;  // for status != 200
    std::string message;
    bool chunked = false;
    std::string chunk_type;
    json::array rows;
    bool direct = false;  // answered as is (/data/doc)
};

Payload fail(int status, std::string message) {
    Payload p;
    p.status = status;
    p.error = status == 404 ? "Not Found" : status == 400 ? "Bad Request" : "Error";
    p.message = std::move(message);
    return p;
}
Payload ok(json::value body) {
    Payload p;
    p.body = std::move(body);
    return p;
}

}  // namespace

struct FakeIracing::Impl {
    Impl(std::shared_ptr<const FakeTeam> t, const Clock& c, IracingOptions o)
        : team(std::move(t)),
          clock(c),
          options(std::move(o)),
          catalog(load_catalog(options.locales_dir)),
          api(catalog, {options.host, options.api_port, options.io_threads, options.worker_threads}),
          s3(catalog, {options.host, options.s3_port, options.io_threads, options.worker_threads}) {}

    std::shared_ptr<const FakeTeam> team;
    const Clock& clock;
    IracingOptions options;
    std::shared_ptr<const i18n::Catalog> catalog;
    FakeHost api;
    FakeHost s3;
    std::int64_t service_cust = 0;

    mutable std::mutex mutex;
    IracingStats stats;
    bool maintenance = false;
    struct Token {
        std::int64_t cust_id;
        std::int64_t expires_ms;
        std::string scope;
    };
    std::unordered_map<std::string, Token> access;
    std::unordered_map<std::string, Token> refresh;
    std::uint64_t counter = 0;
    std::deque<std::int64_t> password_attempts;
    std::int64_t window = std::numeric_limits<std::int64_t>::min();
    int window_count = 0;
    struct Link {
        std::string body;
        std::string signature;  // empty for chunk files
        std::int64_t expires_ms;
        std::int64_t purge_ms;
    };
    std::unordered_map<std::string, Link> links;  // by path on the S3 listener
    std::uint64_t links_created = 0;

    std::int64_t now() const { return clock.now_ms(); }

    // ---- state helpers (mutex held) ----

    IssuedTokens issue_locked(std::int64_t cust_id, std::string scope) {
        IssuedTokens t;
        t.access_token = util::token("ir_at_", team->seed, ++counter);
        t.refresh_token = util::token("ir_rt_", team->seed, ++counter);
        t.expires_in = static_cast<int>(options.access_token_ttl.count());
        t.refresh_token_expires_in = static_cast<int>(options.refresh_token_ttl.count());
        t.scope = std::move(scope);
        const std::int64_t n = now();
        access[t.access_token] = {cust_id, n + t.expires_in * 1000LL, t.scope};
        refresh[t.refresh_token] = {cust_id, n + t.refresh_token_expires_in * 1000LL, t.scope};
        return t;
    }

    void seed_static_tokens_locked() {
        for (const auto& m : team->members)
            access[m.iracing_token] = {m.cust_id, kMaxMs, "iracing.auth iracing.profile"};
    }

    std::int64_t window_ms() const { return std::max<std::int64_t>(1, options.rate_window.count()) * 1000; }

    void roll_window_locked(std::int64_t n) {
        const std::int64_t w = n / window_ms();
        if (w != window) {
            window = w;
            window_count = 0;
        }
    }

    void rate_headers_locked(http::Response& r) const {
        r.headers.set("x-ratelimit-limit", std::to_string(options.rate_limit));
        r.headers.set("x-ratelimit-remaining",
                      std::to_string(std::max(0, options.rate_limit - window_count)));
        const std::int64_t end_ms = (window + 1) * window_ms();
        r.headers.set("x-ratelimit-reset", std::to_string((end_ms + 999) / 1000));
    }

    void purge_links_locked(std::int64_t n) {
        if (++links_created % 256 != 0) return;
        std::erase_if(links, [n](const auto& kv) { return kv.second.purge_ms < n; });
    }

    struct NewLink {
        std::string url;
        std::int64_t expires_ms;
    };
    NewLink add_link_locked(std::string_view endpoint, std::string body) {
        const std::int64_t n = now();
        purge_links_locked(n);
        const std::uint64_t id = util::mix(team->seed ^ 0x51ULL, ++counter);
        std::string name;
        for (char c : endpoint) name += c == '/' ? '-' : c;
        const std::string path = "/data-api/" + name + "/" + util::hex(id, 16) + ".json";
        const std::string signature = util::hex(util::mix(id, 1), 16) + util::hex(util::mix(id, 2), 16) +
                                      util::hex(util::mix(id, 3), 16) + util::hex(util::mix(id, 4), 16);
        const std::int64_t ttl_ms = options.link_ttl.count() * 1000;
        links[path] = {std::move(body), signature, n + ttl_ms, n + ttl_ms + kHourMs};
        return {s3.url() + path + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=FAKEIRACINGKEY%2F" +
                    amz_date(n).substr(0, 8) + "%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=" + amz_date(n) +
                    "&X-Amz-Expires=" + std::to_string(options.link_ttl.count()) +
                    "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + signature,
                n + ttl_ms};
    }

    // ---- JSON builders ----

    json::object helmet(const TeamMember& m) const {
        return {{"pattern", static_cast<int>(m.cust_id % 60)},
                {"color1", m.helmet_color1},
                {"color2", m.helmet_color2},
                {"color3", m.helmet_color3},
                {"face_type", 0},
                {"helmet_type", 0}};
    }

    json::object license(const TeamMember& m, const License& l, std::int64_t n) const {
        const auto g = license_group(l.license_level);
        return {{"category_id", l.category_id},
                {"category", l.category},
                {"category_name", l.category_name},
                {"license_level", l.license_level},
                {"safety_rating", l.safety_rating},
                {"cpi", l.cpi},
                {"irating", irating_at(*team, m, l.category_id, n)},
                {"tt_rating", l.tt_rating},
                {"mpr_num_races", l.mpr_num_races},
                {"mpr_num_tts", l.mpr_num_tts},
                {"color", g.color},
                {"group_name", g.group_name},
                {"group_id", g.group_id},
                {"pro_promotable", false},
                {"seq", l.seq}};
    }

    std::string last_login(const TeamMember& m, std::int64_t n) const {
        return iso8601(n - static_cast<std::int64_t>(
                               util::mix(team->seed, static_cast<std::uint64_t>(m.cust_id)) % (72 * kHourMs)),
                       true);
    }

    json::object member_brief(const TeamMember& m, std::int64_t n, bool with_licenses) const {
        json::object o{
            {"cust_id", m.cust_id},
            {"display_name", m.display_name},
            {"helmet", helmet(m)},
            {"last_login", last_login(m, n)},
            {"member_since", m.member_since},
            {"flair_id", 1 + static_cast<int>(m.country_code[0]) * 3 + static_cast<int>(m.country_code[1])},
            {"flair_name", m.country_code == "TR" ? "Türkiye" : m.country_code},
            {"flair_shortname", m.country_code},
            {"ai", false}};
        if (with_licenses) {
            json::array licences;
            for (const auto& l : m.licenses) licences.push_back(license(m, l, n));
            o["licenses"] = std::move(licences);
        }
        return o;
    }

    json::object track_ref(const Track& t) const {
        return {{"track_id", t.track_id}, {"track_name", t.track_name}, {"config_name", t.config_name}};
    }

    json::object series_season(const Series& s, const Season& season) const {
        const std::int64_t sid = season_id(s, season.index);
        const std::string season_name =
            s.series_name + " - " + std::to_string(season.year) + " Season " + std::to_string(season.quarter);
        json::array schedules;
        for (int w = 0; w < 12; ++w) {
            const Track& t = team->tracks[static_cast<std::size_t>(s.schedule[static_cast<std::size_t>(w)])];
            const std::int64_t week_start = season.start_ms + w * kWeekMs;
            json::array restrictions;
            for (int c : s.cars)
                restrictions.push_back(
                    json::object{{"car_id", team->cars[static_cast<std::size_t>(c)].car_id},
                                 {"max_dry_tire_sets", 0},
                                 {"max_pct_fuel_fill", 100},
                                 {"power_adjust_pct", 0},
                                 {"weight_penalty_kg", 0}});
            char first[32];
            std::snprintf(first, sizeof first, "%02d:%02d:00", s.phase, s.minute);
            json::object track = track_ref(t);
            track["category"] = category_key(t.category_id);
            track["category_id"] = t.category_id;
            schedules.push_back(json::object{
                {"season_id", sid},
                {"race_week_num", w},
                {"series_id", s.series_id},
                {"series_name", s.series_name},
                {"season_name", season_name},
                {"schedule_name", season_name},
                {"start_date", iso_date(week_start)},
                {"week_end_time", iso8601(week_start + kWeekMs - 1000)},
                {"race_time_descriptors",
                 json::array{json::object{{"repeating", true},
                                          {"super_session", false},
                                          {"session_minutes", s.race_minutes},
                                          {"first_session_time", first},
                                          {"repeat_minutes", s.every_hours * 60},
                                          {"day_offset", json::array{0, 1, 2, 3, 4, 5, 6}},
                                          {"start_date", iso_date(week_start)}}}},
                {"track", std::move(track)},
                {"category_id", s.category_id},
                {"category", licence_key(s.category_id)},
                {"car_restrictions", std::move(restrictions)},
                {"race_time_limit", s.race_minutes},
                {"weather",
                 json::object{{"version", 1}, {"type", 3}, {"temp_units", 1}, {"temp_value", 24}}}});
        }
        return {{"season_id", sid},
                {"series_id", s.series_id},
                {"season_name", season_name},
                {"series_name", s.series_name},
                {"season_short_name",
                 std::to_string(season.year) + " S" + std::to_string(season.quarter) + " " + s.short_name},
                {"season_year", season.year},
                {"season_quarter", season.quarter},
                {"active", true},
                {"official", s.official},
                {"license_group", s.license_group},
                {"multiclass", false},
                {"driver_changes", false},
                {"min_team_drivers", 1},
                {"max_team_drivers", 1},
                {"fixed_setup", false},
                {"car_class_ids", json::array{s.car_class_id}},
                {"category_id", s.category_id},
                {"max_weeks", 12},
                {"race_week", race_week_at(season, std::max(now(), season.start_ms))},
                {"start_date", iso_date(season.start_ms)},
                {"schedules", std::move(schedules)}};
    }

    json::object result_row(const Race& race, const RaceEntry& e) const {
        const Car& car = team->cars[static_cast<std::size_t>(e.car)];
        json::object helmet_obj{{"pattern", static_cast<int>(e.cust_id % 60)},
                                {"color1", util::hex(util::mix(e.cust_id, 1), 6)},
                                {"color2", util::hex(util::mix(e.cust_id, 2), 6)},
                                {"color3", util::hex(util::mix(e.cust_id, 3), 6)},
                                {"face_type", 0},
                                {"helmet_type", 0}};
        if (e.member) helmet_obj = helmet(*e.member);
        return {{"cust_id", e.cust_id},
                {"display_name", e.display_name},
                {"finish_position", e.finish_position},
                {"finish_position_in_class", e.finish_position},
                {"laps_lead", e.laps_led},
                {"laps_complete", e.laps_complete},
                {"opt_laps_complete", 0},
                {"interval", e.interval},
                {"class_interval", e.interval},
                {"average_lap", e.average_lap},
                {"best_lap_num", e.best_lap_num},
                {"best_lap_time", e.best_lap},
                {"best_nlaps_num", -1},
                {"best_nlaps_time", -1},
                {"best_qual_lap_at", "1970-01-01T00:00:00Z"},
                {"best_qual_lap_num", -1},
                {"best_qual_lap_time", -1},
                {"reason_out_id", e.reason_out_id},
                {"reason_out", e.reason_out},
                {"champ_points", e.champ_points},
                {"drop_race", false},
                {"club_points", 0},
                {"position", e.finish_position},
                {"qual_lap_time", -1},
                {"starting_position", e.start_position},
                {"starting_position_in_class", e.start_position},
                {"car_class_id", car.car_class_id},
                {"car_class_name", car.abbrev},
                {"car_class_short_name", car.abbrev},
                {"division", 0},
                {"old_license_level", e.license_level},
                {"old_sub_level", e.old_sub_level},
                {"old_cpi", 0.0},
                {"oldi_rating", e.old_irating},
                {"old_ttrating", 0},
                {"new_license_level", e.license_level},
                {"new_sub_level", e.new_sub_level},
                {"new_cpi", 0.0},
                {"newi_rating", e.new_irating},
                {"new_ttrating", 0},
                {"multiplier", 1},
                {"incidents", e.incidents},
                {"max_pct_fuel_fill", 100},
                {"weight_penalty_kg", 0},
                {"league_points", race.league ? e.champ_points : 0},
                {"league_agg_points", race.league ? e.champ_points : 0},
                {"car_id", car.car_id},
                {"car_name", car.car_name},
                {"aggregate_champ_points", e.champ_points},
                {"livery", json::object{{"car_id", car.car_id},
                                        {"pattern", 1},
                                        {"color1", helmet_obj["color1"]},
                                        {"color2", helmet_obj["color2"]},
                                        {"color3", helmet_obj["color3"]},
                                        {"number", std::to_string(e.cust_id % 100)},
                                        {"sponsor1", 0},
                                        {"sponsor2", 0},
                                        {"wheel_color", nullptr},
                                        {"rim_type", -1}}},
                {"helmet", std::move(helmet_obj)},
                {"watched", false},
                {"friend", false},
                {"ai", false}};
    }

    std::string series_name_of(const Race& race) const {
        return race.league ? team->league.league_name
                           : team->series[static_cast<std::size_t>(race.series)].series_name;
    }

    json::object results(const Race& race) const {
        const Track& t = team->tracks[static_cast<std::size_t>(race.track)];
        json::array rows;
        std::int64_t best = 0, avg_sum = 0;
        int lead_changes = 0;
        for (const auto& e : race.field) {
            rows.push_back(result_row(race, e));
            if (e.best_lap > 0 && (best == 0 || e.best_lap < best)) best = e.best_lap;
            avg_sum += e.average_lap;
            lead_changes += e.laps_led > 0 ? 1 : 0;
        }
        const std::int64_t average =
            race.field.empty() ? 0 : avg_sum / static_cast<std::int64_t>(race.field.size());
        std::set<std::int64_t> class_ids;
        json::array classes;
        for (const auto& e : race.field) {
            const Car& car = team->cars[static_cast<std::size_t>(e.car)];
            if (!class_ids.insert(car.car_class_id).second) continue;
            json::array cars;
            std::set<std::int64_t> seen;
            for (const auto& f : race.field) {
                const Car& c = team->cars[static_cast<std::size_t>(f.car)];
                if (c.car_class_id == car.car_class_id && seen.insert(c.car_id).second)
                    cars.push_back(json::object{{"car_id", c.car_id}});
            }
            classes.push_back(json::object{{"car_class_id", car.car_class_id},
                                           {"short_name", car.abbrev},
                                           {"name", car.car_name},
                                           {"cars_in_class", std::move(cars)}});
        }
        const int laps = race.field.empty() ? 0 : race.field.front().laps_complete;
        const std::string season_name = series_name_of(race) + " - " + std::to_string(race.season.year) +
                                        " Season " + std::to_string(race.season.quarter);
        json::object o{
            {"subsession_id", race.subsession_id},
            {"session_id", race.session_id},
            {"allowed_licenses", json::array{}},
            {"associated_subsession_ids", json::array{race.subsession_id}},
            {"can_protest", false},
            {"car_classes", std::move(classes)},
            {"caution_type", 0},
            {"cooldown_minutes", 0},
            {"corners_per_lap", t.corners},
            {"damage_model", 1},
            {"driver_changes", false},
            {"end_time", iso8601(race.end_ms)},
            {"event_average_lap", average},
            {"event_best_lap_time", best},
            {"event_laps_complete", laps},
            {"event_strength_of_field", race.strength_of_field},
            {"event_type", 5},
            {"event_type_name", "Race"},
            {"heat_info_id", 0},
            {"license_category", licence_key(race.category_id)},
            {"license_category_id", race.category_id},
            {"limit_minutes", 0},
            {"max_team_drivers", 1},
            {"max_weeks", 12},
            {"min_team_drivers", 1},
            {"num_caution_laps", 0},
            {"num_cautions", 0},
            {"num_drivers", static_cast<int>(race.field.size())},
            {"num_laps_for_qual_average", 2},
            {"num_laps_for_solo_average", 5},
            {"num_lead_changes", std::max(0, lead_changes - 1)},
            {"official_session", !race.league},
            {"points_type", "race"},
            {"private_session_id", race.league ? race.session_id : -1},
            {"race_summary", json::object{{"subsession_id", race.subsession_id},
                                          {"average_lap", average},
                                          {"laps_complete", laps},
                                          {"num_cautions", 0},
                                          {"num_caution_laps", 0},
                                          {"num_lead_changes", std::max(0, lead_changes - 1)},
                                          {"field_strength", race.strength_of_field},
                                          {"num_opt_laps", 0},
                                          {"has_opt_path", false},
                                          {"special_event_type", 0},
                                          {"special_event_type_text", ""}}},
            {"race_week_num", race.race_week},
            {"results_restricted", false},
            {"season_id", race.season_id},
            {"season_name", season_name},
            {"season_quarter", race.season.quarter},
            {"season_short_name", season_name},
            {"season_year", race.season.year},
            {"series_id", race.league ? 0 : team->series[static_cast<std::size_t>(race.series)].series_id},
            {"series_name", series_name_of(race)},
            {"series_short_name", race.league
                                      ? team->league.league_name
                                      : team->series[static_cast<std::size_t>(race.series)].short_name},
            {"session_results", json::array{json::object{{"simsession_number", 0},
                                                         {"simsession_type", 6},
                                                         {"simsession_type_name", "Race"},
                                                         {"simsession_subtype", 0},
                                                         {"simsession_name", "RACE"},
                                                         {"results", std::move(rows)}}}},
            {"session_splits",
             json::array{json::object{{"subsession_id", race.subsession_id},
                                      {"event_strength_of_field", race.strength_of_field}}}},
            {"special_event_type", 0},
            {"start_time", iso8601(race.start_ms)},
            {"track", json::object{{"track_id", t.track_id},
                                   {"track_name", t.track_name},
                                   {"config_name", t.config_name},
                                   {"category_id", t.category_id},
                                   {"category", category_key(t.category_id)}}},
            {"weather", json::object{{"version", 1},
                                     {"type", 3},
                                     {"temp_units", 1},
                                     {"temp_value", 22},
                                     {"rel_humidity", 45},
                                     {"fog", 0},
                                     {"wind_dir", 0},
                                     {"wind_units", 1},
                                     {"wind_value", 2},
                                     {"skies", 1},
                                     {"simulated_start_utc_time", iso8601(race.start_ms)}}}};
        if (race.league) {
            o["league_id"] = team->league.league_id;
            o["league_name"] = team->league.league_name;
            o["league_season_id"] = race.season_id;
            o["league_season_name"] = season_name;
            o["session_name"] = team->league.league_name + " Round " + std::to_string(race.race_week + 1);
            o["host_id"] = team->league.owner_cust_id;
        }
        return o;
    }

    json::object recent_race(const Race& race, const RaceEntry& e) const {
        const Track& t = team->tracks[static_cast<std::size_t>(race.track)];
        const Car& car = team->cars[static_cast<std::size_t>(e.car)];
        // Unlike results/get, member_recent_races counts positions from 1.
        return {
            {"subsession_id", race.subsession_id},
            {"season_id", race.season_id},
            {"series_id", race.league ? 0 : team->series[static_cast<std::size_t>(race.series)].series_id},
            {"series_name", series_name_of(race)},
            {"car_id", car.car_id},
            {"car_class_id", car.car_class_id},
            {"livery", json::object{{"car_id", car.car_id}, {"pattern", 1}, {"color1", "ffffff"}}},
            {"license_level", e.license_level},
            {"session_start_time", iso8601(race.start_ms)},
            {"winner_group_id", 1},
            {"winner_name", race.field.front().display_name},
            {"winner_helmet",
             json::object{{"pattern", 1}, {"color1", "ffffff"}, {"color2", "000000"}, {"color3", "ff0000"}}},
            {"winner_license_level", race.field.front().license_level},
            {"start_position", e.start_position + 1},
            {"finish_position", e.finish_position + 1},
            {"qualifying_time", 0},
            {"laps", e.laps_complete},
            {"laps_led", e.laps_led},
            {"incidents", e.incidents},
            {"points", e.champ_points},
            {"strength_of_field", race.strength_of_field},
            {"season_year", race.season.year},
            {"season_quarter", race.season.quarter},
            {"race_week_num", race.race_week},
            {"old_sub_level", e.old_sub_level},
            {"new_sub_level", e.new_sub_level},
            {"oldi_rating", e.old_irating},
            {"newi_rating", e.new_irating},
            {"track", json::object{{"track_id", t.track_id}, {"track_name", t.track_name}}},
            {"drop_race", false},
            {"event_type", race.league ? "League" : "Race"}};
    }

    const TeamMember* member_param(const http::Request& r, std::int64_t self, Payload& error) const {
        auto raw = r.query_param("cust_id");
        std::int64_t cust = self;
        if (raw && !raw->empty()) {
            auto v = util::parse_number<std::int64_t>(*raw);
            if (!v) {
                error = fail(400, "cust_id must be an integer");
                return nullptr;
            }
            cust = *v;
        }
        const TeamMember* m = team->member_by_cust_id(cust);
        if (!m) error = fail(404, "Member not found");
        return m;
    }

    // ---- endpoints ----

    Payload dispatch(const std::string& endpoint, const http::Request& r, std::int64_t self) const {
        const std::int64_t n = now();
        if (endpoint == "doc") return doc();
        if (endpoint == "member/get") return member_get(r, n);
        if (endpoint == "member/info") return member_info(self, n);
        if (endpoint == "member/chart_data") return chart_data(r, self, n);
        if (endpoint == "stats/member_recent_races") return recent_races(r, self, n);
        if (endpoint == "stats/member_summary") return member_summary(r, self, n);
        if (endpoint == "series/seasons") return series_seasons(r, n);
        if (endpoint == "season/race_guide") return race_guide(r, n);
        if (endpoint == "results/get") return results_get(r, n);
        if (endpoint == "results/search_hosted") return search_hosted(r, n);
        if (endpoint == "league/get") return league_get(r, n);
        if (endpoint == "league/seasons") return league_seasons(r, n);
        if (endpoint == "league/season_sessions") return league_season_sessions(r, n);
        if (endpoint == "car/get") return car_get();
        if (endpoint == "track/get") return track_get();
        if (endpoint == "lookup/drivers") return lookup_drivers(r, n);
        return fail(404, "Unknown endpoint: " + endpoint);
    }

    static Payload doc() {
        struct Entry {
            const char* section;
            const char* endpoint;
            std::vector<std::pair<const char*, bool>> params;  // name, required
            int expiration;
        };
        const std::vector<Entry> entries{
            {"member", "get", {{"cust_ids", true}, {"include_licenses", false}}, 900},
            {"member", "info", {}, 900},
            {"member", "chart_data", {{"cust_id", false}, {"category_id", true}, {"chart_type", true}}, 900},
            {"stats", "member_recent_races", {{"cust_id", false}}, 900},
            {"stats", "member_summary", {{"cust_id", false}}, 900},
            {"series",
             "seasons",
             {{"include_series", false}, {"season_year", false}, {"season_quarter", false}},
             900},
            {"season", "race_guide", {{"from", false}, {"include_end_after_from", false}}, 60},
            {"results", "get", {{"subsession_id", true}, {"include_licenses", false}}, 900},
            {"results",
             "search_hosted",
             {{"start_range_begin", false},
              {"start_range_end", false},
              {"finish_range_begin", false},
              {"finish_range_end", false},
              {"cust_id", false},
              {"team_id", false},
              {"host_cust_id", false},
              {"session_name", false},
              {"league_id", false},
              {"league_season_id", false}},
             900},
            {"league", "get", {{"league_id", true}, {"include_licenses", false}}, 900},
            {"league", "seasons", {{"league_id", true}, {"retired", false}}, 900},
            {"league",
             "season_sessions",
             {{"league_id", true}, {"season_id", true}, {"results_only", false}},
             900},
            {"car", "get", {}, 900},
            {"track", "get", {}, 900},
            {"lookup", "drivers", {{"search_term", true}, {"league_id", false}}, 900},
        };
        json::object out;
        for (const auto& e : entries) {
            json::object params;
            for (const auto& [name, required] : e.params)
                params[name] = json::object{{"type", "string"}, {"required", required}};
            auto& section = out[e.section];
            if (!section.is_object()) section = json::object{};
            section.as_object()[e.endpoint] = json::object{
                {"link", std::string("https://members-ng.iracing.com/data/") + e.section + "/" + e.endpoint},
                {"parameters", std::move(params)},
                {"expirationSeconds", e.expiration}};
        }
        Payload p = ok(std::move(out));
        p.direct = true;
        return p;
    }

    Payload member_get(const http::Request& r, std::int64_t n) const {
        auto raw = r.query_param("cust_ids");
        if (!raw || raw->empty()) return fail(400, "Missing required parameter: cust_ids");
        json::array ids, members;
        const bool licences = util::parse_bool(r.query_param("include_licenses").value_or(""));
        for (const auto& item : util::split_list(*raw)) {
            auto id = util::parse_number<std::int64_t>(item);
            if (!id) return fail(400, "cust_ids must be a comma-separated list of integers");
            ids.push_back(*id);
            if (const TeamMember* m = team->member_by_cust_id(*id))
                members.push_back(member_brief(*m, n, licences));
        }
        return ok(
            json::object{{"success", true}, {"cust_ids", std::move(ids)}, {"members", std::move(members)}});
    }

    Payload member_info(std::int64_t self, std::int64_t n) const {
        const TeamMember* m = team->member_by_cust_id(self);
        if (!m) return fail(404, "Member not found");
        json::object licences;
        for (const auto& l : m->licenses) licences[l.category] = license(*m, l, n);
        return ok(json::object{
            {"cust_id", m->cust_id},
            {"display_name", m->display_name},
            {"first_name", m->first_name},
            {"last_name", m->last_name},
            {"on_car_name", m->display_name},
            {"member_since", m->member_since},
            {"last_login", last_login(*m, n)},
            {"flair_id", 1},
            {"flair_name", m->country_code == "TR" ? "Türkiye" : m->country_code},
            {"flair_shortname", m->country_code},
            {"club_id", 0},
            {"club_name", ""},
            {"account", json::object{{"ir_dollars", 0.0}, {"ir_credits", 5.0}, {"status", "active"}}},
            {"helmet", helmet(*m)},
            {"suit", json::object{{"pattern", 1},
                                  {"color1", m->helmet_color2},
                                  {"color2", m->helmet_color3},
                                  {"color3", m->helmet_color1}}},
            {"licenses", std::move(licences)},
            {"car_packages", json::array{}},
            {"track_packages", json::array{}},
            {"other_owned_packages", json::array{}},
            {"has_read_comp_rules", true},
            {"has_read_pp", true},
            {"has_read_tc", true},
            {"last_season", season_at(n).index},
            {"restrictions", json::object{}},
            {"ai", false}});
    }

    Payload chart_data(const http::Request& r, std::int64_t self, std::int64_t n) const {
        auto category = r.query_param("category_id");
        auto chart = r.query_param("chart_type");
        if (!category || category->empty()) return fail(400, "Missing required parameter: category_id");
        if (!chart || chart->empty()) return fail(400, "Missing required parameter: chart_type");
        auto category_id = util::parse_number<int>(*category);
        auto chart_type = util::parse_number<int>(*chart);
        if (!category_id || *category_id < 1 || *category_id > 6) return fail(400, "Invalid category_id");
        if (!chart_type || *chart_type < 1 || *chart_type > 3) return fail(400, "Invalid chart_type");
        Payload error;
        const TeamMember* m = member_param(r, self, error);
        if (!m) return error;
        const License& l = m->license(*category_id);
        json::array data;
        const std::int64_t today = n / kDayMs;
        for (std::int64_t day = today - 364; day <= today; ++day) {
            const std::int64_t at = day * kDayMs + 12 * kHourMs;
            std::int64_t value = 0;
            const int ir = irating_at(*team, *m, l.category_id, at);
            if (*chart_type == 1)
                value = ir;
            else if (*chart_type == 2)
                value = std::max(0, ir - (l.irating - l.tt_rating));
            else
                value = license_group(l.license_level).group_id * 1000 +
                        static_cast<int>(std::lround(l.safety_rating * 100));
            data.push_back(json::object{{"when", iso_date(day * kDayMs)}, {"value", value}});
        }
        return ok(json::object{{"blackout", false},
                               {"category_id", *category_id},
                               {"chart_type", *chart_type},
                               {"cust_id", m->cust_id},
                               {"success", true},
                               {"data", std::move(data)}});
    }

    Payload recent_races(const http::Request& r, std::int64_t self, std::int64_t n) const {
        Payload error;
        const TeamMember* m = member_param(r, self, error);
        if (!m) return error;
        json::array races;
        for (const auto& race : member_recent_races(*team, *m, n, 10))
            if (const RaceEntry* e = race.entry(m->cust_id)) races.push_back(recent_race(race, *e));
        return ok(json::object{{"cust_id", m->cust_id}, {"races", std::move(races)}});
    }

    Payload member_summary(const http::Request& r, std::int64_t self, std::int64_t n) const {
        Payload error;
        const TeamMember* m = member_param(r, self, error);
        if (!m) return error;
        const std::int64_t year_start = *parse_iso8601(iso8601(n).substr(0, 4) + "-01-01");
        int official = 0, league = 0, official_wins = 0, league_wins = 0;
        for (const auto& race : member_races_between(*team, *m, year_start, n)) {
            const RaceEntry* e = race.entry(m->cust_id);
            if (!e) continue;
            (race.league ? league : official)++;
            if (e->finish_position == 0) (race.league ? league_wins : official_wins)++;
        }
        return ok(json::object{{"cust_id", m->cust_id},
                               {"this_year", json::object{{"num_official_sessions", official},
                                                          {"num_league_sessions", league},
                                                          {"num_official_wins", official_wins},
                                                          {"num_league_wins", league_wins}}}});
    }

    Payload series_seasons(const http::Request& r, std::int64_t n) const {
        Season season = season_at(n);
        auto year = r.query_param("season_year"), quarter = r.query_param("season_quarter");
        if (year && quarter && !year->empty() && !quarter->empty()) {
            auto y = util::parse_number<int>(*year);
            auto q = util::parse_number<int>(*quarter);
            if (!y || !q || *q < 1 || *q > 4) return fail(400, "Invalid season_year or season_quarter");
            season = season_by_index((*y - 2024) * 4 + (*q - 1));
        }
        json::array out;
        for (const auto& s : team->series) out.push_back(series_season(s, season));
        return ok(std::move(out));
    }

    Payload race_guide(const http::Request& r, std::int64_t n) const {
        std::int64_t from = n;
        if (auto raw = r.query_param("from"); raw && !raw->empty()) {
            auto parsed = parse_iso8601(*raw);
            if (!parsed) return fail(400, "Invalid from");
            from = std::max(*parsed, n);  // past times become now
        }
        const bool end_after = util::parse_bool(r.query_param("include_end_after_from").value_or(""));
        const std::int64_t to = from + 3 * kHourMs;
        json::array sessions;
        for (const auto& s : sessions_starting_between(*team, end_after ? from - 2 * kHourMs : from, to)) {
            if (s.start_ms < from && s.end_ms <= from) continue;
            const Series& series = team->series[static_cast<std::size_t>(s.series)];
            sessions.push_back(json::object{{"season_id", s.season_id},
                                            {"start_time", iso8601(s.start_ms)},
                                            {"super_session", false},
                                            {"series_id", series.series_id},
                                            {"race_week_num", s.race_week},
                                            {"end_time", iso8601(s.end_ms)},
                                            {"session_id", s.session_id},
                                            {"entry_count", s.entry_count}});
        }
        return ok(json::object{{"subscribed", false},
                               {"sessions", std::move(sessions)},
                               {"block_begin_time", iso8601(from)},
                               {"block_end_time", iso8601(to)},
                               {"success", true}});
    }

    Payload results_get(const http::Request& r, std::int64_t n) const {
        auto raw = r.query_param("subsession_id");
        if (!raw || raw->empty()) return fail(400, "Missing required parameter: subsession_id");
        auto id = util::parse_number<std::int64_t>(*raw);
        if (!id) return fail(400, "subsession_id must be an integer");
        auto race = race_by_subsession(*team, *id, n);
        if (!race) return fail(404, "Subsession not found");
        return ok(results(*race));
    }

    json::object hosted_row(const Race& race) const {
        const Track& t = team->tracks[static_cast<std::size_t>(race.track)];
        const Car& car = team->cars[static_cast<std::size_t>(team->league.car)];
        const TeamMember* host = team->member_by_cust_id(team->league.owner_cust_id);
        const auto& winner = race.field.front();
        return {{"subsession_id", race.subsession_id},
                {"session_id", race.session_id},
                {"session_name", team->league.league_name + " Round " + std::to_string(race.race_week + 1)},
                {"league_id", team->league.league_id},
                {"league_season_id", race.season_id},
                {"league_name", team->league.league_name},
                {"host", json::object{{"cust_id", team->league.owner_cust_id},
                                      {"display_name", host ? host->display_name : ""}}},
                {"launch_at", iso8601(race.start_ms - 30 * 60'000LL)},
                {"start_time", iso8601(race.start_ms)},
                {"end_time", iso8601(race.end_ms)},
                {"num_drivers", static_cast<int>(race.field.size())},
                {"num_cautions", 0},
                {"num_lead_changes", 0},
                {"event_strength_of_field", race.strength_of_field},
                {"event_best_lap_time", winner.best_lap},
                {"event_average_lap", winner.average_lap},
                {"event_laps_complete", winner.laps_complete},
                {"license_category_id", race.category_id},
                {"track",
                 json::object{
                     {"track_id", t.track_id}, {"track_name", t.track_name}, {"config_name", t.config_name}}},
                {"cars", json::array{json::object{{"car_id", car.car_id},
                                                  {"car_name", car.car_name},
                                                  {"car_class_id", car.car_class_id}}}},
                {"winner_id", winner.cust_id},
                {"winner_name", winner.display_name},
                {"password_protected", true},
                {"private_session_id", race.session_id},
                {"practice_length", 20},
                {"qualify_length", 10},
                {"race_length", team->league.race_minutes},
                {"race_laps", race.race_laps},
                {"time_limit", team->league.race_minutes}};
    }

    Payload search_hosted(const http::Request& r, std::int64_t n) const {
        auto param = [&](const char* name) -> std::optional<std::string> {
            auto v = r.query_param(name);
            if (v && v->empty()) return std::nullopt;
            return v;
        };
        auto start_begin = param("start_range_begin"), start_end = param("start_range_end");
        auto finish_begin = param("finish_range_begin"), finish_end = param("finish_range_end");
        if (!start_begin && !finish_begin)
            return fail(400, "One of start_range_begin or finish_range_begin is required");
        auto cust = param("cust_id"), team_id = param("team_id"), host = param("host_cust_id"),
             session_name = param("session_name"), league_id = param("league_id"),
             league_season = param("league_season_id");
        if (!cust && !team_id && !host && !session_name && !league_id && !league_season)
            return fail(400,
                        "One of cust_id, team_id, host_cust_id, session_name, league_id or league_season_id "
                        "is required");
        auto time_of = [](const std::optional<std::string>& v) -> std::optional<std::int64_t> {
            return v ? parse_iso8601(*v) : std::nullopt;
        };
        const bool by_start = start_begin.has_value();
        auto begin = time_of(by_start ? start_begin : finish_begin);
        if (!begin) return fail(400, "Invalid range begin");
        std::int64_t end = n;
        if (auto e = by_start ? start_end : finish_end) {
            auto parsed = parse_iso8601(*e);
            if (!parsed) return fail(400, "Invalid range end");
            end = *parsed;
        }
        if (end - *begin > 90 * kDayMs) return fail(400, "The date range may not exceed 90 days");
        auto number = [](const std::optional<std::string>& v) -> std::optional<std::int64_t> {
            return v ? util::parse_number<std::int64_t>(*v) : std::nullopt;
        };
        if ((cust && !number(cust)) || (host && !number(host)) || (league_id && !number(league_id)) ||
            (league_season && !number(league_season)) || (team_id && !number(team_id)))
            return fail(400, "Ids must be integers");

        json::array rows;
        const bool league_matches = (!league_id || *number(league_id) == team->league.league_id) &&
                                    (!host || *number(host) == team->league.owner_cust_id) && !team_id;
        if (league_matches) {
            for (int si = season_at(*begin - 2 * kHourMs).index; si <= season_at(end).index; ++si) {
                if (league_season && *number(league_season) != league_season_id(team->league, si)) continue;
                for (const auto& session : league_sessions(*team, si)) {
                    auto race = league_race(*team, session, n);
                    if (!race) continue;
                    const std::int64_t t = by_start ? race->start_ms : race->end_ms;
                    if (t < *begin || t >= end) continue;
                    if (cust && !race->entry(*number(cust))) continue;
                    if (session_name && fold_name(hosted_row(*race)["session_name"].as_string())
                                                .find(fold_name(*session_name)) == std::string::npos)
                        continue;
                    rows.push_back(hosted_row(*race));
                }
            }
        }
        Payload p;
        p.chunked = true;
        p.chunk_type = "search_hosted";
        p.rows = std::move(rows);
        return p;
    }

    Payload league_get(const http::Request& r, std::int64_t n) const {
        auto raw = r.query_param("league_id");
        if (!raw || raw->empty()) return fail(400, "Missing required parameter: league_id");
        auto id = util::parse_number<std::int64_t>(*raw);
        if (!id) return fail(400, "league_id must be an integer");
        if (*id != team->league.league_id) return fail(404, "League not found");
        const bool licences = util::parse_bool(r.query_param("include_licenses").value_or(""));
        json::array roster;
        for (const auto& m : team->members) {
            if (!m.league_driver) continue;
            json::object o{{"cust_id", m.cust_id},
                           {"display_name", m.display_name},
                           {"helmet", helmet(m)},
                           {"owner", m.cust_id == team->league.owner_cust_id},
                           {"admin", m.cust_id == team->league.owner_cust_id},
                           {"league_mail_opt_out", false},
                           {"league_pm_opt_out", false},
                           {"league_member_since", m.member_since},
                           {"car_number", std::to_string(m.index + 2)},
                           {"nick_name", m.first_name}};
            if (licences) o["licenses"] = member_brief(m, n, true)["licenses"];
            roster.push_back(std::move(o));
        }
        const TeamMember* owner = team->member_by_cust_id(team->league.owner_cust_id);
        const auto roster_count = static_cast<int>(roster.size());
        return ok(json::object{
            {"league_id", team->league.league_id},
            {"league_name", team->league.league_name},
            {"owner_id", team->league.owner_cust_id},
            {"owner", owner ? json::value(member_brief(*owner, n, false)) : json::value(nullptr)},
            {"created", "2021-03-01T18:00:00Z"},
            {"hidden", false},
            {"recruiting", false},
            {"private_roster", false},
            {"private_schedule", false},
            {"private_results", false},
            {"is_owner", false},
            {"is_admin", false},
            {"is_member", true},
            {"roster_count", roster_count},
            {"roster", std::move(roster)},
            {"tags", json::object{}},
            {"image", json::object{}}});
    }

    json::object league_season(int season_index, bool active) const {
        const Season s = season_by_index(season_index);
        return {{"league_id", team->league.league_id},
                {"season_id", league_season_id(team->league, season_index)},
                {"season_name", std::to_string(s.year) + " Season " + std::to_string(s.quarter)},
                {"active", active},
                {"hidden", false},
                {"points_system_id", 2},
                {"points_system_name", "iRacing Standard"},
                {"num_drops", 0},
                {"driver_points_car_classes", json::array{}},
                {"team_points_car_classes", json::array{}}};
    }

    Payload league_seasons(const http::Request& r, std::int64_t n) const {
        auto raw = r.query_param("league_id");
        if (!raw || raw->empty()) return fail(400, "Missing required parameter: league_id");
        auto id = util::parse_number<std::int64_t>(*raw);
        if (!id) return fail(400, "league_id must be an integer");
        if (*id != team->league.league_id) return fail(404, "League not found");
        const int current = season_at(n).index;
        json::array seasons{league_season(current, true)};
        if (util::parse_bool(r.query_param("retired").value_or("")))
            seasons.push_back(league_season(current - 1, false));
        return ok(json::object{{"league_id", *id},
                               {"retired", util::parse_bool(r.query_param("retired").value_or(""))},
                               {"seasons", std::move(seasons)},
                               {"success", true}});
    }

    Payload league_season_sessions(const http::Request& r, std::int64_t n) const {
        auto league = r.query_param("league_id"), season = r.query_param("season_id");
        if (!league || league->empty()) return fail(400, "Missing required parameter: league_id");
        if (!season || season->empty()) return fail(400, "Missing required parameter: season_id");
        auto league_id = util::parse_number<std::int64_t>(*league);
        auto season_id_value = util::parse_number<std::int64_t>(*season);
        if (!league_id || !season_id_value) return fail(400, "league_id and season_id must be integers");
        if (*league_id != team->league.league_id) return fail(404, "League not found");
        const bool results_only = util::parse_bool(r.query_param("results_only").value_or(""));
        const int season_index = static_cast<int>(*season_id_value - league_season_id(team->league, 0));
        json::array sessions;
        if (league_season_id(team->league, season_index) == *season_id_value) {
            const Car& car = team->cars[static_cast<std::size_t>(team->league.car)];
            for (const auto& s : league_sessions(*team, season_index)) {
                auto race = league_race(*team, s, n);
                if (results_only && !race) continue;
                const Track& t = team->tracks[static_cast<std::size_t>(s.track)];
                json::object o{
                    {"session_id", s.session_id},
                    {"subsession_id", race ? s.subsession_id : 0},
                    {"private_session_id", s.session_id},
                    {"launch_at", iso8601(s.launch_ms)},
                    {"status", race ? 1 : 0},
                    {"has_results", race.has_value()},
                    {"track", json::object{{"track_id", t.track_id},
                                           {"track_name", t.track_name},
                                           {"config_name", t.config_name}}},
                    {"cars", json::array{json::object{{"car_id", car.car_id},
                                                      {"car_name", car.car_name},
                                                      {"car_class_id", car.car_class_id}}}},
                    {"entry_count", race ? static_cast<int>(race->field.size()) : 0},
                    {"team_entry_count", 0},
                    {"driver_changes", false},
                    {"practice_length", 20},
                    {"qualify_length", 10},
                    {"race_length", team->league.race_minutes},
                    {"race_laps", 0},
                    {"time_limit", team->league.race_minutes},
                    {"weather",
                     json::object{{"version", 1}, {"type", 3}, {"temp_units", 1}, {"temp_value", 22}}}};
                if (race) {
                    o["winner_id"] = race->field.front().cust_id;
                    o["winner_name"] = race->field.front().display_name;
                }
                sessions.push_back(std::move(o));
            }
        }
        return ok(json::object{{"success", true},
                               {"season_id", *season_id_value},
                               {"league_id", *league_id},
                               {"sessions", std::move(sessions)}});
    }

    Payload car_get() const {
        json::array out;
        for (const auto& c : team->cars) {
            const bool road = c.category_id == kSportsCar || c.category_id == kFormulaCar;
            std::string dir = fold_name(c.abbrev);
            std::replace(dir.begin(), dir.end(), ' ', '_');
            out.push_back(json::object{
                {"car_id", c.car_id},
                {"car_name", c.car_name},
                {"car_name_abbreviated", c.abbrev},
                {"car_dirpath", dir},
                {"car_types", json::array{json::object{{"car_type", licence_key(c.category_id)}}}},
                {"categories",
                 json::array{road ? "road" : category_key(c.category_id == kOval ? kOval : c.category_id)}},
                {"hp", c.hp},
                {"car_weight", static_cast<int>(std::lround(c.weight_kg * 2.20462))},
                {"package_id", 2000 + c.index},
                {"sku", 10000 + c.index},
                {"price", c.free_with_subscription ? 0.0 : 11.95},
                {"free_with_subscription", c.free_with_subscription},
                {"retired", false},
                {"is_ps_purchasable", true}});
        }
        return ok(std::move(out));
    }

    Payload track_get() const {
        json::array out;
        for (const auto& t : team->tracks) {
            out.push_back(
                json::object{{"track_id", t.track_id},
                             {"track_name", t.track_name},
                             {"config_name", t.config_name},
                             {"category", category_key(t.category_id)},
                             {"category_id", t.category_id},
                             {"track_config_length", std::round(t.length_km / 1.609344 * 100) / 100},
                             {"corners_per_lap", t.corners},
                             {"is_oval", t.category_id == kOval || t.category_id == kDirtOval},
                             {"is_dirt", t.category_id == kDirtOval || t.category_id == kDirtRoad},
                             {"max_cars", 40},
                             {"pit_road_speed_limit", t.category_id == kOval ? 55 : 37},
                             {"location", t.location},
                             {"latitude", t.latitude},
                             {"longitude", t.longitude},
                             {"time_zone", t.time_zone},
                             {"package_id", t.package_id},
                             {"free_with_subscription", t.free_with_subscription},
                             {"retired", false}});
        }
        return ok(std::move(out));
    }

    Payload lookup_drivers(const http::Request& r, std::int64_t) const {
        auto term = r.query_param("search_term");
        if (!term || term->empty()) return fail(400, "Missing required parameter: search_term");
        std::optional<std::int64_t> league;
        if (auto raw = r.query_param("league_id"); raw && !raw->empty()) {
            league = util::parse_number<std::int64_t>(*raw);
            if (!league) return fail(400, "league_id must be an integer");
        }
        const auto as_id = util::parse_number<std::int64_t>(*term);
        const std::string needle = fold_name(*term);
        json::array out;
        for (const auto& m : team->members) {
            if (league && (*league != team->league.league_id || !m.league_driver)) continue;
            const bool match =
                as_id ? m.cust_id == *as_id : fold_name(m.display_name).find(needle) != std::string::npos;
            if (!match) continue;
            out.push_back(json::object{{"cust_id", m.cust_id},
                                       {"display_name", m.display_name},
                                       {"helmet", helmet(m)},
                                       {"profile_disabled", false}});
        }
        return ok(std::move(out));
    }

    // ---- HTTP handlers ----

    http::Response handle_data(http::Request& r) {
        std::string endpoint(r.param("path"));
        while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
        std::int64_t self = 0;
        {
            std::lock_guard lock(mutex);
            if (maintenance) {
                ++stats.maintenance;
                return maintenance_response();
            }
            auto token = util::bearer(r);
            const std::int64_t n = now();
            auto it = token ? access.find(*token) : access.end();
            if (it == access.end() || it->second.expires_ms <= n) {
                ++stats.unauthorized;
                return data_error(
                    401, "Unauthorized",
                    token ? "The access token is invalid or has expired." : "Authentication required.");
            }
            self = it->second.cust_id;
            roll_window_locked(n);
            ++stats.data_calls;
            ++stats.data_by_endpoint[endpoint.empty() ? "(none)" : endpoint];
            if (window_count >= options.rate_limit) {
                ++stats.rate_limited;
                auto response = http::Response::text(429, "Rate limit exceeded");
                rate_headers_locked(response);
                return response;
            }
            ++window_count;
        }
        Payload p = dispatch(endpoint, r, self);
        std::lock_guard lock(mutex);
        http::Response response;
        if (p.status != 200) {
            response = data_error(p.status, p.error, p.message);
        } else if (p.direct) {
            response = util::json(200, p.body);
        } else {
            json::value body = std::move(p.body);
            if (p.chunked) body = chunk_locked(p);
            auto link = add_link_locked(endpoint, json::serialize(body));
            response = util::json(
                200, json::object{{"link", link.url}, {"expires", iso8601(link.expires_ms, true)}});
        }
        rate_headers_locked(response);
        return response;
    }

    json::value chunk_locked(Payload& p) {
        const std::int64_t n = now();
        const std::uint64_t id = util::mix(team->seed ^ 0xc4ULL, ++counter);
        const std::string base_path = "/chunks/" + util::hex(id, 16) + "/";
        const int per_chunk = std::max(1, options.search_chunk_rows);
        json::array names;
        const std::int64_t ttl_ms = options.link_ttl.count() * 1000;
        for (std::size_t i = 0; i < p.rows.size(); i += static_cast<std::size_t>(per_chunk)) {
            json::array chunk;
            for (std::size_t j = i; j < std::min(p.rows.size(), i + static_cast<std::size_t>(per_chunk)); ++j)
                chunk.push_back(p.rows[j]);
            const std::string name =
                util::hex(util::mix(id, i), 12) + "_" + std::to_string(names.size()) + ".json";
            links[base_path + name] = {json::serialize(chunk), "", n + ttl_ms, n + ttl_ms + kHourMs};
            names.push_back(json::value(name));
        }
        const auto num_chunks = static_cast<int>(names.size());
        return json::object{
            {"type", p.chunk_type},
            {"data", json::object{{"success", true},
                                  {"chunk_info", json::object{{"chunk_size", per_chunk},
                                                              {"num_chunks", num_chunks},
                                                              {"rows", static_cast<int>(p.rows.size())},
                                                              {"base_download_url", s3.url() + base_path},
                                                              {"chunk_file_names", std::move(names)}}}}}};
    }

    http::Response handle_s3(http::Request& r) {
        std::lock_guard lock(mutex);
        const std::uint64_t request_id = util::mix(team->seed, ++counter);
        if (r.headers.has("Authorization")) {
            ++stats.s3_refused;
            return s3_error(
                400, "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
                "query string parameter or the Authorization header should be specified",
                "<ArgumentName>Authorization</ArgumentName>", request_id);
        }
        auto it = links.find(r.path);
        if (it == links.end()) {
            ++stats.s3_refused;
            return s3_error(403, "AccessDenied", "Access Denied", "", request_id);
        }
        if (!it->second.signature.empty() && r.query_param("X-Amz-Signature") != it->second.signature) {
            ++stats.s3_refused;
            return s3_error(403, "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature you provided.",
                            "", request_id);
        }
        const std::int64_t n = now();
        if (n >= it->second.expires_ms) {
            ++stats.s3_refused;
            return s3_error(403, "AccessDenied", "Request has expired",
                            "<X-Amz-Expires>" + std::to_string(options.link_ttl.count()) +
                                "</X-Amz-Expires><Expires>" + iso8601(it->second.expires_ms) +
                                "</Expires><ServerTime>" + iso8601(n) + "</ServerTime>",
                            request_id);
        }
        ++stats.s3_fetches;
        if (options.count_s3_fetches) {
            roll_window_locked(n);
            ++window_count;
        }
        auto response = http::Response::text(200, it->second.body, "application/json");
        response.headers.set("x-amz-request-id", util::hex(request_id, 16));
        return response;
    }

    http::Response handle_token(http::Request& r) {
        std::lock_guard lock(mutex);
        if (maintenance) {
            ++stats.maintenance;
            return maintenance_response();
        }
        auto field = [&](std::string_view name) { return http::form_field(r.body, name); };
        auto refuse = [&](int status, std::string_view error, std::string_view description) {
            ++stats.token_errors;
            return oauth_error(status, error, description);
        };
        auto grant = field("grant_type");
        if (!grant || grant->empty()) return refuse(400, "invalid_request", "grant_type missing");
        auto client_id = field("client_id");
        if (!client_id || client_id->empty()) return refuse(400, "invalid_request", "client_id missing");
        auto client_secret = field("client_secret");
        if (!client_secret || client_secret->empty())
            return refuse(400, "invalid_request", "client_secret missing");
        if (*client_id != options.client_id ||
            *client_secret != auth::mask_secret(options.client_secret, options.client_id))
            return refuse(403, "invalid_client", "client authentication failed");

        const std::int64_t n = now();
        IssuedTokens tokens;
        if (*grant == "password_limited") {
            while (!password_attempts.empty() && password_attempts.front() <= n - kHourMs)
                password_attempts.pop_front();
            if (static_cast<int>(password_attempts.size()) >= options.password_limited_per_hour) {
                // The limit ("12 tries every hour") is reported by one client library; the status and body of
                // iRacing's answer are not documented: an OAuth error with 429 is our guess.
                ++stats.password_limited_throttled;
                return refuse(429, "temporarily_unavailable",
                              "too many password_limited requests; use the refresh token or try again later");
            }
            password_attempts.push_back(n);
            auto username = field("username"), password = field("password");
            if (!username || username->empty()) return refuse(400, "invalid_request", "username missing");
            if (!password || password->empty()) return refuse(400, "invalid_request", "password missing");
            std::string scope = field("scope").value_or("");
            if ((" " + scope + " ").find(" iracing.auth ") == std::string::npos)
                return refuse(400, "invalid_scope", "scope must include iracing.auth");
            if (fold_name(*username) != fold_name(options.username) ||
                *password != auth::mask_secret(options.password, options.username))
                return refuse(400, "invalid_grant", "invalid username or password");
            tokens = issue_locked(service_cust, "iracing.auth");
        } else if (*grant == "refresh_token") {
            auto token = field("refresh_token");
            if (!token || token->empty()) return refuse(400, "invalid_request", "refresh_token missing");
            auto it = refresh.find(*token);
            if (it == refresh.end() || it->second.expires_ms <= n) {
                if (it != refresh.end()) refresh.erase(it);
                return refuse(400, "invalid_grant", "refresh token is invalid, expired or already used");
            }
            const Token old = it->second;
            refresh.erase(it);  // single use
            tokens = issue_locked(old.cust_id, old.scope);
        } else {
            return refuse(400, "unsupported_grant_type", "grant_type " + *grant + " is not supported");
        }
        ++stats.grants[*grant];
        return util::json(200, json::object{{"access_token", tokens.access_token},
                                            {"token_type", "bearer"},
                                            {"expires_in", tokens.expires_in},
                                            {"refresh_token", tokens.refresh_token},
                                            {"refresh_token_expires_in", tokens.refresh_token_expires_in},
                                            {"scope", tokens.scope}});
    }

    http::Response handle_profile(http::Request& r) {
        std::lock_guard lock(mutex);
        if (maintenance) {
            ++stats.maintenance;
            return maintenance_response();
        }
        auto token = util::bearer(r);
        auto it = token ? access.find(*token) : access.end();
        if (it == access.end() || it->second.expires_ms <= now())
            return oauth_error(401, "invalid_token", "the access token is invalid or has expired");
        const TeamMember* m = team->member_by_cust_id(it->second.cust_id);
        return util::json(200, json::object{{"iracing_name", m ? m->display_name : ""},
                                            {"iracing_cust_id", it->second.cust_id}});
    }

    json::object stats_json() const {
        json::object by_endpoint, grants;
        for (const auto& [k, v] : stats.data_by_endpoint) by_endpoint[k] = v;
        for (const auto& [k, v] : stats.grants) grants[k] = v;
        return {{"data_calls", stats.data_calls},
                {"data_by_endpoint", std::move(by_endpoint)},
                {"s3_fetches", stats.s3_fetches},
                {"s3_refused", stats.s3_refused},
                {"rate_limited", stats.rate_limited},
                {"unauthorized", stats.unauthorized},
                {"grants", std::move(grants)},
                {"token_errors", stats.token_errors},
                {"password_limited_throttled", stats.password_limited_throttled},
                {"maintenance", stats.maintenance},
                {"maintenance_on", maintenance},
                {"rate_limit", options.rate_limit},
                {"rate_window_s", static_cast<std::int64_t>(options.rate_window.count())},
                {"window_used", window_count}};
    }
};

FakeIracing::FakeIracing(std::shared_ptr<const FakeTeam> team, const Clock& clock, IracingOptions options)
    : impl_(std::make_unique<Impl>(std::move(team), clock, std::move(options))) {
    auto& i = *impl_;
    if (!i.team || i.team->members.empty())
        throw std::invalid_argument("FakeIracing needs a team with members");
    i.service_cust = i.options.service_cust_id ? i.options.service_cust_id : i.team->members.front().cust_id;
    i.seed_static_tokens_locked();

    auto& api = i.api.router();
    using http::Method;
    auto add = [&](Method method, std::string pattern, http::Handler handler) {
        api.must_add({.method = method,
                      .pattern = std::move(pattern),
                      .permission = std::string(http::kPublic),
                      .handler = std::move(handler)});
    };
    add(Method::post, "/oauth2/token", [&i](http::Request& r) { return i.handle_token(r); });
    add(Method::get, "/oauth2/iracing/profile", [&i](http::Request& r) { return i.handle_profile(r); });
    add(Method::get, "/data/{path*}", [&i](http::Request& r) { return i.handle_data(r); });

    // Control API (the binary's remote control; in-process users call the methods).
    add(Method::get, "/_control/stats", [&i](http::Request&) {
        std::lock_guard lock(i.mutex);
        return util::json(200, i.stats_json());
    });
    add(Method::post, "/_control/reset", [this](http::Request&) {
        reset_stats();
        reset_limits();
        return util::json(200, json::object{{"ok", true}});
    });
    add(Method::post, "/_control/maintenance", [this](http::Request& r) {
        auto body = util::body_object(r);
        if (!body || !body->contains("on") || !(*body)["on"].is_bool())
            return util::json(400, json::object{{"error", "expected {\"on\":true|false}"}});
        set_maintenance((*body)["on"].as_bool());
        return util::json(200, json::object{{"ok", true}});
    });
    add(Method::post, "/_control/rate_limit", [this, &i](http::Request& r) {
        auto body = util::body_object(r);
        if (!body) return util::json(400, json::object{{"error", "expected a JSON object"}});
        int limit = 0;
        std::int64_t window = 0;
        {
            std::lock_guard lock(i.mutex);
            limit = i.options.rate_limit;
            window = i.options.rate_window.count();
        }
        if (auto* v = body->if_contains("limit"); v && v->is_int64()) limit = static_cast<int>(v->as_int64());
        if (auto* v = body->if_contains("window_s"); v && v->is_int64()) window = v->as_int64();
        if (auto* v = body->if_contains("password_limited_per_hour"); v && v->is_int64()) {
            std::lock_guard lock(i.mutex);
            i.options.password_limited_per_hour = static_cast<int>(v->as_int64());
        }
        if (limit < 0 || window <= 0)
            return util::json(400, json::object{{"error", "limit >= 0, window_s > 0"}});
        set_rate_limit(limit, std::chrono::seconds(window));
        return util::json(200, json::object{{"ok", true}});
    });
    add(Method::post, "/_control/expire_links", [this](http::Request&) {
        expire_links();
        return util::json(200, json::object{{"ok", true}});
    });
    add(Method::post, "/_control/revoke_tokens", [this](http::Request&) {
        revoke_access_tokens();
        return util::json(200, json::object{{"ok", true}});
    });
    add(Method::get, "/_control/team", [&i](http::Request&) {
        json::value team = util::team_json(*i.team);
        team.as_object()["service_account"] = json::object{{"client_id", i.options.client_id},
                                                           {"client_secret", i.options.client_secret},
                                                           {"username", i.options.username},
                                                           {"password", i.options.password},
                                                           {"cust_id", i.service_cust}};
        return util::json(200, team);
    });
    add(Method::post, "/_control/tokens", [this](http::Request& r) {
        auto body = util::body_object(r);
        if (!body || !body->contains("cust_id") || !(*body)["cust_id"].is_int64())
            return util::json(400, json::object{{"error", "expected {\"cust_id\":N}"}});
        try {
            auto t = issue_tokens((*body)["cust_id"].as_int64());
            return util::json(200, json::object{{"access_token", t.access_token},
                                                {"token_type", "bearer"},
                                                {"expires_in", t.expires_in},
                                                {"refresh_token", t.refresh_token},
                                                {"refresh_token_expires_in", t.refresh_token_expires_in},
                                                {"scope", t.scope}});
        } catch (const std::invalid_argument&) {
            return util::json(404, json::object{{"error", "no such member"}});
        }
    });

    i.s3.router().must_add({.method = Method::get,
                            .pattern = "/{path*}",
                            .permission = std::string(http::kPublic),
                            .handler = [&i](http::Request& r) { return i.handle_s3(r); }});
    i.s3.start();
    i.api.start();
}

FakeIracing::~FakeIracing() {
    impl_->api.stop();
    impl_->s3.stop();
}

std::string FakeIracing::api_url() const {
    return impl_->api.url();
}
std::string FakeIracing::token_url() const {
    return impl_->api.url() + "/oauth2/token";
}
std::string FakeIracing::profile_url() const {
    return impl_->api.url() + "/oauth2/iracing/profile";
}
std::string FakeIracing::s3_url() const {
    return impl_->s3.url();
}
std::string FakeIracing::control_url() const {
    return impl_->api.url() + "/_control";
}
const FakeTeam& FakeIracing::team() const {
    return *impl_->team;
}
const IracingOptions& FakeIracing::options() const {
    return impl_->options;
}
std::int64_t FakeIracing::service_cust_id() const {
    return impl_->service_cust;
}

IracingStats FakeIracing::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}
void FakeIracing::reset_stats() {
    std::lock_guard lock(impl_->mutex);
    impl_->stats = {};
}
void FakeIracing::reset_limits() {
    std::lock_guard lock(impl_->mutex);
    impl_->window_count = 0;
    impl_->password_attempts.clear();
}
void FakeIracing::set_maintenance(bool on) {
    std::lock_guard lock(impl_->mutex);
    impl_->maintenance = on;
}
void FakeIracing::set_rate_limit(int limit, std::chrono::seconds window) {
    std::lock_guard lock(impl_->mutex);
    impl_->options.rate_limit = limit;
    impl_->options.rate_window = window;
    impl_->window = std::numeric_limits<std::int64_t>::min();
    impl_->window_count = 0;
}
void FakeIracing::set_link_ttl(std::chrono::seconds ttl) {
    std::lock_guard lock(impl_->mutex);
    impl_->options.link_ttl = ttl;
}
void FakeIracing::expire_links() {
    std::lock_guard lock(impl_->mutex);
    const std::int64_t n = impl_->now();
    for (auto& [path, link] : impl_->links) link.expires_ms = std::min(link.expires_ms, n);
}
void FakeIracing::revoke_access_tokens() {
    std::lock_guard lock(impl_->mutex);
    impl_->access.clear();
}
IssuedTokens FakeIracing::issue_tokens(std::int64_t cust_id) {
    if (!impl_->team->member_by_cust_id(cust_id)) throw std::invalid_argument("not a team member");
    std::lock_guard lock(impl_->mutex);
    return impl_->issue_locked(cust_id, "iracing.auth iracing.profile");
}

}  // namespace pitwall::fakes
