#include "features/planner/stints.hpp"

#include <algorithm>
#include <cmath>

namespace pitwall::planner {

namespace {
// Ratios like 100 / 4 or 0.3 / 0.1 land a hair under the whole number in binary floating point.
constexpr double kEpsilon = 1e-9;

int whole(double ratio) {
    return static_cast<int>(std::floor(ratio + kEpsilon));
}
}  // namespace

Result<StintTable> derive_stints(const PlanInput& input) {
    if (input.duration_s <= 0) return Error(ErrorKind::invalid_input, "planner.bad_duration");
    if (!(input.lap_s > 0) || !std::isfinite(input.lap_s))
        return Error(ErrorKind::invalid_input, "planner.bad_lap_time");
    if (!(input.pit_loss_s >= 0) || !std::isfinite(input.pit_loss_s))
        return Error(ErrorKind::invalid_input, "planner.bad_pit_loss");
    if (!(input.fuel_tank > 0) || !std::isfinite(input.fuel_tank))
        return Error(ErrorKind::invalid_input, "planner.bad_tank");
    if (!(input.fuel_per_lap > 0) || !std::isfinite(input.fuel_per_lap))
        return Error(ErrorKind::invalid_input, "planner.bad_burn");
    const double laps_per_tank = input.fuel_tank / input.fuel_per_lap;
    if (whole(laps_per_tank) < 1) return Error(ErrorKind::invalid_input, "planner.burn_over_tank");

    StintTable table;
    if (!input.fixed_stints.empty()) {
        std::int64_t at = input.race_start;
        for (std::size_t i = 0; i < input.fixed_stints.size(); ++i) {
            const Stint& s = input.fixed_stints[i];
            if (s.index != static_cast<int>(i) || s.start != at || s.end <= s.start || s.laps < 1 ||
                s.laps > 1'000'000)
                return Error(ErrorKind::invalid_input, "planner.bad_stints",
                             {{"stint", std::to_string(i + 1)}});
            at = s.end;
            table.total_laps += s.laps;
            table.laps_per_stint = std::max(table.laps_per_stint, s.laps);
        }
        if (at != input.race_end() || input.fixed_stints.size() > static_cast<std::size_t>(kMaxStints))
            return Error(ErrorKind::invalid_input, "planner.bad_stints",
                         {{"stint", std::to_string(input.fixed_stints.size())}});
        table.full_stint_s = table.laps_per_stint * input.lap_s + input.pit_loss_s;
        table.stints = input.fixed_stints;
        return table;
    }
    table.laps_per_stint = static_cast<int>(std::min(laps_per_tank + kEpsilon, 1e6));
    table.full_stint_s = table.laps_per_stint * input.lap_s + input.pit_loss_s;
    if (static_cast<double>(input.duration_s) / table.full_stint_s > kMaxStints)
        return Error(ErrorKind::invalid_input, "planner.too_many_stints",
                     {{"max", std::to_string(kMaxStints)}});

    const std::int64_t end = input.race_end();
    for (int i = 0;; ++i) {
        Stint stint;
        stint.index = i;
        stint.start = input.race_start + std::llround(i * table.full_stint_s);
        if (stint.start >= end) break;  // the previous stint reached the flag exactly
        const double remaining = static_cast<double>(end - stint.start);
        if (remaining <= table.full_stint_s) {
            stint.end = end;
            stint.laps = std::clamp(whole(remaining / input.lap_s), 1, table.laps_per_stint);
        } else {
            stint.end = input.race_start + std::llround((i + 1) * table.full_stint_s);
            stint.laps = table.laps_per_stint;
        }
        table.total_laps += stint.laps;
        table.stints.push_back(stint);
        if (stint.end >= end) break;
    }
    return table;
}

int fair_share_laps(int team_laps, int declared_drivers) {
    if (declared_drivers <= 0 || team_laps <= 0) return 0;
    const int equal_share = (team_laps + declared_drivers - 1) / declared_drivers;
    return (equal_share + 3) / 4;
}

}  // namespace pitwall::planner
