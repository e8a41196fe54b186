// Generated data behind the iRacing and Garage61 fakes: a team of members with licences and
// ratings, a car and track catalogue (with Garage61's own ids for the same content), series with a
// schedule, the team's league, and race and lap activity that is a pure function of (seed, time).
//
// Nothing here reads a clock: every time-dependent answer takes `now_ms` from the caller, so the fakes
// can run on a ManualClock and a simulated week produces the same data on every run.
//
// Activity model (all deterministic):
//   - Seasons are 13-week blocks from a fixed anchor (2023-12-12, "2024 Season 1"); week 13 races on
//     the week-12 track. season_at(t) gives the season of any instant.
//   - Official series race every 1, 2 or 4 hours at a series-specific minute; a subsession is one such
//     slot of one series (one split). subsession_id = 50'000'000 + hour_since_2020 * 32 + series.
//   - Each member races on a day with probability race_chance (every 1-3 days), sometimes twice, in
//     their favourite series, at their usual hour. Team members in the same slot share the subsession;
//     the rest of the field is made of generated drivers that are not team members.
//   - Lap times come from one function of (driver, session, lap), so the finishing order, intervals and
//     best laps of results/get match the laps Garage61 shows for the same race.
//   - The league runs 10 weekly sessions per iRacing season (Thursday 19:00 UTC), one league season per
//     iRacing season (league_season_id changes with it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pitwall::fakes {

inline constexpr std::int64_t kHourMs = 3'600'000;
inline constexpr std::int64_t kDayMs = 24 * kHourMs;
inline constexpr std::int64_t kWeekMs = 7 * kDayMs;

// iRacing category ids (reference §3.9).
inline constexpr int kOval = 1;
inline constexpr int kRoad = 2;  // track category only; licences are split into sports and formula
inline constexpr int kDirtOval = 3;
inline constexpr int kDirtRoad = 4;
inline constexpr int kSportsCar = 5;
inline constexpr int kFormulaCar = 6;

struct LicenseGroup {
    int group_id;
    std::string_view group_name;
    std::string_view color;
};
// license_level 1-28 -> group (reference §3.1): 1-4 Rookie ... 25-28 Pro/WC.
LicenseGroup license_group(int license_level);

struct License {
    int category_id = 0;
    std::string category;       // oval, sports_car, formula_car, dirt_oval, dirt_road
    std::string category_name;  // Oval, Sports Car, ...
    int license_level = 1;      // 1-28
    double safety_rating = 2.5;
    double cpi = 0;
    int irating = 1350;  // the base value; irating_at() moves around it over time
    int tt_rating = 1350;
    int mpr_num_races = 0;
    int mpr_num_tts = 0;
    int seq = 0;
};

struct TeamMember {
    int index = 0;
    // iRacing
    std::int64_t cust_id = 0;
    std::string display_name;  // unique in the team (a digit is appended on a clash, like iRacing)
    std::string first_name;
    std::string last_name;
    std::string country_code;
    std::string member_since;  // YYYY-MM-DD
    std::string helmet_color1, helmet_color2, helmet_color3;
    std::vector<License> licenses;  // oval, sports_car, formula_car, dirt_oval, dirt_road
    // Garage61
    std::string g61_id;  // uuid-like, stable
    std::string g61_slug;
    // Tokens the fakes accept for this member without any grant (see the fakes' headers).
    std::string iracing_token;
    std::string garage61_token;
    // Activity
    double race_chance = 0.5;    // probability of racing on a given day
    double double_chance = 0.2;  // probability of a second race that day
    double practice_chance = 0.3;
    int usual_hour_utc = 18;
    std::vector<int> favourite_series;  // indices into FakeTeam::series
    bool league_driver = true;

    [[nodiscard]] const License& license(int category_id) const;  // kRoad means sports_car
};

struct Car {
    int index = 0;
    std::int64_t car_id = 0;  // iRacing
    std::int64_t g61_id = 0;  // Garage61's own id for the same car
    std::string car_name;
    std::string abbrev;
    int category_id = kSportsCar;  // licence category it races in
    int car_class_id = 0;
    int hp = 0;
    int weight_kg = 0;
    double speed_kmh = 150;  // average lap speed on a road course of average difficulty
    bool free_with_subscription = false;
};

struct Track {
    int index = 0;
    std::int64_t track_id = 0;  // iRacing
    std::int64_t g61_id = 0;    // Garage61
    std::string track_name;
    std::string config_name;
    int category_id = kRoad;  // 1 oval, 2 road, 3 dirt oval, 4 dirt road
    double length_km = 4;
    int corners = 12;
    std::string location;
    std::string time_zone;
    double latitude = 0, longitude = 0;
    double speed_factor = 1.0;  // lap speed relative to a road course (ovals are faster, short tracks slower)
    int package_id = 0;
    bool free_with_subscription = false;
};

struct Series {
    int index = 0;
    std::int64_t series_id = 0;
    std::string series_name;
    std::string short_name;
    int category_id = kSportsCar;
    int license_group = 1;  // minimum licence group
    std::vector<int> cars;  // indices into FakeTeam::cars
    int car_class_id = 0;
    std::vector<int> schedule;  // 12 track indices, one per race week
    int every_hours = 2;        // races every N hours ...
    int phase = 0;              // ... in hours where (hour - phase) % every_hours == 0 ...
    int minute = 0;             // ... at this minute
    int race_minutes = 25;
    bool official = true;
};

struct League {
    std::int64_t league_id = 0;
    std::string league_name;
    std::int64_t owner_cust_id = 0;
    int car = 0;              // index into FakeTeam::cars
    std::vector<int> tracks;  // track of session k
    int sessions_per_season = 10;
    int race_minutes = 60;
};

struct FakeTeam {
    std::uint64_t seed = 0;
    std::string team_name;
    std::string g61_team_id;
    std::string g61_team_slug;
    std::vector<TeamMember> members;
    std::vector<Car> cars;
    std::vector<Track> tracks;
    std::vector<Series> series;
    League league;

    [[nodiscard]] const TeamMember* member_by_cust_id(std::int64_t cust_id) const;
    [[nodiscard]] const TeamMember* member_by_g61_id(std::string_view id) const;
    [[nodiscard]] const TeamMember* member_by_slug(std::string_view slug) const;
    [[nodiscard]] const Car* car_by_id(std::int64_t car_id) const;
    [[nodiscard]] const Car* car_by_g61_id(std::int64_t id) const;
    [[nodiscard]] const Track* track_by_id(std::int64_t track_id) const;
    [[nodiscard]] const Track* track_by_g61_id(std::int64_t id) const;
};

// Latin letters with diacritics to ASCII, lower case ("Ömer Çelik" -> "omer celik"): name search.
[[nodiscard]] std::string fold_name(std::string_view text);

// Deterministic for a seed: same seed and size, same team, catalogue and activity.
FakeTeam generate_team(std::uint64_t seed, int members = 60);

// ---- time ---------------------------------------------------------------------------------------

struct Season {
    int index = 0;  // 0: 2024 Season 1
    std::int64_t start_ms = 0;
    int year = 2024;
    int quarter = 1;
};
[[nodiscard]] Season season_at(std::int64_t ms);
[[nodiscard]] Season season_by_index(int index);
[[nodiscard]] int race_week_at(const Season& season, std::int64_t ms);  // 0-11 (week 13 -> 11)
[[nodiscard]] std::int64_t season_id(const Series& series, int season_index);
[[nodiscard]] std::int64_t league_season_id(const League& league, int season_index);

[[nodiscard]] std::string iso8601(std::int64_t ms, bool with_millis = false);  // 2024-05-01T12:00:00Z
[[nodiscard]] std::string iso_date(std::int64_t ms);                           // 2024-05-01
// Accepts YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM]; nullopt when malformed.
[[nodiscard]] std::optional<std::int64_t> parse_iso8601(std::string_view text);

// ---- ratings ------------------------------------------------------------------------------------

// The member's iRating in a licence category at `ms` (800-5500): it moves on the days the member
// races in that category and stays put between them.
[[nodiscard]] int irating_at(const FakeTeam& team, const TeamMember& member, int category_id,
                             std::int64_t ms);

// ---- races --------------------------------------------------------------------------------------

struct RaceEntry {
    std::int64_t cust_id = 0;
    std::string display_name;
    const TeamMember* member = nullptr;  // null for generated drivers outside the team
    int car = 0;                         // index into FakeTeam::cars
    int start_position = 0;              // 0-based
    int finish_position = 0;             // 0-based
    int laps_complete = 0;
    int laps_led = 0;
    int incidents = 0;
    std::int64_t best_lap = 0;  // 1/10000 s
    int best_lap_num = 0;
    std::int64_t average_lap = 0;
    std::int64_t total_time = 0;  // 1/10000 s
    std::int64_t interval = 0;    // to the winner; -1 when lapped
    int old_irating = 0, new_irating = 0;
    int license_level = 0;
    int old_sub_level = 0, new_sub_level = 0;
    int champ_points = 0;
    std::string reason_out = "Running";
    int reason_out_id = 0;
};

struct Race {
    std::int64_t subsession_id = 0;
    std::int64_t session_id = 0;
    bool league = false;
    int series = -1;  // index; -1 for league races
    Season season;
    std::int64_t season_id = 0;  // official season id or league season id
    int race_week = 0;           // official: race week; league: session number
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
    int track = 0;  // index
    int category_id = 0;
    int race_laps = 0;
    int strength_of_field = 0;
    std::vector<RaceEntry> field;  // in finishing order

    [[nodiscard]] const RaceEntry* entry(std::int64_t cust_id) const;
};

// The member's last `count` races that finished before now_ms, newest first (official and league).
[[nodiscard]] std::vector<Race> member_recent_races(const FakeTeam& team, const TeamMember& member,
                                                    std::int64_t now_ms, int count = 10);
// Every race of the member that finished within [from_ms, to_ms), oldest first.
[[nodiscard]] std::vector<Race> member_races_between(const FakeTeam& team, const TeamMember& member,
                                                     std::int64_t from_ms, std::int64_t to_ms);
// The subsession if it exists (a team member took part) and finished before now_ms.
[[nodiscard]] std::optional<Race> race_by_subsession(const FakeTeam& team, std::int64_t subsession_id,
                                                     std::int64_t now_ms);

// An official session that starts at `start_ms` (for the race guide).
struct ScheduledSession {
    int series = 0;
    std::int64_t session_id = 0;
    std::int64_t subsession_id = 0;  // the id its (single) split gets
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
    int race_week = 0;
    std::int64_t season_id = 0;
    int entry_count = 0;
};
[[nodiscard]] std::vector<ScheduledSession> sessions_starting_between(const FakeTeam& team,
                                                                      std::int64_t from_ms,
                                                                      std::int64_t to_ms);

// ---- league -------------------------------------------------------------------------------------

struct LeagueSession {
    int number = 0;  // 0-based within its season
    int season_index = 0;
    std::int64_t session_id = 0;
    std::int64_t subsession_id = 0;
    std::int64_t launch_ms = 0;
    std::int64_t end_ms = 0;
    int track = 0;
    int car = 0;
};
[[nodiscard]] std::vector<LeagueSession> league_sessions(const FakeTeam& team, int season_index);
// The league race of a session if it finished before now_ms.
[[nodiscard]] std::optional<Race> league_race(const FakeTeam& team, const LeagueSession& session,
                                              std::int64_t now_ms);

// ---- Garage61 laps ------------------------------------------------------------------------------

struct Lap {
    std::string id;  // 26-char ULID (time part = start time)
    const TeamMember* driver = nullptr;
    int car = 0;          // index
    int track = 0;        // index
    double lap_time = 0;  // seconds
    int lap_number = 0;
    std::int64_t start_ms = 0;
    std::vector<double> sectors;
    bool clean = true;
    int session_type = 1;  // 1 practice, 2 qualifying, 3 race
};

struct LapQuery {
    std::vector<int> cars;    // indices; required non-empty
    std::vector<int> tracks;  // indices; required non-empty
    std::vector<const TeamMember*> drivers;
    std::int64_t after_ms = 0;  // exclusive; 0: no bound
    std::int64_t now_ms = 0;    // laps driven before this
    int history_days = 180;     // how far back laps exist at all
    bool include_unclean = false;
    std::vector<int> session_types;  // empty: all
};
// All matching laps (not grouped, not sorted).
[[nodiscard]] std::vector<Lap> find_laps(const FakeTeam& team, const LapQuery& query);

}  // namespace pitwall::fakes
