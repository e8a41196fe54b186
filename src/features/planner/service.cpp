#include "features/planner/service.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "features/notify/dm_queue.hpp"
#include "features/planner/jres.hpp"
#include "features/planner/publish.hpp"
#include "features/planner/solver.hpp"
#include "features/planner/stints.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::planner {
namespace {

using store::Null;
using store::Row;
using store::Statement;
using store::Value;

constexpr Statement kEvent{"planner.event",
                           "SELECT name, track, starts_at, duration_min, COALESCE(discord_channel_id, '') "
                           "FROM events WHERE id = $1"};
#define PITWALL_PLAN_ROW                                                                             \
    "SELECT settings, revision, unassigned, published_revision, published_at, announce_message_id, " \
    "green_flag_at FROM event_plans WHERE event_id = $1"
constexpr Statement kPlanRow{"planner.plan", PITWALL_PLAN_ROW};
// Read-modify-write: PostgreSQL (READ COMMITTED) locks the row until the transaction ends.
constexpr Statement kPlanRowForUpdate{"planner.plan_for_update", PITWALL_PLAN_ROW,
                                      PITWALL_PLAN_ROW " FOR UPDATE"};
#undef PITWALL_PLAN_ROW
constexpr Statement kEnsurePlan{
    "planner.ensure_plan",
    "INSERT INTO event_plans (event_id, settings, updated_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (event_id) DO NOTHING"};
constexpr Statement kBump{
    "planner.bump",
    "UPDATE event_plans SET revision = revision + 1, updated_at = $2 WHERE event_id = $1 "
    "RETURNING revision"};
constexpr Statement kSaveSettings{"planner.save_settings",
                                  "UPDATE event_plans SET settings = $2 WHERE event_id = $1"};
constexpr Statement kSaveUnassigned{"planner.save_unassigned",
                                    "UPDATE event_plans SET unassigned = $2 WHERE event_id = $1"};
constexpr Statement kMembers{
    "planner.members",
    "SELECT r.user_id, COALESCE(u.nickname, u.global_name, u.username), u.time_zone, r.role, "
    "r.captain_volunteer, (SELECT MAX(m.irating) FROM member_ratings m WHERE m.user_id = r.user_id AND "
    "m.category IN ('sports_car', 'formula_car')), COALESCE(u.discord_id, ''), "
    "COALESCE(u.preferred_locale, u.locale), r.avoid_night FROM event_registrations r JOIN users u ON u.id = "
    "r.user_id "
    "WHERE r.event_id = $1 ORDER BY r.created_at, r.user_id"};
constexpr Statement kAvailability{"planner.availability",
                                  "SELECT user_id, hour_start, preferred FROM event_availability "
                                  "WHERE event_id = $1"};
constexpr Statement kCarLaps{"planner.car_laps",
                             "SELECT c.user_id FROM member_cars c JOIN event_registrations r ON r.user_id = "
                             "c.user_id AND r.event_id = $1 WHERE c.car_id = $2 AND c.laps > 0"};
constexpr Statement kOverrides{"planner.overrides",
                               "SELECT user_id FROM event_car_overrides WHERE event_id = $1"};
constexpr Statement kSetOverride{
    "planner.set_override",
    "INSERT INTO event_car_overrides (event_id, user_id, granted_by, granted_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (event_id, user_id) DO UPDATE SET granted_by = $3, granted_at = $4"};
constexpr Statement kClearOverride{"planner.clear_override",
                                   "DELETE FROM event_car_overrides WHERE event_id = $1 AND user_id = $2"};
// Endurance events a member registered for that have finished: their experience.
constexpr Statement kExperience{
    "planner.experience",
    "SELECT r.user_id, COUNT(*) FROM event_registrations r JOIN events e ON e.id = r.event_id "
    "JOIN event_registrations me ON me.user_id = r.user_id AND me.event_id = $1 "
    "WHERE e.starts_at + e.duration_min * 60 <= $2 GROUP BY r.user_id"};
// Regular teammates: drivers who shared a crew in other events.
constexpr Statement kTeammates{
    "planner.teammates",
    "SELECT DISTINCT a.user_id, b.user_id FROM event_crew_members a JOIN event_crew_members b ON "
    "a.event_id = b.event_id AND a.crew = b.crew AND a.user_id <> b.user_id JOIN event_registrations r ON "
    "r.user_id = a.user_id AND r.event_id = $1 WHERE a.event_id <> $1 AND a.kind = 'driver' AND "
    "b.kind = 'driver'"};

constexpr Statement kCrews{"planner.crews",
                           "SELECT crew, car_number, captain_id, solve_error FROM event_crews "
                           "WHERE event_id = $1 ORDER BY crew"};
constexpr Statement kCrewMembers{"planner.crew_members",
                                 "SELECT crew, user_id, kind FROM event_crew_members WHERE event_id = $1 "
                                 "ORDER BY crew, user_id"};
constexpr Statement kStints{
    "planner.stints",
    "SELECT crew, stint, starts_at, ends_at, laps, driver_id, spotter_id, locked, "
    "actual_start, actual_end FROM event_stints WHERE event_id = $1 ORDER BY crew, stint"};
constexpr Statement kDeleteCrews{"planner.delete_crews", "DELETE FROM event_crews WHERE event_id = $1"};
constexpr Statement kInsertCrew{"planner.insert_crew",
                                "INSERT INTO event_crews (event_id, crew, car_number, captain_id) "
                                "VALUES ($1, $2, $3, $4)"};
constexpr Statement kInsertCrewMember{"planner.insert_crew_member",
                                      "INSERT INTO event_crew_members (event_id, crew, user_id, kind) "
                                      "VALUES ($1, $2, $3, $4)"};
constexpr Statement kDeleteCrewMember{"planner.delete_crew_member",
                                      "DELETE FROM event_crew_members WHERE event_id = $1 AND user_id = $2"};
constexpr Statement kClearMemberStints{
    "planner.clear_member_stints",
    "UPDATE event_stints SET driver_id = CASE WHEN driver_id = $2 THEN NULL ELSE driver_id END, "
    "spotter_id = CASE WHEN spotter_id = $2 THEN NULL ELSE spotter_id END, locked = CASE WHEN "
    "driver_id = $2 OR spotter_id = $2 THEN 0 ELSE locked END WHERE event_id = $1"};
constexpr Statement kSetCaptain{"planner.set_captain",
                                "UPDATE event_crews SET captain_id = $3 WHERE event_id = $1 AND crew = $2"};
constexpr Statement kDeleteStints{"planner.delete_stints",
                                  "DELETE FROM event_stints WHERE event_id = $1 AND crew = $2"};
constexpr Statement kInsertStint{
    "planner.insert_stint",
    "INSERT INTO event_stints (event_id, crew, stint, starts_at, ends_at, laps, driver_id, spotter_id, "
    "locked, "
    "actual_start, actual_end) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"};
constexpr Statement kSetSolveError{
    "planner.set_solve_error", "UPDATE event_crews SET solve_error = $3 WHERE event_id = $1 AND crew = $2"};
constexpr Statement kUpdateStint{
    "planner.update_stint",
    "UPDATE event_stints SET driver_id = $4, spotter_id = $5 WHERE event_id = $1 "
    "AND crew = $2 AND stint = $3"};
constexpr Statement kLockStint{"planner.lock_stint",
                               "UPDATE event_stints SET locked = $4 WHERE event_id = $1 AND crew = $2 AND "
                               "stint = $3"};
// Runs before the mutation's bump: the published revision is the one the bump makes.
constexpr Statement kPublished{"planner.published",
                               "UPDATE event_plans SET published_revision = revision + 1, published_at = $2 "
                               "WHERE event_id = $1"};
constexpr Statement kAnnounceMessage{"planner.announce_message",
                                     "SELECT announce_message_id FROM event_plans WHERE event_id = $1"};
constexpr Statement kAnnounceRequest{"planner.announce_request",
                                     "UPDATE event_plans SET announce_request_id = $2 WHERE event_id = $1"};
constexpr Statement kAnnounceResult{
    "planner.announce_result",
    "UPDATE event_plans SET announce_message_id = $2 WHERE announce_request_id = $1"};
constexpr Statement kSentDigest{"planner.sent_digest",
                                "SELECT user_id, digest FROM event_plan_sent WHERE event_id = $1"};
constexpr Statement kSaveDigest{
    "planner.save_digest",
    "INSERT INTO event_plan_sent (event_id, user_id, digest, sent_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (event_id, user_id) DO UPDATE SET digest = $3, sent_at = $4"};
constexpr Statement kDeleteDigest{"planner.delete_digest",
                                  "DELETE FROM event_plan_sent WHERE event_id = $1 AND user_id = $2"};
constexpr Statement kGreenFlag{"planner.green_flag",
                               "UPDATE event_plans SET green_flag_at = $2 WHERE event_id = $1"};
constexpr Statement kMoveStint{
    "planner.move_stint",
    "UPDATE event_stints SET starts_at = starts_at + $2, ends_at = ends_at + $2 WHERE event_id = $1"};
constexpr Statement kFirstActual{
    "planner.first_actual", "UPDATE event_stints SET actual_start = $2 WHERE event_id = $1 AND stint = 0"};

#define PITWALL_DUTY_SELECT                                                                                 \
    "SELECT s.event_id, e.name, e.track, s.crew, c.car_number, s.stint, s.starts_at, s.ends_at, "           \
    "CASE WHEN s.driver_id = $1 THEN 1 ELSE 0 END, s.driver_id, s.spotter_id FROM event_stints s "          \
    "JOIN events e ON e.id = s.event_id JOIN event_crews c ON c.event_id = s.event_id AND c.crew = s.crew " \
    "JOIN event_plans p ON p.event_id = s.event_id AND p.published_revision IS NOT NULL "
constexpr Statement kDuties{"planner.duties", PITWALL_DUTY_SELECT
                            "WHERE (s.driver_id = $1 OR s.spotter_id = $1) AND s.ends_at > $2 "
                            "ORDER BY s.starts_at, s.event_id, s.crew"};
constexpr Statement kDutiesStarting{
    "planner.duties_starting",
    "SELECT s.event_id, e.name, e.track, s.crew, c.car_number, s.stint, s.starts_at, s.ends_at, 0, "
    "s.driver_id, s.spotter_id FROM event_stints s JOIN events e ON e.id = s.event_id JOIN event_crews c ON "
    "c.event_id = s.event_id AND c.crew = s.crew JOIN event_plans p ON p.event_id = s.event_id AND "
    "p.published_revision IS NOT NULL WHERE s.starts_at > $1 AND s.starts_at <= $2 ORDER BY s.starts_at"};
#undef PITWALL_DUTY_SELECT

constexpr Statement kIcalGeneration{"planner.ical_generation",
                                    "SELECT generation FROM ical_feeds WHERE user_id = $1"};
constexpr Statement kIcalCreate{"planner.ical_create",
                                "INSERT INTO ical_feeds (user_id, generation) VALUES ($1, 1) "
                                "ON CONFLICT (user_id) DO NOTHING"};
constexpr Statement kIcalRotate{"planner.ical_rotate",
                                "UPDATE ical_feeds SET generation = generation + 1 WHERE user_id = $1"};
constexpr Statement kUserName{"planner.user_name",
                              "SELECT COALESCE(nickname, global_name, username), COALESCE(preferred_locale, "
                              "locale) FROM users WHERE id = $1"};

Error not_found(std::int64_t event_id) {
    return Error(ErrorKind::not_found, "events.not_found", {{"id", std::to_string(event_id)}});
}
Error stale() {
    return Error(ErrorKind::conflict, "planner.stale");
}
Error bad_settings(std::string_view field) {
    return Error(ErrorKind::invalid_input, "planner.bad_settings", {{"field", std::string(field)}});
}

Value opt(const std::optional<std::int64_t>& v) {
    return v ? Value(*v) : Value(Null{});
}

struct EventRow {
    std::string name;
    std::string track;
    std::int64_t starts_at = 0;
    std::int64_t duration_s = 0;
    std::string channel_id;
};

Result<std::optional<EventRow>> load_event(store::Connection& c, std::int64_t event_id) {
    auto rows = c.execute(kEvent, {event_id});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<EventRow>();
    const Row& r = rows->first();
    return std::optional<EventRow>(EventRow{r.text(0), r.text(1), r.int64(2), r.int64(3) * 60, r.text(4)});
}

// ---- JSON of settings and errors ------------------------------------------------------------------

std::string error_json(const Error& e) {
    boost::json::object args;
    for (const auto& [k, v] : e.args) args[k] = v;
    return boost::json::serialize(boost::json::object{{"code", e.code}, {"args", std::move(args)}});
}

std::optional<Error> parse_error_json(const std::string& text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.as_object();
    const auto* code = o.if_contains("code");
    if (!code || !code->is_string()) return std::nullopt;
    Error e(ErrorKind::invalid_input, std::string(code->as_string()));
    if (const auto* args = o.if_contains("args"); args && args->is_object())
        for (const auto& [k, a] : args->as_object())
            if (a.is_string()) e.args.emplace_back(std::string(k), std::string(a.as_string()));
    return e;
}

std::string issues_json(const std::vector<CrewIssue>& issues) {
    boost::json::array out;
    for (const auto& i : issues) {
        boost::json::object args;
        for (const auto& [k, v] : i.args) args[k] = v;
        boost::json::object o{{"code", i.code}, {"args", std::move(args)}};
        if (i.member) o["member"] = *i.member;
        out.push_back(std::move(o));
    }
    return boost::json::serialize(out);
}

std::vector<CrewIssue> parse_issues(const std::string& text) {
    std::vector<CrewIssue> out;
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_array()) return out;
    for (const auto& item : v.as_array()) {
        if (!item.is_object()) continue;
        const auto& o = item.as_object();
        CrewIssue issue;
        if (const auto* c = o.if_contains("code"); c && c->is_string()) issue.code = c->as_string();
        if (const auto* m = o.if_contains("member"); m && m->is_int64()) issue.member = m->as_int64();
        if (const auto* a = o.if_contains("args"); a && a->is_object())
            for (const auto& [k, val] : a->as_object())
                if (val.is_string()) issue.args.emplace_back(std::string(k), std::string(val.as_string()));
        out.push_back(std::move(issue));
    }
    return out;
}

// ---- loading ----------------------------------------------------------------------------------------

struct Loaded {
    EventRow event;
    EventPlan plan;
    std::map<std::int64_t, std::map<std::int64_t, Availability>> availability;  // user -> hour -> mark
    std::map<std::int64_t, std::string> discord_ids;
    std::map<std::int64_t, std::string> locales;
    std::map<std::int64_t, bool> captain_volunteers;
    std::set<std::int64_t> avoid_night;  // members who asked for no stints in their local night
    std::optional<std::string> announce_message_id;

    [[nodiscard]] std::int64_t race_start() const { return plan.green_flag_at.value_or(event.starts_at); }
};

Result<std::optional<Loaded>> load(store::Connection& c, std::int64_t event_id, bool for_update) {
    auto event = load_event(c, event_id);
    if (!event) return event.error();
    if (!*event) return std::optional<Loaded>();
    Loaded l;
    l.event = std::move(**event);
    l.plan.event_id = event_id;

    auto plan_rows = c.execute(for_update ? kPlanRowForUpdate : kPlanRow, {event_id});
    if (!plan_rows) return plan_rows.error();
    if (!plan_rows->empty()) {
        const Row& r = plan_rows->first();
        if (auto s = parse_settings(r.text(0))) l.plan.settings = *s;
        l.plan.revision = r.int64(1);
        l.plan.unassigned = parse_issues(r.text(2));
        l.plan.published_revision = r.opt_int64(3);
        l.plan.published_at = r.opt_int64(4);
        l.announce_message_id = r.opt_text(5);
        l.plan.green_flag_at = r.opt_int64(6);
    }

    auto members = c.execute(kMembers, {event_id});
    if (!members) return members.error();
    for (const Row& r : members->rows) {
        PlanMember m;
        m.user_id = r.int64(0);
        m.name = r.text(1);
        m.time_zone = r.text(2);
        m.role = r.text(3);
        if (!r.is_null(5)) m.irating = static_cast<int>(r.int64(5));
        l.captain_volunteers[m.user_id] = r.int64(4) != 0;
        if (!r.text(6).empty()) l.discord_ids[m.user_id] = r.text(6);
        l.locales[m.user_id] = r.text(7);
        if (r.int64(8) != 0) l.avoid_night.insert(m.user_id);
        l.plan.members.emplace(m.user_id, std::move(m));
    }
    auto hours = c.execute(kAvailability, {event_id});
    if (!hours) return hours.error();
    for (const Row& r : hours->rows)
        l.availability[r.int64(0)][r.int64(1)] =
            r.int64(2) ? Availability::preferred : Availability::available;

    auto crews = c.execute(kCrews, {event_id});
    if (!crews) return crews.error();
    for (const Row& r : crews->rows) {
        CrewRow crew;
        crew.crew = static_cast<int>(r.int64(0));
        crew.car_number = r.text(1);
        crew.captain = r.opt_int64(2);
        if (auto e = r.opt_text(3)) crew.solve_error = parse_error_json(*e);
        l.plan.crews.push_back(std::move(crew));
    }
    auto find_crew = [&](std::int64_t index) -> CrewRow* {
        for (auto& crew : l.plan.crews)
            if (crew.crew == index) return &crew;
        return nullptr;
    };
    auto crew_members = c.execute(kCrewMembers, {event_id});
    if (!crew_members) return crew_members.error();
    for (const Row& r : crew_members->rows)
        if (CrewRow* crew = find_crew(r.int64(0)))
            (r.text(2) == "driver" ? crew->drivers : crew->spotters).push_back(r.int64(1));
    auto overrides = c.execute(kOverrides, {event_id});
    if (!overrides) return overrides.error();
    std::set<std::int64_t> overridden;
    for (const Row& r : overrides->rows) overridden.insert(r.int64(0));
    for (auto& crew : l.plan.crews)
        for (auto d : crew.drivers)
            if (overridden.contains(d)) crew.overrides.push_back(d);

    auto stints = c.execute(kStints, {event_id});
    if (!stints) return stints.error();
    for (const Row& r : stints->rows)
        if (CrewRow* crew = find_crew(r.int64(0)))
            crew->stints.push_back(StintRow{static_cast<int>(r.int64(1)), r.int64(2), r.int64(3),
                                            static_cast<int>(r.int64(4)), r.opt_int64(5), r.opt_int64(6),
                                            r.int64(7) != 0, r.opt_int64(8), r.opt_int64(9)});
    return std::optional<Loaded>(std::move(l));
}

// Members mark the hours of the PLANNED race window. A start that comes late (or early) on race day
// moves the flag into an hour nobody could mark: that hour counts as the nearest planned hour, so a
// four-minute delay does not make the last stint uncovered.
void extend_for_race_day(const Loaded& l, std::map<std::int64_t, Availability>& marks) {
    if (!l.plan.green_flag_at || marks.empty()) return;
    const auto floor_hour = [](std::int64_t t) {
        return (t >= 0 ? t : t - (kHourSeconds - 1)) / kHourSeconds * kHourSeconds;
    };
    const std::int64_t first = floor_hour(l.event.starts_at);
    const std::int64_t last = floor_hour(l.event.starts_at + l.event.duration_s - 1);
    const std::int64_t race_start = l.race_start();
    const std::int64_t race_end = race_start + l.event.duration_s;
    const auto mark_at = [&](std::int64_t hour) {
        const auto it = marks.find(hour);
        return it == marks.end() ? std::optional<Availability>() : std::optional<Availability>(it->second);
    };
    for (std::int64_t h = last + kHourSeconds; h < race_end; h += kHourSeconds)
        if (auto m = mark_at(last)) marks.emplace(h, *m);
    for (std::int64_t h = floor_hour(race_start); h < first; h += kHourSeconds)
        if (auto m = mark_at(first)) marks.emplace(h, *m);
}

// The event's plan as stored, in one read-only snapshot. Error events.not_found.
Result<Loaded> read_plan(store::Database& db, std::int64_t event_id) {
    std::optional<Loaded> loaded;
    auto status = db.read([&](store::Connection& c) -> Status {
        auto l = load(c, event_id, false);
        if (!l) return l.error();
        loaded = std::move(*l);
        return {};
    });
    if (!status) return status.error();
    if (!loaded) return not_found(event_id);
    return std::move(*loaded);
}

// The stage-2 input of a crew: its drivers (declared) and spotters, the event's settings, and the
// stored stints as the stint table when there are any (race day moves them).
PlanInput input_of(const Loaded& l, const CrewRow& crew, bool with_stored_stints) {
    const Settings& s = l.plan.settings;
    PlanInput in;
    in.race_start = l.race_start();
    in.duration_s = l.event.duration_s;
    in.lap_s = s.lap_s;
    in.pit_loss_s = s.pit_loss_s;
    in.fuel_tank = s.fuel_tank;
    in.fuel_per_lap = s.fuel_per_lap;
    in.spotters = s.spotters;
    in.max_consecutive_stints = s.max_consecutive;
    in.minimum_rest_hours = s.min_rest_hours;
    in.fair_share = s.fair_share;
    in.declared_drivers = crew.drivers;
    if (s.min_seat_min) in.min_seat_s = static_cast<std::int64_t>(*s.min_seat_min) * 60;
    if (s.max_seat_min) in.max_seat_s = static_cast<std::int64_t>(*s.max_seat_min) * 60;
    auto add = [&](std::int64_t id, bool driver) {
        Member m;
        m.id = id;
        const auto it = l.plan.members.find(id);
        m.name = it != l.plan.members.end() ? it->second.name : "#" + std::to_string(id);
        m.time_zone = it != l.plan.members.end() ? it->second.time_zone : "UTC";
        const std::string role = it != l.plan.members.end() ? it->second.role : "";
        m.is_driver = driver;
        m.is_spotter = !driver || role == "both";
        if (const auto a = l.availability.find(id); a != l.availability.end()) m.availability = a->second;
        extend_for_race_day(l, m.availability);
        in.members.push_back(std::move(m));
    };
    for (auto id : crew.drivers) add(id, true);
    for (auto id : crew.spotters) add(id, false);
    if (with_stored_stints)
        for (const auto& st : crew.stints)
            in.fixed_stints.push_back(Stint{st.stint, st.starts_at, st.ends_at, st.laps});
    return in;
}

Plan plan_of(const CrewRow& crew) {
    Plan p;
    for (const auto& st : crew.stints) {
        p.stints.push_back(Stint{st.stint, st.starts_at, st.ends_at, st.laps});
        if (st.driver) p.assignments.push_back(Assignment{st.stint, *st.driver, st.spotter});
    }
    return p;
}

// Violations and score of every crew, from the stored stints.
void evaluate(Loaded& l) {
    for (auto& crew : l.plan.crews) {
        crew.violations.clear();
        crew.score = {};
        if (crew.solve_error || crew.stints.empty()) continue;
        const PlanInput in = input_of(l, crew, true);
        const Plan p = plan_of(crew);
        crew.violations = validate(in, p);
        crew.score = score(in, p);
    }
}

Result<std::int64_t> bump(store::Connection& c, std::int64_t event_id, std::int64_t now) {
    auto rows = c.execute(kBump, {event_id, now});
    if (!rows) return rows.error();
    if (rows->empty()) return Error(ErrorKind::internal, "store.query_failed", {}, "event_plans row missing");
    return rows->first().int64(0);
}

Status ensure_plan(store::Connection& c, std::int64_t event_id, std::int64_t now) {
    auto done = c.execute(kEnsurePlan, {event_id, settings_json(Settings{}), now});
    if (!done) return done.error();
    return {};
}

Status write_stints(store::Connection& c, std::int64_t event_id, int crew,
                    const std::vector<StintRow>& stints) {
    if (auto d = c.execute(kDeleteStints, {event_id, static_cast<std::int64_t>(crew)}); !d) return d.error();
    for (const auto& s : stints) {
        auto done = c.execute(
            kInsertStint,
            {event_id, static_cast<std::int64_t>(crew), static_cast<std::int64_t>(s.stint), s.starts_at,
             s.ends_at, static_cast<std::int64_t>(s.laps), opt(s.driver), opt(s.spotter),
             static_cast<std::int64_t>(s.locked ? 1 : 0), opt(s.actual_start), opt(s.actual_end)});
        if (!done) return done.error();
    }
    return {};
}

// The member's local hour of day (0-23) at a UTC instant (UTC for an unknown zone).
int local_hour(std::string_view time_zone, std::int64_t epoch_s) {
    std::unique_ptr<icu::TimeZone> zone(icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(
        icu::StringPiece(time_zone.data(), static_cast<std::int32_t>(time_zone.size())))));
    UErrorCode status = U_ZERO_ERROR;
    std::int32_t raw = 0, dst = 0;
    if (zone) zone->getOffset(static_cast<UDate>(epoch_s) * 1000.0, false, raw, dst, status);
    const std::int64_t local = epoch_s + (U_SUCCESS(status) ? (raw + dst) / 1000 : 0);
    return static_cast<int>(((local / kHourSeconds) % 24 + 24) % 24);
}

// "Avoid my night" as a soft rule that cannot make a plan worse than none: the crew is first solved
// with the local night (00:00-06:00, judged at the middle of each hour) of those members marked
// unavailable; when that has no valid plan, it is solved as they marked their hours.
bool without_nights(const Loaded& l, PlanInput& in) {
    bool changed = false;
    for (auto& m : in.members) {
        if (!l.avoid_night.contains(m.id)) continue;
        for (auto& [hour, mark] : m.availability)
            if (mark != Availability::unavailable && local_hour(m.time_zone, hour + kHourSeconds / 2) < 6) {
                mark = Availability::unavailable;
                changed = true;
            }
    }
    return changed;
}

// Stage 2 for one crew on `l` (locked stints kept); the new stints, or the solver's error.
Result<std::vector<StintRow>> solve_crew(const Loaded& l, const CrewRow& crew) {
    const bool stored = !crew.stints.empty();
    PlanInput in = input_of(l, crew, stored);
    SolveOptions options;
    options.time_budget_ms = l.plan.settings.time_budget_ms;
    options.seed = static_cast<std::uint64_t>(l.plan.event_id) * 7919 + static_cast<std::uint64_t>(crew.crew);
    for (const auto& s : crew.stints)
        if (s.locked && s.driver) options.locked.push_back(Assignment{s.stint, *s.driver, s.spotter});
    std::optional<Result<SolveResult>> solved;
    if (PlanInput rested = in; without_nights(l, rested)) {
        // A locked stint in such a night makes this first try fail, and the second one keeps it.
        if (auto first = solve(rested, options)) solved.emplace(std::move(first));
    }
    if (!solved) solved.emplace(solve(in, options));
    if (!*solved) return std::move(*solved).error();
    auto& result = **solved;
    std::vector<StintRow> out;
    for (const auto& st : result.plan.stints) {
        StintRow row{st.index,     st.start, st.end,       st.laps,     std::nullopt,
                     std::nullopt, false,    std::nullopt, std::nullopt};
        if (st.index < static_cast<int>(crew.stints.size())) {
            const auto& old = crew.stints[static_cast<std::size_t>(st.index)];
            row.locked = old.locked;
            row.actual_start = old.actual_start;
            row.actual_end = old.actual_end;
        }
        out.push_back(row);
    }
    for (const auto& a : result.plan.assignments)
        if (a.stint >= 0 && a.stint < static_cast<int>(out.size())) {
            out[static_cast<std::size_t>(a.stint)].driver = a.driver;
            out[static_cast<std::size_t>(a.stint)].spotter = a.spotter;
        }
    return out;
}

// Stints without anyone (stage 2 failed): the table from fuel, so the page still shows the timeline.
std::vector<StintRow> empty_stints(const Loaded& l, const CrewRow& crew) {
    std::vector<StintRow> out;
    auto table = derive_stints(input_of(l, crew, false));
    if (!table) return out;
    for (const auto& st : table->stints)
        out.push_back(StintRow{st.index, st.start, st.end, st.laps, std::nullopt, std::nullopt, false,
                               std::nullopt, std::nullopt});
    return out;
}

// Stage 2 result stored for one crew (stints, or empty stints and the error).
Status store_solution(store::Connection& c, const Loaded& l, CrewRow& crew,
                      std::optional<Error>* first_error) {
    auto solved = solve_crew(l, crew);
    std::vector<StintRow> rows;
    Value error_value = Null{};
    if (solved) {
        rows = std::move(*solved);
    } else {
        if (solved.error().kind != ErrorKind::invalid_input) return solved.error();
        rows = crew.stints.empty() ? empty_stints(l, crew) : crew.stints;
        error_value = error_json(solved.error());
        if (first_error && !*first_error) *first_error = solved.error();
    }
    if (auto s = write_stints(c, l.plan.event_id, crew.crew, rows); !s) return s;
    if (auto s =
            c.execute(kSetSolveError, {l.plan.event_id, static_cast<std::int64_t>(crew.crew), error_value});
        !s)
        return s.error();
    return {};
}

std::string digest_of(const std::vector<Duty>& duties) {
    std::string text;
    for (const auto& d : duties)
        text += std::to_string(d.crew) + "|" + std::to_string(d.stint) + "|" + std::to_string(d.starts_at) +
                "|" + std::to_string(d.ends_at) + "|" + (d.driving ? "d" : "s") + "\n";
    return encoding::hex(encoding::sha256(text));
}

std::vector<Duty> duties_in(const Loaded& l, std::int64_t user_id) {
    std::vector<Duty> out;
    for (const auto& crew : l.plan.crews)
        for (const auto& s : crew.stints) {
            const bool drives = s.driver == user_id;
            const bool spots = s.spotter == user_id;
            if (!drives && !spots) continue;
            out.push_back(Duty{l.plan.event_id, l.event.name, l.event.track, crew.crew, crew.car_number,
                               s.stint, s.starts_at, s.ends_at, drives});
        }
    std::sort(out.begin(), out.end(), [](const Duty& a, const Duty& b) { return a.starts_at < b.starts_at; });
    return out;
}

Duty duty_from(const Row& r, std::int64_t user_id) {
    Duty d;
    d.event_id = r.int64(0);
    d.event_name = r.text(1);
    d.track = r.text(2);
    d.crew = static_cast<int>(r.int64(3));
    d.car_number = r.text(4);
    d.stint = static_cast<int>(r.int64(5));
    d.starts_at = r.int64(6);
    d.ends_at = r.int64(7);
    d.driving = r.opt_int64(9) == user_id;
    return d;
}

}  // namespace

// ---- settings ---------------------------------------------------------------------------------------

Status check(const Settings& s) {
    auto finite_in = [](double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; };
    if (!finite_in(s.lap_s, 1, 3600)) return bad_settings("lap_s");
    if (!finite_in(s.pit_loss_s, 0, 3600)) return bad_settings("pit_loss_s");
    if (!finite_in(s.fuel_tank, 0.1, 100000)) return bad_settings("fuel_tank");
    if (!finite_in(s.fuel_per_lap, 0.001, 100000) || s.fuel_per_lap > s.fuel_tank)
        return bad_settings("fuel_per_lap");
    if (s.crews < 0 || s.crews > 20) return bad_settings("crews");
    if (s.min_drivers < 1 || s.min_drivers > 20) return bad_settings("min_drivers");
    if (s.max_drivers < s.min_drivers || s.max_drivers > 20) return bad_settings("max_drivers");
    if (s.max_consecutive < 0 || s.max_consecutive > 100) return bad_settings("max_consecutive");
    if (!finite_in(s.min_rest_hours, 0, 48)) return bad_settings("min_rest_hours");
    if (s.min_seat_min && (*s.min_seat_min < 0 || *s.min_seat_min > 2880))
        return bad_settings("min_seat_min");
    if (s.max_seat_min && (*s.max_seat_min < 1 || *s.max_seat_min > 2880 ||
                           (s.min_seat_min && *s.max_seat_min < *s.min_seat_min)))
        return bad_settings("max_seat_min");
    if (s.irating_min && (*s.irating_min < 0 || *s.irating_min > 20000)) return bad_settings("irating_min");
    if (s.irating_max &&
        (*s.irating_max < 0 || *s.irating_max > 20000 || (s.irating_min && *s.irating_max < *s.irating_min)))
        return bad_settings("irating_max");
    if (s.car_id && (*s.car_id < 1 || *s.car_id > 100000000)) return bad_settings("car_id");
    if (s.car_name.size() > 120) return bad_settings("car_name");
    if (s.time_budget_ms < 10 || s.time_budget_ms > 5000) return bad_settings("time_budget_ms");
    return {};
}

std::string settings_json(const Settings& s) {
    boost::json::object o{{"lap_s", s.lap_s},
                          {"pit_loss_s", s.pit_loss_s},
                          {"fuel_tank", s.fuel_tank},
                          {"fuel_per_lap", s.fuel_per_lap},
                          {"crews", s.crews},
                          {"min_drivers", s.min_drivers},
                          {"max_drivers", s.max_drivers},
                          {"fair_share", s.fair_share},
                          {"max_consecutive", s.max_consecutive},
                          {"min_rest_hours", s.min_rest_hours},
                          {"spotters", s.spotters},
                          {"mode", s.mode == BalanceMode::tiered ? "tiered" : "balanced"},
                          {"car_name", s.car_name},
                          {"time_budget_ms", s.time_budget_ms}};
    auto put = [&](const char* k, const auto& v) {
        if (v)
            o[k] = *v;
        else
            o[k] = nullptr;
    };
    put("min_seat_min", s.min_seat_min);
    put("max_seat_min", s.max_seat_min);
    put("irating_min", s.irating_min);
    put("irating_max", s.irating_max);
    put("car_id", s.car_id);
    return boost::json::serialize(o);
}

Result<Settings> parse_settings(std::string_view json) {
    boost::system::error_code ec;
    boost::json::parse_options po;
    po.max_depth = 4;
    auto v = boost::json::parse(json, ec, {}, po);
    if (ec || !v.is_object()) return Error(ErrorKind::invalid_input, "planner.bad_settings_json");
    const auto& o = v.as_object();
    Settings s;
    auto number = [&](const char* k, double& out) -> Status {
        const auto* f = o.if_contains(k);
        if (!f) return {};
        if (f->is_double())
            out = f->as_double();
        else if (f->is_int64())
            out = static_cast<double>(f->as_int64());
        else if (f->is_uint64())
            out = static_cast<double>(f->as_uint64());
        else
            return bad_settings(k);
        return {};
    };
    auto integer = [&](const char* k, auto& out) -> Status {
        const auto* f = o.if_contains(k);
        if (!f) return {};
        if (!f->is_int64() || f->as_int64() < -1'000'000'000 || f->as_int64() > 1'000'000'000'000)
            return bad_settings(k);
        out = static_cast<std::remove_reference_t<decltype(out)>>(f->as_int64());
        return {};
    };
    auto optional_int = [&](const char* k, auto& out) -> Status {
        const auto* f = o.if_contains(k);
        if (!f || f->is_null()) {
            if (f) out.reset();
            return {};
        }
        if (!f->is_int64() || f->as_int64() < -1'000'000'000 || f->as_int64() > 1'000'000'000'000)
            return bad_settings(k);
        out = static_cast<typename std::remove_reference_t<decltype(out)>::value_type>(f->as_int64());
        return {};
    };
    auto boolean = [&](const char* k, bool& out) -> Status {
        const auto* f = o.if_contains(k);
        if (!f) return {};
        if (!f->is_bool()) return bad_settings(k);
        out = f->as_bool();
        return {};
    };
    Status steps[] = {number("lap_s", s.lap_s),
                      number("pit_loss_s", s.pit_loss_s),
                      number("fuel_tank", s.fuel_tank),
                      number("fuel_per_lap", s.fuel_per_lap),
                      integer("crews", s.crews),
                      integer("min_drivers", s.min_drivers),
                      integer("max_drivers", s.max_drivers),
                      boolean("fair_share", s.fair_share),
                      integer("max_consecutive", s.max_consecutive),
                      number("min_rest_hours", s.min_rest_hours),
                      optional_int("min_seat_min", s.min_seat_min),
                      optional_int("max_seat_min", s.max_seat_min),
                      optional_int("irating_min", s.irating_min),
                      optional_int("irating_max", s.irating_max),
                      boolean("spotters", s.spotters),
                      optional_int("car_id", s.car_id),
                      integer("time_budget_ms", s.time_budget_ms)};
    for (auto& st : steps)
        if (!st) return st.error();
    if (const auto* m = o.if_contains("mode")) {
        if (!m->is_string()) return bad_settings("mode");
        if (m->as_string() == "balanced")
            s.mode = BalanceMode::balanced;
        else if (m->as_string() == "tiered")
            s.mode = BalanceMode::tiered;
        else
            return bad_settings("mode");
    }
    if (const auto* c = o.if_contains("car_name")) {
        if (!c->is_string()) return bad_settings("car_name");
        s.car_name = c->as_string();
    }
    if (auto st = check(s); !st) return st.error();
    return s;
}

// ---- EventPlan --------------------------------------------------------------------------------------

const CrewRow* EventPlan::crew(int index) const {
    for (const auto& c : crews)
        if (c.crew == index) return &c;
    return nullptr;
}

std::string EventPlan::name_of(std::int64_t user_id) const {
    const auto it = members.find(user_id);
    return it != members.end() ? it->second.name : "#" + std::to_string(user_id);
}

// ---- Planner ----------------------------------------------------------------------------------------

Planner::Planner(store::Database& db, const i18n::Catalog& catalog, const Clock& clock,
                 PlannerOptions options, http::WsHub* hub, notify::DmQueue* dms, Announcer announcer)
    : db_(db),
      catalog_(catalog),
      clock_(clock),
      options_(std::move(options)),
      hub_(hub),
      dms_(dms),
      announcer_(std::move(announcer)) {}

std::int64_t Planner::now() const {
    const auto ms = clock_.now_ms();
    return ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
}

std::string Planner::topic(std::int64_t event_id) {
    return "event:" + std::to_string(event_id);
}

void Planner::broadcast(std::int64_t event_id, std::int64_t revision) const {
    if (!hub_) return;
    hub_->broadcast(topic(event_id), boost::json::serialize(boost::json::object{
                                         {"type", "plan"}, {"event_id", event_id}, {"revision", revision}}));
}

Result<EventPlan> Planner::plan(std::int64_t event_id) const {
    auto loaded = read_plan(db_, event_id);
    if (!loaded) return loaded.error();
    evaluate(*loaded);
    return std::move(loaded->plan);
}

Status Planner::save_settings(std::int64_t event_id, const Settings& settings) {
    if (auto s = check(settings); !s) return s;
    std::int64_t revision = 0;
    auto status = db_.write([&](store::Connection& c) -> Status {
        auto event = load_event(c, event_id);
        if (!event) return event.error();
        if (!*event) return not_found(event_id);
        if (auto s = ensure_plan(c, event_id, now()); !s) return s;
        if (auto s = c.execute(kSaveSettings, {event_id, settings_json(settings)}); !s) return s.error();
        auto r = bump(c, event_id, now());
        if (!r) return r.error();
        revision = *r;
        return {};
    });
    if (status) broadcast(event_id, revision);
    return status;
}

// A mutation under the plan's revision check: `work` changes the tables of a loaded plan.
namespace {
template <typename Work>
Result<std::int64_t> mutate(store::Database& db, std::int64_t event_id, std::optional<std::int64_t> expected,
                            std::int64_t now, Work&& work) {
    std::int64_t revision = 0;
    auto status = db.write([&](store::Connection& c) -> Status {
        auto event = load_event(c, event_id);
        if (!event) return event.error();
        if (!*event) return not_found(event_id);
        if (auto s = ensure_plan(c, event_id, now); !s) return s;
        auto l = load(c, event_id, true);
        if (!l) return l.error();
        if (!*l) return not_found(event_id);
        if (expected && *expected != (*l)->plan.revision) return stale();
        if (auto s = work(c, **l); !s) return s;
        auto r = bump(c, event_id, now);
        if (!r) return r.error();
        revision = *r;
        return {};
    });
    if (!status) return status.error();
    return revision;
}

Error unknown_crew(int crew) {
    return Error(ErrorKind::not_found, "planner.unknown_crew", {{"crew", std::to_string(crew + 1)}});
}
}  // namespace

Result<EventPlan> Planner::form_crews(std::int64_t event_id, std::int64_t expected_revision) {
    std::optional<Error> solve_error;
    std::optional<Error> crew_error;
    auto revision =
        mutate(db_, event_id, expected_revision, now(), [&](store::Connection& c, Loaded& l) -> Status {
            const Settings& s = l.plan.settings;
            CrewInput in;
            in.race_start = l.race_start();
            in.duration_s = l.event.duration_s;
            if (s.crews > 0) in.crews = s.crews;
            in.min_drivers = s.min_drivers;
            in.max_drivers = s.max_drivers;
            in.irating_min = s.irating_min;
            in.irating_max = s.irating_max;
            in.mode = s.mode;
            in.spotting = s.spotters;  // every crew needs a spotter in every hour
            in.car_id = s.car_name.empty() ? (s.car_id ? "#" + std::to_string(*s.car_id) : "") : s.car_name;
            std::set<std::int64_t> with_laps;
            if (s.car_id) {
                auto rows = c.execute(kCarLaps, {event_id, *s.car_id});
                if (!rows) return rows.error();
                for (const Row& r : rows->rows) with_laps.insert(r.int64(0));
            }
            std::set<std::int64_t> overridden;
            auto orows = c.execute(kOverrides, {event_id});
            if (!orows) return orows.error();
            for (const Row& r : orows->rows) overridden.insert(r.int64(0));
            std::map<std::int64_t, int> experience;
            auto erows = c.execute(kExperience, {event_id, now()});
            if (!erows) return erows.error();
            for (const Row& r : erows->rows) experience[r.int64(0)] = static_cast<int>(r.int64(1));
            std::map<std::int64_t, std::vector<std::int64_t>> teammates;
            auto trows = c.execute(kTeammates, {event_id});
            if (!trows) return trows.error();
            for (const Row& r : trows->rows) teammates[r.int64(0)].push_back(r.int64(1));

            for (const auto& [id, m] : l.plan.members) {
                PoolMember p;
                p.id = id;
                p.name = m.name;
                p.irating = m.irating.value_or(0);
                p.is_driver = m.role == "driver" || m.role == "both";
                p.is_spotter = m.role == "spotter" || m.role == "both";
                // Without a car set there is nothing to verify against: every driver counts as verified.
                p.has_car_laps = !s.car_id || with_laps.contains(id);
                p.admin_override = overridden.contains(id);
                p.captain_volunteer = l.captain_volunteers[id];
                p.experience = experience[id];
                p.teammates = teammates[id];
                if (const auto a = l.availability.find(id); a != l.availability.end())
                    p.availability = a->second;
                in.pool.push_back(std::move(p));
            }
            auto formed = planner::form_crews(in, static_cast<std::uint64_t>(event_id));
            if (!formed) {
                if (formed.error().kind != ErrorKind::invalid_input) return formed.error();
                crew_error = formed.error();
                return formed.error();
            }
            if (auto d = c.execute(kDeleteCrews, {event_id}); !d) return d.error();
            l.plan.crews.clear();
            for (const auto& crew : formed->crews) {
                CrewRow row;
                row.crew = crew.index;
                row.captain = crew.captain;
                row.drivers = crew.drivers;
                row.spotters = crew.spotters;
                auto done = c.execute(kInsertCrew, {event_id, static_cast<std::int64_t>(crew.index),
                                                    std::to_string(crew.index + 1), crew.captain});
                if (!done) return done.error();
                for (auto d : crew.drivers)
                    if (auto st = c.execute(
                            kInsertCrewMember,
                            {event_id, static_cast<std::int64_t>(crew.index), d, std::string("driver")});
                        !st)
                        return st.error();
                for (auto sp : crew.spotters)
                    if (auto st = c.execute(
                            kInsertCrewMember,
                            {event_id, static_cast<std::int64_t>(crew.index), sp, std::string("spotter")});
                        !st)
                        return st.error();
                row.car_number = std::to_string(crew.index + 1);
                l.plan.crews.push_back(std::move(row));
            }
            std::vector<CrewIssue> left_out = formed->unassigned;
            left_out.insert(left_out.end(), formed->spotter_only.begin(), formed->spotter_only.end());
            if (auto st = c.execute(kSaveUnassigned, {event_id, issues_json(left_out)}); !st)
                return st.error();
            for (auto& crew : l.plan.crews)
                if (auto st = store_solution(c, l, crew, &solve_error); !st) return st;
            return {};
        });
    if (!revision) return revision.error();
    broadcast(event_id, *revision);
    return plan(event_id);
}

Result<EventPlan> Planner::assign_stints(std::int64_t event_id, std::optional<int> crew,
                                         std::int64_t expected_revision) {
    std::optional<Error> solve_error;
    auto revision =
        mutate(db_, event_id, expected_revision, now(), [&](store::Connection& c, Loaded& l) -> Status {
            if (l.plan.crews.empty()) return Error(ErrorKind::conflict, "planner.no_crews");
            bool found = false;
            for (auto& row : l.plan.crews) {
                if (crew && row.crew != *crew) continue;
                found = true;
                // A crew that failed before gets a fresh table (the settings may have changed since).
                if (row.solve_error && std::none_of(row.stints.begin(), row.stints.end(),
                                                    [](const StintRow& s) { return s.locked; }))
                    row.stints.clear();
                if (row.stints.size() && !l.plan.green_flag_at &&
                    std::none_of(row.stints.begin(), row.stints.end(),
                                 [](const StintRow& s) { return s.locked; }))
                    row.stints.clear();  // before the race, unlocked tables follow the current settings
                if (auto st = store_solution(c, l, row, &solve_error); !st) return st;
            }
            if (!found) return unknown_crew(crew.value_or(0));
            return {};
        });
    if (!revision) return revision.error();
    broadcast(event_id, *revision);
    if (solve_error && crew) return *solve_error;  // one crew: the page shows why, nothing else changed
    return plan(event_id);
}

namespace {
// Applies edits to a crew's plan; planner.unknown_stint for an index the crew lacks.
Status apply_edits(CrewRow& crew, const std::vector<StintEdit>& edits) {
    for (const auto& e : edits) {
        if (e.stint < 0 || e.stint >= static_cast<int>(crew.stints.size()))
            return Error(ErrorKind::invalid_input, "planner.unknown_stint",
                         {{"stint", std::to_string(e.stint + 1)}});
        auto& s = crew.stints[static_cast<std::size_t>(e.stint)];
        if (e.driver) s.driver = *e.driver;
        if (e.spotter) s.spotter = *e.spotter == 0 ? std::nullopt : std::optional<std::int64_t>(*e.spotter);
    }
    return {};
}
}  // namespace

Result<std::vector<Violation>> Planner::preview(std::int64_t event_id, int crew,
                                                const std::vector<StintEdit>& edits) const {
    auto loaded = read_plan(db_, event_id);
    if (!loaded) return loaded.error();
    for (auto& row : loaded->plan.crews) {
        if (row.crew != crew) continue;
        if (auto s = apply_edits(row, edits); !s) return s.error();
        return validate(input_of(*loaded, row, true), plan_of(row));
    }
    return unknown_crew(crew);
}

Result<EventPlan> Planner::edit(std::int64_t event_id, int crew, const std::vector<StintEdit>& edits,
                                std::int64_t expected_revision) {
    auto revision =
        mutate(db_, event_id, expected_revision, now(), [&](store::Connection& c, Loaded& l) -> Status {
            for (auto& row : l.plan.crews) {
                if (row.crew != crew) continue;
                if (auto s = apply_edits(row, edits); !s) return s;
                for (const auto& e : edits) {
                    const auto& s = row.stints[static_cast<std::size_t>(e.stint)];
                    if (auto done = c.execute(kUpdateStint, {event_id, static_cast<std::int64_t>(crew),
                                                             static_cast<std::int64_t>(e.stint),
                                                             opt(s.driver), opt(s.spotter)});
                        !done)
                        return done.error();
                }
                if (auto done =
                        c.execute(kSetSolveError, {event_id, static_cast<std::int64_t>(crew), Value(Null{})});
                    !done)
                    return done.error();
                return {};
            }
            return unknown_crew(crew);
        });
    if (!revision) return revision.error();
    broadcast(event_id, *revision);
    return plan(event_id);
}

Result<EventPlan> Planner::set_locked(std::int64_t event_id, int crew, int stint, bool locked,
                                      std::int64_t expected_revision) {
    auto revision =
        mutate(db_, event_id, expected_revision, now(), [&](store::Connection& c, Loaded& l) -> Status {
            const CrewRow* row = l.plan.crew(crew);
            if (!row) return unknown_crew(crew);
            if (stint < 0 || stint >= static_cast<int>(row->stints.size()))
                return Error(ErrorKind::invalid_input, "planner.unknown_stint",
                             {{"stint", std::to_string(stint + 1)}});
            if (locked && !row->stints[static_cast<std::size_t>(stint)].driver)
                return Error(ErrorKind::invalid_input, "planner.lock_without_driver",
                             {{"stint", std::to_string(stint + 1)}});
            auto done = c.execute(
                kLockStint, {event_id, static_cast<std::int64_t>(crew), static_cast<std::int64_t>(stint),
                             static_cast<std::int64_t>(locked ? 1 : 0)});
            if (!done) return done.error();
            return {};
        });
    if (!revision) return revision.error();
    broadcast(event_id, *revision);
    return plan(event_id);
}

Result<EventPlan> Planner::move_member(std::int64_t event_id, std::int64_t user_id, std::optional<int> crew,
                                       bool as_driver, std::int64_t expected_revision) {
    auto revision =
        mutate(db_, event_id, expected_revision, now(), [&](store::Connection& c, Loaded& l) -> Status {
            const auto m = l.plan.members.find(user_id);
            if (m == l.plan.members.end())
                return Error(ErrorKind::invalid_input, "planner.not_registered",
                             {{"id", std::to_string(user_id)}});
            if (crew && !l.plan.crew(*crew)) return unknown_crew(*crew);
            const bool may_drive = m->second.role == "driver" || m->second.role == "both";
            const bool may_spot = m->second.role == "spotter" || m->second.role == "both";
            if (crew && ((as_driver && !may_drive) || (!as_driver && !may_spot)))
                return Error(ErrorKind::invalid_input,
                             as_driver ? "planner.move_not_driver" : "planner.move_not_spotter",
                             {{"name", m->second.name}});
            if (auto d = c.execute(kDeleteCrewMember, {event_id, user_id}); !d) return d.error();
            if (auto d = c.execute(kClearMemberStints, {event_id, user_id}); !d) return d.error();
            for (const auto& row : l.plan.crews)
                if (row.captain == user_id)
                    if (auto d = c.execute(kSetCaptain,
                                           {event_id, static_cast<std::int64_t>(row.crew), Value(Null{})});
                        !d)
                        return d.error();
            if (crew)
                if (auto d =
                        c.execute(kInsertCrewMember, {event_id, static_cast<std::int64_t>(*crew), user_id,
                                                      std::string(as_driver ? "driver" : "spotter")});
                    !d)
                    return d.error();
            return {};
        });
    if (!revision) return revision.error();
    broadcast(event_id, *revision);
    return plan(event_id);
}

Status Planner::set_car_override(std::int64_t event_id, std::int64_t user_id, bool on, std::int64_t by_user) {
    std::int64_t revision = 0;
    auto r = mutate(db_, event_id, std::nullopt, now(), [&](store::Connection& c, Loaded& l) -> Status {
        if (!l.plan.members.contains(user_id))
            return Error(ErrorKind::invalid_input, "planner.not_registered",
                         {{"id", std::to_string(user_id)}});
        auto done = on ? c.execute(kSetOverride, {event_id, user_id, by_user, now()})
                       : c.execute(kClearOverride, {event_id, user_id});
        if (!done) return done.error();
        log::event(log::Level::info, "planner_car_override",
                   {{"event", std::to_string(event_id)},
                    {"member", std::to_string(user_id)},
                    {"on", on ? "true" : "false"},
                    {"by", std::to_string(by_user)}});
        return {};
    });
    if (!r) return r.error();
    revision = *r;
    broadcast(event_id, revision);
    return {};
}

namespace {
Result<std::int64_t> generation_of(store::Connection& c, std::int64_t user_id, bool create);
}  // namespace

// ---- publish ----------------------------------------------------------------------------------------

Result<PublishOutcome> Planner::publish(std::int64_t event_id) {
    PublishOutcome outcome;
    struct Dm {
        std::int64_t user_id;
        std::string key;
        i18n::Args args;
        std::string dedupe;
    };
    std::vector<Dm> dms;
    std::optional<std::pair<std::string, std::string>> announcement;  // channel, content
    std::optional<std::string> edit_id;
    auto revision =
        mutate(db_, event_id, std::nullopt, now(), [&](store::Connection& c, Loaded& l) -> Status {
            evaluate(l);
            if (l.plan.crews.empty()) return Error(ErrorKind::conflict, "planner.not_publishable_empty");
            for (const auto& crew : l.plan.crews)
                if (crew.solve_error || !crew.violations.empty())
                    return Error(ErrorKind::conflict, "planner.not_publishable",
                                 {{"crew", std::to_string(crew.crew + 1)}});
            if (auto s = c.execute(kPublished, {event_id, now()}); !s) return s.error();
            outcome.revision = l.plan.revision + 1;

            std::map<std::int64_t, std::string> sent;
            auto rows = c.execute(kSentDigest, {event_id});
            if (!rows) return rows.error();
            for (const Row& r : rows->rows) sent[r.int64(0)] = r.text(1);
            const std::string url = options_.public_url + "/events/" + std::to_string(event_id);
            for (const auto& [id, member] : l.plan.members) {
                const auto duties = duties_in(l, id);
                const auto before = sent.find(id);
                if (duties.empty()) {
                    if (before == sent.end()) continue;
                    if (auto s = c.execute(kDeleteDigest, {event_id, id}); !s) return s.error();
                    dms.push_back(Dm{id,
                                     "planner.dm_removed",
                                     {{"event", l.event.name}, {"url", url}},
                                     "plan:" + std::to_string(event_id) + ":" +
                                         std::to_string(outcome.revision) + ":" + std::to_string(id)});
                    continue;
                }
                const std::string digest = digest_of(duties);
                if (before != sent.end() && before->second == digest) continue;
                if (auto s = c.execute(kSaveDigest, {event_id, id, digest, now()}); !s) return s.error();
                const i18n::Viewer viewer{l.locales[id], member.time_zone};
                auto generation = generation_of(c, id, true);
                if (!generation) return generation.error();
                const std::string ical = options_.public_url + "/calendar/" + std::to_string(id) + "/" +
                                         ical_token(options_.ical_key, id, *generation) + ".ics";
                dms.push_back(Dm{id,
                                 "planner.dm_itinerary",
                                 {{"event", l.event.name},
                                  {"stints", itinerary_lines(duties, catalog_, viewer)},
                                  {"count", static_cast<std::int64_t>(duties.size())},
                                  {"ical", ical},
                                  {"url", url}},
                                 "plan:" + std::to_string(event_id) + ":" + std::to_string(outcome.revision) +
                                     ":" + std::to_string(id)});
            }
            if (!l.event.channel_id.empty()) {
                EventPlan view = l.plan;
                AnnouncementEvent ev{event_id, l.event.name, l.event.track, l.race_start(), url};
                announcement.emplace(l.event.channel_id,
                                     planner::announcement(view, ev, catalog_, options_.announce_locale,
                                                           "UTC", l.discord_ids));
                edit_id = l.announce_message_id;
            }
            return {};
        });
    if (!revision) return revision.error();
    outcome.revision = *revision;
    broadcast(event_id, *revision);
    if (dms_)
        for (const auto& dm : dms) {
            auto queued = dms_->enqueue(dm.user_id, dm.key, dm.args, dm.dedupe);
            if (queued)
                ++outcome.dms_queued;
            else
                log::event(log::Level::warn, "planner_dm_not_queued",
                           {{"event", std::to_string(event_id)},
                            {"member", std::to_string(dm.user_id)},
                            {"error", queued.error().code}});
        }
    if (announcement && announcer_) {
        auto request = announcer_(announcement->first, announcement->second, edit_id);
        if (request) {
            outcome.announced = true;
            outcome.edited = edit_id.has_value();
            auto saved = db_.write([&](store::Connection& c) -> Status {
                auto done = c.execute(kAnnounceRequest, {event_id, *request});
                if (!done) return done.error();
                return {};
            });
            if (!saved) return saved.error();
        } else {
            log::event(log::Level::warn, "planner_announce_failed",
                       {{"event", std::to_string(event_id)}, {"error", request.error().code}});
        }
    }
    return outcome;
}

void Planner::announce_result(const std::string& request_id, const std::optional<std::string>& message_id) {
    if (!message_id) return;
    auto saved = db_.write([&](store::Connection& c) -> Status {
        auto done = c.execute(kAnnounceResult, {request_id, *message_id});
        if (!done) return done.error();
        return {};
    });
    if (!saved)
        log::event(log::Level::warn, "planner_announce_result_not_saved", {{"error", saved.error().code}});
}

// ---- race day ---------------------------------------------------------------------------------------

Result<EventPlan> Planner::green_flag(std::int64_t event_id, std::int64_t at) {
    auto revision =
        mutate(db_, event_id, std::nullopt, now(), [&](store::Connection& c, Loaded& l) -> Status {
            if (l.plan.crews.empty()) return Error(ErrorKind::conflict, "planner.no_crews");
            if (l.plan.green_flag_at) return Error(ErrorKind::conflict, "planner.already_green");
            const std::int64_t planned = l.event.starts_at;
            if (at < planned - 6 * kHourSeconds || at > planned + 24 * kHourSeconds)
                return Error(ErrorKind::invalid_input, "planner.bad_green_flag");
            if (auto s = c.execute(kGreenFlag, {event_id, at}); !s) return s.error();
            if (auto s = c.execute(kMoveStint, {event_id, at - planned}); !s) return s.error();
            if (auto s = c.execute(kFirstActual, {event_id, at}); !s) return s.error();
            return {};
        });
    if (!revision) return revision.error();
    broadcast(event_id, *revision);
    return plan(event_id);
}

Result<EventPlan> Planner::pit_now(std::int64_t event_id, int crew, std::int64_t at) {
    std::optional<Error> solve_error;
    auto revision =
        mutate(db_, event_id, std::nullopt, now(), [&](store::Connection& c, Loaded& l) -> Status {
            if (!l.plan.green_flag_at) return Error(ErrorKind::conflict, "planner.not_green");
            CrewRow* row = nullptr;
            for (auto& r : l.plan.crews)
                if (r.crew == crew) row = &r;
            if (!row) return unknown_crew(crew);
            auto& stints = row->stints;
            // The stint on track: the last one that began and has not ended.
            int current = -1;
            for (const auto& s : stints)
                if (s.actual_start && !s.actual_end) current = s.stint;
            if (current < 0) return Error(ErrorKind::conflict, "planner.no_stint_on_track");
            auto& cur = stints[static_cast<std::size_t>(current)];
            const std::int64_t race_end = l.race_start() + l.event.duration_s;
            if (at <= *cur.actual_start || at >= race_end)
                return Error(ErrorKind::invalid_input, "planner.bad_pit_time");
            // Laps done in the stint so far, at the planned pace (whole laps, at least one).
            const double lap = l.plan.settings.lap_s;
            cur.laps =
                std::max(1, static_cast<int>(std::floor(static_cast<double>(at - *cur.actual_start) / lap)));
            cur.ends_at = at;
            cur.actual_end = at;
            cur.locked = cur.driver.has_value();
            // The rest of the race from `at`, derived from fuel like the plan.
            PlanInput rest = input_of(l, *row, false);
            rest.race_start = at;
            rest.duration_s = race_end - at;
            auto table = derive_stints(rest);
            if (!table) return table.error();
            std::vector<StintRow> next(stints.begin(), stints.begin() + current + 1);
            for (auto& s : next)
                if (s.driver) s.locked = true;  // what was driven is history
            for (const auto& st : table->stints) {
                StintRow r{static_cast<int>(next.size()),
                           st.start,
                           st.end,
                           st.laps,
                           std::nullopt,
                           std::nullopt,
                           false,
                           std::nullopt,
                           std::nullopt};
                next.push_back(r);
            }
            next[static_cast<std::size_t>(current + 1)].actual_start = at;
            // Keep the planned drivers where the new table still has a stint with that index: the solver
            // changes what it must.
            for (std::size_t i = static_cast<std::size_t>(current + 1); i < next.size() && i < stints.size();
                 ++i) {
                next[i].driver = stints[i].driver;
                next[i].spotter = stints[i].spotter;
            }
            row->stints = next;
            if (auto s = write_stints(c, event_id, crew, row->stints); !s) return s;
            if (auto s = store_solution(c, l, *row, &solve_error); !s) return s;
            return {};
        });
    if (!revision) return revision.error();
    broadcast(event_id, *revision);
    return plan(event_id);
}

// ---- duties, iCal -----------------------------------------------------------------------------------

Result<std::vector<Duty>> Planner::duties(std::int64_t user_id, std::int64_t at) const {
    auto rows = db_.execute(kDuties, {user_id, at});
    if (!rows) return rows.error();
    std::vector<Duty> out;
    for (const Row& r : rows->rows) out.push_back(duty_from(r, user_id));
    return out;
}

Result<std::vector<std::pair<std::int64_t, Duty>>> Planner::duties_starting(std::int64_t from,
                                                                            std::int64_t to) const {
    auto rows = db_.execute(kDutiesStarting, {from, to});
    if (!rows) return rows.error();
    std::vector<std::pair<std::int64_t, Duty>> out;
    for (const Row& r : rows->rows) {
        if (auto d = r.opt_int64(9)) out.emplace_back(*d, duty_from(r, *d));
        if (auto s = r.opt_int64(10)) out.emplace_back(*s, duty_from(r, *s));
    }
    return out;
}

Result<std::int64_t> Planner::send_reminders() {
    if (!dms_) return std::int64_t{0};
    const std::int64_t at = now();
    auto due = duties_starting(at, at + 30 * 60);
    if (!due) return due.error();
    std::int64_t queued = 0;
    for (const auto& [user, duty] : *due) {
        const std::int64_t left = duty.starts_at - at;
        std::int64_t mark = 0;
        for (const std::int64_t m : kReminderMarksMin)
            if (left <= m * 60) {
                mark = m;
                break;
            }
        if (mark == 0) continue;
        const std::string key = "remind:" + std::to_string(duty.event_id) + ":" + std::to_string(duty.crew) +
                                ":" + std::to_string(duty.stint) + ":" + (duty.driving ? "d" : "s") + ":" +
                                std::to_string(user) + ":" + std::to_string(mark) + ":" +
                                std::to_string(duty.starts_at);
        auto id = dms_->enqueue(user, duty.driving ? "planner.dm_reminder_drive" : "planner.dm_reminder_spot",
                                {{"event", duty.event_name},
                                 {"stint", static_cast<std::int64_t>(duty.stint + 1)},
                                 {"car", duty.car_number},
                                 {"minutes", (left + 59) / 60},
                                 {"when", i18n::DateTime{duty.starts_at * 1000}},
                                 {"url", options_.public_url + "/events/" + std::to_string(duty.event_id)}},
                                key);
        if (id)
            ++queued;
        else if (id.error().code != "dm.no_member")
            return std::move(id).error();
    }
    return queued;
}

namespace {
Result<std::int64_t> generation_of(store::Connection& c, std::int64_t user_id, bool create) {
    if (create)
        if (auto d = c.execute(kIcalCreate, {user_id}); !d) return d.error();
    auto rows = c.execute(kIcalGeneration, {user_id});
    if (!rows) return rows.error();
    if (rows->empty()) return Error(ErrorKind::not_found, "planner.ical_not_found");
    return rows->first().int64(0);
}
}  // namespace

Result<std::string> Planner::ical_url(std::int64_t user_id) {
    std::int64_t generation = 0;
    auto status = db_.write([&](store::Connection& c) -> Status {
        auto g = generation_of(c, user_id, true);
        if (!g) return g.error();
        generation = *g;
        return {};
    });
    if (!status) return status.error();
    return options_.public_url + "/calendar/" + std::to_string(user_id) + "/" +
           ical_token(options_.ical_key, user_id, generation) + ".ics";
}

Result<std::string> Planner::rotate_ical(std::int64_t user_id) {
    auto status = db_.write([&](store::Connection& c) -> Status {
        if (auto g = generation_of(c, user_id, true); !g) return g.error();
        if (auto d = c.execute(kIcalRotate, {user_id}); !d) return d.error();
        return {};
    });
    if (!status) return status.error();
    return ical_url(user_id);
}

Result<std::string> Planner::ical_feed(std::int64_t user_id, std::string_view token) const {
    const Error refused(ErrorKind::not_found, "planner.ical_not_found");
    if (options_.ical_key.empty()) return refused;
    auto rows = db_.execute(kIcalGeneration, {user_id});
    if (!rows) return rows.error();
    if (rows->empty() || !ical_token_matches(options_.ical_key, user_id, rows->first().int64(0), token))
        return refused;
    auto name = db_.execute(kUserName, {user_id});
    if (!name) return name.error();
    if (name->empty()) return refused;
    // A week of history keeps yesterday's race in the calendar.
    auto list = duties(user_id, now() - 7 * 24 * kHourSeconds);
    if (!list) return list.error();
    const std::string locale = name->first().text(1);
    return planner::ical_feed(*list, catalog_, locale,
                              catalog_.text(locale, "planner.ical_name", {{"name", name->first().text(0)}}),
                              options_.public_url, now());
}

// ---- exports ----------------------------------------------------------------------------------------

std::string Planner::plan_json(const EventPlan& plan, const std::function<std::string(const Error&)>& text) {
    auto opt_json = [](const std::optional<std::int64_t>& v) -> boost::json::value {
        return v ? boost::json::value(*v) : boost::json::value(nullptr);
    };
    auto args_json = [](const std::vector<std::pair<std::string, std::string>>& args) {
        boost::json::object o;
        for (const auto& [k, v] : args) o[k] = v;
        return o;
    };
    boost::system::error_code ec;
    boost::json::object out{{"event_id", plan.event_id},
                            {"revision", plan.revision},
                            {"published_revision", opt_json(plan.published_revision)},
                            {"published_at", opt_json(plan.published_at)},
                            {"green_flag_at", opt_json(plan.green_flag_at)},
                            {"settings", boost::json::parse(settings_json(plan.settings), ec)}};
    boost::json::array members;
    for (const auto& [id, m] : plan.members)
        members.push_back(boost::json::object{
            {"user_id", id},
            {"name", m.name},
            {"time_zone", m.time_zone},
            {"role", m.role},
            {"irating", m.irating ? boost::json::value(*m.irating) : boost::json::value(nullptr)}});
    out["members"] = std::move(members);
    boost::json::array crews;
    for (const auto& crew : plan.crews) {
        boost::json::array stints;
        for (const auto& s : crew.stints)
            stints.push_back(boost::json::object{{"stint", s.stint},
                                                 {"starts_at", s.starts_at},
                                                 {"ends_at", s.ends_at},
                                                 {"laps", s.laps},
                                                 {"driver", opt_json(s.driver)},
                                                 {"spotter", opt_json(s.spotter)},
                                                 {"locked", s.locked},
                                                 {"actual_start", opt_json(s.actual_start)},
                                                 {"actual_end", opt_json(s.actual_end)}});
        boost::json::array violations;
        auto violation_json = [&](const Violation& v) {
            boost::json::object o{
                {"code", v.code},
                {"member", opt_json(v.member)},
                {"stint", v.stint ? boost::json::value(*v.stint) : boost::json::value(nullptr)},
                {"args", args_json(v.args)}};
            if (text) o["text"] = text(v.to_error());
            return o;
        };
        for (const auto& v : crew.violations) violations.push_back(violation_json(v));
        boost::json::object c{{"crew", crew.crew},
                              {"car_number", crew.car_number},
                              {"captain", opt_json(crew.captain)},
                              {"drivers", boost::json::value_from(crew.drivers)},
                              {"spotters", boost::json::value_from(crew.spotters)},
                              {"overrides", boost::json::value_from(crew.overrides)},
                              {"stints", std::move(stints)},
                              {"violations", std::move(violations)},
                              {"score", boost::json::object{{"spread", crew.score.spread},
                                                            {"driver_changes", crew.score.driver_changes},
                                                            {"preferred_bonus", crew.score.preferred_bonus},
                                                            {"total", crew.score.total}}}};
        if (crew.solve_error) {
            boost::json::object e{{"code", crew.solve_error->code},
                                  {"args", args_json(crew.solve_error->args)}};
            if (text) e["text"] = text(*crew.solve_error);
            boost::json::array all;
            for (const auto& v : violations_of(*crew.solve_error)) all.push_back(violation_json(v));
            e["violations"] = std::move(all);
            c["solve_error"] = std::move(e);
        } else {
            c["solve_error"] = nullptr;
        }
        crews.push_back(std::move(c));
    }
    out["crews"] = std::move(crews);
    boost::json::array unassigned;
    for (const auto& i : plan.unassigned) {
        boost::json::object o{{"code", i.code}, {"member", opt_json(i.member)}, {"args", args_json(i.args)}};
        if (text) o["text"] = text(i.to_error());
        unassigned.push_back(std::move(o));
    }
    out["unassigned"] = std::move(unassigned);
    return boost::json::serialize(out);
}

std::string Planner::plan_csv(const EventPlan& plan) {
    auto field = [](std::string text) {
        // RFC 4180; a leading = + - @ would be a formula in a spreadsheet: quote it behind a '.
        if (!text.empty() && std::string_view("=+-@").find(text.front()) != std::string_view::npos)
            text.insert(text.begin(), '\'');
        if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
        std::string out = "\"";
        for (char ch : text) {
            if (ch == '"') out += '"';
            out += ch;
        }
        return out + "\"";
    };
    std::string out = "car,stint,start_utc,end_utc,laps,driver,spotter,locked\r\n";
    for (const auto& crew : plan.crews)
        for (const auto& s : crew.stints) {
            out += field(crew.car_number) + "," + std::to_string(s.stint + 1) + "," +
                   format_iso8601(s.starts_at) + "," + format_iso8601(s.ends_at) + "," +
                   std::to_string(s.laps) + "," + field(s.driver ? plan.name_of(*s.driver) : "") + "," +
                   field(s.spotter ? plan.name_of(*s.spotter) : "") + "," + (s.locked ? "yes" : "no") +
                   "\r\n";
        }
    return out;
}

Result<PlanInput> Planner::crew_input(std::int64_t event_id, int crew) const {
    auto loaded = read_plan(db_, event_id);
    if (!loaded) return loaded.error();
    const CrewRow* row = loaded->plan.crew(crew);
    if (!row) return unknown_crew(crew);
    return input_of(*loaded, *row, !row->stints.empty());
}

}  // namespace pitwall::planner
