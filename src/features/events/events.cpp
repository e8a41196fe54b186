#include "features/events/events.hpp"

#include <algorithm>
#include <iterator>
#include <map>

#include <boost/json.hpp>

#include "core/log.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::events {
namespace {

using store::Null;
using store::Row;
using store::Statement;
using store::Value;

#define PITWALL_EVENT_COLUMNS                                                                 \
    "e.id, e.name, e.track, e.car_class, e.starts_at, e.duration_min, e.discord_channel_id, " \
    "e.discord_role_id, e.created_by, e.created_at, e.updated_at, (SELECT COUNT(*) FROM "     \
    "event_registrations c WHERE c.event_id = e.id)"
constexpr std::size_t kEventColumnCount = 12;

constexpr Statement kGet{"events.get", "SELECT " PITWALL_EVENT_COLUMNS " FROM events e WHERE e.id = $1"};
constexpr Statement kUpcoming{"events.upcoming",
                              "SELECT " PITWALL_EVENT_COLUMNS
                              " FROM events e WHERE e.starts_at + e.duration_min * 60 > $1 "
                              "ORDER BY e.starts_at, e.id LIMIT $2"};
constexpr Statement kAll{"events.all", "SELECT " PITWALL_EVENT_COLUMNS
                                       " FROM events e ORDER BY e.starts_at DESC, e.id DESC LIMIT $1"};
constexpr Statement kInsert{
    "events.insert",
    "INSERT INTO events (name, track, car_class, starts_at, duration_min, discord_channel_id, "
    "discord_role_id, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) "
    "RETURNING id"};
constexpr Statement kUpdate{
    "events.update",
    "UPDATE events SET name = $2, track = $3, car_class = $4, starts_at = $5, duration_min = $6, "
    "discord_channel_id = $7, discord_role_id = $8, updated_at = $9 WHERE id = $1"};
// Availability outside the race window [$2, $3) of a changed event.
constexpr Statement kPruneAvailability{
    "events.prune_availability",
    "DELETE FROM event_availability WHERE event_id = $1 AND (hour_start < $2 OR hour_start >= $3)"};

constexpr Statement kRegistrations{
    "events.registrations",
    "SELECT r.user_id, COALESCE(u.nickname, u.global_name, u.username), r.role, r.source, r.note, "
    "u.time_zone, COALESCE(u.discord_id, ''), r.created_at, r.updated_at, r.captain_volunteer, "
    "r.avoid_night FROM event_registrations r "
    "JOIN users u ON u.id = r.user_id WHERE r.event_id = $1 ORDER BY r.created_at, r.user_id"};
constexpr Statement kRolesOf{"events.roles_of",
                             "SELECT event_id, role FROM event_registrations WHERE user_id = $1"};
// Read-modify-write: PostgreSQL (READ COMMITTED) locks the row until the transaction ends.
constexpr Statement kRegistrationOf{
    "events.registration_of",
    "SELECT role, note, captain_volunteer, avoid_night FROM event_registrations WHERE event_id = $1 AND "
    "user_id = $2",
    "SELECT role, note, captain_volunteer, avoid_night FROM event_registrations WHERE event_id = $1 AND "
    "user_id = $2 FOR UPDATE"};
// A concurrent first registration of the same member (PostgreSQL) inserts nothing here; the caller
// reads the row again and treats it as a change of role.
constexpr Statement kInsertRegistration{
    "events.insert_registration",
    "INSERT INTO event_registrations (event_id, user_id, role, source, note, created_at, updated_at, "
    "captain_volunteer, avoid_night) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8) "
    "ON CONFLICT (event_id, user_id) DO NOTHING"};
constexpr Statement kUpdateRegistration{
    "events.update_registration",
    "UPDATE event_registrations SET role = $3, source = $4, note = $5, updated_at = $6, "
    "captain_volunteer = $7, avoid_night = $8 WHERE event_id = $1 AND user_id = $2"};
constexpr Statement kDeleteRegistration{
    "events.delete_registration",
    "DELETE FROM event_registrations WHERE event_id = $1 AND user_id = $2 RETURNING role"};

constexpr Statement kAvailabilityOf{
    "events.availability_of",
    "SELECT hour_start, preferred FROM event_availability WHERE event_id = $1 AND user_id = $2 "
    "ORDER BY hour_start"};
constexpr Statement kDeleteAvailability{
    "events.delete_availability", "DELETE FROM event_availability WHERE event_id = $1 AND user_id = $2"};
constexpr Statement kInsertAvailability{
    "events.insert_availability",
    "INSERT INTO event_availability (event_id, user_id, hour_start, preferred) VALUES ($1, $2, $3, $4)"};
constexpr Statement kCoverage{
    "events.coverage",
    "SELECT a.hour_start, COUNT(*), SUM(CASE WHEN r.role IN ('driver', 'both') THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN r.role IN ('spotter', 'both') THEN 1 ELSE 0 END), SUM(CASE WHEN a.preferred = 1 THEN 1 "
    "ELSE 0 END) "
    "FROM event_availability a "
    "JOIN event_registrations r ON r.event_id = a.event_id AND r.user_id = a.user_id "
    "WHERE a.event_id = $1 GROUP BY a.hour_start"};

constexpr Statement kNextRegistration{
    "events.next_registration",
    "SELECT " PITWALL_EVENT_COLUMNS
    ", r.role, r.source, r.note FROM event_registrations r JOIN events e ON e.id = r.event_id "
    "WHERE r.user_id = $1 AND e.starts_at + e.duration_min * 60 > $2 ORDER BY e.starts_at, e.id LIMIT 1"};
#undef PITWALL_EVENT_COLUMNS

// Ten years: far enough for any plan, near enough that the arithmetic never overflows.
constexpr std::int64_t kMaxStartAhead = 10LL * 366 * 24 * kHourSeconds;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

Error not_found(std::int64_t event_id) {
    return Error(ErrorKind::not_found, "events.not_found", {{"id", std::to_string(event_id)}});
}
Error closed() {
    return Error(ErrorKind::conflict, "events.closed");
}

Event event_from(const Row& r) {
    Event e;
    e.id = r.int64(0);
    e.name = r.text(1);
    e.track = r.text(2);
    e.car_class = r.text(3);
    e.starts_at = r.int64(4);
    e.duration_min = r.int64(5);
    e.discord_channel_id = r.opt_text(6);
    e.discord_role_id = r.opt_text(7);
    e.created_by = r.opt_int64(8);
    e.created_at = r.int64(9);
    e.updated_at = r.int64(10);
    e.registered = r.int64(11);
    return e;
}

// The tables' CHECKs allow only known names; a row that still fails to parse reads as the default.
Role role_of(const std::string& text) {
    return parse_role(text).value_or(Role::driver);
}
Source source_of(const std::string& text) {
    return parse_source(text).value_or(Source::web);
}

Result<std::optional<Event>> load_event(store::Connection& c, std::int64_t event_id) {
    auto rows = c.execute(kGet, {event_id});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<Event>();
    return std::optional<Event>(event_from(rows->first()));
}

Result<std::vector<Registration>> load_registrations(store::Connection& c, std::int64_t event_id) {
    auto rows = c.execute(kRegistrations, {event_id});
    if (!rows) return rows.error();
    std::vector<Registration> out;
    out.reserve(rows->rows.size());
    for (const auto& r : rows->rows)
        out.push_back({r.int64(0), r.text(1), role_of(r.text(2)), source_of(r.text(3)), r.text(4), r.text(5),
                       r.text(6), r.int64(7), r.int64(8), r.int64(9) != 0, r.int64(10) != 0});
    return out;
}

Result<std::vector<HourCoverage>> load_coverage(store::Connection& c, const Event& event) {
    auto rows = c.execute(kCoverage, {event.id});
    if (!rows) return rows.error();
    std::map<std::int64_t, HourCoverage> counted;
    for (const auto& r : rows->rows)
        counted[r.int64(0)] = {r.int64(0), r.int64(1), r.int64(2), r.int64(3), r.int64(4)};
    std::vector<HourCoverage> out;
    for (std::int64_t hour = event.first_hour(); hour < event.ends_at(); hour += kHourSeconds) {
        auto it = counted.find(hour);
        out.push_back(it != counted.end() ? it->second : HourCoverage{hour, 0, 0, 0, 0});
    }
    return out;
}

// UTF-8 that PostgreSQL will take: well-formed, no overlong forms, no surrogates.
bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        // The lead byte says how many continuation bytes follow and carries the top bits.
        const std::size_t extra = (c & 0xE0) == 0xC0   ? 1
                                  : (c & 0xF0) == 0xE0 ? 2
                                  : (c & 0xF8) == 0xF0 ? 3
                                                       : 0;
        if (extra == 0) return false;
        std::uint32_t point = c & (0x3F >> extra);
        if (i + extra >= text.size()) return false;  // cut short
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            point = (point << 6) | (next & 0x3F);
        }
        static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (point < kMin[extra] || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) return false;
        i += extra + 1;
    }
    return true;
}

std::size_t characters(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(
        text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Trimmed text of at most `max` characters, without control characters (a note may hold line breaks);
// nullopt when it breaks a rule.
std::optional<std::string> clean_text(std::string_view text, std::size_t max, bool multiline) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return std::string();
    text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
    if (!valid_utf8(text) || characters(text) > max) return std::nullopt;
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7F)
            return std::nullopt;
    }
    return std::string(text);
}

// A Discord snowflake: a decimal uint64.
bool snowflake(std::string_view id) {
    return !id.empty() && id.size() <= 20 &&
           std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
           (id.size() < 20 || id <= "18446744073709551615");
}

struct CleanDraft {
    std::string name, track, car_class;
    Value channel, role;
};

Result<CleanDraft> validate(const EventDraft& d, std::int64_t now) {
    CleanDraft out;
    auto name = clean_text(d.name, Events::kMaxName, false);
    if (!name || name->empty()) return Error(ErrorKind::invalid_input, "events.bad_name");
    auto track = clean_text(d.track, Events::kMaxName, false);
    if (!track || track->empty()) return Error(ErrorKind::invalid_input, "events.bad_track");
    auto car_class = clean_text(d.car_class, Events::kMaxClass, false);
    if (!car_class) return Error(ErrorKind::invalid_input, "events.bad_class");
    if (d.duration_min < 1 || d.duration_min > Events::kMaxDurationMin)
        return Error(ErrorKind::invalid_input, "events.bad_duration");
    if (d.starts_at <= now || d.starts_at > now + kMaxStartAhead)
        return Error(ErrorKind::invalid_input, "events.bad_start");
    for (auto [text, out_value] :
         {std::pair{&d.discord_channel_id, &out.channel}, std::pair{&d.discord_role_id, &out.role}}) {
        auto id = clean_text(*text, 20, false);
        if (!id) return Error(ErrorKind::invalid_input, "events.bad_discord_id");
        if (id->empty()) {
            *out_value = Null{};
        } else if (snowflake(*id)) {
            *out_value = *id;
        } else {
            return Error(ErrorKind::invalid_input, "events.bad_discord_id");
        }
    }
    out.name = std::move(*name);
    out.track = std::move(*track);
    out.car_class = std::move(*car_class);
    return out;
}

}  // namespace

std::string_view role_name(Role role) {
    switch (role) {
        case Role::driver:
            return "driver";
        case Role::spotter:
            return "spotter";
        case Role::both:
            return "both";
    }
    return "driver";
}

std::optional<Role> parse_role(std::string_view text) {
    for (Role r : {Role::driver, Role::spotter, Role::both})
        if (role_name(r) == text) return r;
    return std::nullopt;
}

std::string_view source_name(Source source) {
    return source == Source::discord ? "discord" : "web";
}

std::optional<Source> parse_source(std::string_view text) {
    if (text == "web") return Source::web;
    if (text == "discord") return Source::discord;
    return std::nullopt;
}

bool drives(Role role) {
    return role == Role::driver || role == Role::both;
}
bool spots(Role role) {
    return role == Role::spotter || role == Role::both;
}

std::string_view change_name(ChangeKind kind) {
    switch (kind) {
        case ChangeKind::registered:
            return "registered";
        case ChangeKind::updated:
            return "updated";
        case ChangeKind::removed:
            return "removed";
        case ChangeKind::unchanged:
            return "unchanged";
    }
    return "unchanged";
}

std::int64_t Event::first_hour() const {
    return floor_div(starts_at, kHourSeconds) * kHourSeconds;
}

std::int64_t Events::now() const {
    return floor_div(clock_.now_ms(), 1000);
}

std::string Events::topic(std::int64_t event_id) {
    return std::string(kTopicPrefix) + std::to_string(event_id);
}

std::string Events::registrations_json(std::int64_t event_id,
                                       const std::vector<Registration>& registrations) {
    boost::json::array list;
    list.reserve(registrations.size());
    for (const auto& r : registrations)
        list.push_back(boost::json::object{{"user_id", r.user_id},
                                           {"name", r.name},
                                           {"role", role_name(r.role)},
                                           {"source", source_name(r.source)}});
    return boost::json::serialize(
        boost::json::object{{"type", "registrations"},
                            {"event_id", event_id},
                            {"count", static_cast<std::int64_t>(registrations.size())},
                            {"registrations", std::move(list)}});
}

std::string Events::coverage_json(std::int64_t event_id, const std::vector<HourCoverage>& coverage) {
    boost::json::array hours;
    hours.reserve(coverage.size());
    for (const auto& h : coverage)
        hours.push_back(boost::json::object{{"hour_start", h.hour_start},
                                            {"available", h.available},
                                            {"drivers", h.drivers},
                                            {"spotters", h.spotters},
                                            {"preferred", h.preferred}});
    return boost::json::serialize(boost::json::object{
        {"type", "availability"}, {"event_id", event_id}, {"coverage", std::move(hours)}});
}

void Events::publish(std::int64_t event_id, const std::optional<std::vector<Registration>>& registrations,
                     const std::optional<std::vector<HourCoverage>>& coverage) const {
    if (!hub_) return;
    const std::string name = topic(event_id);
    if (registrations) hub_->broadcast(name, registrations_json(event_id, *registrations));
    if (coverage) hub_->broadcast(name, coverage_json(event_id, *coverage));
}

Result<std::vector<Event>> Events::list_upcoming(std::int64_t limit) const {
    limit = std::clamp<std::int64_t>(limit, 1, kMaxList);
    auto rows = db_.execute(kUpcoming, {now(), limit});
    if (!rows) return rows.error();
    std::vector<Event> out;
    for (const auto& r : rows->rows) out.push_back(event_from(r));
    return out;
}

Result<std::vector<Event>> Events::list_all() const {
    auto rows = db_.execute(kAll, {kMaxList});
    if (!rows) return rows.error();
    std::vector<Event> out;
    for (const auto& r : rows->rows) out.push_back(event_from(r));
    return out;
}

Result<Event> Events::get(std::int64_t event_id) const {
    auto rows = db_.execute(kGet, {event_id});
    if (!rows) return rows.error();
    if (rows->empty()) return not_found(event_id);
    return event_from(rows->first());
}

Result<Event> Events::create(const EventDraft& draft, std::optional<std::int64_t> created_by) {
    return save(std::nullopt, draft, created_by);
}

Result<Event> Events::update(std::int64_t event_id, const EventDraft& draft) {
    return save(event_id, draft, std::nullopt);
}

Result<Event> Events::save(std::optional<std::int64_t> event_id, const EventDraft& draft,
                           std::optional<std::int64_t> created_by) {
    const std::int64_t at = now();
    auto clean = validate(draft, at);
    if (!clean) return clean.error();
    Event saved;
    std::optional<std::vector<HourCoverage>> coverage;
    std::lock_guard lock(publish_mutex_);
    auto status = db_.write([&](store::Connection& c) -> Status {
        std::int64_t id = 0;
        if (event_id) {
            auto existing = load_event(c, *event_id);
            if (!existing) return existing.error();
            if (!*existing) return not_found(*event_id);
            if (!(*existing)->open_at(at)) return closed();
            auto updated =
                c.execute(kUpdate, {*event_id, clean->name, clean->track, clean->car_class, draft.starts_at,
                                    draft.duration_min, clean->channel, clean->role, at});
            if (!updated) return updated.error();
            id = *event_id;
        } else {
            auto inserted = c.execute(
                kInsert, {clean->name, clean->track, clean->car_class, draft.starts_at, draft.duration_min,
                          clean->channel, clean->role, created_by ? Value(*created_by) : Value(Null{}), at});
            if (!inserted) return inserted.error();
            id = inserted->first().int64(0);
        }
        auto loaded = load_event(c, id);
        if (!loaded) return loaded.error();
        if (!*loaded) return not_found(id);
        saved = std::move(**loaded);
        if (event_id) {
            auto pruned = c.execute(kPruneAvailability, {id, saved.first_hour(), saved.ends_at()});
            if (!pruned) return pruned.error();
            if (pruned->affected > 0) {
                auto hours = load_coverage(c, saved);
                if (!hours) return hours.error();
                coverage = std::move(*hours);
            }
        }
        return {};
    });
    if (!status) return status.error();
    publish(saved.id, std::nullopt, coverage);
    return saved;
}

Result<std::vector<Registration>> Events::registrations(std::int64_t event_id) const {
    std::vector<Registration> out;
    auto status = db_.read([&](store::Connection& c) -> Status {
        auto event = load_event(c, event_id);
        if (!event) return event.error();
        if (!*event) return not_found(event_id);
        auto list = load_registrations(c, event_id);
        if (!list) return list.error();
        out = std::move(*list);
        return {};
    });
    if (!status) return status.error();
    return out;
}

Result<std::map<std::int64_t, Role>> Events::roles_of(std::int64_t user_id) const {
    auto rows = db_.execute(kRolesOf, {user_id});
    if (!rows) return rows.error();
    std::map<std::int64_t, Role> out;
    for (const auto& r : rows->rows) out[r.int64(0)] = role_of(r.text(1));
    return out;
}

Result<RegistrationChange> Events::register_member(std::int64_t event_id, std::int64_t user_id, Role role,
                                                   Source source, std::optional<std::string> note) {
    return register_member(event_id, user_id, role, source, RegistrationOptions{.note = std::move(note)});
}

Result<RegistrationChange> Events::register_member(std::int64_t event_id, std::int64_t user_id,
                                                   std::string_view role, Source source,
                                                   std::optional<std::string> note) {
    return register_member(event_id, user_id, role, source, RegistrationOptions{.note = std::move(note)});
}

Result<RegistrationChange> Events::register_member(std::int64_t event_id, std::int64_t user_id, Role role,
                                                   Source source, RegistrationOptions options) {
    if (role != Role::driver && role != Role::spotter && role != Role::both)  // a cast from a bad number
        return Error(ErrorKind::invalid_input, "events.bad_role");
    if (options.note) {
        auto cleaned = clean_text(*options.note, kMaxNote, true);
        if (!cleaned) return Error(ErrorKind::invalid_input, "events.bad_note");
        options.note = std::move(*cleaned);
    }
    return change_registration(event_id, user_id, role, source, options);
}

Result<RegistrationChange> Events::register_member(std::int64_t event_id, std::int64_t user_id,
                                                   std::string_view role, Source source,
                                                   RegistrationOptions options) {
    auto parsed = parse_role(role);
    if (!parsed) return Error(ErrorKind::invalid_input, "events.bad_role");
    return register_member(event_id, user_id, *parsed, source, std::move(options));
}

Result<RegistrationChange> Events::unregister(std::int64_t event_id, std::int64_t user_id, Source source) {
    return change_registration(event_id, user_id, std::nullopt, source, RegistrationOptions{});
}

// One registration change in one transaction: `role` set registers or changes the role, nullopt
// withdraws. The state pages show is read in the same transaction and broadcast after the commit.
Result<RegistrationChange> Events::change_registration(std::int64_t event_id, std::int64_t user_id,
                                                       std::optional<Role> role, Source source,
                                                       const RegistrationOptions& options) {
    const auto& note = options.note;
    const std::int64_t at = now();
    RegistrationChange change;
    change.user_id = user_id;
    change.source = source;
    std::optional<std::vector<Registration>> snapshot;
    std::optional<std::vector<HourCoverage>> coverage;
    std::unique_lock lock(publish_mutex_);
    auto status = db_.write([&](store::Connection& c) -> Status {
        auto event = load_event(c, event_id);
        if (!event) return event.error();
        if (!*event) return not_found(event_id);
        if (!(*event)->open_at(at)) return closed();
        change.event = std::move(**event);

        if (!role) {
            auto deleted = c.execute(kDeleteRegistration, {event_id, user_id});
            if (!deleted) return deleted.error();
            if (deleted->empty()) return {};  // unchanged: was not registered
            change.kind = ChangeKind::removed;
            change.previous_role = role_of(deleted->first().text(0));
        } else {
            const std::string role_text(role_name(*role));
            const std::string source_text(source_name(source));
            // Twice at most: a first registration that loses a race with another one becomes a change.
            for (int attempt = 0; attempt < 2 && change.kind == ChangeKind::unchanged; ++attempt) {
                auto existing = c.execute(kRegistrationOf, {event_id, user_id});
                if (!existing) return existing.error();
                if (existing->empty()) {
                    auto inserted = c.execute(kInsertRegistration,
                                              {event_id, user_id, role_text, source_text, note.value_or(""),
                                               at, std::int64_t{options.captain_volunteer.value_or(false)},
                                               std::int64_t{options.avoid_night.value_or(false)}});
                    if (!inserted) return inserted.error();
                    if (inserted->affected == 0) continue;
                    change.kind = ChangeKind::registered;
                    change.role = role;
                    break;
                }
                const Row& stored = existing->first();
                const Role before = role_of(stored.text(0));
                const std::string stored_note = stored.text(1);
                const bool captain = options.captain_volunteer.value_or(stored.int64(2) != 0);
                const bool avoid_night = options.avoid_night.value_or(stored.int64(3) != 0);
                change.previous_role = before;
                change.role = before;
                if (before == *role && note.value_or(stored_note) == stored_note &&
                    captain == (stored.int64(2) != 0) && avoid_night == (stored.int64(3) != 0))
                    return {};  // unchanged
                auto updated =
                    c.execute(kUpdateRegistration,
                              {event_id, user_id, role_text, source_text, note.value_or(stored_note), at,
                               std::int64_t{captain}, std::int64_t{avoid_night}});
                if (!updated) return updated.error();
                change.kind = ChangeKind::updated;
                change.role = role;
            }
            if (change.kind == ChangeKind::unchanged) return {};
        }

        auto after = load_event(c, event_id);
        if (!after) return after.error();
        if (*after) change.event = std::move(**after);
        auto list = load_registrations(c, event_id);
        if (!list) return list.error();
        snapshot = std::move(*list);
        if (change.kind == ChangeKind::removed) {  // the member's hours went with the registration
            auto hours = load_coverage(c, change.event);
            if (!hours) return hours.error();
            coverage = std::move(*hours);
        }
        return {};
    });
    if (!status) return status.error();
    if (!change.changed()) return change;
    publish(event_id, snapshot, coverage);
    lock.unlock();
    if (observer_) {
        try {
            observer_(change);
        } catch (const std::exception& e) {
            // The change is committed; an observer's failure (the bot) must not turn it into an error.
            log::error("events: change observer failed for event {} user {}: {}", event_id, user_id,
                       e.what());
        }
    }
    return change;
}

Status Events::set_availability(std::int64_t event_id, std::int64_t user_id,
                                std::vector<std::int64_t> hour_starts_utc,
                                std::optional<std::vector<std::int64_t>> preferred) {
    auto sort_unique = [](std::vector<std::int64_t>& list) {
        std::sort(list.begin(), list.end());
        list.erase(std::unique(list.begin(), list.end()), list.end());
    };
    sort_unique(hour_starts_utc);
    if (preferred) sort_unique(*preferred);
    const std::int64_t at = now();
    std::optional<std::vector<HourCoverage>> coverage;
    std::lock_guard lock(publish_mutex_);
    auto status = db_.write([&](store::Connection& c) -> Status {
        auto event = load_event(c, event_id);
        if (!event) return event.error();
        if (!*event) return not_found(event_id);
        const Event& e = **event;
        if (!e.open_at(at)) return closed();
        auto registered = c.execute(kRegistrationOf, {event_id, user_id});
        if (!registered) return registered.error();
        if (registered->empty()) return Error(ErrorKind::conflict, "events.not_registered");
        for (auto hour : hour_starts_utc)
            if (hour % kHourSeconds != 0 || hour < e.first_hour() || hour >= e.ends_at())
                return Error(ErrorKind::invalid_input, "events.bad_hours");
        // Preferred hours are available hours (both lists sorted): this also keeps them in the window.
        if (preferred && !std::includes(hour_starts_utc.begin(), hour_starts_utc.end(), preferred->begin(),
                                        preferred->end()))
            return Error(ErrorKind::invalid_input, "events.bad_hours");

        auto stored = c.execute(kAvailabilityOf, {event_id, user_id});
        if (!stored) return stored.error();
        std::vector<std::int64_t> before, before_preferred;
        for (const auto& r : stored->rows) {
            before.push_back(r.int64(0));
            if (r.int64(1) != 0) before_preferred.push_back(r.int64(0));
        }
        // Not given: the stored preferred hours that stay available.
        std::vector<std::int64_t> preferred_utc;  // a copy: the transaction may run again
        if (preferred) {
            preferred_utc = *preferred;
        } else {
            std::set_intersection(before_preferred.begin(), before_preferred.end(), hour_starts_utc.begin(),
                                  hour_starts_utc.end(), std::back_inserter(preferred_utc));
        }
        if (before == hour_starts_utc && before_preferred == preferred_utc)
            return {};  // nothing to change, nothing to announce

        if (auto deleted = c.execute(kDeleteAvailability, {event_id, user_id}); !deleted)
            return deleted.error();
        for (auto hour : hour_starts_utc) {
            const bool preferred = std::binary_search(preferred_utc.begin(), preferred_utc.end(), hour);
            if (auto inserted =
                    c.execute(kInsertAvailability, {event_id, user_id, hour, std::int64_t{preferred}});
                !inserted)
                return inserted.error();
        }
        auto hours = load_coverage(c, e);
        if (!hours) return hours.error();
        coverage = std::move(*hours);
        return {};
    });
    if (!status) return status.error();
    if (coverage) publish(event_id, std::nullopt, coverage);
    return {};
}

Result<std::vector<std::int64_t>> Events::availability(std::int64_t event_id, std::int64_t user_id) const {
    auto hours = member_hours(event_id, user_id);
    if (!hours) return hours.error();
    return std::move(hours->available);
}

Result<MemberHours> Events::member_hours(std::int64_t event_id, std::int64_t user_id) const {
    MemberHours out;
    auto status = db_.read([&](store::Connection& c) -> Status {
        auto event = load_event(c, event_id);
        if (!event) return event.error();
        if (!*event) return not_found(event_id);
        auto rows = c.execute(kAvailabilityOf, {event_id, user_id});
        if (!rows) return rows.error();
        for (const auto& r : rows->rows) {
            out.available.push_back(r.int64(0));
            if (r.int64(1) != 0) out.preferred.push_back(r.int64(0));
        }
        return {};
    });
    if (!status) return status.error();
    return out;
}

Result<std::vector<HourCoverage>> Events::coverage(std::int64_t event_id) const {
    std::vector<HourCoverage> out;
    auto status = db_.read([&](store::Connection& c) -> Status {
        auto event = load_event(c, event_id);
        if (!event) return event.error();
        if (!*event) return not_found(event_id);
        auto hours = load_coverage(c, **event);
        if (!hours) return hours.error();
        out = std::move(*hours);
        return {};
    });
    if (!status) return status.error();
    return out;
}

Result<std::optional<MemberRegistration>> Events::next_registration(std::int64_t user_id,
                                                                    std::int64_t now) const {
    auto rows = db_.execute(kNextRegistration, {user_id, now});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<MemberRegistration>();
    const Row& r = rows->first();
    return std::optional<MemberRegistration>(
        MemberRegistration{event_from(r), role_of(r.text(kEventColumnCount)),
                           source_of(r.text(kEventColumnCount + 1)), r.text(kEventColumnCount + 2)});
}

}  // namespace pitwall::events
