// Stage 2 solver: who drives and who spots each stint of one crew, under every hard rule of
// rules.hpp, minimising the JRES objective of objective.hpp.
//
// How it works (solver.cpp):
// 1. feasibility(): any obstacle it names ends the solve with that violation as the error.
// 2. Construction: stint by stint, a driver available for the whole stint, preferring to keep the
//    previous driver while they are under their stint target and the consecutive limit, otherwise the
//    driver with the fewest stints, most fair-share urgency, then Preferred hours; drivers whose rest
//    block could no longer fit are avoided. Spotters per stint: available, not the driver, least loaded.
//    Locked stints keep their driver and spotter exactly as given.
// 3. Spread bound: the smallest spread (max - min stints over the counted drivers) any valid plan can
//    have, from a relaxation that keeps availability, locked stints, the pinned starter, per-driver
//    minimums (fair share, minimum seat time) and maximums (rest block, maximum seat time) but drops
//    the consecutive limit, spotting and the interaction of rest blocks: for a window [lo, hi] of
//    counts, "every stint one driver, every counted driver between lo and hi" is an exact flow test
//    (a circulation with lower bounds). The smallest spread d with a feasible window is the bound;
//    of its windows the one nearest the mean count is the target.
// 4. Repair and improvement: late-acceptance hill climbing over seven moves (one stint to another
//    driver, swap two stints' drivers, a neighbour takes a stint, a block of stints to one driver,
//    swap the drivers of two whole runs, a stint from a driver to one with at least two fewer, one
//    stint to another spotter) on the unlocked stints. Acceptance is steered by a guide: the
//    objective with its spread term replaced by 1000 x the distance of the counts from the target
//    window (the spread itself is flat under most single moves; the distance is not), plus the
//    hard-rule penalty (a fast mirror of validate()) and spotter balance. When a phase stalls
//    without any valid plan reaching the window's spread, the window widens by one (the rules the
//    relaxation drops forbid the bound), else the search stops. The best valid (penalty 0) plan by
//    the true objective is kept and checked by validate() itself.
//
// Determinism: the moves come from a SplitMix64 generator seeded by SolveOptions::seed, and the
// search stops after an ITERATION budget derived from the time budget (kIterationsPerMs per ms) or
// when no better guided state was found for a stall window (a fifth of the budget, at least two
// restart windows of 3000 + 100 x stints), so the same input and seed give the same plan on
// any machine. The wall clock is only a safety stop (checked every 1024 iterations at twice the time
// budget); a machine that slow would return an earlier (still valid) plan, and stats say so.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/result.hpp"
#include "features/planner/model.hpp"
#include "features/planner/objective.hpp"
#include "features/planner/rules.hpp"

namespace pitwall::planner {

inline constexpr std::int64_t kIterationsPerMs = 200;

struct SolveOptions {
    std::int64_t time_budget_ms = 1000;  // -> iteration budget time_budget_ms x kIterationsPerMs
    std::uint64_t seed = 1;
    // Stints kept as given (driver, and spotter when set); an index the stint table lacks is an error.
    std::vector<Assignment> locked;
};

struct SolveStats {
    std::int64_t iterations = 0;  // local-search iterations run
    std::int64_t iteration_budget = 0;
    std::int64_t improvements = 0;    // times a better valid plan was found
    std::int64_t restarts = 0;        // restarts from the best plan after a stall
    int spread_bound = 0;             // no valid plan has a smaller spread (see solver.cpp)
    int windows_widened = 0;          // times the bound's count window was not reached and widened
    bool construction_valid = false;  // the greedy plan was already valid
    bool stopped_by_clock = false;    // the wall-clock safety stop fired (result may depend on speed)
    std::int64_t elapsed_ms = 0;      // informational only
};

struct SolveResult {
    Plan plan;
    Score score;
    SolveStats stats;
};

// Errors:
// - derive_stints()'s errors as they are;
// - planner.unknown_stint (invalid_input) for a locked stint the table lacks;
// - infeasible input or no valid plan found: Error{invalid_input, code and args of the FIRST
//   violation (a locale key under "error.", e.g. "planner.fair_share_unreachable" with name/laps/
//   needed), plus "stage" = "feasibility" | "search", "violations" = count and, for each violation
//   i = 1..n, "v<i>_code", "v<i>_member" (id, when any) and "v<i>_<arg>" for its args}.
//   violations_of() reads them back.
[[nodiscard]] Result<SolveResult> solve(const PlanInput& input, const SolveOptions& options = {});

// The violations an error of solve() carries (empty for other errors).
[[nodiscard]] std::vector<Violation> violations_of(const Error& error);

// Race day: lock every stint before `from_stint` as `driven` assigned it (re-plan the rest).
[[nodiscard]] std::vector<Assignment> lock_before(const Plan& driven, int from_stint);

}  // namespace pitwall::planner
