// The one rule engine: every hard rule of stage 2, checked on any plan (solver output or a manual
// edit), reporting ALL violations; and a pre-check that names the member and the rule when the input
// cannot have a valid plan at all. Messages are locale keys "error.<code>" with text arguments, so
// they read "Mert: can reach 30 laps in their hours, fair share needs 35".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "features/planner/model.hpp"

namespace pitwall::planner {

// One rule, one locale code (rule_code). Stint numbers in message arguments are 1-based ("stint 1"),
// Violation::stint is the 0-based index. Durations are two arguments, <name>_h and <name>_min.
enum class Rule {
    // validate()
    unknown_stint,    // an assignment names a stint the plan does not have
    unknown_member,   // an assignment names someone who is not a member of the crew
    no_driver,        // a stint without a driver
    two_drivers,      // a stint with more than one assignment
    not_a_driver,     // the driver is not a driver
    not_declared,     // the driver is not among the declared drivers (when drivers are declared)
    no_spotter,       // spotting is on and the stint has no spotter
    not_a_spotter,    // the spotter is not a spotter
    spots_own_stint,  // the stint's spotter is its driver
    unavailable,      // duty in an hour the member marked unavailable (the stint overlaps it)
    max_consecutive,  // more consecutive stints DRIVEN than the member's limit
    minimum_rest,     // no continuous off-duty block of the member's minimum rest within the race
    fair_share,       // a declared driver drives fewer laps than the fair share
    min_seat_time,    // a declared driver's seat time under the minimum
    max_seat_time,    // a driver's seat time over the maximum
    pinned_starter,   // stint 0 is not driven by the pinned starter
    // feasibility()
    declared_not_driver,     // a declared driver who is not a member or not a driver
    stint_uncovered,         // no driver is available for the whole of a stint
    spotter_uncovered,       // spotting is on and no spotter other than a possible driver is available
    fair_share_unreachable,  // a declared driver's available stints cannot reach the fair share
    seat_time_unreachable,   // a declared driver's available stints cannot reach the minimum seat time
    starter_not_driver,      // the pinned starter is not a member or not a driver
    starter_unavailable,     // the pinned starter is unavailable during stint 0
};

// "planner.<rule>", e.g. "planner.unavailable".
[[nodiscard]] std::string rule_code(Rule rule);
[[nodiscard]] std::vector<Rule> all_rules();

struct Violation {
    Rule rule = Rule::no_driver;
    std::optional<MemberId> member;                         // whom it is about (none for an uncovered stint)
    std::optional<int> stint;                               // 0-based index, when it is about one stint
    std::string code;                                       // rule_code(rule): a locale key below "error."
    std::vector<std::pair<std::string, std::string>> args;  // name, stint, laps, needed, <d>_h, ...

    [[nodiscard]] std::string arg(std::string_view name) const;
    // As an Error (invalid_input) for the HTTP layer.
    [[nodiscard]] Error to_error() const;
};

// Every violation of every hard rule, in rule order then stint order; empty when the plan is valid.
// Definitions:
// - seat time = the sum of the driven stints' lengths (Stint::seconds, pit stop included);
// - team laps for the fair share = the sum of the plan's stint laps;
// - off duty = neither driving nor spotting; the rest block is searched in [race_start, race_end) and
//   the rule applies only when the race is longer than the minimum rest;
// - max consecutive counts stints driven in a row (spotting breaks nothing and counts nothing).
[[nodiscard]] std::vector<Violation> validate(const PlanInput& input, const Plan& plan);

// What makes the input impossible before any solving: the stints come from derive_stints, so the
// input's errors come back as that Error. Empty: no obvious obstacle (a solver may still fail).
[[nodiscard]] Result<std::vector<Violation>> feasibility(const PlanInput& input);

// true when the member may be on duty for the whole stint (no unavailable hour overlapping it).
[[nodiscard]] bool available_for(const Member& member, const Stint& stint);

}  // namespace pitwall::planner
