// What publishing a plan sends out, as text: the Discord announcement of the whole plan, a member's
// itinerary lines for their DM, the member's iCal feed (RFC 5545) and the secret token of its URL.
// Pure: no I/O, no store, no clock (the caller passes `now`). Planner::publish and the iCal route
// call these; every user-visible word comes from the catalog (keys under "planner.").
//
// Times are Unix SECONDS (UTC), as in service.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "features/planner/service.hpp"
#include "platform/i18n/catalog.hpp"

namespace pitwall::planner {

// Discord refuses message content over 2000 characters.
inline constexpr std::size_t kDiscordMessageLimit = 2000;

// The event an announcement is about. `url` is the event's page (public_url + "/events/<id>"): the
// shortened forms of the announcement point there for the details they leave out.
struct AnnouncementEvent {
    std::int64_t id = 0;
    std::string name;
    std::string track;
    std::int64_t starts_at = 0;
    std::string url;
};

// Discord user ids (snowflakes) by Pitwall user id: members with one are mentioned as <@snowflake>,
// the others are written by name.
using DiscordIds = std::map<std::int64_t, std::string>;

// The post for the event's Discord channel. Times are Discord timestamp markup (<t:UNIX:F>, <t:UNIX:R>,
// <t:UNIX:t>) so every reader sees their own local time; `time_zone` is only used for dates the
// catalog messages format themselves. The first form that fits in kDiscordMessageLimit wins:
//   1. full: per crew its car, captain, drivers, spotters and one line per stint (times, driver, spotter);
//   2. compact: per crew the same lists, stints as runs of one driver ("`4–6` <t:..:t> Name");
//   3. by driver: per crew its captain, spotters and a line per driver with their stints ("<@..>: `1–2`
//   `9`");
//   4. summary: per crew the lists and "N stints, <t:..:t>–<t:..:t>";
//   5. minimal: one line per crew; then, as the last resort, cut at a line boundary.
// Every form but the full one ends with the event page link.
[[nodiscard]] std::string announcement(const EventPlan& plan, const AnnouncementEvent& event,
                                       const i18n::Catalog& catalog, std::string_view locale,
                                       std::string_view time_zone, const DiscordIds& discord_ids = {});

// Length as Discord counts it (UTF-16 code units: never less than its count of characters).
[[nodiscard]] std::size_t discord_length(std::string_view text);

// One line per duty, in the viewer's language and time zone ("Stint 3 · drive · Sat 2:05 PM–3:02 PM"),
// joined by "\n": the {stints} argument of "planner.dm_itinerary" ({event}, {stints}, {ical}).
[[nodiscard]] std::string itinerary_lines(const std::vector<Duty>& duties, const i18n::Catalog& catalog,
                                          const i18n::Viewer& viewer);

// A member's duties as an iCalendar feed (RFC 5545): one VEVENT per duty with a stable UID
// ("stint-<event>-<crew>-<stint>-drive@pitwall"; the stint index as stored, 0-based), DTSTAMP `now`,
// DTSTART/DTEND in UTC, SUMMARY and the alarm text in `locale` (catalog keys "planner.ical.*"),
// LOCATION the track, URL `base_url` + "/events/<id>", and a display alarm 30 minutes before.
// CRLF line endings; lines folded at 75 octets, never inside a UTF-8 sequence.
[[nodiscard]] std::string ical_feed(const std::vector<Duty>& duties, const i18n::Catalog& catalog,
                                    std::string_view locale, std::string_view calendar_name,
                                    std::string_view base_url, std::int64_t now);

// RFC 5545 TEXT escaping (backslash, semicolon, comma, newline; other control characters dropped) and
// line folding, exposed for tests.
[[nodiscard]] std::string ical_escape_text(std::string_view text);
[[nodiscard]] std::string ical_fold(std::string_view line);
// "YYYYMMDDTHHMMSSZ".
[[nodiscard]] std::string ical_utc(std::int64_t unix_seconds);

// The secret of a member's feed URL: base64url (no padding) of HMAC-SHA256(key,
// "pitwall-ical|<user>|<generation>"). Bumping the generation revokes every earlier URL.
[[nodiscard]] std::string ical_token(std::string_view key, std::int64_t user_id, std::int64_t generation);
// Compares in constant time (encoding::constant_time_equal).
[[nodiscard]] bool ical_token_matches(std::string_view key, std::int64_t user_id, std::int64_t generation,
                                      std::string_view token);

}  // namespace pitwall::planner
