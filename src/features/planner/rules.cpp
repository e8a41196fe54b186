#include "features/planner/rules.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "features/planner/stints.hpp"

namespace pitwall::planner {

namespace {

struct RuleName {
    Rule rule;
    const char* name;
};

constexpr RuleName kRules[] = {
    {Rule::unknown_stint, "unknown_stint"},
    {Rule::unknown_member, "unknown_member"},
    {Rule::no_driver, "no_driver"},
    {Rule::two_drivers, "two_drivers"},
    {Rule::not_a_driver, "not_a_driver"},
    {Rule::not_declared, "not_declared"},
    {Rule::no_spotter, "no_spotter"},
    {Rule::not_a_spotter, "not_a_spotter"},
    {Rule::spots_own_stint, "spots_own_stint"},
    {Rule::unavailable, "unavailable"},
    {Rule::max_consecutive, "max_consecutive"},
    {Rule::minimum_rest, "minimum_rest"},
    {Rule::fair_share, "fair_share"},
    {Rule::min_seat_time, "min_seat_time"},
    {Rule::max_seat_time, "max_seat_time"},
    {Rule::pinned_starter, "pinned_starter"},
    {Rule::declared_not_driver, "declared_not_driver"},
    {Rule::stint_uncovered, "stint_uncovered"},
    {Rule::spotter_uncovered, "spotter_uncovered"},
    {Rule::fair_share_unreachable, "fair_share_unreachable"},
    {Rule::seat_time_unreachable, "seat_time_unreachable"},
    {Rule::starter_not_driver, "starter_not_driver"},
    {Rule::starter_unavailable, "starter_unavailable"},
};

using Args = std::vector<std::pair<std::string, std::string>>;

// A duration as two arguments, "<prefix>_h" and "<prefix>_min" (rounded to the minute).
void add_duration(Args& args, const std::string& prefix, std::int64_t seconds) {
    const std::int64_t minutes = (std::max<std::int64_t>(seconds, 0) + 30) / 60;
    args.emplace_back(prefix + "_h", std::to_string(minutes / 60));
    args.emplace_back(prefix + "_min", std::to_string(minutes % 60));
}

std::string name_of(const PlanInput& input, MemberId id) {
    const Member* m = input.member(id);
    return m ? m->name : "#" + std::to_string(id);
}

class Report {
  public:
    explicit Report(std::vector<Violation>& out) : out_(out) {}
    Violation& add(Rule rule, std::optional<MemberId> member, std::optional<int> stint, Args args) {
        Violation v;
        v.rule = rule;
        v.member = member;
        v.stint = stint;
        v.code = rule_code(rule);
        v.args = std::move(args);
        out_.push_back(std::move(v));
        return out_.back();
    }

  private:
    std::vector<Violation>& out_;
};

std::string human_stint(int index) {
    return std::to_string(index + 1);
}

// Duty intervals per member, for the rest rule.
struct Duty {
    std::int64_t start;
    std::int64_t end;
};

}  // namespace

std::string rule_code(Rule rule) {
    for (const auto& r : kRules)
        if (r.rule == rule) return std::string("planner.") + r.name;
    return "planner.unknown";
}

std::vector<Rule> all_rules() {
    std::vector<Rule> rules;
    for (const auto& r : kRules) rules.push_back(r.rule);
    return rules;
}

std::string Violation::arg(std::string_view name) const {
    for (const auto& [k, v] : args)
        if (k == name) return v;
    return {};
}

Error Violation::to_error() const {
    return Error(ErrorKind::invalid_input, code, args);
}

bool available_for(const Member& member, const Stint& stint) {
    const std::int64_t first = stint.start - (((stint.start % kHourSeconds) + kHourSeconds) % kHourSeconds);
    for (std::int64_t hour = first; hour < stint.end; hour += kHourSeconds)
        if (member.at(hour) == Availability::unavailable) return false;
    return true;
}

std::vector<Violation> validate(const PlanInput& input, const Plan& plan) {
    std::vector<Violation> out;
    Report report(out);

    std::map<int, const Stint*> stints;
    for (const auto& s : plan.stints) stints[s.index] = &s;
    // Per stint, the assignments that name it (in plan order).
    std::map<int, std::vector<const Assignment*>> by_stint;
    for (const auto& a : plan.assignments) {
        if (!stints.contains(a.stint)) {
            report.add(Rule::unknown_stint, std::nullopt, a.stint, {{"stint", human_stint(a.stint)}});
            continue;
        }
        by_stint[a.stint].push_back(&a);
    }

    // Coverage and roles, stint by stint. `driver_of` keeps the first driver of each stint.
    std::map<int, MemberId> driver_of;
    std::map<MemberId, std::vector<Duty>> duties;
    std::map<MemberId, std::int64_t> seat_s;
    std::map<MemberId, int> laps;
    for (const auto& [index, stint] : stints) {
        const auto found = by_stint.find(index);
        if (found == by_stint.end() || found->second.empty()) {
            report.add(Rule::no_driver, std::nullopt, index, {{"stint", human_stint(index)}});
            if (input.spotters)
                report.add(Rule::no_spotter, std::nullopt, index, {{"stint", human_stint(index)}});
            continue;
        }
        const auto& assigned = found->second;
        if (assigned.size() > 1)
            report.add(Rule::two_drivers, std::nullopt, index,
                       {{"stint", human_stint(index)}, {"count", std::to_string(assigned.size())}});
        const Assignment& a = *assigned.front();
        driver_of[index] = a.driver;

        const Member* driver = input.member(a.driver);
        if (!driver) {
            report.add(Rule::unknown_member, a.driver, index,
                       {{"id", std::to_string(a.driver)}, {"stint", human_stint(index)}});
        } else {
            if (!driver->is_driver)
                report.add(Rule::not_a_driver, driver->id, index,
                           {{"name", driver->name}, {"stint", human_stint(index)}});
            if (!input.declared_drivers.empty() && !input.declared(driver->id))
                report.add(Rule::not_declared, driver->id, index,
                           {{"name", driver->name}, {"stint", human_stint(index)}});
            if (!available_for(*driver, *stint))
                report.add(Rule::unavailable, driver->id, index,
                           {{"name", driver->name}, {"stint", human_stint(index)}, {"duty", "driver"}});
            duties[driver->id].push_back({stint->start, stint->end});
            seat_s[driver->id] += stint->seconds();
            laps[driver->id] += stint->laps;
        }

        if (!a.spotter) {
            if (input.spotters)
                report.add(Rule::no_spotter, std::nullopt, index, {{"stint", human_stint(index)}});
            continue;
        }
        const Member* spotter = input.member(*a.spotter);
        if (!spotter) {
            report.add(Rule::unknown_member, *a.spotter, index,
                       {{"id", std::to_string(*a.spotter)}, {"stint", human_stint(index)}});
            continue;
        }
        if (!spotter->is_spotter)
            report.add(Rule::not_a_spotter, spotter->id, index,
                       {{"name", spotter->name}, {"stint", human_stint(index)}});
        if (spotter->id == a.driver) {
            report.add(Rule::spots_own_stint, spotter->id, index,
                       {{"name", spotter->name}, {"stint", human_stint(index)}});
            continue;  // the driving duty is already counted
        }
        if (!available_for(*spotter, *stint))
            report.add(Rule::unavailable, spotter->id, index,
                       {{"name", spotter->name}, {"stint", human_stint(index)}, {"duty", "spotter"}});
        duties[spotter->id].push_back({stint->start, stint->end});
    }

    // Max consecutive stints driven: one violation per run, at the first stint over the limit.
    {
        std::optional<MemberId> previous;
        int previous_index = -2;
        int run = 0;
        bool reported = false;
        for (const auto& [index, id] : driver_of) {
            if (previous == id && previous_index == index - 1) {
                ++run;
            } else {
                run = 1;
                reported = false;
            }
            previous = id;
            previous_index = index;
            const Member* m = input.member(id);
            if (!m || reported) continue;
            const int limit = input.max_consecutive_for(*m);
            if (limit > 0 && run > limit) {
                report.add(
                    Rule::max_consecutive, id, index,
                    {{"name", m->name}, {"stint", human_stint(index)}, {"max", std::to_string(limit)}});
                reported = true;
            }
        }
    }

    // Minimum rest: the longest off-duty gap inside the race.
    for (auto& [id, list] : duties) {
        const Member* m = input.member(id);
        if (!m) continue;
        const std::int64_t needed = input.minimum_rest_s_for(*m);
        if (needed <= 0 || input.duration_s <= needed) continue;
        std::sort(list.begin(), list.end(), [](const Duty& a, const Duty& b) { return a.start < b.start; });
        std::int64_t longest = 0;
        std::int64_t free_from = input.race_start;
        for (const auto& d : list) {
            longest = std::max(longest, d.start - free_from);
            free_from = std::max(free_from, d.end);
        }
        longest = std::max(longest, input.race_end() - free_from);
        if (longest < needed) {
            Args args{{"name", m->name}};
            add_duration(args, "longest", longest);
            add_duration(args, "needed", needed);
            report.add(Rule::minimum_rest, id, std::nullopt, std::move(args));
        }
    }

    // Per declared driver: fair share and minimum seat time.
    int team_laps = 0;
    for (const auto& s : plan.stints) team_laps += s.laps;
    const int fair = fair_share_laps(team_laps, static_cast<int>(input.declared_drivers.size()));
    for (const MemberId id : input.declared_drivers) {
        const std::string name = name_of(input, id);
        if (input.fair_share && laps[id] < fair)
            report.add(
                Rule::fair_share, id, std::nullopt,
                {{"name", name}, {"laps", std::to_string(laps[id])}, {"needed", std::to_string(fair)}});
        if (input.min_seat_s && seat_s[id] < *input.min_seat_s) {
            Args args{{"name", name}};
            add_duration(args, "seat", seat_s[id]);
            add_duration(args, "needed", *input.min_seat_s);
            report.add(Rule::min_seat_time, id, std::nullopt, std::move(args));
        }
    }
    if (input.max_seat_s) {
        for (const auto& [id, seconds] : seat_s) {
            if (seconds <= *input.max_seat_s) continue;
            Args args{{"name", name_of(input, id)}};
            add_duration(args, "seat", seconds);
            add_duration(args, "max", *input.max_seat_s);
            report.add(Rule::max_seat_time, id, std::nullopt, std::move(args));
        }
    }

    if (input.pinned_starter && !stints.empty()) {
        const int first = stints.begin()->first;
        const auto it = driver_of.find(first);
        if (it == driver_of.end() || it->second != *input.pinned_starter)
            report.add(Rule::pinned_starter, *input.pinned_starter, first,
                       {{"name", name_of(input, *input.pinned_starter)}, {"stint", human_stint(first)}});
    }

    std::stable_sort(out.begin(), out.end(), [](const Violation& a, const Violation& b) {
        if (a.rule != b.rule) return a.rule < b.rule;
        return a.stint.value_or(-1) < b.stint.value_or(-1);
    });
    return out;
}

Result<std::vector<Violation>> feasibility(const PlanInput& input) {
    auto table = derive_stints(input);
    if (!table) return std::move(table).error();
    const auto& stints = table->stints;

    std::vector<Violation> out;
    Report report(out);

    for (const MemberId id : input.declared_drivers) {
        const Member* m = input.member(id);
        if (!m || !m->is_driver)
            report.add(Rule::declared_not_driver, id, std::nullopt, {{"name", name_of(input, id)}});
    }

    for (const auto& stint : stints) {
        std::vector<MemberId> drivers;
        std::vector<MemberId> spotters;
        for (const auto& m : input.members) {
            if (!available_for(m, stint)) continue;
            const bool may_drive = m.is_driver && (input.declared_drivers.empty() || input.declared(m.id));
            if (may_drive) drivers.push_back(m.id);
            if (m.is_spotter) spotters.push_back(m.id);
        }
        if (drivers.empty()) {
            report.add(Rule::stint_uncovered, std::nullopt, stint.index,
                       {{"stint", human_stint(stint.index)}, {"start", std::to_string(stint.start)}});
        } else if (input.spotters && (spotters.empty() || (spotters.size() == 1 && drivers.size() == 1 &&
                                                           spotters[0] == drivers[0]))) {
            Args args{{"stint", human_stint(stint.index)}, {"start", std::to_string(stint.start)}};
            // The one person who could do both is named: they are why the stint cannot be spotted.
            const std::optional<MemberId> who =
                spotters.empty() ? std::nullopt : std::optional<MemberId>(spotters[0]);
            if (who) args.emplace_back("name", name_of(input, *who));
            report.add(Rule::spotter_uncovered, who, stint.index, std::move(args));
        }
    }

    // What each declared driver could drive at most if they drove every stint they are available for.
    const int fair = fair_share_laps(table->total_laps, static_cast<int>(input.declared_drivers.size()));
    for (const MemberId id : input.declared_drivers) {
        const Member* m = input.member(id);
        if (!m || !m->is_driver) continue;
        int reachable_laps = 0;
        std::int64_t reachable_s = 0;
        for (const auto& stint : stints) {
            if (!available_for(*m, stint)) continue;
            reachable_laps += stint.laps;
            reachable_s += stint.seconds();
        }
        if (input.fair_share && reachable_laps < fair) {
            Args args{{"name", m->name},
                      {"laps", std::to_string(reachable_laps)},
                      {"needed", std::to_string(fair)}};
            add_duration(args, "available", reachable_s);
            add_duration(args, "needed", std::llround(fair * input.lap_s));
            report.add(Rule::fair_share_unreachable, id, std::nullopt, std::move(args));
        }
        if (input.min_seat_s && reachable_s < *input.min_seat_s) {
            Args args{{"name", m->name}};
            add_duration(args, "available", reachable_s);
            add_duration(args, "needed", *input.min_seat_s);
            report.add(Rule::seat_time_unreachable, id, std::nullopt, std::move(args));
        }
    }

    if (input.pinned_starter) {
        const Member* m = input.member(*input.pinned_starter);
        if (!m || !m->is_driver)
            report.add(Rule::starter_not_driver, *input.pinned_starter, std::nullopt,
                       {{"name", name_of(input, *input.pinned_starter)}});
        else if (!stints.empty() && !available_for(*m, stints.front()))
            report.add(Rule::starter_unavailable, m->id, 0, {{"name", m->name}, {"stint", human_stint(0)}});
    }
    return out;
}

}  // namespace pitwall::planner
