// Template and API data for the events pages (web/templates/events.mustache, event.mustache,
// event_new.mustache) and GET /api/events/{id}. Pure: built from what Events returns, so tests and
// the routes share them. Page times are epoch MILLISECONDS (what templates format in the viewer's
// zone); the API keeps the service's Unix seconds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "features/events/events.hpp"

namespace pitwall::events {

// {upcoming: [summary], past: [summary], has_upcoming, has_past, can_manage}: see events.mustache.
// `events` in any order; upcoming = not finished at `now` (soonest first), past = newest first.
[[nodiscard]] boost::json::object list_data(const std::vector<Event>& events,
                                            const std::map<std::int64_t, Role>& my_roles, std::int64_t now,
                                            bool can_manage);

struct EventPage {
    const Event& event;
    const std::vector<Registration>& registrations;
    const std::vector<HourCoverage>& coverage;
    const std::vector<std::int64_t>& my_hours;  // the viewer's availability
    std::int64_t viewer_id = 0;
    std::int64_t now = 0;
    bool can_register = false;                    // event.register
    std::vector<std::int64_t> my_preferred = {};  // the viewer's preferred hours (ascending)
};

// {event, me, registrations, has_registrations, coverage, coverage_max, roles, labels, topics}: see
// event.mustache.
[[nodiscard]] boost::json::object event_data(const EventPage& page);

// GET /api/events/{id}: {event: {..., starts_at, ends_at (Unix seconds)}, registrations: [{user_id,
// name, role, source, note, time_zone, captain_volunteer, avoid_night, created_at, updated_at}],
// coverage: [{hour_start, available, drivers, spotters, preferred}]}.
[[nodiscard]] boost::json::object event_json(const Event& event,
                                             const std::vector<Registration>& registrations,
                                             const std::vector<HourCoverage>& coverage);

// The new-event form as typed (re-shown after a refused submission).
struct EventForm {
    std::string name, track, car_class, starts_local, duration_min, discord_channel_id, discord_role_id;
};
// {form, error (localized, or null), min_start}: see event_new.mustache.
[[nodiscard]] boost::json::object new_event_data(const EventForm& form, std::optional<std::string> error,
                                                 std::string min_start);

// A datetime-local value ("2026-04-03T14:00", seconds optional) read in `time_zone` (IANA) as Unix
// seconds UTC; nullopt when malformed. A time that a DST change skips moves forward.
[[nodiscard]] std::optional<std::int64_t> local_to_utc(std::string_view datetime_local,
                                                       std::string_view time_zone);
// The reverse, to the minute: "2026-04-03T14:00".
[[nodiscard]] std::string utc_to_local(std::int64_t seconds, std::string_view time_zone);

}  // namespace pitwall::events
