#include "features/planner/objective.hpp"

#include <algorithm>
#include <map>

namespace pitwall::planner {

Score score(const PlanInput& input, const Plan& plan) {
    Score s;
    std::map<MemberId, int> stints_of;
    if (!input.declared_drivers.empty()) {
        for (const MemberId id : input.declared_drivers) stints_of[id] = 0;
    } else {
        for (const auto& m : input.members)
            if (m.is_driver) stints_of[m.id] = 0;
    }

    std::map<int, std::int64_t> start_of;
    for (const auto& stint : plan.stints) start_of[stint.index] = stint.start;
    std::vector<const Assignment*> ordered;
    for (const auto& a : plan.assignments) ordered.push_back(&a);
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const Assignment* a, const Assignment* b) { return a->stint < b->stint; });

    const Assignment* previous = nullptr;
    for (const Assignment* a : ordered) {
        ++stints_of[a->driver];
        if (previous && previous->driver != a->driver) ++s.driver_changes;
        previous = a;
        const auto start = start_of.find(a->stint);
        const Member* m = input.member(a->driver);
        if (start != start_of.end() && m && m->at(start->second) == Availability::preferred)
            ++s.preferred_bonus;
    }

    if (!stints_of.empty()) {
        const auto [lo, hi] =
            std::minmax_element(stints_of.begin(), stints_of.end(),
                                [](const auto& a, const auto& b) { return a.second < b.second; });
        s.spread = hi->second - lo->second;
    }
    s.total = 1000LL * s.spread + 100LL * s.driver_changes - s.preferred_bonus;
    return s;
}

}  // namespace pitwall::planner
