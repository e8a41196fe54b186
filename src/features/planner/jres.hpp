// Import and export of the JRES input format (JSON.Racing Enduro Scheduler, MIT, popmonkey): one race
// and one crew, with hourly availability. Samples and field list: testdata/jres/ and
// ../shared/reference/jres/README.md.
//
// The struct is faithful to the format (field for field, same units) so that export_jres(parse_jres(x))
// reads back equal; mapping to the planner's own model is a separate step. The input comes from
// outside, so every field is bounded and every refusal is an Error{invalid_input or too_large,
// "planner.jres_*", {{"field", "<json path>"}, ...}} naming the offending field, for example
// "teamMembers[2].preferredStints" or "availability.Ayrton.1973-06-10T02:00:00.000Z".
//
// Choices (see jres.cpp for details):
// - Numbers may arrive as JSON numbers or as decimal strings (the samples send `timezone` as "-3"),
//   and are kept to 15 significant digits (so 4.333333333333333 reads as 4.33333333333333): with
//   that, an export reads back bit for bit (Boost.JSON 1.81 misrounds some longer decimals).
// - A member's roles come from `isDriver`/`isSpotter`, or from the older `role` text ("Driver Only",
//   "Spotter Only", "Driver and Spotter", as in 420.json); when both are present they must agree.
// - A missing hour in `availability` (or a member without availability at all) means Unavailable, as
//   in the JRES solver (`availability[name].get(hour, "Unavailable")`); the samples list every hour.
// - Hours must start on the hour, and lie from one hour before the race's first hour to the hour
//   after the finish (JRES pads its grid: 420.json starts 23:00 but lists 22:00, ends 03:20 but lists
//   04:00); further out is refused.
// - `firstStintDriver` "" or null means none; otherwise it must name a member who drives.
// - Unknown top-level and member fields are ignored (and not exported); `success` is kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "features/planner/model.hpp"

namespace pitwall::planner {

enum class JresAvailability { unavailable, preferred, available };

[[nodiscard]] std::string_view jres_availability_name(JresAvailability a);  // "Unavailable", ...

struct JresMember {
    std::string name;  // 1-100 characters, no control characters, unique in the team
    bool is_driver = false;
    bool is_spotter = false;
    std::optional<std::string> role;    // the older role text when the input carried it (exported back)
    std::int64_t preferred_stints = 1;  // max consecutive stints, 1-1000
    double timezone_hours = 0;          // UTC offset, -12..14, may be fractional (5.5, 5.75)
    std::optional<double> minimum_rest_hours;  // 0-168; absent in 420.json (JRES reads absent as 0)

    bool operator==(const JresMember&) const = default;
};

struct JresInput {
    std::optional<bool> success;      // both samples carry `"success": true` (the JRES web app's envelope)
    std::int64_t race_start_utc = 0;  // Unix seconds; `raceStartUTC` ISO-8601 (fraction dropped)
    double duration_hours = 0;        // [0.01, 168]; fractional for 4 h 20 min
    double avg_lap_time_s = 0;        // [1, 3600]
    double pit_time_s = 0;            // [0, 3600]
    double fuel_tank_size = 0;        // [0.001, 100000]
    double fuel_use_per_lap = 0;      // [0.001, fuel_tank_size]: at least one lap per tank
    std::optional<std::string> first_stint_driver;
    std::vector<JresMember> team_members;  // 1-200, in input order
    // member name -> hour start (Unix seconds, whole hour) -> value; only the hours the input lists.
    std::map<std::string, std::map<std::int64_t, JresAvailability>> availability;

    bool operator==(const JresInput&) const = default;

    // The value for `name` in the hour containing `time` (Unix seconds); Unavailable when not listed.
    [[nodiscard]] JresAvailability availability_at(const std::string& name, std::int64_t time) const;
    // How many listed hours of `name` carry `value`.
    [[nodiscard]] std::size_t count(const std::string& name, JresAvailability value) const;
    [[nodiscard]] const JresMember* member(std::string_view name) const;
};

inline constexpr std::size_t kJresMaxBytes = 1024 * 1024;
inline constexpr std::size_t kJresMaxMembers = 200;
inline constexpr std::size_t kJresMaxNameChars = 100;
inline constexpr double kJresMaxHours = 7 * 24;

// Parses and validates a JRES input document.
[[nodiscard]] Result<JresInput> parse_jres(std::string_view json);
// Writes the document back (availability keys as "YYYY-MM-DDTHH:00:00.000Z", `timezone` as text like
// the samples); parse_jres(export_jres(x)) == x for every x that parse_jres returned.
[[nodiscard]] std::string export_jres(const JresInput& input);

// ISO-8601 UTC timestamps: "YYYY-MM-DDTHH:MM:SS[.fff]Z" or with a "+hh:mm"/"-hh:mm" offset; years
// 1900-9999. Returns Unix seconds (fraction dropped) or nullopt.
[[nodiscard]] std::optional<std::int64_t> parse_iso8601(std::string_view text);
// "YYYY-MM-DDTHH:MM:SS.000Z".
[[nodiscard]] std::string format_iso8601(std::int64_t unix_seconds);

// The planner's stage-2 input for a parsed JRES file, with JRES's own semantics:
// - member ids 1..n in teamMembers order; `timezone` becomes "+hh:mm"/"-hh:mm" ("UTC" for 0);
// - preferredStints -> max_consecutive_stints, minimumRestHours -> minimum_rest_hours (absent: the
//   input default 0, as JRES reads it);
// - fair share on, every driver declared (JRES applies fair share to its whole driver pool);
// - spotters on when at least one member spots (JRES's integrated spotter mode);
// - firstStintDriver -> pinned_starter; no seat-time limits (JRES has none);
// - availability copied hour by hour (an hour not listed stays unavailable, as in JRES).
// Uses only the plain structs of model.hpp (no link dependency on pitwall_planner).
[[nodiscard]] Result<PlanInput> to_plan_input(const JresInput& input);

}  // namespace pitwall::planner
