// Stage 1 of the planner: split the event's registered pool into crews (cars). Pure: no I/O, no clock.
// Hard: crew size within min/max drivers; every driver within the event's iRating limits and verified
// for the car (Garage61 laps in it, or an admin override that the plan records); in every race hour at
// least `min_drivers_per_hour` available drivers per crew and, with spotting on, at least one
// available spotter per crew; exactly one captain per crew (volunteers first, then experience). Soft: iRating
// balanced (small spread of crew averages) or tiered (crew 1 fastest), regular teammates together,
// availability spread so each crew covers the clock. Heuristic: snake draft (balanced) or sorted chunks
// (tiered), then a seeded local search of moves and swaps (with spotting on, spotter-only seats are placed
// and moved by the same search); deterministic for the same input and seed. Messages are locale keys
// "error.planner.crew_*".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "features/planner/model.hpp"

namespace pitwall::planner {

enum class BalanceMode { balanced, tiered };

struct PoolMember {
    MemberId id = 0;
    std::string name;  // display name, used in every message about this member
    int irating = 0;
    bool is_driver = false;
    bool is_spotter = false;
    bool has_car_laps = false;    // Garage61 shows laps in the event's car
    bool admin_override = false;  // an admin verified the member for the car anyway (recorded in the plan)
    bool captain_volunteer = false;
    int experience = 0;                                 // e.g. endurance races driven
    std::vector<MemberId> teammates;                    // regular teammates (soft: same crew)
    std::map<std::int64_t, Availability> availability;  // hour start (UTC) -> mark; unmarked = unavailable

    [[nodiscard]] bool verified() const { return has_car_laps || admin_override; }
    [[nodiscard]] bool available_at(std::int64_t hour_start) const;
};

struct CrewInput {
    std::int64_t race_start = 0;  // Unix seconds, UTC
    std::int64_t duration_s = 0;
    std::optional<int> crews;  // number of cars; nullopt = as many as fit
    int min_drivers = 2;       // per crew
    int max_drivers = 6;       // per crew
    std::optional<int> irating_min;
    std::optional<int> irating_max;
    BalanceMode mode = BalanceMode::balanced;
    std::string car_id;            // the required car (named in "not verified" reasons)
    int min_drivers_per_hour = 2;  // available drivers per crew in every race hour
    // The event spots every stint: every crew also needs, in every race hour, at least one available
    // spotter (a seated driver who spots, or a spotter-only seat; stage 2 keeps them off the wheel).
    bool spotting = false;
    int search_passes = 60;  // local-search budget (improving passes), for determinism not a clock
    std::vector<PoolMember> pool;

    [[nodiscard]] const PoolMember* member(MemberId id) const;
    // The UTC starts of the race hours: from the hour containing race_start up to the race end.
    [[nodiscard]] std::vector<std::int64_t> hours() const;
};

// A message about the input or one member: a locale key below "error." and its arguments.
struct CrewIssue {
    std::string code;  // e.g. "planner.crew_not_verified"
    std::optional<MemberId> member;
    std::vector<std::pair<std::string, std::string>> args;  // name, irating, from, to, ...

    [[nodiscard]] std::string arg(std::string_view name) const;
    [[nodiscard]] Error to_error() const;
};

struct Crew {
    int index = 0;  // 0-based; in tiered mode crew 0 is the fastest
    std::vector<MemberId> drivers;
    std::vector<MemberId> spotters;  // spotter-only members (drivers may spot in stage 2 too)
    MemberId captain = 0;
    double average_irating = 0;                  // over the drivers
    std::vector<int> available_drivers;          // per race hour (CrewInput::hours order)
    std::vector<int> available_spotters;         // per race hour: seated drivers who spot + spotter seats
    std::vector<MemberId> verified_by_override;  // drivers without car laps, seated on an admin override
};

struct CrewStats {
    double irating_spread = 0;  // max - min crew average iRating
    int teammate_pairs = 0;     // regular-teammate pairs among the seated drivers
    int teammate_pairs_together = 0;
    int min_hour_coverage = 0;  // the smallest available-drivers count of any crew in any hour
    double score = 0;           // the local search's objective (lower is better)
    int improving_moves = 0;
};

struct CrewPlan {
    std::vector<Crew> crews;
    std::vector<CrewIssue> unassigned;    // one per member left out, with the reason
    std::vector<CrewIssue> spotter_only;  // driver-and-spotter members seated as spotters, with the reason
    CrewStats stats;
};

// Every reason the input cannot be split at all (bad settings, too few eligible drivers, an hour with
// too few available drivers, or with spotting on too few available spotters, for all crews); empty
// when none is obvious. form_crews returns the first.
[[nodiscard]] std::vector<CrewIssue> crew_feasibility(const CrewInput& input);

// The split, or the first infeasibility (see crew_feasibility), or "planner.crew_hour_unsplittable"
// ("planner.crew_spotter_hour_unsplittable") when the search found no split giving every crew enough
// available drivers (an available spotter) in every hour.
[[nodiscard]] Result<CrewPlan> form_crews(const CrewInput& input, std::uint64_t seed);

// Every code form_crews and crew_feasibility can produce (for the locale catalog test).
[[nodiscard]] std::vector<std::string> crew_codes();

}  // namespace pitwall::planner
