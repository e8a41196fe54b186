// The JRES objective, so any plan (ours, CBC's, a manual edit) gets one comparable number; lower is
// better: 1000 x (max - min stints per driver) + 100 x driver changes - preferred-hour bonus.
#pragma once

#include <cstdint>

#include "features/planner/model.hpp"

namespace pitwall::planner {

struct Score {
    int spread = 0;           // max - min stints driven, over the counted drivers
    int driver_changes = 0;   // stints whose driver differs from the previous stint's driver
    int preferred_bonus = 0;  // stints whose driver marked the hour of the stint's START preferred
    std::int64_t total = 0;   // 1000 x spread + 100 x driver_changes - preferred_bonus
};

// Counted drivers: the declared drivers, or every member who is a driver when none are declared
// (a counted driver without stints counts 0). Assignments are read in stint-index order; an
// assignment for a stint index the plan lacks still counts (score does not validate: see validate()).
[[nodiscard]] Score score(const PlanInput& input, const Plan& plan);

}  // namespace pitwall::planner
