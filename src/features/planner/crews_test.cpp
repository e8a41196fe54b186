// Stage 1, crew formation: generated pools over 8 time zones checked rule by rule (sizes, iRating limits,
// car verification, hourly coverage, one captain), balanced vs tiered, members left out with their
// reasons, infeasible coverage naming the hour, determinism, the 120-member case timed, locale keys.
#include "features/planner/crews.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace pitwall::planner {
namespace {

constexpr std::int64_t kHour = kHourSeconds;
constexpr std::int64_t kStart = 1752274800;  // 2025-07-11 23:00 UTC

// A fixed LCG, so the pool is the same everywhere.
struct Lcg {
    std::uint64_t state;
    std::uint32_t next() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::uint32_t>(state >> 33);
    }
    int between(int lo, int hi) {
        return lo + static_cast<int>(next() % static_cast<std::uint32_t>(hi - lo + 1));
    }
};

// `size` members in 8 time zones, each awake 07:00-24:00 local with a random gap; about one in eight
// a spotter only, one in six a captain volunteer; teammates in pairs.
CrewInput pool(int size, int crews, std::uint64_t seed = 7) {
    static constexpr int kZones[] = {-8, -5, -3, 0, 1, 3, 8, 10};
    Lcg rng{seed};
    CrewInput in;
    in.race_start = kStart;
    in.duration_s = 24 * kHour;
    in.crews = crews;
    in.min_drivers = 4;
    in.max_drivers = 18;
    in.car_id = "porsche963";
    for (int i = 0; i < size; ++i) {
        PoolMember m;
        m.id = 100 + i;
        m.name = "Driver " + std::to_string(i);
        m.irating = rng.between(1200, 5200);
        m.is_spotter = rng.between(0, 2) == 0;
        m.is_driver = !(m.is_spotter && rng.between(0, 3) == 0);
        m.has_car_laps = true;
        m.captain_volunteer = rng.between(0, 5) == 0;
        m.experience = rng.between(0, 30);
        if (i % 10 == 1) m.teammates = {m.id - 1};
        const int zone = kZones[i % 8];
        const int gap = rng.between(0, 16);
        for (int h = 0; h < 24; ++h) {
            const std::int64_t hour = kStart + h * kHour;
            const int local = static_cast<int>((((hour / kHour + zone) % 24) + 24) % 24);
            if (local < 7 || (local >= 7 + gap && local < 7 + gap + 3)) continue;
            m.availability[hour] = local == 20 ? Availability::preferred : Availability::available;
        }
        in.pool.push_back(std::move(m));
    }
    return in;
}

// Every hard rule, checked from the input alone (not from the solver's own counts).
void expect_hard_rules(const CrewInput& in, const CrewPlan& plan) {
    std::set<MemberId> seen;
    const int k = in.min_drivers_per_hour;
    for (const Crew& crew : plan.crews) {
        SCOPED_TRACE("crew " + std::to_string(crew.index + 1));
        EXPECT_GE(static_cast<int>(crew.drivers.size()), in.min_drivers);
        EXPECT_LE(static_cast<int>(crew.drivers.size()), in.max_drivers);
        for (MemberId id : crew.drivers) {
            const PoolMember* m = in.member(id);
            ASSERT_NE(m, nullptr);
            EXPECT_TRUE(seen.insert(id).second) << m->name << " seated twice";
            EXPECT_TRUE(m->is_driver) << m->name;
            EXPECT_TRUE(m->verified()) << m->name;
            if (in.irating_min) {
                EXPECT_GE(m->irating, *in.irating_min) << m->name;
            }
            if (in.irating_max) {
                EXPECT_LE(m->irating, *in.irating_max) << m->name;
            }
        }
        for (MemberId id : crew.spotters) {
            const PoolMember* m = in.member(id);
            ASSERT_NE(m, nullptr);
            EXPECT_TRUE(seen.insert(id).second) << m->name << " seated twice";
            EXPECT_TRUE(m->is_spotter) << m->name;
        }
        for (std::int64_t hour : in.hours()) {
            int available = 0;
            for (MemberId id : crew.drivers) available += in.member(id)->available_at(hour) ? 1 : 0;
            EXPECT_GE(available, k) << "hour starting " << hour;
        }
        // Exactly one captain, a member of the crew; a volunteer when the crew has one.
        std::vector<MemberId> everyone = crew.drivers;
        everyone.insert(everyone.end(), crew.spotters.begin(), crew.spotters.end());
        ASSERT_NE(std::find(everyone.begin(), everyone.end(), crew.captain), everyone.end());
        const PoolMember* captain = in.member(crew.captain);
        int best_volunteer_experience = -1;
        for (MemberId id : everyone)
            if (in.member(id)->captain_volunteer)
                best_volunteer_experience = std::max(best_volunteer_experience, in.member(id)->experience);
        if (best_volunteer_experience >= 0) {
            EXPECT_TRUE(captain->captain_volunteer);
            EXPECT_EQ(captain->experience, best_volunteer_experience);
        } else {
            for (MemberId id : everyone) EXPECT_LE(in.member(id)->experience, captain->experience);
        }
    }
    for (const auto& u : plan.unassigned) {
        ASSERT_TRUE(u.member);
        EXPECT_TRUE(seen.insert(*u.member).second) << "unassigned and seated: " << *u.member;
        EXPECT_FALSE(u.arg("name").empty());
    }
    EXPECT_EQ(seen.size(), in.pool.size()) << "every member is seated or left out with a reason";
}

double spread(const CrewPlan& plan) {
    double lo = 1e9, hi = -1e9;
    for (const auto& c : plan.crews) {
        lo = std::min(lo, c.average_irating);
        hi = std::max(hi, c.average_irating);
    }
    return hi - lo;
}

TEST(Crews, SixtyMembersInEightZonesMakeThreeCrewsThatKeepEveryHardRule) {
    auto in = pool(60, 3);
    in.irating_min = 1500;
    in.irating_max = 5000;
    const auto plan = form_crews(in, 1);
    ASSERT_TRUE(plan.ok()) << plan.error().code;
    ASSERT_EQ(plan->crews.size(), 3u);
    expect_hard_rules(in, *plan);
    EXPECT_GE(plan->stats.min_hour_coverage, 2);
    std::printf("60 -> 3: spread %.1f, teammates %d/%d, min coverage %d, unassigned %zu\n",
                plan->stats.irating_spread, plan->stats.teammate_pairs_together, plan->stats.teammate_pairs,
                plan->stats.min_hour_coverage, plan->unassigned.size());
}

TEST(Crews, BalancedKeepsTheSpreadSmallTieredOrdersTheCrews) {
    auto in = pool(60, 3);
    const auto balanced = form_crews(in, 1);
    ASSERT_TRUE(balanced.ok()) << balanced.error().code;
    expect_hard_rules(in, *balanced);
    EXPECT_LT(spread(*balanced), 100.0);
    EXPECT_NEAR(balanced->stats.irating_spread, spread(*balanced), 1e-9);

    in.mode = BalanceMode::tiered;
    const auto tiered = form_crews(in, 1);
    ASSERT_TRUE(tiered.ok()) << tiered.error().code;
    expect_hard_rules(in, *tiered);
    for (std::size_t c = 0; c + 1 < tiered->crews.size(); ++c)
        EXPECT_GT(tiered->crews[c].average_irating, tiered->crews[c + 1].average_irating + 500.0);
    EXPECT_GT(spread(*tiered), 5 * spread(*balanced));
    std::printf("balanced spread %.1f, tiered averages %.0f / %.0f / %.0f\n", spread(*balanced),
                tiered->crews[0].average_irating, tiered->crews[1].average_irating,
                tiered->crews[2].average_irating);
}

TEST(Crews, UnverifiedAndOutOfLimitMembersAreLeftOutWithTheirReasons) {
    auto in = pool(40, 2);
    in.irating_min = 1000;
    in.irating_max = 6000;
    auto add = [&](MemberId id, const char* name, int irating, bool laps, bool override_, bool spotter) {
        PoolMember m = in.pool.front();
        m.id = id;
        m.name = name;
        m.irating = irating;
        m.is_driver = true;
        m.is_spotter = spotter;
        m.has_car_laps = laps;
        m.admin_override = override_;
        m.teammates.clear();
        in.pool.push_back(m);
    };
    add(1, "Mert", 3000, false, false, false);
    add(2, "Ana", 900, true, false, false);
    add(3, "Bo", 7000, true, false, false);
    add(4, "Cem", 3000, false, true, false);  // admin override: seated, recorded
    add(5, "Dee", 3000, false, false, true);  // not verified, but also a spotter: seated as spotter
    PoolMember nobody;
    nobody.id = 6;
    nobody.name = "Eli";
    in.pool.push_back(nobody);

    const auto plan = form_crews(in, 3);
    ASSERT_TRUE(plan.ok()) << plan.error().code;
    expect_hard_rules(in, *plan);
    auto reason = [&](MemberId id) -> const CrewIssue* {
        for (const auto& u : plan->unassigned)
            if (u.member == id) return &u;
        return nullptr;
    };
    ASSERT_NE(reason(1), nullptr);
    EXPECT_EQ(reason(1)->code, "planner.crew_not_verified");
    EXPECT_EQ(reason(1)->arg("name"), "Mert");
    EXPECT_EQ(reason(1)->arg("car"), "porsche963");
    ASSERT_NE(reason(2), nullptr);
    EXPECT_EQ(reason(2)->code, "planner.crew_irating_below");
    EXPECT_EQ(reason(2)->arg("irating"), "900");
    EXPECT_EQ(reason(2)->arg("min"), "1000");
    ASSERT_NE(reason(3), nullptr);
    EXPECT_EQ(reason(3)->code, "planner.crew_irating_above");
    EXPECT_EQ(reason(3)->arg("max"), "6000");
    ASSERT_NE(reason(6), nullptr);
    EXPECT_EQ(reason(6)->code, "planner.crew_no_role");
    EXPECT_EQ(reason(4), nullptr);
    EXPECT_EQ(reason(5), nullptr);

    bool cem_recorded = false, dee_spots = false;
    for (const auto& crew : plan->crews) {
        for (MemberId id : crew.verified_by_override) cem_recorded |= id == 4;
        for (MemberId id : crew.spotters) dee_spots |= id == 5;
        for (MemberId id : crew.drivers) EXPECT_NE(id, 5);
    }
    EXPECT_TRUE(cem_recorded);
    EXPECT_TRUE(dee_spots);
    ASSERT_EQ(plan->spotter_only.size(), 1u);
    EXPECT_EQ(plan->spotter_only[0].code, "planner.crew_not_verified");
    EXPECT_EQ(plan->spotter_only[0].member, MemberId{5});
}

TEST(Crews, FullCrewsLeaveTheRestOutAsNoRoom) {
    auto in = pool(60, 3);
    in.max_drivers = 10;
    const auto plan = form_crews(in, 1);
    ASSERT_TRUE(plan.ok()) << plan.error().code;
    expect_hard_rules(in, *plan);
    int no_room = 0;
    for (const auto& u : plan->unassigned) no_room += u.code == "planner.crew_no_room" ? 1 : 0;
    for (const auto& c : plan->crews) EXPECT_EQ(c.drivers.size(), 10u);
    EXPECT_GT(no_room, 0);
}

// 4 drivers for 2 crews of 2 to 4, all available for the 4 hours from 23:00 UTC.
CrewInput small_case() {
    CrewInput in;
    in.race_start = kStart;
    in.duration_s = 4 * kHour;
    in.crews = 2;
    in.min_drivers = 2;
    in.max_drivers = 4;
    for (int i = 0; i < 4; ++i) {
        PoolMember m;
        m.id = i + 1;
        m.name = std::string(1, static_cast<char>('A' + i));
        m.irating = 2000 + 100 * i;
        m.is_driver = true;
        m.has_car_laps = true;
        for (int h = 0; h < 4; ++h) m.availability[in.race_start + h * kHour] = Availability::available;
        in.pool.push_back(m);
    }
    return in;
}

TEST(Crews, AnHourWithTooFewDriversIsNamed) {
    auto in = small_case();
    in.race_start = kStart + 3 * kHour;  // 02:00 UTC; the second hour is 03:00-04:00
    for (auto& m : in.pool) {
        m.availability.clear();
        for (int h = 0; h < 4; ++h) m.availability[in.race_start + h * kHour] = Availability::available;
    }
    in.pool[2].availability.erase(in.race_start + kHour);
    const auto result = form_crews(in, 1);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "planner.crew_hour_short");
    EXPECT_EQ(result.error().kind, ErrorKind::invalid_input);
    EXPECT_EQ(result.error().arg("from"), "03:00");
    EXPECT_EQ(result.error().arg("to"), "04:00");
    EXPECT_EQ(result.error().arg("hour"), "2");
    EXPECT_EQ(result.error().arg("available"), "3");
    EXPECT_EQ(result.error().arg("crews"), "2");
    EXPECT_EQ(result.error().arg("needed"), "4");
    const auto issues = crew_feasibility(in);
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].code, "planner.crew_hour_short");

    // "As many as fit" gives one crew of the four instead.
    in.crews.reset();
    const auto one = form_crews(in, 1);
    ASSERT_TRUE(one.ok()) << one.error().code;
    EXPECT_EQ(one->crews.size(), 1u);
    expect_hard_rules(in, *one);
}

TEST(Crews, EnoughDriversPerHourButNoSplitNamesTheHourAndCrew) {
    // 2 crews of exactly 2 over 3 hours (23:00, 00:00, 01:00 UTC): both drivers of a crew must be
    // available every hour, but only A and B are.
    CrewInput in = small_case();
    in.race_start = kStart;
    in.duration_s = 3 * kHour;
    in.max_drivers = 2;
    for (auto& m : in.pool) m.availability.clear();
    auto mark = [&](std::size_t member, int hour) {
        in.pool[member].availability[kStart + hour * kHour] = Availability::available;
    };
    for (int h = 0; h < 3; ++h) mark(0, h), mark(1, h);
    mark(2, 0), mark(2, 1);  // C misses 01:00
    mark(3, 0), mark(3, 2);  // D misses 00:00
    // Per hour 4, 3, 3 available: the first short hour is named.
    const auto result = form_crews(in, 5);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "planner.crew_hour_short");
    EXPECT_EQ(result.error().arg("from"), "00:00");
    EXPECT_EQ(result.error().arg("available"), "3");

    // E covers 00:00 and 01:00: now 4, 4, 4 per hour, yet any split leaves a crew short.
    PoolMember e = in.pool[0];
    e.id = 5;
    e.name = "E";
    e.availability.clear();
    in.pool.push_back(e);
    mark(4, 1), mark(4, 2);
    EXPECT_TRUE(crew_feasibility(in).empty());
    const auto split = form_crews(in, 5);
    ASSERT_FALSE(split.ok());
    EXPECT_EQ(split.error().code, "planner.crew_hour_unsplittable");
    EXPECT_FALSE(split.error().arg("from").empty());
    EXPECT_FALSE(split.error().arg("crew").empty());
}

TEST(Crews, TheSearchRepairsADraftThatLeavesAnHourUncovered) {
    // 8 drivers, 2 crews; 00:00-01:00 UTC only the 1st, 4th, 5th and 8th fastest are available, so
    // the snake draft (0 1 1 0 0 1 1 0) puts all four in crew 1 and none in crew 2.
    CrewInput in;
    in.race_start = kStart;
    in.duration_s = 3 * kHour;
    in.crews = 2;
    in.min_drivers = 2;
    in.max_drivers = 4;
    for (int i = 0; i < 8; ++i) {
        PoolMember m;
        m.id = i + 1;
        m.name = std::string(1, static_cast<char>('A' + i));
        m.irating = 4000 - 100 * i;
        m.is_driver = true;
        m.has_car_laps = true;
        for (int h = 0; h < 3; ++h)
            if (h != 1 || i == 0 || i == 3 || i == 4 || i == 7)
                m.availability[kStart + h * kHour] = Availability::available;
        in.pool.push_back(m);
    }
    const auto plan = form_crews(in, 9);
    ASSERT_TRUE(plan.ok()) << plan.error().code;
    expect_hard_rules(in, *plan);
    EXPECT_EQ(plan->crews[0].available_drivers[1], 2);
    EXPECT_EQ(plan->crews[1].available_drivers[1], 2);
}

TEST(Crews, TooFewEligibleDriversAndBadSettingsAreErrors) {
    auto in = small_case();
    in.crews = 3;
    auto r = form_crews(in, 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "planner.crew_too_few_drivers");
    EXPECT_EQ(r.error().arg("needed"), "6");
    EXPECT_EQ(r.error().arg("eligible"), "4");

    in = small_case();
    in.min_drivers = 5;
    in.max_drivers = 4;
    EXPECT_EQ(form_crews(in, 1).error().code, "planner.crew_bad_sizes");
    in = small_case();
    in.duration_s = 0;
    EXPECT_EQ(form_crews(in, 1).error().code, "planner.crew_bad_window");
    in = small_case();
    in.crews = 0;
    EXPECT_EQ(form_crews(in, 1).error().code, "planner.crew_bad_count");
    in = small_case();
    in.pool.push_back(in.pool[0]);
    EXPECT_EQ(form_crews(in, 1).error().code, "planner.crew_duplicate");
}

TEST(Crews, RegularTeammatesEndUpTogether) {
    auto in = pool(60, 3);
    const auto plan = form_crews(in, 1);
    ASSERT_TRUE(plan.ok());
    EXPECT_GT(plan->stats.teammate_pairs, 0);
    EXPECT_GE(plan->stats.teammate_pairs_together * 2, plan->stats.teammate_pairs);
}

TEST(Crews, EverySeedAndModeKeepsTheHardRulesAlsoWithFourDriversPerHour) {
    for (const BalanceMode mode : {BalanceMode::balanced, BalanceMode::tiered})
        for (std::uint64_t seed = 1; seed <= 6; ++seed) {
            auto in = pool(60, 3, seed * 101);
            in.mode = mode;
            in.min_drivers_per_hour = 4;
            SCOPED_TRACE("seed " + std::to_string(seed));
            const auto plan = form_crews(in, seed);
            ASSERT_TRUE(plan.ok()) << plan.error().code << " " << plan.error().arg("from");
            expect_hard_rules(in, *plan);
        }
}

bool same(const CrewPlan& a, const CrewPlan& b) {
    if (a.crews.size() != b.crews.size() || a.unassigned.size() != b.unassigned.size()) return false;
    for (std::size_t c = 0; c < a.crews.size(); ++c)
        if (a.crews[c].drivers != b.crews[c].drivers || a.crews[c].spotters != b.crews[c].spotters ||
            a.crews[c].captain != b.crews[c].captain)
            return false;
    for (std::size_t i = 0; i < a.unassigned.size(); ++i)
        if (a.unassigned[i].member != b.unassigned[i].member || a.unassigned[i].code != b.unassigned[i].code)
            return false;
    return a.stats.score == b.stats.score;
}

TEST(Crews, SameInputAndSeedGiveTheSamePlan) {
    const auto in = pool(60, 3);
    const auto a = form_crews(in, 42);
    const auto b = form_crews(in, 42);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(same(*a, *b));
    const auto c = form_crews(in, 43);  // another seed: maybe another split, still valid
    ASSERT_TRUE(c.ok());
    expect_hard_rules(in, *c);
}

TEST(Crews, OneHundredTwentyMembersMakeSixCrewsQuickly) {
    auto in = pool(120, 6, 11);
    in.max_drivers = 20;
    const auto t0 = std::chrono::steady_clock::now();
    const auto plan = form_crews(in, 1);
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(plan.ok()) << plan.error().code;
    ASSERT_EQ(plan->crews.size(), 6u);
    expect_hard_rules(in, *plan);
    std::printf("120 -> 6: %.1f ms, spread %.1f, %d improving moves, min coverage %d\n", ms,
                plan->stats.irating_spread, plan->stats.improving_moves, plan->stats.min_hour_coverage);
    EXPECT_LT(ms, 2000.0);

    const auto t1 = std::chrono::steady_clock::now();
    const auto sixty = form_crews(pool(60, 3), 1);
    const auto ms60 =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
    ASSERT_TRUE(sixty.ok());
    std::printf("60 -> 3: %.1f ms\n", ms60);
}

// With spotting on, every crew has an available spotter (a seated driver who spots or a spotter seat)
// in every race hour, checked from the input.
void expect_spotter_every_hour(const CrewInput& in, const CrewPlan& plan) {
    for (const Crew& crew : plan.crews) {
        const auto hours = in.hours();
        ASSERT_EQ(crew.available_spotters.size(), hours.size());
        for (std::size_t h = 0; h < hours.size(); ++h) {
            int available = 0;
            for (MemberId id : crew.drivers)
                available += in.member(id)->is_spotter && in.member(id)->available_at(hours[h]);
            for (MemberId id : crew.spotters) available += in.member(id)->available_at(hours[h]);
            EXPECT_GE(available, 1) << "crew " << crew.index + 1 << " hour " << h + 1;
            EXPECT_EQ(crew.available_spotters[h], available);
        }
    }
}

TEST(Crews, SpottingOnGivesEveryCrewAnAvailableSpotterInEveryHour) {
    for (const std::uint64_t seed : {7u, 11u, 23u}) {
        SCOPED_TRACE(seed);
        auto in = pool(60, 3, seed);
        in.spotting = true;
        const auto plan = form_crews(in, 1);
        ASSERT_TRUE(plan.ok()) << plan.error().code;
        expect_hard_rules(in, *plan);
        expect_spotter_every_hour(in, *plan);
        // Same input and seed, same crews (spotter seats included).
        const auto again = form_crews(in, 1);
        ASSERT_TRUE(again.ok());
        for (std::size_t c = 0; c < plan->crews.size(); ++c) {
            EXPECT_EQ(plan->crews[c].drivers, again->crews[c].drivers);
            EXPECT_EQ(plan->crews[c].spotters, again->crews[c].spotters);
        }
    }
}

TEST(Crews, SpottingOnTheOnlySpottersAwakeInAnHourGoOneToEachCrew) {
    // Drivers do not spot; six spotter seats awake all day but in race hour 5, and three awake in
    // hour 5 and three other hours only: each crew must get one of the three.
    auto in = pool(60, 3);
    in.spotting = true;
    std::erase_if(in.pool, [](const PoolMember& m) { return !m.is_driver; });
    for (auto& m : in.pool) m.is_spotter = false;
    for (int k = 0; k < 9; ++k) {
        PoolMember m;
        m.id = 900 + k;
        m.name = "Spotter " + std::to_string(k);
        m.is_spotter = true;
        for (int h = 0; h < 24; ++h)
            if (k < 6 ? h != 4 : (h >= 3 && h <= 6))
                m.availability[kStart + h * kHour] = Availability::available;
        in.pool.push_back(m);
    }
    const auto plan = form_crews(in, 1);
    ASSERT_TRUE(plan.ok()) << plan.error().code;
    expect_hard_rules(in, *plan);
    expect_spotter_every_hour(in, *plan);
    for (const Crew& crew : plan->crews) EXPECT_EQ(crew.available_spotters[4], 1) << crew.index + 1;
}

TEST(Crews, SpottingOnAnHourWithTooFewSpottersIsNamed) {
    auto in = pool(60, 3);
    in.spotting = true;
    const std::int64_t hour5 = kStart + 4 * kHour;
    int kept = 0;
    for (auto& m : in.pool) {
        if (!m.is_spotter) continue;
        if (kept < 2 && m.availability.contains(hour5)) {
            ++kept;
        } else {
            m.availability.erase(hour5);
        }
    }
    ASSERT_EQ(kept, 2);
    const auto issues = crew_feasibility(in);
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].code, "planner.crew_spotter_hour_short");
    EXPECT_EQ(issues[0].arg("hour"), "5");
    EXPECT_EQ(issues[0].arg("available"), "2");
    EXPECT_EQ(issues[0].arg("needed"), "3");
    const auto plan = form_crews(in, 1);
    ASSERT_FALSE(plan.ok());
    EXPECT_EQ(plan.error().code, "planner.crew_spotter_hour_short");
    // Spotting off: the same pool splits (spotters are not a crew rule then).
    in.spotting = false;
    EXPECT_TRUE(form_crews(in, 1).ok());
}

boost::json::value catalog(const char* locale) {
    std::ifstream in(std::filesystem::path(PITWALL_SOURCE_DIR) / "locales" / (std::string(locale) + ".json"));
    std::stringstream text;
    text << in.rdbuf();
    return boost::json::parse(text.str());
}

TEST(Crews, EveryCodeHasAMessageInBothLanguages) {
    for (const char* locale : {"en", "tr"}) {
        const auto json = catalog(locale);
        const auto& planner = json.at("error").at("planner").as_object();
        for (const std::string& code : crew_codes()) {
            ASSERT_TRUE(code.starts_with("planner.")) << code;
            EXPECT_TRUE(planner.contains(code.substr(8))) << locale << " " << code;
        }
    }
}

}  // namespace
}  // namespace pitwall::planner
