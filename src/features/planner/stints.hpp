// Stints from fuel: laps per stint = floor(tank / burn per lap); a full stint lasts laps x lap time +
// pit loss; the last stint runs to the flag. And iRacing's fair-share minimum in laps.
#pragma once

#include <cstdint>
#include <vector>

#include "core/result.hpp"
#include "features/planner/model.hpp"

namespace pitwall::planner {

struct StintTable {
    int laps_per_stint = 0;
    double full_stint_s = 0;    // laps_per_stint x lap + pit loss
    std::vector<Stint> stints;  // cover [race_start, race_end) without gaps
    int total_laps = 0;         // the race-length estimate: the sum of stint laps
};

// Errors (ErrorKind::invalid_input): planner.bad_duration (<= 0), planner.bad_lap_time (<= 0),
// planner.bad_pit_loss (< 0), planner.bad_tank (<= 0), planner.bad_burn (<= 0),
// planner.burn_over_tank (not one lap per tank), planner.too_many_stints (over kMaxStints);
// planner.bad_stints (naming the stint) when PlanInput::fixed_stints is set and not a valid table.
//
// Definitions: stint i starts at race_start + round(i x full_stint_s). A stint is the last one when
// the remaining time is at most a full stint; it ends at the flag and its laps are the whole laps that
// fit in the remaining time (floor), at least 1 and at most laps_per_stint (no pit stop follows it).
[[nodiscard]] Result<StintTable> derive_stints(const PlanInput& input);

// Bounds the work for absurd input (a 48 h race of 1 s laps on a 1-lap tank is 172,800 stints).
inline constexpr int kMaxStints = 2000;

// iRacing fair share: ceil(0.25 x ceil(team_laps / declared_drivers)); 0 without declared drivers.
[[nodiscard]] int fair_share_laps(int team_laps, int declared_drivers);

}  // namespace pitwall::planner
