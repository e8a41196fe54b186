// The planner as the product uses it: an event's planner settings, its crews and their stints kept in
// the store (migrations/*/0007_planner.sql), stage 1 and stage 2 run on the registered members, manual
// edits checked by the one rule engine (rules.hpp), locks, publishing, race day and exports. The pages
// (routes.cpp), the bot and the stint-reminders job call this class, never the tables.
//
// Every change bumps the plan's revision and is broadcast on the event's /ws topic ("event:<id>") as
// {"type":"plan","event_id":N,"revision":N}; pages then fetch GET /api/events/<id>/plan. Edits carry
// the revision they were made on: an edit on a stale revision is refused (planner.stale) so two
// planners never overwrite each other's drag unseen.
//
// Times are Unix SECONDS (UTC), as in the events tables.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "features/planner/crews.hpp"
#include "features/planner/model.hpp"
#include "features/planner/objective.hpp"
#include "features/planner/rules.hpp"

namespace pitwall::store {
class Database;
class Connection;
}  // namespace pitwall::store
namespace pitwall::http {
class WsHub;
}
namespace pitwall::i18n {
class Catalog;
}
namespace pitwall::notify {
class DmQueue;
}

namespace pitwall::planner {

// An event's planner settings (stored as JSON in event_plans.settings).
struct Settings {
    double lap_s = 120;               // average lap time
    double pit_loss_s = 60;           // per stop: lane delta + service
    double fuel_tank = 100;           // litres
    double fuel_per_lap = 3;          // litres per lap
    int crews = 0;                    // cars; 0 = as many as the pool fills
    int min_drivers = 2;              // per car
    int max_drivers = 6;              // per car
    bool fair_share = true;           // iRacing's fair-share minimum per declared driver
    int max_consecutive = 3;          // stints in a row; 0 = no limit
    double min_rest_hours = 0;        // one continuous off-duty block; 0 = no rule
    std::optional<int> min_seat_min;  // series seat-time limits, minutes
    std::optional<int> max_seat_min;
    std::optional<int> irating_min;
    std::optional<int> irating_max;
    bool spotters = false;  // one spotter per stint
    BalanceMode mode = BalanceMode::balanced;
    std::optional<std::int64_t> car_id;  // iRacing car id: drivers need Garage61 laps in it
    std::string car_name;                // shown in messages ("not verified for <car>")
    std::int64_t time_budget_ms = 300;   // stage 2 budget per crew (an iteration budget: deterministic)

    bool operator==(const Settings&) const = default;
};

// planner.bad_settings with {"field": name} for the first value out of range.
[[nodiscard]] Status check(const Settings& settings);
[[nodiscard]] std::string settings_json(const Settings& settings);
// Missing fields keep their defaults; a present field of the wrong type or out of range is an error
// (planner.bad_settings, field named).
[[nodiscard]] Result<Settings> parse_settings(std::string_view json);

struct StintRow {
    int stint = 0;  // 0-based
    std::int64_t starts_at = 0;
    std::int64_t ends_at = 0;
    int laps = 0;
    std::optional<std::int64_t> driver;
    std::optional<std::int64_t> spotter;
    bool locked = false;
    std::optional<std::int64_t> actual_start;  // race day: when the stint really began
    std::optional<std::int64_t> actual_end;    // race day: when its driver pitted out of the car
};

struct CrewRow {
    int crew = 0;  // 0-based; "Car 1" is crew 0
    std::string car_number;
    std::optional<std::int64_t> captain;
    std::vector<std::int64_t> drivers;
    std::vector<std::int64_t> spotters;
    std::vector<std::int64_t> overrides;  // drivers seated on an admin's car override
    std::vector<StintRow> stints;
    std::vector<Violation> violations;  // the rule engine on the stored stints (empty: valid)
    Score score;
    // Stage 2 could not plan this crew (infeasible: names the member and the rule); its stints are
    // stored without drivers. violations_of(*solve_error) lists every obstacle.
    std::optional<Error> solve_error;
};

struct PlanMember {
    std::int64_t user_id = 0;
    std::string name;
    std::string time_zone;
    std::string role;  // registration role: driver, spotter, both
    std::optional<int> irating;
};

struct EventPlan {
    std::int64_t event_id = 0;
    Settings settings;
    std::int64_t revision = 0;
    std::optional<std::int64_t> published_revision;
    std::optional<std::int64_t> published_at;
    std::optional<std::int64_t> green_flag_at;
    std::vector<CrewRow> crews;
    std::vector<CrewIssue> unassigned;           // stage 1's reasons for members left out (last run)
    std::map<std::int64_t, PlanMember> members;  // every registered member, by user id

    [[nodiscard]] bool published() const { return published_revision.has_value(); }
    [[nodiscard]] bool published_is_current() const { return published_revision == revision; }
    [[nodiscard]] const CrewRow* crew(int index) const;
    [[nodiscard]] std::string name_of(std::int64_t user_id) const;
};

// One manual edit of one stint: a new driver and/or spotter (nullopt leaves it; a spotter of 0 clears it).
struct StintEdit {
    int stint = 0;
    std::optional<std::int64_t> driver;
    std::optional<std::int64_t> spotter;
};

// A member's duty in a published plan (itinerary, iCal, reminders).
struct Duty {
    std::int64_t event_id = 0;
    std::string event_name;
    std::string track;
    int crew = 0;
    std::string car_number;
    int stint = 0;
    std::int64_t starts_at = 0;
    std::int64_t ends_at = 0;
    bool driving = true;  // false: spotting
};

struct PublishOutcome {
    std::int64_t revision = 0;
    int dms_queued = 0;      // itineraries queued (members whose itinerary did not change get none)
    bool announced = false;  // an announcement was queued for the bot
    bool edited = false;     // it edits the earlier announcement in place
};

// How publish reaches Discord: the bot bridge in the server (BridgeServer::announce), a recorder in tests.
// Returns the request id the announce result will carry.
using Announcer = std::function<Result<std::string>(std::string channel_id, std::string content,
                                                    std::optional<std::string> edit_message_id)>;

struct PlannerOptions {
    std::string public_url;              // links in announcements, DMs and iCal ("https://pitwall.example")
    std::string announce_locale = "en";  // the Discord channel's language
    std::string ical_key;                // HMAC key of the iCal feed URLs (derived from secrets.token_key)
};

class Planner {
  public:
    Planner(store::Database& db, const i18n::Catalog& catalog, const Clock& clock,
            PlannerOptions options = {}, http::WsHub* hub = nullptr, notify::DmQueue* dms = nullptr,
            Announcer announcer = {});
    // Set once at wiring time (the bridge exists after the planner in main).
    void set_announcer(Announcer announcer) { announcer_ = std::move(announcer); }

    // The member's iCal feed URL (public_url + "/calendar/<user>/<token>.ics"); the first call creates
    // the feed. rotate_ical revokes the old URL and returns the new one.
    [[nodiscard]] Result<std::string> ical_url(std::int64_t user_id);
    [[nodiscard]] Result<std::string> rotate_ical(std::int64_t user_id);
    // The feed for a URL's user and token; planner.ical_not_found for a wrong or revoked token.
    [[nodiscard]] Result<std::string> ical_feed(std::int64_t user_id, std::string_view token) const;

    // The event's plan (settings default when none were saved; no crews before stage 1).
    // Error events.not_found.
    [[nodiscard]] Result<EventPlan> plan(std::int64_t event_id) const;
    [[nodiscard]] Status save_settings(std::int64_t event_id, const Settings& settings);

    // Stage 1 on the registered members; replaces crews and stints (locks included). Stage 2 follows
    // for every crew when it can (a crew whose stage 2 is infeasible keeps empty stints and the error
    // is returned after the crews are stored: the page shows both).
    [[nodiscard]] Result<EventPlan> form_crews(std::int64_t event_id, std::int64_t expected_revision);
    // Stage 2 for one crew (or all with nullopt): locked stints stay; the rest is solved again.
    // Infeasible: the error names the member and the rule (solve()'s error), nothing changes.
    [[nodiscard]] Result<EventPlan> assign_stints(std::int64_t event_id, std::optional<int> crew,
                                                  std::int64_t expected_revision);

    // What the rule engine says about the crew's plan with `edits` applied (nothing is stored).
    [[nodiscard]] Result<std::vector<Violation>> preview(std::int64_t event_id, int crew,
                                                         const std::vector<StintEdit>& edits) const;
    // Applies the edits (stored even when they break rules: the violations come back and publish
    // refuses until they are fixed). planner.stale when the plan moved on since expected_revision.
    [[nodiscard]] Result<EventPlan> edit(std::int64_t event_id, int crew, const std::vector<StintEdit>& edits,
                                         std::int64_t expected_revision);
    [[nodiscard]] Result<EventPlan> set_locked(std::int64_t event_id, int crew, int stint, bool locked,
                                               std::int64_t expected_revision);
    // Moves a member to another crew (as driver or spotter) or out of all crews (crew nullopt). Their
    // stints in the old crew lose them.
    [[nodiscard]] Result<EventPlan> move_member(std::int64_t event_id, std::int64_t user_id,
                                                std::optional<int> crew, bool as_driver,
                                                std::int64_t expected_revision);
    // Records an admin's car override for a member without Garage61 laps in the car (audit: who, when).
    [[nodiscard]] Status set_car_override(std::int64_t event_id, std::int64_t user_id, bool on,
                                          std::int64_t by_user);

    // Publish: refuses a plan with violations or without crews (planner.not_publishable); queues the
    // announcement (editing the earlier one in place) and a DM with the itinerary to each member whose
    // duties changed since the last publish.
    [[nodiscard]] Result<PublishOutcome> publish(std::int64_t event_id);
    // The bot's answer to an announcement: keeps the Discord message id for the next edit.
    void announce_result(const std::string& request_id, const std::optional<std::string>& message_id);

    // Race day. green_flag: the real start; every stint moves by (at - planned start). pit_now: the
    // crew's current stint ends at `at`; the next one starts then, and the remaining stints are derived
    // from the actual times and solved again with everything driven so far locked.
    [[nodiscard]] Result<EventPlan> green_flag(std::int64_t event_id, std::int64_t at);
    [[nodiscard]] Result<EventPlan> pit_now(std::int64_t event_id, int crew, std::int64_t at);

    // A member's duties in published plans of events that have not finished at `now`, soonest first.
    [[nodiscard]] Result<std::vector<Duty>> duties(std::int64_t user_id, std::int64_t now) const;
    // Every published duty that starts in (from, to] (the stint-reminders job).
    [[nodiscard]] Result<std::vector<std::pair<std::int64_t, Duty>>> duties_starting(std::int64_t from,
                                                                                     std::int64_t to) const;

    // The stint-reminders job: for every published duty starting within 30 minutes, a DM at the
    // 30, 15 and 5 minute marks (the smallest mark not yet passed; a server down at the 30 minute mark
    // sends the 15 minute one, never a late "30 minutes"). Idempotent per duty, mark and start time
    // (the DM queue's dedupe key), so a re-planned stint is reminded again. Returns how many reminders are
    // due now (each is queued once however often the job runs).
    static constexpr std::int64_t kReminderMarksMin[] = {5, 15, 30};
    [[nodiscard]] Result<std::int64_t> send_reminders();

    // Exports of the plan: JSON (the API's shape) and CSV (one row per stint, UTC ISO times). `text`,
    // when given, renders each violation, solve error and unassigned reason ("text" fields).
    [[nodiscard]] static std::string plan_json(const EventPlan& plan,
                                               const std::function<std::string(const Error&)>& text = {});
    [[nodiscard]] static std::string plan_csv(const EventPlan& plan);

    // The stage-2 input of one crew as stored (exposed for tests and the JRES export).
    [[nodiscard]] Result<PlanInput> crew_input(std::int64_t event_id, int crew) const;

    [[nodiscard]] static std::string topic(std::int64_t event_id);

  private:
    [[nodiscard]] std::int64_t now() const;
    void broadcast(std::int64_t event_id, std::int64_t revision) const;

    store::Database& db_;
    const i18n::Catalog& catalog_;
    const Clock& clock_;
    PlannerOptions options_;
    http::WsHub* hub_;
    notify::DmQueue* dms_;
    Announcer announcer_;
};

}  // namespace pitwall::planner
