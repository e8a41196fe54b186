// Team events and who takes part: an event (name, track, class, start, length, the Discord channel
// and role that go with it), registrations as driver, spotter or both (from the site or the bot's
// slash commands), and the hours each registered member is available. The endurance race planner
// builds crews and stints on this; the web pages and the bot call this service, never the tables.
//
// Times here are Unix SECONDS (UTC), as in the tables (migrations/*/0005_events.sql); pages convert
// to the milliseconds the templates format. Every change that alters data is broadcast on the
// WebSocket topic "event:<id>" (see registrations_json) and reported to the on_change observer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace pitwall::http {
class WsHub;
}
namespace pitwall::store {
class Database;
class Connection;
}  // namespace pitwall::store

namespace pitwall::events {

// What a member does in the race. `both`: drives and spots.
enum class Role { driver, spotter, both };
// Where a registration was last made or changed.
enum class Source { web, discord };

[[nodiscard]] std::string_view role_name(Role role);
[[nodiscard]] std::optional<Role> parse_role(std::string_view text);
[[nodiscard]] std::string_view source_name(Source source);
[[nodiscard]] std::optional<Source> parse_source(std::string_view text);
[[nodiscard]] bool drives(Role role);  // driver or both
[[nodiscard]] bool spots(Role role);   // spotter or both

inline constexpr std::int64_t kHourSeconds = 3600;

struct Event {
    std::int64_t id = 0;
    std::string name;
    std::string track;
    std::string car_class;  // may be empty
    std::int64_t starts_at = 0;
    std::int64_t duration_min = 0;
    std::optional<std::string> discord_channel_id;
    std::optional<std::string> discord_role_id;
    std::optional<std::int64_t> created_by;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::int64_t registered = 0;  // how many members are registered

    [[nodiscard]] std::int64_t ends_at() const { return starts_at + duration_min * 60; }
    // The race hours: [first_hour, ends_at), first_hour = starts_at floored to the hour.
    [[nodiscard]] std::int64_t first_hour() const;
    // Registration changes end when the race starts.
    [[nodiscard]] bool open_at(std::int64_t now) const { return now < starts_at; }
    [[nodiscard]] bool finished_at(std::int64_t now) const { return now >= ends_at(); }
};

// What create/update take. Text is trimmed; empty Discord ids mean none.
struct EventDraft {
    std::string name;       // 1..kMaxName characters
    std::string track;      // 1..kMaxName characters
    std::string car_class;  // 0..kMaxClass characters
    std::int64_t starts_at = 0;
    std::int64_t duration_min = 0;  // 1..kMaxDurationMin
    std::string discord_channel_id;
    std::string discord_role_id;
};

struct Registration {
    std::int64_t user_id = 0;
    std::string name;  // the member's display name: nickname > global name > username
    Role role = Role::driver;
    Source source = Source::web;
    std::string note;
    std::string time_zone;   // the member's IANA zone
    std::string discord_id;  // empty for members who never signed in with Discord
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    bool captain_volunteer = false;  // offers to captain a crew (the planner prefers volunteers)
    bool avoid_night = false;        // "avoid my night": no stints 00:00-06:00 in their zone when possible
};

// What a registration may set besides the role. nullopt keeps the stored value (a slash command, which
// has no such options); a value replaces it. A first registration stores false for nullopt.
struct RegistrationOptions {
    std::optional<std::string> note;  // trimmed, at most Events::kMaxNote characters
    std::optional<bool> captain_volunteer;
    std::optional<bool> avoid_night;
};

enum class ChangeKind { registered, updated, removed, unchanged };
[[nodiscard]] std::string_view change_name(ChangeKind kind);

struct RegistrationChange {
    Event event;  // after the change (registered counts it)
    std::int64_t user_id = 0;
    ChangeKind kind = ChangeKind::unchanged;
    std::optional<Role> role;           // the role now; nullopt when not registered (removed)
    std::optional<Role> previous_role;  // the role before; nullopt when not registered before
    Source source = Source::web;        // who asked

    [[nodiscard]] bool changed() const { return kind != ChangeKind::unchanged; }
};

struct HourCoverage {
    std::int64_t hour_start = 0;  // Unix seconds, on the hour
    std::int64_t available = 0;   // registered members available that hour
    std::int64_t drivers = 0;     // of them, driver or both
    std::int64_t spotters = 0;    // of them, spotter or both
    std::int64_t preferred = 0;   // of them, those who prefer to race that hour
};

// A member's hours, each ascending: `preferred` is a subset of `available`.
struct MemberHours {
    std::vector<std::int64_t> available;
    std::vector<std::int64_t> preferred;
};

// A member's registration together with its event (the bot's /next).
struct MemberRegistration {
    Event event;
    Role role = Role::driver;
    Source source = Source::web;
    std::string note;
};

class Events {
  public:
    static constexpr std::size_t kMaxName = 120;
    static constexpr std::size_t kMaxClass = 60;
    static constexpr std::size_t kMaxNote = 500;
    static constexpr std::int64_t kMaxDurationMin = 2880;  // 48 hours
    static constexpr std::int64_t kMaxList = 500;
    static constexpr std::string_view kTopicPrefix = "event:";

    using Observer = std::function<void(const RegistrationChange&)>;

    // `hub` may be null (the CLI, tests without WebSockets).
    Events(store::Database& db, const Clock& clock, http::WsHub* hub = nullptr)
        : db_(db), clock_(clock), hub_(hub) {}

    // Called after every committed registration change (registered, updated, removed), never for
    // unchanged; on the caller's thread, after the broadcast. Set once at wiring time, before requests.
    void on_change(Observer observer) { observer_ = std::move(observer); }

    // Events that have not finished, soonest first; at most `limit` (1..kMaxList).
    [[nodiscard]] Result<std::vector<Event>> list_upcoming(std::int64_t limit) const;
    // Every event, latest start first; at most kMaxList.
    [[nodiscard]] Result<std::vector<Event>> list_all() const;
    // Error events.not_found.
    [[nodiscard]] Result<Event> get(std::int64_t event_id) const;
    // event.manage. Errors: events.bad_name, bad_track, bad_class, bad_duration, bad_start (not in the
    // future), bad_discord_id (not a snowflake).
    [[nodiscard]] Result<Event> create(const EventDraft& draft, std::optional<std::int64_t> created_by);
    // As create, for an event that has not started (events.closed otherwise). Availability outside a
    // new race window is dropped in the same transaction.
    [[nodiscard]] Result<Event> update(std::int64_t event_id, const EventDraft& draft);

    // Registration order (first registered first). Error events.not_found.
    [[nodiscard]] Result<std::vector<Registration>> registrations(std::int64_t event_id) const;
    // The member's role per event id, for every event they are registered for.
    [[nodiscard]] Result<std::map<std::int64_t, Role>> roles_of(std::int64_t user_id) const;

    // Registers the member, or changes their role. Idempotent: the same role (and note and options)
    // again is `unchanged` and writes nothing; another role, note or option is `updated`. `note`:
    // nullopt keeps the stored note (a slash command without one), a value replaces it (trimmed, at
    // most kMaxNote characters). Errors: events.not_found, events.closed (the race has started),
    // events.bad_role, events.bad_note; store.constraint for an unknown user id.
    [[nodiscard]] Result<RegistrationChange> register_member(std::int64_t event_id, std::int64_t user_id,
                                                             Role role, Source source,
                                                             std::optional<std::string> note = std::nullopt);
    // The same with the role as text ("driver", "spotter", "both"), as forms and slash commands send it.
    [[nodiscard]] Result<RegistrationChange> register_member(std::int64_t event_id, std::int64_t user_id,
                                                             std::string_view role, Source source,
                                                             std::optional<std::string> note = std::nullopt);
    // The same with the note and the planner's options (captain volunteer, avoid my night): the web form.
    [[nodiscard]] Result<RegistrationChange> register_member(std::int64_t event_id, std::int64_t user_id,
                                                             Role role, Source source,
                                                             RegistrationOptions options);
    [[nodiscard]] Result<RegistrationChange> register_member(std::int64_t event_id, std::int64_t user_id,
                                                             std::string_view role, Source source,
                                                             RegistrationOptions options);
    // Withdraws the member (their availability goes with it): `removed`, or `unchanged` when they were
    // not registered. Errors: events.not_found, events.closed.
    [[nodiscard]] Result<RegistrationChange> unregister(std::int64_t event_id, std::int64_t user_id,
                                                        Source source);

    // Replaces the member's available hours and, of them, the ones they prefer to race. Every hour must
    // be on the hour and inside the race window [first_hour, ends_at), and every preferred hour among
    // the available ones (events.bad_hours, nothing changed); duplicates count once. One transaction.
    // `preferred` nullopt (the bot's /availability, which has no such notion) keeps the stored preferred
    // hours that stay available; a list (the web form; empty: none) replaces them. Beware that a bare
    // `{}` argument is nullopt: pass std::vector<std::int64_t>{} to clear them.
    // Errors: events.not_found, events.closed, events.not_registered, events.bad_hours.
    [[nodiscard]] Status set_availability(std::int64_t event_id, std::int64_t user_id,
                                          std::vector<std::int64_t> hour_starts_utc,
                                          std::optional<std::vector<std::int64_t>> preferred = std::nullopt);
    // The member's hours, ascending. Error events.not_found.
    [[nodiscard]] Result<std::vector<std::int64_t>> availability(std::int64_t event_id,
                                                                 std::int64_t user_id) const;
    // The member's available and preferred hours, ascending. Error events.not_found.
    [[nodiscard]] Result<MemberHours> member_hours(std::int64_t event_id, std::int64_t user_id) const;
    // Every race hour in order, with how many registered members are available then.
    [[nodiscard]] Result<std::vector<HourCoverage>> coverage(std::int64_t event_id) const;

    // The member's next registered event that has not finished at `now` (Unix seconds): the bot's /next.
    [[nodiscard]] Result<std::optional<MemberRegistration>> next_registration(std::int64_t user_id,
                                                                              std::int64_t now) const;

    // The /ws topic of an event: "event:<id>".
    [[nodiscard]] static std::string topic(std::int64_t event_id);
    // {"type":"registrations","event_id":N,"count":N,"registrations":[{user_id,name,role,source}...]}
    [[nodiscard]] static std::string registrations_json(std::int64_t event_id,
                                                        const std::vector<Registration>& registrations);
    // {"type":"availability","event_id":N,"coverage":[{hour_start,available,drivers,spotters,
    // preferred}...]}
    [[nodiscard]] static std::string coverage_json(std::int64_t event_id,
                                                   const std::vector<HourCoverage>& coverage);

  private:
    [[nodiscard]] std::int64_t now() const;
    [[nodiscard]] Result<RegistrationChange> change_registration(std::int64_t event_id, std::int64_t user_id,
                                                                 std::optional<Role> role, Source source,
                                                                 const RegistrationOptions& options);
    [[nodiscard]] Result<Event> save(std::optional<std::int64_t> event_id, const EventDraft& draft,
                                     std::optional<std::int64_t> created_by);
    void publish(std::int64_t event_id, const std::optional<std::vector<Registration>>& registrations,
                 const std::optional<std::vector<HourCoverage>>& coverage) const;

    store::Database& db_;
    const Clock& clock_;
    http::WsHub* hub_;
    Observer observer_;
    // Held from a change's commit through its broadcast, so this node's broadcasts leave in commit order
    // and the last one an event's page receives is the latest state.
    mutable std::mutex publish_mutex_;
};

}  // namespace pitwall::events
