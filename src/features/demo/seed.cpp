#include "features/demo/seed.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "features/events/events.hpp"
#include "features/planner/service.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::demo {
namespace {

constexpr store::Statement kCountUsers{"demo.count_users", "SELECT COUNT(*) FROM users"};
constexpr store::Statement kInsertUser{
    "demo.insert_user",
    "INSERT INTO users (discord_id, username, global_name, avatar, site_role, granted_role, guild_member, "
    "locale, "
    "time_zone, created_at, updated_at) VALUES ($1, $2, $3, NULL, $4, $4, $5, $6, $7, $8, $8) RETURNING id"};

struct Zone {
    const char* name;
    const char* locale;
};
constexpr std::array<Zone, 8> kZones{{{"Europe/Istanbul", "tr"},
                                      {"Europe/London", "en"},
                                      {"Europe/Berlin", "en"},
                                      {"America/New_York", "en"},
                                      {"America/Los_Angeles", "en"},
                                      {"America/Sao_Paulo", "en"},
                                      {"Australia/Sydney", "en"},
                                      {"Asia/Tokyo", "en"}}};
constexpr std::array<const char*, 30> kFirst{
    "Mert",  "Ece",  "Kaan", "Deniz", "Zeynep", "Emre",  "Selin", "Can",   "Oliver", "Amelia",
    "Lukas", "Mia",  "Noah", "Ava",   "Lucas",  "Sofia", "Ethan", "Chloe", "Mateo",  "Lara",
    "Kenji", "Yuki", "Jack", "Isla",  "Arda",   "Ilgın", "Tomás", "Ana",   "Felix",  "Hana"};
constexpr store::Statement kInsertRating{
    "demo.insert_rating",
    "INSERT INTO member_ratings (user_id, category, irating, safety_rating, license_class, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6)"};

// iRating of a club-level endurance team: most drivers 1500-3500, a few aliens, a few rookies.
std::int64_t demo_irating(std::mt19937& rng) {
    std::lognormal_distribution<double> dist(7.75, 0.35);  // median ~2300
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(dist(rng)), 700, 7500);
}

// Licence class follows experience; fast drivers are rarely below B.
std::string demo_class(std::int64_t irating, std::mt19937& rng) {
    const int roll = static_cast<int>(rng() % 100);
    if (irating > 3500) return roll < 85 ? "A" : "P";
    if (irating > 2200) return roll < 60 ? "A" : "B";
    if (irating > 1400) return roll < 50 ? "B" : "C";
    return roll < 70 ? "C" : "D";
}

constexpr std::array<const char*, 20> kLast{
    "Yılmaz", "Demir",  "Kaya", "Şahin",  "Çelik",  "Smith",  "Brown", "Müller",  "Schulz", "Silva",
    "Santos", "Tanaka", "Sato", "Walker", "Taylor", "Öztürk", "Aydın", "Johnson", "Moreau", "Rossi"};

constexpr store::Statement kInsertHistory{
    "demo.insert_history",
    "INSERT INTO irating_history (user_id, category, day, irating) VALUES ($1, $2, $3, $4)"};
constexpr store::Statement kInsertResult{
    "demo.insert_result",
    "INSERT INTO race_results (user_id, subsession_id, series_id, series_name, track_name, car_id, "
    "started_at, "
    "start_position, finish_position, laps, incidents, irating_before, irating_after, strength_of_field, "
    "posted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $7)"};
constexpr store::Statement kInsertWeek{"demo.insert_week",
                                       "INSERT INTO series_weeks (season_id, race_week, series_id, "
                                       "series_name, category, track_name, week_start, "
                                       "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"};
constexpr store::Statement kInsertSession{"demo.insert_session",
                                          "INSERT INTO series_sessions (season_id, series_id, starts_at, "
                                          "ends_at, entry_count) VALUES ($1, $2, $3, $4, "
                                          "$5)"};

constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;
constexpr std::int64_t kHourMs = 60LL * 60 * 1000;

// Events (features/events): times in Unix seconds, as in their tables.
constexpr store::Statement kInsertEvent{
    "demo.insert_event",
    "INSERT INTO events (name, track, car_class, starts_at, duration_min, created_by, created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id"};
constexpr store::Statement kInsertRegistration{
    "demo.insert_registration",
    "INSERT INTO event_registrations (event_id, user_id, role, source, note, created_at, updated_at) VALUES "
    "($1, $2, $3, $4, $5, $6, $6)"};
constexpr store::Statement kInsertAvailability{
    "demo.insert_availability",
    "INSERT INTO event_availability (event_id, user_id, hour_start) VALUES ($1, $2, $3)"};

struct DemoSeries {
    std::int64_t id;
    const char* name;
    const char* category;
    std::int64_t car_id;
    int minutes;                        // race length
    std::array<const char*, 3> tracks;  // rotating week by week
};
constexpr std::array<DemoSeries, 15> kSeries{{
    {4012,
     "IMSA Endurance Series",
     "sports_car",
     156,
     160,
     {"Road Atlanta", "Watkins Glen International", "Sebring International Raceway"}},
    {4013,
     "GT Sprint Series",
     "sports_car",
     169,
     45,
     {"Circuit de Spa-Francorchamps", "Circuit de Barcelona-Catalunya",
      "Suzuka International Racing Course"}},
    {4014,
     "Global Mazda MX-5 Cup",
     "sports_car",
     67,
     25,
     {"Lime Rock Park", "Okayama International Circuit", "Summit Point Raceway"}},
    {4015,
     "Porsche Cup",
     "sports_car",
     143,
     30,
     {"Red Bull Ring", "Circuit Zandvoort", "Autodromo Nazionale Monza"}},
    {4016,
     "Ferrari GT3 Challenge",
     "sports_car",
     173,
     40,
     {"Mugello Circuit", "Autodromo Enzo e Dino Ferrari", "Silverstone Circuit"}},
    {4017,
     "GT4 Falken Tyre Challenge",
     "sports_car",
     135,
     40,
     {"Brands Hatch", "Oulton Park", "Donington Park"}},
    {4018,
     "LMP2 Prototype Challenge",
     "sports_car",
     128,
     60,
     {"Circuit des 24 Heures du Mans", "Fuji International Speedway", "Bahrain International Circuit"}},
    {4019,
     "Touring Car Challenge",
     "sports_car",
     158,
     30,
     {"Motorsport Arena Oschersleben", "Hungaroring", "Circuit de Nevers Magny-Cours"}},
    {4020,
     "Nürburgring Endurance Championship",
     "sports_car",
     176,
     160,
     {"Nürburgring Nordschleife", "Nürburgring Combined", "Nürburgring Grand-Prix-Strecke"}},
    {4101, "Formula Vee", "formula_car", 30, 20, {"Lime Rock Park", "Charlotte Roval", "Oran Park Raceway"}},
    {4102,
     "F4 Challenge",
     "formula_car",
     160,
     30,
     {"Circuit Gilles Villeneuve", "Snetterton Circuit", "Tsukuba Circuit"}},
    {4103,
     "Super Formula Lights",
     "formula_car",
     165,
     35,
     {"Suzuka International Racing Course", "Autopolis", "Twin Ring Motegi"}},
    {4104,
     "Grand Prix Series",
     "formula_car",
     145,
     60,
     {"Autódromo José Carlos Pace", "Circuit of the Americas", "Mount Panorama Circuit"}},
    {4201,
     "ARCA Menards Series",
     "oval",
     24,
     60,
     {"Daytona International Speedway", "Talladega Superspeedway", "Kansas Speedway"}},
    {4301,
     "Dirt Late Model Series",
     "dirt_oval",
     41,
     30,
     {"Eldora Speedway", "Knoxville Raceway", "Williams Grove Speedway"}},
}};

std::string day_text(std::int64_t day) {
    const std::chrono::year_month_day date{std::chrono::sys_days(std::chrono::days(day))};
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    return buffer;
}

// The season calendar around today: iRacing weeks start on Tuesday, 00:00 UTC.
struct Calendar {
    std::int64_t today = 0;       // days since 1970-01-01
    std::int64_t week_start = 0;  // this week's Tuesday
    std::int64_t race_week = 0;   // this week's number in the season (1..11)
    // The track of `series` on `day` (weeks rotate through the series' tracks).
    [[nodiscard]] const char* track(const DemoSeries& series, std::int64_t day) const {
        const std::int64_t week = race_week + (day - week_start - ((day - week_start) % 7 + 7) % 7) / 7;
        return series.tracks[static_cast<std::size_t>(((week % 3) + 3) % 3)];
    }
};

struct Rated {
    std::int64_t user_id;
    std::string category;
    std::int64_t irating;
};

// A year of iRating for one member and category ending at today's rating: one race every few days,
// a random walk with a slight upward drift (people improve), walked backwards from the current value.
struct Race {
    std::int64_t day;
    std::int64_t before;
    std::int64_t after;
};
[[nodiscard]] std::vector<Race> demo_walk(std::int64_t current, std::int64_t today, int mean_gap,
                                          std::mt19937& rng) {
    std::normal_distribution<double> step(4.0, 38.0);
    std::uniform_int_distribution<int> gap(1, 2 * mean_gap - 1);
    std::vector<Race> races;
    std::int64_t after = current;
    for (std::int64_t day = today - gap(rng); day > today - 365; day -= gap(rng)) {
        const auto change = static_cast<std::int64_t>(std::lround(step(rng)));
        const std::int64_t before = std::clamp<std::int64_t>(after - change, 350, 9000);
        races.push_back({day, before, after});
        after = before;
    }
    std::reverse(races.begin(), races.end());
    return races;
}

Status seed_racing(store::Connection& c, const std::vector<Rated>& rated, const Clock& clock) {
    std::mt19937 rng(61);  // its own generator: the members above stay what they were
    const std::int64_t now = clock.now_ms();
    Calendar calendar;
    calendar.today = now / kDayMs;
    calendar.week_start = calendar.today - (calendar.today + 2) % 7;  // 1970-01-01 was a Thursday
    calendar.race_week = 1 + (calendar.week_start / 7) % 11;

    std::int64_t subsession = 71'000'000;
    for (const auto& r : rated) {
        const bool sports_car = r.category == "sports_car";
        auto races = demo_walk(r.irating, calendar.today, sports_car ? 3 : 6, rng);
        for (const auto& race : races)
            if (auto s = c.execute(kInsertHistory, {r.user_id, r.category, day_text(race.day), race.after});
                !s)
                return s.error();
        // Ten results per member: the last seven sports car races and the last three formula races.
        std::vector<const DemoSeries*> series;
        for (const auto& s : kSeries)
            if (r.category == s.category) series.push_back(&s);
        const std::size_t keep = sports_car ? 7 : 3;
        for (std::size_t i = races.size() > keep ? races.size() - keep : 0; i < races.size(); ++i) {
            const auto& race = races[i];
            const DemoSeries& s = *series[rng() % series.size()];
            const std::int64_t starts =
                race.day * kDayMs + (14 + static_cast<std::int64_t>(rng() % 5) * 2) * kHourMs;
            const std::int64_t start = 1 + static_cast<std::int64_t>(rng() % 20);
            const std::int64_t finish = std::clamp<std::int64_t>(
                start + (race.after - race.before) / -8 + static_cast<std::int64_t>(rng() % 5) - 2, 1, 24);
            if (auto x = c.execute(kInsertResult,
                                   {r.user_id, subsession++, s.id, std::string(s.name),
                                    std::string(calendar.track(s, race.day)), s.car_id, starts, start, finish,
                                    std::int64_t{s.minutes / 2 + static_cast<int>(rng() % 6)},
                                    static_cast<std::int64_t>(rng() % 9), race.before, race.after,
                                    std::int64_t{1400 + static_cast<int>(rng() % 2200)}});
                !x)
                return x.error();
        }
    }

    for (std::size_t i = 0; i < kSeries.size(); ++i) {
        const auto& s = kSeries[i];
        const std::int64_t season = 5100 + static_cast<std::int64_t>(i);
        for (std::int64_t offset : {-1, 0, 1}) {  // last week, this week, next week
            const std::int64_t start = calendar.week_start + offset * 7;
            if (auto x =
                    c.execute(kInsertWeek, {season, calendar.race_week + offset, s.id, std::string(s.name),
                                            std::string(s.category), std::string(calendar.track(s, start)),
                                            day_text(start), now});
                !x)
                return x.error();
        }
        // Every two hours, each series on its own minute (:00, :15, :30, :45), for the next week.
        const std::int64_t slot = 2 * kHourMs;
        const std::int64_t minute = static_cast<std::int64_t>(i % 4) * 15 * 60 * 1000;
        for (std::int64_t starts = (now - minute) / slot * slot + slot + minute; starts < now + 7 * kDayMs;
             starts += slot)
            if (auto x = c.execute(kInsertSession, {season, s.id, starts, starts + s.minutes * 60 * 1000,
                                                    std::int64_t{8 + static_cast<int>(rng() % 40)}});
                !x)
                return x.error();
    }
    return {};
}

// A team member for the events: their id and their zone's usual UTC offset in hours (standard time is
// close enough for when a demo driver is awake).
struct TeamMember {
    std::int64_t user_id;
    int utc_offset_h;
};
constexpr std::array<int, 8> kZoneOffsets{3, 0, 1, -5, -8, -3, 10, 9};  // kZones order

struct DemoEvent {
    const char* name;
    const char* track;
    const char* car_class;
    int in_days;
    int start_hour_utc;
    int duration_min;
    int registrations;
};
constexpr std::array<DemoEvent, 2> kEvents{{
    {"Spa 24 Hours", "Circuit de Spa-Francorchamps", "GT3", 5, 14, 1440, 15},
    {"Watkins Glen 6 Hours", "Watkins Glen International", "GTP", 12, 17, 360, 14},
}};
// Notes some registrants leave, by role (driver, spotter, both).
constexpr std::array<const char*, 3> kNotes{"Happy to start the race", "Can spot the whole race",
                                            "Night stints are fine"};

// Two upcoming events with registrations, and each registrant's hours: awake hours in their own
// zone (08:00 to midnight), minus a few they are busy.
Status seed_events(store::Connection& c, const std::vector<TeamMember>& team, std::int64_t owner,
                   const Clock& clock) {
    std::mt19937 rng(77);  // its own generator, like the racing data
    const std::int64_t now = clock.now_ms() / 1000;
    const std::int64_t today = now / 86400 * 86400;
    for (const auto& e : kEvents) {
        const std::int64_t starts = today + e.in_days * 86400LL + e.start_hour_utc * 3600LL;
        auto inserted =
            c.execute(kInsertEvent, {std::string(e.name), std::string(e.track), std::string(e.car_class),
                                     starts, std::int64_t{e.duration_min}, owner, now - 3 * 86400});
        if (!inserted) return inserted.error();
        const std::int64_t event_id = inserted->first().int64(0);

        std::vector<TeamMember> picked = team;
        std::shuffle(picked.begin(), picked.end(), rng);
        picked.resize(std::min<std::size_t>(picked.size(), static_cast<std::size_t>(e.registrations)));
        for (std::size_t i = 0; i < picked.size(); ++i) {
            const auto& m = picked[i];
            const int roll = static_cast<int>(rng() % 10);
            const std::size_t role_index = roll < 5 ? 0 : roll < 7 ? 1 : 2;
            const char* role = role_index == 0 ? "driver" : role_index == 1 ? "spotter" : "both";
            const std::string note = rng() % 3 == 0 ? kNotes[role_index] : "";
            const char* source = rng() % 5 < 2 ? "discord" : "web";
            const std::int64_t registered_at = now - 2 * 86400 + static_cast<std::int64_t>(i) * 1800;
            if (auto x = c.execute(kInsertRegistration, {event_id, m.user_id, std::string(role),
                                                         std::string(source), note, registered_at});
                !x)
                return x.error();
            for (std::int64_t hour = starts; hour < starts + e.duration_min * 60LL; hour += 3600) {
                const int local = static_cast<int>(((hour / 3600 + m.utc_offset_h) % 24 + 24) % 24);
                if (local < 8 || rng() % 100 < 15) continue;
                if (auto x = c.execute(kInsertAvailability, {event_id, m.user_id, hour}); !x)
                    return x.error();
            }
        }
    }
    return {};
}

}  // namespace

Result<int> seed_if_empty(store::Database& db, const Clock& clock) {
    int created = 0;
    auto status = db.write([&](store::Connection& c) -> Status {
        auto count = c.execute(kCountUsers);
        if (!count) return count.error();
        if (count->first().int64(0) > 0) return {};
        std::mt19937 rng(24);  // fixed: the same team on every machine
        const std::int64_t now = clock.now_ms();
        std::vector<Rated> rated;
        std::vector<TeamMember> team;
        std::int64_t owner = 0;
        for (int i = 0; i < 60; ++i) {
            const auto& zone = kZones[static_cast<std::size_t>(i) % kZones.size()];
            std::string first = kFirst[static_cast<std::size_t>(i) % kFirst.size()];
            std::string last = kLast[rng() % kLast.size()];
            std::string role = i == 0 ? "owner" : i < 3 ? "admin" : i < 56 ? "member" : "guest";
            auto inserted = c.execute(kInsertUser, {std::string("demo-") + std::to_string(100000 + i),
                                                    "demo_" + std::to_string(i + 1), first + " " + last, role,
                                                    std::int64_t{role == "guest" ? 0 : 1},
                                                    std::string(zone.locale), std::string(zone.name), now});
            if (!inserted) return inserted.error();
            if (i == 0) owner = inserted->first().int64(0);
            if (role != "guest")
                team.push_back({inserted->first().int64(0),
                                kZoneOffsets[static_cast<std::size_t>(i) % kZoneOffsets.size()]});
            for (const char* category : {"sports_car", "formula_car"}) {
                const std::int64_t irating = demo_irating(rng);
                const double safety = 1.0 + static_cast<double>(rng() % 400) / 100.0;  // 1.00 .. 4.99
                auto rating = c.execute(kInsertRating, {inserted->first().int64(0), std::string(category),
                                                        irating, safety, demo_class(irating, rng), now});
                if (!rating) return rating.error();
                rated.push_back({inserted->first().int64(0), category, irating});
            }
            ++created;
        }
        if (auto racing = seed_racing(c, rated, clock); !racing) return racing;
        return seed_events(c, team, owner, clock);
    });
    if (!status) return status.error();
    return created;
}

Result<int> plan_events(planner::Planner& planner, events::Events& events) {
    auto upcoming = events.list_upcoming(10);
    if (!upcoming) return upcoming.error();
    int planned = 0;
    for (const auto& e : *upcoming) {
        // GT3 at Spa: 2:18.5 laps, 100 l at 3.25 l a lap; GTP at the Glen: 1:35 laps, 88 l at 2.9 l.
        const bool long_race = e.duration_min >= 12 * 60;
        planner::Settings s;
        s.lap_s = long_race ? 138.5 : 95.0;
        s.pit_loss_s = long_race ? 72 : 65;
        s.fuel_tank = long_race ? 100 : 88;
        s.fuel_per_lap = long_race ? 3.25 : 2.9;
        s.min_drivers = 2;
        s.max_drivers = long_race ? 6 : 4;
        s.max_consecutive = long_race ? 3 : 2;
        s.min_rest_hours = long_race ? 4 : 0;
        s.car_name = long_race ? "BMW M4 GT3" : "Porsche 963 GTP";
        if (auto saved = planner.save_settings(e.id, s); !saved) return saved.error();
        auto plan = planner.plan(e.id);
        if (!plan) return plan.error();
        auto formed = planner.form_crews(e.id, plan->revision);
        if (formed) {
            ++planned;
        } else {
            std::string args;
            for (const auto& [k, v] : formed.error().args) args += " " + k + "=" + v;
            log::warn("demo plan of event {}: {}{}", e.id, formed.error().code, args);
        }
    }
    return planned;
}

}  // namespace pitwall::demo
