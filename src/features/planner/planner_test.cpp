// The planner core without I/O: stints from fuel (a table, with the two JRES inputs' numbers worked
// out by hand), the fair-share arithmetic, one case per hard rule (a plan breaking it reports exactly
// that rule, naming the member), the feasibility pre-check, the JRES objective, and the locale keys
// of every code the core can produce.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "features/planner/model.hpp"
#include "features/planner/objective.hpp"
#include "features/planner/rules.hpp"
#include "features/planner/stints.hpp"

namespace pitwall::planner {
namespace {

constexpr std::int64_t kHour = kHourSeconds;
constexpr std::int64_t kStart = 1752274800;  // 2025-07-11 23:00 UTC, on the hour (JRES 420.json)

// ---------------------------------------------------------------------------------------------
// Stints

struct StintCase {
    const char* name;
    std::int64_t duration_s;
    double lap_s;
    double pit_loss_s;
    double tank;
    double burn;
    // expected
    int laps_per_stint;
    std::size_t stints;
    int last_laps;
    std::int64_t last_start;  // seconds after the race start
    int total_laps;
};

// JRES 24hr.json: 120 / 9.2 = 13.04 -> 13 laps; 13 x 220.5 + 150 = 3016.5 s; 86400 / 3016.5 = 28.6 ->
// 28 full stints end at round(28 x 3016.5) = 84462; the last 1938 s hold floor(1938 / 220.5) = 8 laps;
// 28 x 13 + 8 = 372 laps. JRES 420.json: 4.333... h = 15600 s; 99 / 4.1 = 24.1 -> 24 laps;
// 24 x 90.5 + 107 = 2279 s; 6 full stints end at 13674; the last 1926 s hold 21 laps; 6 x 24 + 21 = 165.
const StintCase kStintCases[] = {
    {"jres_24hr", 86400, 220.5, 150, 120, 9.2, 13, 29, 8, 84462, 372},
    {"jres_420", std::llround(4.333333333333333 * 3600), 90.5, 107, 99, 4.1, 24, 7, 21, 13674, 165},
    {"exactly_one_tank", 3600, 120, 0, 30, 1, 30, 1, 30, 0, 30},
    {"binary_fraction_ratio", 1000, 100, 0, 0.3, 0.1, 3, 4, 1, 900, 10},
    {"last_stint_under_a_lap", 3650, 120, 0, 30, 1, 30, 2, 1, 3600, 31},
    {"last_stint_capped_by_the_tank", 2250, 90.5, 107, 99, 4.1, 24, 1, 24, 0, 24},
};

TEST(Stints, DerivedFromFuelTable) {
    for (const auto& c : kStintCases) {
        SCOPED_TRACE(c.name);
        PlanInput input;
        input.race_start = kStart;
        input.duration_s = c.duration_s;
        input.lap_s = c.lap_s;
        input.pit_loss_s = c.pit_loss_s;
        input.fuel_tank = c.tank;
        input.fuel_per_lap = c.burn;
        auto table = derive_stints(input);
        ASSERT_TRUE(table.ok()) << table.error().code;
        EXPECT_EQ(table->laps_per_stint, c.laps_per_stint);
        ASSERT_EQ(table->stints.size(), c.stints);
        EXPECT_EQ(table->stints.back().laps, c.last_laps);
        EXPECT_EQ(table->stints.back().start - kStart, c.last_start);
        EXPECT_EQ(table->total_laps, c.total_laps);
        // Contiguous, indexed in order, from the start to the flag; only the last stint is short.
        EXPECT_EQ(table->stints.front().start, kStart);
        EXPECT_EQ(table->stints.back().end, input.race_end());
        for (std::size_t i = 0; i < table->stints.size(); ++i) {
            const auto& s = table->stints[i];
            EXPECT_EQ(s.index, static_cast<int>(i));
            if (i > 0) {
                EXPECT_EQ(s.start, table->stints[i - 1].end);
            }
            if (i + 1 < table->stints.size()) {
                EXPECT_EQ(s.laps, c.laps_per_stint);
            }
        }
    }
}

TEST(Stints, Jres24hrFirstStintsRoundToTheSecond) {
    PlanInput input;
    input.race_start = 108484620;  // 1973-06-09 14:37 UTC
    input.duration_s = 24 * kHour;
    input.lap_s = 220.5;
    input.pit_loss_s = 150;
    input.fuel_tank = 120;
    input.fuel_per_lap = 9.2;
    auto table = derive_stints(input);
    ASSERT_TRUE(table.ok());
    EXPECT_DOUBLE_EQ(table->full_stint_s, 3016.5);
    EXPECT_EQ(table->stints[0].end - input.race_start, 3017);  // round(3016.5)
    EXPECT_EQ(table->stints[1].end - input.race_start, 6033);  // round(6033.0): no drift
}

TEST(Stints, InvalidInputIsAnErrorValue) {
    struct Case {
        const char* code;
        std::function<void(PlanInput&)> change;
    };
    const std::vector<Case> cases = {
        {"planner.bad_duration", [](PlanInput& i) { i.duration_s = 0; }},
        {"planner.bad_duration", [](PlanInput& i) { i.duration_s = -3600; }},
        {"planner.bad_lap_time", [](PlanInput& i) { i.lap_s = 0; }},
        {"planner.bad_lap_time", [](PlanInput& i) { i.lap_s = std::nan(""); }},
        {"planner.bad_pit_loss", [](PlanInput& i) { i.pit_loss_s = -1; }},
        {"planner.bad_tank", [](PlanInput& i) { i.fuel_tank = 0; }},
        {"planner.bad_tank", [](PlanInput& i) { i.fuel_tank = -5; }},
        {"planner.bad_burn", [](PlanInput& i) { i.fuel_per_lap = 0; }},
        {"planner.burn_over_tank", [](PlanInput& i) { i.fuel_per_lap = i.fuel_tank + 0.5; }},
        {"planner.too_many_stints",
         [](PlanInput& i) {
             i.duration_s = 48 * kHour;
             i.lap_s = 1;
             i.pit_loss_s = 0;
             i.fuel_tank = 1;
             i.fuel_per_lap = 1;
         }},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.code);
        PlanInput input;
        input.race_start = kStart;
        input.duration_s = 4 * kHour;
        input.lap_s = 120;
        input.fuel_tank = 30;
        input.fuel_per_lap = 1;
        c.change(input);
        auto table = derive_stints(input);
        ASSERT_FALSE(table.ok());
        EXPECT_EQ(table.error().code, c.code);
        EXPECT_EQ(table.error().kind, ErrorKind::invalid_input);
    }
}

TEST(FairShare, MatchesTheCommunityArithmetic) {
    struct Case {
        int laps, declared, expected;
    };
    const Case cases[] = {
        {827, 6, 35},  // planning.md: ceil(827 / 6) = 138 -> ceil(34.5) = 35
        {500, 18, 7},  // ceil(500 / 18) = 28 -> 7
        {120, 2, 15},  // 60 -> 15
        {121, 2, 16},  // 61 -> ceil(15.25) = 16
        {372, 5, 19},  // JRES 24hr: 75 -> ceil(18.75) = 19
        {1, 1, 1},    {0, 4, 0}, {100, 0, 0},
    };
    for (const auto& c : cases)
        EXPECT_EQ(fair_share_laps(c.laps, c.declared), c.expected) << c.laps << "/" << c.declared;
}

// ---------------------------------------------------------------------------------------------
// The rule engine. A 4 h race of four 1 h stints (30 laps of 120 s on a 30 l tank, no pit loss):
// Mert (1) and Ayse (2) drive and spot, Ricky (3) only spots; all available every hour; fair share
// on with Mert and Ayse declared (120 laps / 2 -> 15 laps); at most 2 consecutive stints; spotters on.

std::map<std::int64_t, Availability> hours(int count, Availability mark = Availability::available) {
    std::map<std::int64_t, Availability> out;
    for (int h = 0; h < count; ++h) out[kStart + h * kHour] = mark;
    return out;
}

Member member(MemberId id, std::string name, bool drives, bool spots, int race_hours = 4) {
    Member m;
    m.id = id;
    m.name = std::move(name);
    m.is_driver = drives;
    m.is_spotter = spots;
    m.availability = hours(race_hours);
    return m;
}

PlanInput crew(int race_hours = 4) {
    PlanInput input;
    input.race_start = kStart;
    input.duration_s = race_hours * kHour;
    input.lap_s = 120;
    input.pit_loss_s = 0;
    input.fuel_tank = 30;
    input.fuel_per_lap = 1;
    input.spotters = true;
    input.max_consecutive_stints = 2;
    input.fair_share = true;
    input.declared_drivers = {1, 2};
    input.members = {member(1, "Mert", true, true, race_hours), member(2, "Ayşe", true, true, race_hours),
                     member(3, "Ricky", false, true, race_hours)};
    return input;
}

// Drivers per stint in order, Ricky spotting every stint.
Plan plan_of(const PlanInput& input, std::vector<MemberId> drivers) {
    Plan plan;
    plan.stints = derive_stints(input)->stints;
    for (std::size_t i = 0; i < drivers.size(); ++i)
        plan.assignments.push_back({static_cast<int>(i), drivers[i], MemberId{3}});
    return plan;
}

Assignment& at(Plan& plan, int stint) {
    for (auto& a : plan.assignments)
        if (a.stint == stint) return a;
    throw std::out_of_range("no assignment for that stint");
}

TEST(Rules, AValidHandMadePlanHasNoViolation) {
    const auto input = crew();
    const auto violations = validate(input, plan_of(input, {1, 2, 1, 2}));
    for (const auto& v : violations) ADD_FAILURE() << v.code << " " << v.arg("name");
    EXPECT_TRUE(feasibility(input)->empty());
}

struct RuleCase {
    const char* name;
    std::function<void(PlanInput&, Plan&)> change;
    Rule rule;
    std::optional<MemberId> member;
    std::optional<int> stint;
};

TEST(Rules, EachBrokenRuleIsReportedAloneAndNamesTheMember) {
    const std::vector<RuleCase> cases = {
        {"no_driver",
         [](PlanInput& i, Plan& p) {
             i.spotters = false;
             std::erase_if(p.assignments, [](const Assignment& a) { return a.stint == 2; });
         },
         Rule::no_driver, std::nullopt, 2},
        {"two_drivers",
         [](PlanInput&, Plan& p) {
             p.assignments.push_back({1, 1, MemberId{3}});
         },
         Rule::two_drivers, std::nullopt, 1},
        {"not_a_driver",
         [](PlanInput& i, Plan& p) {
             i.declared_drivers.clear();
             at(p, 3) = {3, 3, MemberId{2}};
         },
         Rule::not_a_driver, 3, 3},
        {"not_declared",
         [](PlanInput& i, Plan& p) {
             i.members.push_back(member(4, "Deniz", true, false));
             at(p, 3).driver = 4;
         },
         Rule::not_declared, 4, 3},
        {"no_spotter", [](PlanInput&, Plan& p) { at(p, 1).spotter.reset(); }, Rule::no_spotter, std::nullopt,
         1},
        {"not_a_spotter",
         [](PlanInput& i, Plan& p) {
             i.members[1].is_spotter = false;
             at(p, 0).spotter = 2;
         },
         Rule::not_a_spotter, 2, 0},
        {"spots_own_stint", [](PlanInput&, Plan& p) { at(p, 0).spotter = 1; }, Rule::spots_own_stint, 1, 0},
        {"unavailable_driver",
         [](PlanInput& i, Plan&) {
             i.members[0].availability[kStart + 2 * kHour] = Availability::unavailable;
         },
         Rule::unavailable, 1, 2},
        {"unavailable_spotter_unmarked_hour",
         [](PlanInput& i, Plan&) { i.members[2].availability.erase(kStart + 1 * kHour); }, Rule::unavailable,
         3, 1},
        {"max_consecutive", [](PlanInput&, Plan& p) { at(p, 2).driver = 1, at(p, 1).driver = 1; },
         Rule::max_consecutive, 1, 2},
        {"minimum_rest", [](PlanInput& i, Plan&) { i.members[2].minimum_rest_hours = 2; }, Rule::minimum_rest,
         3, std::nullopt},
        {"fair_share",
         [](PlanInput& i, Plan& p) {
             i.max_consecutive_stints = 0;
             for (auto& a : p.assignments) a.driver = 1;
         },
         Rule::fair_share, 2, std::nullopt},
        {"min_seat_time",
         [](PlanInput& i, Plan& p) {
             i.min_seat_s = 2 * kHour;
             at(p, 1).driver = 1, at(p, 2).driver = 2, at(p, 3).driver = 1;
         },
         Rule::min_seat_time, 2, std::nullopt},
        {"max_seat_time",
         [](PlanInput& i, Plan& p) {
             i.max_seat_s = 5 * kHour / 2;
             at(p, 1).driver = 1, at(p, 2).driver = 2, at(p, 3).driver = 1;
         },
         Rule::max_seat_time, 1, std::nullopt},
        {"pinned_starter", [](PlanInput& i, Plan&) { i.pinned_starter = 2; }, Rule::pinned_starter, 2, 0},
        {"unknown_member", [](PlanInput&, Plan& p) { at(p, 1).spotter = 99; }, Rule::unknown_member, 99, 1},
        {"unknown_stint",
         [](PlanInput&, Plan& p) {
             p.assignments.push_back({7, 1, MemberId{3}});
         },
         Rule::unknown_stint, std::nullopt, 7},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto input = crew();
        auto plan = plan_of(input, {1, 2, 1, 2});
        c.change(input, plan);
        const auto violations = validate(input, plan);
        ASSERT_EQ(violations.size(), 1u) << (violations.empty() ? "" : violations[0].code);
        const auto& v = violations[0];
        EXPECT_EQ(v.rule, c.rule);
        EXPECT_EQ(v.code, rule_code(c.rule));
        EXPECT_EQ(v.member, c.member);
        EXPECT_EQ(v.stint, c.stint);
        if (c.member)
            if (const Member* m = input.member(*c.member)) {
                EXPECT_EQ(v.arg("name"), m->name);
            }
        if (c.stint) {
            EXPECT_EQ(v.arg("stint"), std::to_string(*c.stint + 1));
        }
    }
}

TEST(Rules, ReportsEveryViolationNotJustTheFirst) {
    auto input = crew();
    input.pinned_starter = 2;
    auto plan = plan_of(input, {1, 1, 1, 1});  // Mert 4 in a row; Ayse no laps; Ayse pinned
    at(plan, 2).spotter = 1;                   // and Mert spots his own stint
    std::vector<Rule> rules;
    for (const auto& v : validate(input, plan)) rules.push_back(v.rule);
    EXPECT_EQ(rules, (std::vector<Rule>{Rule::spots_own_stint, Rule::max_consecutive, Rule::fair_share,
                                        Rule::pinned_starter}));
}

TEST(Rules, ArgumentsCarryTheNumbers) {
    auto input = crew();
    input.members[2].minimum_rest_hours = 2.5;
    auto plan = plan_of(input, {1, 2, 1, 2});
    at(plan, 2).spotter = 2, at(plan, 3).spotter = 1;  // Ricky rests 2 h at the end: short of 2 h 30
    const auto v = validate(input, plan);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].arg("name"), "Ricky");
    EXPECT_EQ(v[0].arg("longest_h"), "2");
    EXPECT_EQ(v[0].arg("longest_min"), "0");
    EXPECT_EQ(v[0].arg("needed_h"), "2");
    EXPECT_EQ(v[0].arg("needed_min"), "30");
    EXPECT_EQ(v[0].to_error().code, "planner.minimum_rest");

    input.members[2].minimum_rest_hours = 2;  // the same rest block now suffices
    EXPECT_TRUE(validate(input, plan).empty());
    input.members[2].minimum_rest_hours = 5;  // longer than the race: the rule does not apply
    EXPECT_TRUE(validate(input, plan).empty());
}

TEST(Rules, PerMemberLimitOverridesTheEventDefault) {
    auto input = crew();
    const auto plan = plan_of(input, {1, 1, 1, 2});
    ASSERT_EQ(validate(input, plan).size(), 1u);
    input.members[0].max_consecutive_stints = 3;
    EXPECT_TRUE(validate(input, plan).empty());
}

TEST(Rules, AnUnavailableHourCountsWhenTheStintOnlyOverlapsIt) {
    auto input = crew();
    Plan plan;
    plan.stints = {{0, kStart, kStart + 5400, 45}, {1, kStart + 5400, kStart + 4 * kHour, 75}};
    plan.assignments = {{0, 1, MemberId{3}}, {1, 2, MemberId{3}}};
    input.fair_share = false;
    input.max_consecutive_stints = 0;
    EXPECT_TRUE(validate(input, plan).empty());
    input.members[1].availability[kStart + kHour] = Availability::unavailable;  // 00:00-01:00, stint 1
    auto v = validate(input, plan);                                             // starts 00:30
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].rule, Rule::unavailable);
    EXPECT_EQ(v[0].member, MemberId{2});
}

// ---------------------------------------------------------------------------------------------
// Feasibility

struct FeasibilityCase {
    const char* name;
    std::function<void(PlanInput&)> change;
    Rule rule;
    std::optional<MemberId> member;
    std::optional<int> stint;
};

TEST(Feasibility, NamesTheMemberAndTheRule) {
    const auto unavailable = [](PlanInput& i, std::size_t member, int hour) {
        i.members[member].availability[kStart + hour * kHour] = Availability::unavailable;
    };
    const std::vector<FeasibilityCase> cases = {
        {"no_driver_in_an_hour",
         [&](PlanInput& i) {
             unavailable(i, 0, 2);
             unavailable(i, 1, 2);
         },
         Rule::stint_uncovered, std::nullopt, 2},
        {"only_one_person_for_both_seats",
         [&](PlanInput& i) {
             unavailable(i, 1, 1);
             unavailable(i, 2, 1);
         },
         Rule::spotter_uncovered, 1, 1},
        {"pinned_starter_unavailable_at_the_start",
         [&](PlanInput& i) {
             i.pinned_starter = 1;
             unavailable(i, 0, 0);
         },
         Rule::starter_unavailable, 1, 0},
        {"pinned_starter_is_a_spotter", [](PlanInput& i) { i.pinned_starter = 3; }, Rule::starter_not_driver,
         3, std::nullopt},
        {"declared_spotter", [](PlanInput& i) { i.declared_drivers.push_back(3); }, Rule::declared_not_driver,
         3, std::nullopt},
        {"seat_time_out_of_reach",
         [&](PlanInput& i) {
             i.min_seat_s = 2 * kHour;
             for (int h = 1; h < 4; ++h) unavailable(i, 1, h);
         },
         Rule::seat_time_unreachable, 2, std::nullopt},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto input = crew();
        c.change(input);
        auto found = feasibility(input);
        ASSERT_TRUE(found.ok());
        ASSERT_EQ(found->size(), 1u) << (found->empty() ? "" : (*found)[0].code);
        const auto& v = (*found)[0];
        EXPECT_EQ(v.rule, c.rule);
        EXPECT_EQ(v.code, rule_code(c.rule));
        EXPECT_EQ(v.member, c.member);
        EXPECT_EQ(v.stint, c.stint);
        if (c.member) {
            EXPECT_EQ(v.arg("name"), input.member(*c.member)->name);
        }
    }
}

// "Mert: available 1 h 0 min (30 laps), fair share needs 1 h 30 min (45 laps)": a 12 h race of 360
// laps, 2 declared -> 180 -> 45 laps; Mert is available for the first hour only.
TEST(Feasibility, FairShareOutOfReachCarriesTheNumbers) {
    auto input = crew(12);
    input.max_consecutive_stints = 0;
    input.members[0].availability = hours(1);
    auto found = feasibility(input);
    ASSERT_TRUE(found.ok());
    ASSERT_EQ(found->size(), 1u);
    const auto& v = (*found)[0];
    EXPECT_EQ(v.rule, Rule::fair_share_unreachable);
    EXPECT_EQ(v.member, MemberId{1});
    EXPECT_EQ(v.arg("name"), "Mert");
    EXPECT_EQ(v.arg("laps"), "30");
    EXPECT_EQ(v.arg("needed"), "45");
    EXPECT_EQ(v.arg("available_h"), "1");
    EXPECT_EQ(v.arg("available_min"), "0");
    EXPECT_EQ(v.arg("needed_h"), "1");
    EXPECT_EQ(v.arg("needed_min"), "30");

    input.fair_share = false;
    EXPECT_TRUE(feasibility(input)->empty());
}

TEST(Feasibility, InvalidInputIsTheStintError) {
    auto input = crew();
    input.fuel_per_lap = 0;
    auto found = feasibility(input);
    ASSERT_FALSE(found.ok());
    EXPECT_EQ(found.error().code, "planner.bad_burn");
}

// ---------------------------------------------------------------------------------------------
// Objective

TEST(Objective, ScoresSpreadChangesAndPreferredStarts) {
    auto input = crew();
    input.members[0].availability[kStart] = Availability::preferred;              // Mert, stint 0
    input.members[1].availability[kStart + 2 * kHour] = Availability::preferred;  // Ayse, stint 2

    auto alternating = score(input, plan_of(input, {1, 2, 1, 2}));
    EXPECT_EQ(alternating.spread, 0);
    EXPECT_EQ(alternating.driver_changes, 3);
    EXPECT_EQ(alternating.preferred_bonus, 1);  // Mert in stint 0; Ayse does not drive stint 2
    EXPECT_EQ(alternating.total, 299);

    auto blocks = score(input, plan_of(input, {1, 1, 2, 2}));
    EXPECT_EQ(blocks.spread, 0);
    EXPECT_EQ(blocks.driver_changes, 1);
    EXPECT_EQ(blocks.preferred_bonus, 2);
    EXPECT_EQ(blocks.total, 98);

    auto lopsided = score(input, plan_of(input, {1, 1, 2, 1}));
    EXPECT_EQ(lopsided.spread, 2);  // 3 - 1
    EXPECT_EQ(lopsided.driver_changes, 2);
    EXPECT_EQ(lopsided.total, 2000 + 200 - 2);

    // Without declared drivers every driver counts, a driver with no stint as zero.
    input.declared_drivers.clear();
    input.members.push_back(member(4, "Deniz", true, false));
    EXPECT_EQ(score(input, plan_of(input, {1, 1, 2, 2})).spread, 2);
}

TEST(Objective, PreferredMeansTheHourTheStintStartsIn) {
    auto input = crew();
    Plan plan;
    plan.stints = {{0, kStart + 1800, kStart + 5400, 30}};  // 23:30 - 00:30
    plan.assignments = {{0, 1, std::nullopt}};
    input.members[0].availability[kStart + kHour] = Availability::preferred;  // 00:00: overlapped only
    EXPECT_EQ(score(input, plan).preferred_bonus, 0);
    input.members[0].availability[kStart] = Availability::preferred;  // 23:00: the start hour
    EXPECT_EQ(score(input, plan).preferred_bonus, 1);
}

// ---------------------------------------------------------------------------------------------
// Every code has a message in both catalogs (the catalog test finds only ErrorKind codes).

boost::json::value catalog(const char* locale) {
    std::ifstream in(std::filesystem::path(PITWALL_SOURCE_DIR) / "locales" / (std::string(locale) + ".json"));
    std::stringstream text;
    text << in.rdbuf();
    return boost::json::parse(text.str());
}

TEST(Codes, EveryRuleHasAMessageInBothLanguages) {
    for (const char* locale : {"en", "tr"}) {
        const auto json = catalog(locale);
        const auto& planner = json.at("error").at("planner").as_object();
        for (const Rule rule : all_rules()) {
            const std::string code = rule_code(rule);
            ASSERT_TRUE(code.starts_with("planner.")) << code;
            EXPECT_TRUE(planner.contains(code.substr(8))) << locale << " " << code;
        }
    }
    EXPECT_EQ(all_rules().size(), 23u);
}

}  // namespace
}  // namespace pitwall::planner
