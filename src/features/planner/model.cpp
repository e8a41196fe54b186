#include "features/planner/model.hpp"

#include <algorithm>
#include <cmath>

namespace pitwall::planner {

Availability Member::at(std::int64_t when) const {
    // Floor to the hour, also before 1970.
    const std::int64_t hour = when - (((when % kHourSeconds) + kHourSeconds) % kHourSeconds);
    const auto it = availability.find(hour);
    return it == availability.end() ? Availability::unavailable : it->second;
}

const Member* PlanInput::member(MemberId id) const {
    for (const auto& m : members)
        if (m.id == id) return &m;
    return nullptr;
}

int PlanInput::max_consecutive_for(const Member& m) const {
    return m.max_consecutive_stints.value_or(max_consecutive_stints);
}

std::int64_t PlanInput::minimum_rest_s_for(const Member& m) const {
    return std::llround(m.minimum_rest_hours.value_or(minimum_rest_hours) * kHourSeconds);
}

bool PlanInput::declared(MemberId id) const {
    return std::find(declared_drivers.begin(), declared_drivers.end(), id) != declared_drivers.end();
}

}  // namespace pitwall::planner
