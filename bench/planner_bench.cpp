// The planner against an optimality oracle: stage 2 plans from solve() scored with the JRES objective
// (objective.hpp) and compared with the optimum COIN-OR CBC finds on the same model written as a MILP.
//
// Instances: both JRES samples (src/features/planner/testdata/jres/), and the crews of two generated
// pools (seeded, 8 time zones, 24 h): 60 members -> 3 crews and 120 members -> 6 crews. A pool is
// planned in full (form_crews, then solve() per crew); every crew's stage 2 is one instance.
//
// Per instance: name, stints, drivers, our score, CBC's score, the gap, our stage-2 ms, our planning ms,
// CBC's ms, and whether CBC proved optimality. Every plan of ours and every plan of CBC's goes through
// validate(): ours must be empty; a violation in CBC's plan means the MILP and the rule engine differ,
// and it is printed.
//
// Timing: plan_ms of an instance is its stage 2 plus, for a generated pool, an equal share of the
// pool's stage 1 (so a pool's plan_ms add up to its full planning time, printed on the pool's line).
//
// Ends with: instances=N worst_gap_pct=X plan_ms_p50=Y cbc_ms_p50=Z
// Targets (issue 6): worst_gap_pct <= 1 and full planning of the 60-member pool under 200 ms.
//
// Options: --budget-ms N (solve()'s time budget per crew, default 100), --cbc-seconds S (CBC's time
// limit per instance, default 20), --seed N (solve()'s seed, default 1). Hidden, for iterating on the
// solver: --cbc-cache FILE keeps CBC's results keyed by instance name, a hash of the instance's input
// and the CBC time limit (a changed crew or limit is solved again); the default run computes them.
//
// ---------------------------------------------------------------------------------------------------
// The MILP (one crew, stints s = 0..S-1 from derive_stints, members m):
//   x[m][s] in {0,1}  m drives s        (m may drive: is_driver and declared, when drivers are declared)
//   y[m][s] in {0,1}  m spots s         (m is a spotter; only when spotting is on)
//   b[m][i] in {0,1}  m's rest block starts at stint i (only members with a rest rule that applies)
//   c[s] in [0,1]     s >= 1: the driver of s differs from the driver of s-1
//   hi, lo            the most and fewest stints driven by a counted driver
// Constraints:
//   one driver per stint            sum_m x[m][s] = 1
//   one spotter per stint           sum_m y[m][s] = 1                      (spotting on)
//   spotter is not the driver       x[m][s] + y[m][s] <= 1
//   availability                    x[m][s] = y[m][s] = 0 when available_for(m, s) is false (any
//                                   unavailable hour the stint overlaps, as rules.cpp)
//   pinned starter                  x[p][0] = 1
//   max consecutive (limit K > 0)   sum_{s=t..t+K} x[m][s] <= K for every window of K+1 stints
//   minimum rest R                  sum_i b[m][i] = 1 and x[m][s] + y[m][s] <= 1 - b[m][i] for s in the
//                                   block i..j(i), j(i) the first stint with end_j - start_i >= R.
//                                   ALIGNED TO rules.cpp rather than to hour windows: the rule engine
//                                   measures the longest off-duty gap in seconds, and duties are whole
//                                   contiguous stints, so a gap is exactly a run of stints off duty and
//                                   "some run i..j off duty with end_j - start_i >= R" is the rule.
//                                   Spotting counts as duty (rules.cpp: off duty = neither driving nor
//                                   spotting). The rule applies only when duration > R (rules.cpp); a
//                                   block start i without such a j (near the flag) gets no b.
//   fair share (declared drivers)   sum_s laps_s x[m][s] >= fair_share_laps(team laps, declared)
//   seat time (when set)            sum_s seconds_s x[m][s] >= min_seat (declared), <= max_seat (all)
//   changes                         c[s] >= x[m][s] - x[m][s-1] for every m, s >= 1
//   spread (counted drivers: the declared ones, or every driver when none is declared, as
//   objective.cpp; a counted driver without stints counts 0)   lo <= sum_s x[m][s] <= hi
// Objective: minimise 1000 (hi - lo) + 100 sum_s c[s] - sum_{m,s} pref[m][s] x[m][s], pref = 1 when m
// marked the hour containing the stint's START preferred (objective.cpp). Spotters do not score.
// CBC's plan is read back from x and y, then scored with score() and checked with validate().
#include <CbcModel.hpp>
#include <CbcSolver.hpp>
#include <CoinPackedMatrix.hpp>
#include <OsiClpSolverInterface.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "features/planner/crews.hpp"
#include "features/planner/jres.hpp"
#include "features/planner/model.hpp"
#include "features/planner/objective.hpp"
#include "features/planner/rules.hpp"
#include "features/planner/solver.hpp"
#include "features/planner/stints.hpp"

using namespace pitwall;
using namespace pitwall::planner;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "planner_bench: %s\n", what.c_str());
    std::exit(1);
}

std::string describe(const Error& e) {
    std::string s = e.code;
    for (const auto& [k, v] : e.args) s += " " + k + "=" + v;
    return s;
}

std::string describe(const std::vector<Violation>& violations) {
    std::string s;
    for (const auto& v : violations) {
        s += "    " + v.code;
        for (const auto& [k, val] : v.args) s += " " + k + "=" + val;
        s += "\n";
    }
    return s;
}

// ---------------------------------------------------------------------------------------------------
// The oracle.

struct CbcResult {
    bool has_plan = false;
    bool proven_optimal = false;
    bool proven_infeasible = false;
    double objective = 0;   // CBC's incumbent value
    double best_bound = 0;  // CBC's lower bound
    Plan plan;
    double ms = 0;
    int rows = 0;
    int cols = 0;
};

class MilpBuilder {
  public:
    int add_col(double lb, double ub, double cost, bool integer) {
        col_lb_.push_back(lb);
        col_ub_.push_back(ub);
        cost_.push_back(cost);
        integer_.push_back(integer);
        return static_cast<int>(cost_.size()) - 1;
    }
    void add_row(const std::vector<std::pair<int, double>>& terms, double lo, double hi) {
        for (const auto& [col, value] : terms) {
            rows_.push_back(static_cast<int>(row_lb_.size()));
            cols_.push_back(col);
            values_.push_back(value);
        }
        row_lb_.push_back(lo);
        row_ub_.push_back(hi);
    }
    void load(OsiClpSolverInterface& solver) const {
        const CoinPackedMatrix matrix(true, rows_.data(), cols_.data(), values_.data(),
                                      static_cast<CoinBigIndex>(values_.size()));
        CoinPackedMatrix sized(matrix);
        sized.setDimensions(static_cast<int>(row_lb_.size()), static_cast<int>(cost_.size()));
        solver.loadProblem(sized, col_lb_.data(), col_ub_.data(), cost_.data(), row_lb_.data(),
                           row_ub_.data());
        for (std::size_t j = 0; j < integer_.size(); ++j)
            if (integer_[j]) solver.setInteger(static_cast<int>(j));
    }
    [[nodiscard]] int rows() const { return static_cast<int>(row_lb_.size()); }
    [[nodiscard]] int cols() const { return static_cast<int>(cost_.size()); }

  private:
    std::vector<double> col_lb_, col_ub_, cost_;
    std::vector<bool> integer_;
    std::vector<int> rows_, cols_;
    std::vector<double> values_;
    std::vector<double> row_lb_, row_ub_;
};

CbcResult solve_with_cbc(const PlanInput& input, const std::vector<Stint>& stints, double seconds) {
    const double inf = COIN_DBL_MAX;
    const int n_stints = static_cast<int>(stints.size());
    MilpBuilder milp;

    std::vector<const Member*> members;
    for (const auto& m : input.members) members.push_back(&m);
    const int n_members = static_cast<int>(members.size());
    auto may_drive = [&](const Member& m) {
        return m.is_driver && (input.declared_drivers.empty() || input.declared(m.id));
    };

    // x and y (-1: no such variable).
    std::vector<std::vector<int>> x(n_members, std::vector<int>(n_stints, -1));
    std::vector<std::vector<int>> y(n_members, std::vector<int>(n_stints, -1));
    for (int k = 0; k < n_members; ++k) {
        const Member& m = *members[k];
        for (int s = 0; s < n_stints; ++s) {
            const bool free = available_for(m, stints[s]);
            if (may_drive(m)) {
                const double pref = m.at(stints[s].start) == Availability::preferred ? -1.0 : 0.0;
                double lb = 0;
                if (s == 0 && input.pinned_starter && *input.pinned_starter == m.id) lb = 1;
                x[k][s] = milp.add_col(lb, free ? 1 : 0, pref, true);
            }
            if (input.spotters && m.is_spotter) y[k][s] = milp.add_col(0, free ? 1 : 0, 0, true);
        }
    }
    // Pinned starter who cannot drive at all: the row below with no x keeps the model infeasible.
    if (input.pinned_starter && n_stints > 0) {
        std::vector<std::pair<int, double>> row;
        for (int k = 0; k < n_members; ++k)
            if (members[k]->id == *input.pinned_starter && x[k][0] >= 0) row.emplace_back(x[k][0], 1);
        milp.add_row(row, 1, inf);
    }

    for (int s = 0; s < n_stints; ++s) {
        std::vector<std::pair<int, double>> drive, spot;
        for (int k = 0; k < n_members; ++k) {
            if (x[k][s] >= 0) drive.emplace_back(x[k][s], 1);
            if (y[k][s] >= 0) spot.emplace_back(y[k][s], 1);
            if (x[k][s] >= 0 && y[k][s] >= 0) milp.add_row({{x[k][s], 1}, {y[k][s], 1}}, -inf, 1);
        }
        milp.add_row(drive, 1, 1);
        if (input.spotters) milp.add_row(spot, 1, 1);
    }

    for (int k = 0; k < n_members; ++k) {
        const Member& m = *members[k];
        // Max consecutive stints driven.
        const int limit = input.max_consecutive_for(m);
        if (may_drive(m) && limit > 0) {
            for (int t = 0; t + limit < n_stints; ++t) {
                std::vector<std::pair<int, double>> row;
                for (int s = t; s <= t + limit; ++s) row.emplace_back(x[k][s], 1);
                milp.add_row(row, -inf, limit);
            }
        }
        // Minimum rest: one block of whole stints off duty, at least R long.
        const std::int64_t rest = input.minimum_rest_s_for(m);
        if (rest > 0 && input.duration_s > rest && (may_drive(m) || (input.spotters && m.is_spotter))) {
            std::vector<std::pair<int, double>> choose;
            for (int i = 0; i < n_stints; ++i) {
                int j = i;
                while (j < n_stints && stints[j].end - stints[i].start < rest) ++j;
                if (j == n_stints) break;
                const int b = milp.add_col(0, 1, 0, true);
                choose.emplace_back(b, 1);
                for (int s = i; s <= j; ++s) {
                    std::vector<std::pair<int, double>> row{{b, 1}};
                    if (x[k][s] >= 0) row.emplace_back(x[k][s], 1);
                    if (y[k][s] >= 0) row.emplace_back(y[k][s], 1);
                    if (row.size() > 1) milp.add_row(row, -inf, 1);
                }
            }
            milp.add_row(choose, 1, 1);
        }
    }

    // Fair share and seat time.
    int team_laps = 0;
    for (const auto& s : stints) team_laps += s.laps;
    const int fair = fair_share_laps(team_laps, static_cast<int>(input.declared_drivers.size()));
    for (int k = 0; k < n_members; ++k) {
        const Member& m = *members[k];
        if (!may_drive(m)) continue;
        std::vector<std::pair<int, double>> laps, seat;
        for (int s = 0; s < n_stints; ++s) {
            laps.emplace_back(x[k][s], stints[s].laps);
            seat.emplace_back(x[k][s], static_cast<double>(stints[s].seconds()));
        }
        const bool declared = input.declared(m.id);
        if (input.fair_share && declared && fair > 0) milp.add_row(laps, fair, inf);
        if (input.min_seat_s && declared) milp.add_row(seat, static_cast<double>(*input.min_seat_s), inf);
        if (input.max_seat_s) milp.add_row(seat, -inf, static_cast<double>(*input.max_seat_s));
    }
    // A declared driver who is not a driver (or not a member) cannot reach the fair share: infeasible,
    // as feasibility() says (declared_not_driver).
    for (const MemberId id : input.declared_drivers) {
        const Member* m = input.member(id);
        if ((!m || !m->is_driver) && input.fair_share && fair > 0) milp.add_row({}, fair, inf);
    }

    // Driver changes.
    std::vector<int> change_cols;
    for (int s = 1; s < n_stints; ++s) {
        const int c = milp.add_col(0, 1, 100, false);
        change_cols.push_back(c);
        for (int k = 0; k < n_members; ++k)
            if (x[k][s] >= 0) milp.add_row({{c, 1}, {x[k][s], -1}, {x[k][s - 1], 1}}, 0, inf);
    }

    // Spread over the counted drivers. Every stint is driven by a counted driver (only declared drivers
    // may drive when some are declared; otherwise every driver counts), so the counts sum to S and
    // hi >= ceil(S / D), lo <= floor(S / D) for D counted drivers: a valid tightening (no plan is cut)
    // that, with hi and lo integer, gives the LP relaxation the spread of 1 when D does not divide S.
    auto counted = [&](const Member& m) {
        return input.declared_drivers.empty() ? m.is_driver : input.declared(m.id);
    };
    int n_counted = 0;
    if (input.declared_drivers.empty()) {
        for (const Member* m : members) n_counted += m->is_driver ? 1 : 0;
    } else {
        n_counted = static_cast<int>(input.declared_drivers.size());
    }
    const double hi_lb = n_counted > 0 ? std::ceil(static_cast<double>(n_stints) / n_counted) : 0;
    const double lo_ub = n_counted > 0 ? std::floor(static_cast<double>(n_stints) / n_counted) : n_stints;
    const int hi = milp.add_col(hi_lb, n_stints, 1000, true);
    const int lo = milp.add_col(0, lo_ub, -1000, true);
    for (int k = 0; k < n_members; ++k) {
        if (!counted(*members[k])) continue;
        std::vector<std::pair<int, double>> to_hi{{hi, 1}}, to_lo{{lo, -1}};
        for (int s = 0; s < n_stints; ++s) {
            if (x[k][s] < 0) continue;
            to_hi.emplace_back(x[k][s], -1);
            to_lo.emplace_back(x[k][s], 1);
        }
        milp.add_row(to_hi, 0, inf);  // hi >= n
        milp.add_row(to_lo, 0, inf);  // n >= lo
    }
    // A counted id that is not a member drives nothing: lo = 0 (objective.cpp counts it with 0).
    for (const MemberId id : input.declared_drivers)
        if (!input.member(id)) milp.add_row({{lo, 1}}, -inf, 0);

    // Valid inequalities on the changes (they cut no plan; they only lift CBC's bound):
    // - changes >= drivers used - 1 (each driver's first stint but stint 1's is a change), with
    //   u[m] >= x[m][s] "m drives at all", fixed to 1 for a declared driver the fair share (or the
    //   minimum seat time) forces to drive;
    // - changes >= ceil(S / K) - 1 when every driver has a consecutive limit, K the largest.
    if (!change_cols.empty()) {
        std::vector<std::pair<int, double>> used_row;
        for (int c : change_cols) used_row.emplace_back(c, 1);
        int k_max = 0;
        bool all_limited = true;
        for (int k = 0; k < n_members; ++k) {
            const Member& m = *members[k];
            if (!may_drive(m)) continue;
            const int limit = input.max_consecutive_for(m);
            if (limit <= 0) all_limited = false;
            k_max = std::max(k_max, limit);
            const bool must = input.declared(m.id) &&
                              ((input.fair_share && fair > 0) || (input.min_seat_s && *input.min_seat_s > 0));
            const int u = milp.add_col(must ? 1 : 0, 1, 0, true);
            used_row.emplace_back(u, -1);
            for (int s = 0; s < n_stints; ++s) milp.add_row({{u, 1}, {x[k][s], -1}}, 0, inf);
        }
        milp.add_row(used_row, -1, inf);
        if (all_limited && k_max > 0) {
            std::vector<std::pair<int, double>> row;
            for (int c : change_cols) row.emplace_back(c, 1);
            milp.add_row(row, std::ceil(static_cast<double>(n_stints) / k_max) - 1, inf);
        }
    }

    CbcResult out;
    out.rows = milp.rows();
    out.cols = milp.cols();
    OsiClpSolverInterface solver;
    milp.load(solver);
    solver.setObjSense(1.0);
    solver.messageHandler()->setLogLevel(0);

    CbcModel model(solver);
    model.messageHandler()->setLogLevel(0);
    const std::string sec = std::to_string(seconds);
    // The objective is integral: a gap under 1 proves optimality. One thread: a fair timing.
    const char* argv[] = {"planner_bench", "-log",      "0", "-seconds", sec.c_str(), "-allowableGap",
                          "0.5",           "-ratioGap", "0", "-solve",   "-quit"};
    const auto t0 = Clock::now();
    CbcMain0(model);
    CbcMain1(static_cast<int>(sizeof(argv) / sizeof(argv[0])), argv, model);
    out.ms = ms_since(t0);

    out.proven_optimal = model.isProvenOptimal();
    out.proven_infeasible = model.isProvenInfeasible();
    out.best_bound = model.getBestPossibleObjValue();
    const double* sol = model.bestSolution();
    if (!sol) return out;
    out.has_plan = true;
    out.objective = model.getObjValue();
    out.plan.stints = stints;
    for (int s = 0; s < n_stints; ++s) {
        Assignment a;
        a.stint = s;
        for (int k = 0; k < n_members; ++k) {
            if (x[k][s] >= 0 && sol[x[k][s]] > 0.5) a.driver = members[k]->id;
            if (y[k][s] >= 0 && sol[y[k][s]] > 0.5) a.spotter = members[k]->id;
        }
        out.plan.assignments.push_back(a);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------
// Instances.

constexpr std::int64_t kHour = kHourSeconds;
constexpr std::int64_t kStart = 1752274800;  // 2025-07-11 23:00 UTC

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

constexpr int kZones[] = {-8, -5, -3, 0, 1, 3, 8, 10};

// Like crews_test.cpp's pool: `size` members in 8 time zones, each awake 07:00-24:00 local with a
// random 3 h gap; teammates in pairs; one in six a captain volunteer. Differences: Preferred 19:00-22:00
// local (crews_test: 20:00 only), two in three spot (one in six spot only) where crews_test has one in
// three, and spotting is on, so form_crews gives every crew an available spotter in every hour.
CrewInput generated_pool(int size, int crews, int max_drivers, std::uint64_t seed) {
    Lcg rng{seed};
    CrewInput in;
    in.race_start = kStart;
    in.duration_s = 24 * kHour;
    in.crews = crews;
    in.min_drivers = 4;
    in.max_drivers = max_drivers;
    in.car_id = "porsche963";
    in.spotting = true;
    for (int i = 0; i < size; ++i) {
        PoolMember m;
        m.id = 100 + i;
        m.name = "Member " + std::to_string(i);
        m.irating = rng.between(1200, 5200);
        m.is_spotter = rng.between(0, 2) != 0;
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
            m.availability[hour] =
                (local >= 19 && local < 22) ? Availability::preferred : Availability::available;
        }
        in.pool.push_back(std::move(m));
    }
    return in;
}

std::string zone_name(int offset_h) {
    if (offset_h == 0) return "UTC";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%+03d:00", offset_h);
    return buf;
}

// Stage 2 of one crew: a 24 h race of ~47 min stints (31), fair share, spotters, at most 3 stints in a
// row, 8 h minimum rest; the captain starts when they drive and are available for stint 1.
PlanInput crew_input(const CrewInput& pool, const Crew& crew) {
    PlanInput input;
    input.race_start = pool.race_start;
    input.duration_s = pool.duration_s;
    input.lap_s = 105.3;
    input.pit_loss_s = 62;
    input.fuel_tank = 110;
    input.fuel_per_lap = 4.1;
    input.spotters = true;
    input.max_consecutive_stints = 3;
    input.minimum_rest_hours = 8;
    input.fair_share = true;
    input.declared_drivers = crew.drivers;
    auto add = [&](MemberId id, bool seated_as_driver) {
        const PoolMember* p = pool.member(id);
        Member m;
        m.id = p->id;
        m.name = p->name;
        m.is_driver = seated_as_driver && p->is_driver;
        m.is_spotter = p->is_spotter;
        m.time_zone = zone_name(kZones[(p->id - 100) % 8]);
        m.availability = p->availability;
        input.members.push_back(std::move(m));
    };
    for (MemberId id : crew.drivers) add(id, true);
    for (MemberId id : crew.spotters) add(id, false);
    const Member* captain = input.member(crew.captain);
    if (captain && captain->is_driver) {
        auto table = derive_stints(input);
        if (table && !table->stints.empty() && available_for(*captain, table->stints.front()))
            input.pinned_starter = captain->id;
    }
    return input;
}

PlanInput jres_instance(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) die("cannot read " + file.string());
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = parse_jres(text.str());
    if (!parsed) die(file.string() + ": " + describe(parsed.error()));
    auto input = to_plan_input(*parsed);
    if (!input) die(file.string() + ": " + describe(input.error()));
    return std::move(*input);
}

// ---------------------------------------------------------------------------------------------------

struct Options {
    std::int64_t budget_ms = 100;
    double cbc_seconds = 20;
    std::uint64_t seed = 1;
    std::string cbc_cache;  // empty: no cache
};

// FNV-1a over everything the MILP reads from the input and the stint table.
std::uint64_t input_hash(const PlanInput& input, const std::vector<Stint>& stints) {
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&](std::int64_t v) {
        for (int b = 0; b < 8; ++b) {
            h ^= static_cast<std::uint64_t>(v >> (8 * b)) & 0xff;
            h *= 1099511628211ULL;
        }
    };
    mix(input.race_start);
    mix(input.duration_s);
    mix(input.spotters);
    mix(input.max_consecutive_stints);
    mix(std::llround(input.minimum_rest_hours * 3600));
    mix(input.fair_share);
    for (MemberId id : input.declared_drivers) mix(id);
    mix(input.min_seat_s.value_or(-1));
    mix(input.max_seat_s.value_or(-1));
    mix(input.pinned_starter.value_or(-1));
    for (const auto& m : input.members) {
        mix(m.id);
        mix(m.is_driver);
        mix(m.is_spotter);
        mix(m.max_consecutive_stints.value_or(-1));
        mix(std::llround(m.minimum_rest_hours.value_or(-1) * 3600));
        for (const auto& [hour, a] : m.availability) {
            mix(hour);
            mix(static_cast<int>(a));
        }
    }
    for (const auto& s : stints) {
        mix(s.start);
        mix(s.end);
        mix(s.laps);
    }
    return h;
}

std::string cache_key(const std::string& name, const PlanInput& input, const std::vector<Stint>& stints,
                      double seconds) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%016llx/%.0f", static_cast<unsigned long long>(input_hash(input, stints)),
                  seconds);
    return name + "/" + buf;
}

// One line per result: key has_plan optimal infeasible objective bound ms n driver spotter ...
std::optional<CbcResult> cache_read(const std::string& file, const std::string& key,
                                    const std::vector<Stint>& stints) {
    std::ifstream in(file);
    std::string line;
    std::optional<CbcResult> found;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string k;
        ls >> k;
        if (k != key) continue;
        CbcResult r;
        int n = 0;
        ls >> r.has_plan >> r.proven_optimal >> r.proven_infeasible >> r.objective >> r.best_bound >> r.ms >>
            n;
        r.plan.stints = stints;
        for (int s = 0; s < n; ++s) {
            Assignment a;
            a.stint = s;
            MemberId spotter = 0;
            ls >> a.driver >> spotter;
            if (spotter != 0) a.spotter = spotter;
            r.plan.assignments.push_back(a);
        }
        if (ls) found = r;
    }
    return found;
}

void cache_write(const std::string& file, const std::string& key, const CbcResult& r) {
    std::ofstream out(file, std::ios::app);
    out << key << " " << r.has_plan << " " << r.proven_optimal << " " << r.proven_infeasible << " ";
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.6f %.6f %.3f", r.objective, r.best_bound, r.ms);
    out << buf << " " << r.plan.assignments.size();
    for (const auto& a : r.plan.assignments) out << " " << a.driver << " " << a.spotter.value_or(0);
    out << "\n";
}

struct Row {
    std::string name;
    double gap_pct = 0;        // vs CBC's proven optimum, or vs its incumbent when not proven
    double bound_gap_pct = 0;  // vs CBC's best bound: an upper limit on the true gap
    double plan_ms = 0;
    double cbc_ms = 0;
};

double percentile50(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int mismatches = 0;

// One stage-2 instance: our plan (already solved, timed) against CBC's.
Row compare(const std::string& name, const PlanInput& input, const SolveResult& ours, double stage2_ms,
            double plan_ms, const Options& options) {
    const auto ours_violations = validate(input, ours.plan);
    if (!ours_violations.empty()) {
        std::printf("%s: OUR PLAN FAILS validate():\n%s", name.c_str(), describe(ours_violations).c_str());
        ++mismatches;
    }
    const Score our_score = score(input, ours.plan);
    int drivers = 0;
    for (const auto& m : input.members)
        if (m.is_driver && (input.declared_drivers.empty() || input.declared(m.id))) ++drivers;

    CbcResult cbc;
    const std::string key = cache_key(name, input, ours.plan.stints, options.cbc_seconds);
    std::optional<CbcResult> cached;
    if (!options.cbc_cache.empty()) cached = cache_read(options.cbc_cache, key, ours.plan.stints);
    if (cached) {
        cbc = std::move(*cached);
    } else {
        cbc = solve_with_cbc(input, ours.plan.stints, options.cbc_seconds);
        if (!options.cbc_cache.empty()) cache_write(options.cbc_cache, key, cbc);
    }
    Row row{name, 0, 0, plan_ms, cbc.ms};
    std::string cbc_text = "-";
    std::string status;
    if (cbc.proven_infeasible || !cbc.has_plan) {
        status = cbc.proven_infeasible ? "CBC: infeasible (models differ)" : "CBC: no plan in time";
        ++mismatches;
    } else {
        const Score cbc_score = score(input, cbc.plan);
        cbc_text = std::to_string(cbc_score.total);
        if (std::llround(cbc.objective) != cbc_score.total) {
            std::printf("%s: CBC objective %.3f but score() of its plan %lld (models differ)\n", name.c_str(),
                        cbc.objective, static_cast<long long>(cbc_score.total));
            ++mismatches;
        }
        const auto cbc_violations = validate(input, cbc.plan);
        if (!cbc_violations.empty()) {
            std::printf("%s: CBC's plan fails validate() (models differ):\n%s", name.c_str(),
                        describe(cbc_violations).c_str());
            ++mismatches;
        }
        // Gap against the proven optimum; without a proof against CBC's incumbent (and the bound shown).
        const double reference = static_cast<double>(cbc_score.total);
        row.gap_pct =
            100.0 * (static_cast<double>(our_score.total) - reference) / std::max(1.0, std::abs(reference));
        row.bound_gap_pct = row.gap_pct;
        if (cbc.proven_optimal) {
            status = "optimal";
        } else {
            const double bound = std::ceil(cbc.best_bound - 1e-6);
            const double bound_gap =
                100.0 * (static_cast<double>(our_score.total) - bound) / std::max(1.0, std::abs(bound));
            row.bound_gap_pct = bound_gap;
            char buf[160];
            std::snprintf(buf, sizeof buf,
                          "NOT PROVEN in %.0f s: gap vs incumbent; bound %.0f, gap vs bound %.2f%%",
                          options.cbc_seconds, bound, bound_gap);
            status = buf;
        }
    }
    std::printf(
        "%-22s %6zu %7d %8lld %8s %7.2f %9.1f %9.1f %9.1f  %s  (ours: spread %d, changes %d, preferred %d; "
        "iterations %lld/%lld)\n",
        name.c_str(), ours.plan.stints.size(), drivers, static_cast<long long>(our_score.total),
        cbc_text.c_str(), row.gap_pct, stage2_ms, plan_ms, cbc.ms, status.c_str(), our_score.spread,
        our_score.driver_changes, our_score.preferred_bonus, static_cast<long long>(ours.stats.iterations),
        static_cast<long long>(ours.stats.iteration_budget));
    std::fflush(stdout);
    return row;
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) die("missing value for " + a);
            return argv[++i];
        };
        if (a == "--budget-ms")
            o.budget_ms = std::atoll(next());
        else if (a == "--cbc-seconds")
            o.cbc_seconds = std::atof(next());
        else if (a == "--seed")
            o.seed = std::strtoull(next(), nullptr, 10);
        else if (a == "--cbc-cache")
            o.cbc_cache = next();
        else
            die("unknown option " + a + " (--budget-ms N, --cbc-seconds S, --seed N)");
    }
    return o;
}

void header() {
    std::printf("%-22s %6s %7s %8s %8s %7s %9s %9s %9s  %s\n", "instance", "stints", "drivers", "ours", "cbc",
                "gap_%", "stage2_ms", "plan_ms", "cbc_ms", "cbc status");
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    std::printf("solve(): time budget %lld ms per crew, seed %llu; CBC: %.0f s per instance, 1 thread\n",
                static_cast<long long>(options.budget_ms), static_cast<unsigned long long>(options.seed),
                options.cbc_seconds);
    header();
    std::vector<Row> rows;
    const SolveOptions solve_options{.time_budget_ms = options.budget_ms, .seed = options.seed, .locked = {}};

    const std::filesystem::path jres_dir =
        std::filesystem::path(PITWALL_SOURCE_DIR) / "src/features/planner/testdata/jres";
    for (const char* file : {"24hr.json", "420.json"}) {
        const PlanInput input = jres_instance(jres_dir / file);
        const auto t0 = Clock::now();
        auto ours = solve(input, solve_options);
        const double ms = ms_since(t0);
        if (!ours) die(std::string(file) + ": solve(): " + describe(ours.error()));
        rows.push_back(compare(std::string("jres/") + file, input, *ours, ms, ms, options));
    }

    struct PoolCase {
        const char* name;
        int size;
        int crews;
        int max_drivers;
        std::uint64_t seed;
    };
    for (const PoolCase& pc : {PoolCase{"pool60", 60, 3, 18, 7}, PoolCase{"pool120", 120, 6, 20, 11}}) {
        const CrewInput pool = generated_pool(pc.size, pc.crews, pc.max_drivers, pc.seed);
        // Full planning, timed as a whole: stage 1, then stage 2 for every crew.
        const auto t0 = Clock::now();
        auto crews = form_crews(pool, options.seed);
        const double stage1_ms = ms_since(t0);
        if (!crews) die(std::string(pc.name) + ": form_crews(): " + crews.error().code);
        std::vector<PlanInput> inputs;
        std::vector<SolveResult> plans;
        std::vector<double> stage2_ms;
        for (const Crew& crew : crews->crews) {
            inputs.push_back(crew_input(pool, crew));
            const auto t1 = Clock::now();
            auto ours = solve(inputs.back(), solve_options);
            stage2_ms.push_back(ms_since(t1));
            if (!ours) {
                std::printf("%s/crew%d: solve() failed: %s\n", pc.name, crew.index + 1,
                            describe(ours.error()).c_str());
                ++mismatches;
                inputs.pop_back();
                stage2_ms.pop_back();
                continue;
            }
            plans.push_back(std::move(*ours));
        }
        const double full_ms = ms_since(t0);
        std::printf("%s: %d members -> %zu crews (%zu left out), full planning %.1f ms (stage 1 %.1f ms)\n",
                    pc.name, pc.size, crews->crews.size(), crews->unassigned.size(), full_ms, stage1_ms);
        for (std::size_t c = 0; c < plans.size(); ++c) {
            const double plan_ms = stage2_ms[c] + stage1_ms / static_cast<double>(plans.size());
            rows.push_back(compare(std::string(pc.name) + "/crew" + std::to_string(c + 1), inputs[c],
                                   plans[c], stage2_ms[c], plan_ms, options));
        }
    }

    double worst = 0, worst_bound = 0;
    std::string worst_name, worst_bound_name;
    std::vector<double> plan_ms, cbc_ms;
    for (const Row& r : rows) {
        if (worst_name.empty() || r.gap_pct > worst) {
            worst = r.gap_pct;
            worst_name = r.name;
        }
        if (worst_bound_name.empty() || r.bound_gap_pct > worst_bound) {
            worst_bound = r.bound_gap_pct;
            worst_bound_name = r.name;
        }
        plan_ms.push_back(r.plan_ms);
        cbc_ms.push_back(r.cbc_ms);
    }
    if (mismatches) std::printf("model mismatches or failures: %d (see above)\n", mismatches);
    std::printf("worst gap (vs CBC's optimum, or its incumbent when not proven): %.2f%% (%s)\n", worst,
                worst_name.c_str());
    std::printf("worst gap vs CBC's best bound (an upper limit on the true gap): %.2f%% (%s)\n", worst_bound,
                worst_bound_name.c_str());
    std::printf("instances=%zu worst_gap_pct=%.2f plan_ms_p50=%.1f cbc_ms_p50=%.1f\n", rows.size(), worst,
                percentile50(plan_ms), percentile50(cbc_ms));
    return 0;
}
