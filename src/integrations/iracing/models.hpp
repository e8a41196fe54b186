// Typed results of the iRacing Data API endpoints Pitwall reads. Parsing is tolerant (reference §4.9:
// the schema drifts every season): unknown keys are ignored, missing optional fields keep their
// defaults, and only a missing identity (cust_id, subsession_id, ...) drops a row. Shapes follow
// ../shared/reference/iracing.md §3.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace pitwall::integrations::iracing {

// Licence per category ("sports_car", "formula_car", "oval", "dirt_oval", "dirt_road").
struct License {
    int category_id = 0;
    std::string category;
    int license_level = 0;  // 1-28
    double safety_rating = 0;
    std::int64_t irating = 0;
    std::string group_name;  // "Class A"
    int group_id = 0;        // 1 Rookie .. 7 Pro/WC
};

// One letter for a licence group id: R D C B A P (Pro and Pro/WC are both P).
[[nodiscard]] std::string_view license_class(int group_id);
// The category key of a category id (1 oval, 2 road, 3 dirt_oval, 4 dirt_road, 5 sports_car, 6 formula_car).
[[nodiscard]] std::string_view category_key(int category_id);

struct Member {
    std::int64_t cust_id = 0;
    std::string display_name;
    std::string last_login;
    std::vector<License> licenses;
};

struct ChartPoint {
    std::string day;  // YYYY-MM-DD
    std::int64_t value = 0;
};
struct ChartData {
    std::int64_t cust_id = 0;
    int category_id = 0;
    bool blackout = false;
    std::vector<ChartPoint> points;
};

struct RecentRace {
    std::int64_t subsession_id = 0;
    std::int64_t series_id = 0;
    std::int64_t season_id = 0;
    std::string series_name;
    std::int64_t car_id = 0;
    std::string session_start_time;  // ISO-8601 UTC
    int start_position = 0;
    int finish_position = 0;
    int laps = 0;
    int incidents = 0;
    std::int64_t strength_of_field = 0;
    std::int64_t oldi_rating = 0;
    std::int64_t newi_rating = 0;
    std::string track_name;
};

struct MemberSummary {
    std::int64_t cust_id = 0;
    int official_sessions = 0;
    int league_sessions = 0;
    int official_wins = 0;
    int league_wins = 0;
};

struct ScheduleWeek {
    int race_week_num = 0;
    std::string start_date;  // YYYY-MM-DD
    std::string track_name;
    std::string config_name;
    int category_id = 0;
};
struct Season {
    std::int64_t season_id = 0;
    std::int64_t series_id = 0;
    std::string season_name;
    std::string series_name;
    bool official = false;
    std::vector<ScheduleWeek> schedules;
};

struct GuideSession {
    std::int64_t season_id = 0;
    std::int64_t series_id = 0;
    int race_week_num = 0;
    std::string start_time;  // ISO-8601
    std::string end_time;
    std::int64_t session_id = 0;
    int entry_count = 0;
};
struct RaceGuide {
    std::string block_begin_time;
    std::string block_end_time;
    std::vector<GuideSession> sessions;
};

struct ResultRow {
    std::int64_t cust_id = 0;  // 0 for a team row
    std::int64_t team_id = 0;
    std::string display_name;
    int finish_position = 0;  // 0-based, as iRacing sends it
    int laps_complete = 0;
    int incidents = 0;
    std::int64_t best_lap_time = -1;  // 1/10000 s; -1 when none
    std::int64_t car_id = 0;
    std::int64_t oldi_rating = 0;
    std::int64_t newi_rating = 0;
    std::vector<ResultRow> driver_results;  // team events
};
struct SubsessionResult {
    std::int64_t subsession_id = 0;
    std::int64_t series_id = 0;
    std::string series_name;
    std::string start_time;
    std::string track_name;
    std::vector<ResultRow> race;  // the race session's results (simsession_number 0)
};

struct LeagueSession {
    std::int64_t session_id = 0;
    std::int64_t subsession_id = 0;  // 0 until it ran
    std::string launch_at;
    std::string track_name;
    bool has_results = false;
};

struct HostedSession {
    std::int64_t subsession_id = 0;
    std::int64_t session_id = 0;
    std::string start_time;
    std::string track_name;
    std::int64_t league_id = 0;
    std::int64_t league_season_id = 0;
};

struct Car {
    std::int64_t car_id = 0;
    std::string car_name;
    std::string abbreviation;
};
struct Track {
    std::int64_t track_id = 0;
    std::string track_name;
    std::string config_name;
    int category_id = 0;
};
struct DriverMatch {
    std::int64_t cust_id = 0;
    std::string display_name;
    bool profile_disabled = false;
};

// Parsers of resolved payloads (after link and chunk resolution). Error iracing.bad_answer when the
// text is not JSON of the expected outer shape.
[[nodiscard]] Result<std::vector<Member>> parse_members(std::string_view json);
[[nodiscard]] Result<ChartData> parse_chart(std::string_view json);
[[nodiscard]] Result<std::vector<RecentRace>> parse_recent_races(std::string_view json);
[[nodiscard]] Result<MemberSummary> parse_member_summary(std::string_view json);
[[nodiscard]] Result<std::vector<Season>> parse_seasons(std::string_view json);
[[nodiscard]] Result<RaceGuide> parse_race_guide(std::string_view json);
[[nodiscard]] Result<SubsessionResult> parse_result(std::string_view json);
[[nodiscard]] Result<std::vector<LeagueSession>> parse_league_sessions(std::string_view json);
[[nodiscard]] Result<std::vector<HostedSession>> parse_hosted_sessions(std::string_view json);
[[nodiscard]] Result<std::vector<Car>> parse_cars(std::string_view json);
[[nodiscard]] Result<std::vector<Track>> parse_tracks(std::string_view json);
[[nodiscard]] Result<std::vector<DriverMatch>> parse_driver_matches(std::string_view json);

// ISO-8601 UTC ("2026-11-29T18:00:00Z", with or without seconds/fraction) -> Unix ms.
[[nodiscard]] std::optional<std::int64_t> parse_iso_time_ms(std::string_view text);

}  // namespace pitwall::integrations::iracing
