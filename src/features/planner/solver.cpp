#include "features/planner/solver.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "features/planner/stints.hpp"

namespace pitwall::planner {

namespace {

// SplitMix64: tiny, fast and identical on every platform (std distributions are not).
class Rng {
  public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    // Uniform enough in [0, n) for n > 0 (the modulo bias is irrelevant for choosing moves).
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }

  private:
    std::uint64_t state_;
};

constexpr int kNone = -1;

// Cost order: hard-rule penalty first, then the JRES objective, then spotter load and changes.
struct Cost {
    std::int64_t penalty = 0;
    std::int64_t total = 0;      // score().total
    std::int64_t secondary = 0;  // spotter balance (sum of squares) + 10 x spotter changes
    // What the search steers by: score().total with the spread term replaced by the distance of the
    // driver counts from the target window (see Search::set_window); = total without a window.
    std::int64_t guide = 0;
    int spread = 0;  // the spread term of total
    auto operator<=>(const Cost&) const = default;
};

// What late acceptance compares: a broken rule costs as much as 3 stints of spread, so the search
// may cross invalid plans between valid ones (the best plan kept is always a valid one).
constexpr std::int64_t kPenaltyWeight = 3000;
std::pair<std::int64_t, std::int64_t> accept_key(const Cost& c) {
    return {c.penalty * kPenaltyWeight + c.guide, c.secondary};
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
    return b <= 0 ? a : (a + b - 1) / b;
}

// Max flow (Dinic) on a small graph: the spread bound's feasibility test.
class Flow {
  public:
    explicit Flow(int nodes) : head_(nodes, -1), level_(nodes), it_(nodes) {}
    void edge(int u, int v, int cap) {
        to_.push_back(v), cap_.push_back(cap), next_.push_back(head_[u]),
            head_[u] = static_cast<int>(to_.size()) - 1;
        to_.push_back(u), cap_.push_back(0), next_.push_back(head_[v]),
            head_[v] = static_cast<int>(to_.size()) - 1;
    }
    int run(int s, int t) {
        int total = 0;
        while (bfs(s, t)) {
            it_ = head_;
            while (const int f = dfs(s, t, std::numeric_limits<int>::max())) total += f;
        }
        return total;
    }

  private:
    bool bfs(int s, int t) {
        std::fill(level_.begin(), level_.end(), -1);
        std::vector<int> queue{s};
        level_[s] = 0;
        for (std::size_t q = 0; q < queue.size(); ++q)
            for (int e = head_[queue[q]]; e >= 0; e = next_[e])
                if (cap_[e] > 0 && level_[to_[e]] < 0) {
                    level_[to_[e]] = level_[queue[q]] + 1;
                    queue.push_back(to_[e]);
                }
        return level_[t] >= 0;
    }
    int dfs(int u, int t, int f) {
        if (u == t) return f;
        for (int& e = it_[u]; e >= 0; e = next_[e]) {
            const int v = to_[e];
            if (cap_[e] <= 0 || level_[v] != level_[u] + 1) continue;
            if (const int pushed = dfs(v, t, std::min(f, cap_[e]))) {
                cap_[e] -= pushed;
                cap_[e ^ 1] += pushed;
                return pushed;
            }
        }
        return 0;
    }
    std::vector<int> head_, level_, it_, to_, cap_, next_;
};

std::int64_t restart_window(int stints) {
    return 3000 + 100LL * stints;
}

class Search {
  public:
    Search(const PlanInput& input, const std::vector<Stint>& stints, int laps_per_stint, double full_stint_s)
        : in_(input),
          stints_(stints),
          laps_per_stint_(std::max(1, laps_per_stint)),
          full_stint_s_(std::max<std::int64_t>(1, static_cast<std::int64_t>(full_stint_s))) {
        const int m_count = static_cast<int>(input.members.size());
        const int s_count = static_cast<int>(stints.size());
        for (int m = 0; m < m_count; ++m) index_of_[input.members[m].id] = m;
        may_drive_.assign(m_count, false);
        counted_.assign(m_count, false);
        declared_.assign(m_count, false);
        limit_.assign(m_count, 0);
        rest_s_.assign(m_count, 0);
        for (int m = 0; m < m_count; ++m) {
            const Member& member = input.members[m];
            may_drive_[m] = member.is_driver && (input.declared_drivers.empty() || input.declared(member.id));
            declared_[m] = input.declared(member.id);
            counted_[m] = input.declared_drivers.empty() ? member.is_driver : declared_[m];
            limit_[m] = input.max_consecutive_for(member);
            const std::int64_t r = input.minimum_rest_s_for(member);
            rest_s_[m] = (r > 0 && input.duration_s > r) ? r : 0;
        }
        avail_.assign(m_count, std::vector<char>(s_count, 0));
        preferred_.assign(m_count, std::vector<char>(s_count, 0));
        for (int m = 0; m < m_count; ++m)
            for (int i = 0; i < s_count; ++i) {
                avail_[m][i] = available_for(input.members[m], stints[i]) ? 1 : 0;
                preferred_[m][i] = input.members[m].at(stints[i].start) == Availability::preferred ? 1 : 0;
            }
        pinned_ = kNone;
        if (input.pinned_starter) {
            const auto it = index_of_.find(*input.pinned_starter);
            if (it != index_of_.end()) pinned_ = it->second;
        }
        drivers_of_.resize(s_count);
        spotters_of_.resize(s_count);
        for (int i = 0; i < s_count; ++i)
            for (int m = 0; m < m_count; ++m) {
                if (can_drive(m, i)) drivers_of_[i].push_back(m);
                if (input.spotters && input.members[m].is_spotter && avail_[m][i])
                    spotters_of_[i].push_back(m);
            }
        team_laps_ = 0;
        for (const auto& s : stints) team_laps_ += s.laps;
        fair_ = fair_share_laps(team_laps_, static_cast<int>(input.declared_drivers.size()));
        drv_.assign(s_count, kNone);
        spt_.assign(s_count, kNone);
        driver_locked_.assign(s_count, false);
        spotter_locked_.assign(s_count, false);
        for (int m = 0; m < m_count; ++m)
            if (counted_[m]) ++counted_count_;
    }

    std::optional<int> member_index(MemberId id) const {
        const auto it = index_of_.find(id);
        if (it == index_of_.end()) return std::nullopt;
        return it->second;
    }

    void lock(int stint, int driver, std::optional<int> spotter) {
        drv_[stint] = driver;
        driver_locked_[stint] = true;
        if (spotter) {
            spt_[stint] = *spotter;
            spotter_locked_[stint] = true;
        }
    }

    bool can_drive(int m, int i) const {
        if (!may_drive_[m] || !avail_[m][i]) return false;
        if (i == 0 && pinned_ != kNone && m != pinned_) return false;
        return true;
    }

    // The most stints member m can drive in any valid plan, ignoring the other drivers: the stints
    // they are available for, less the fewest of those inside any rest block (the block must fit
    // somewhere), capped by the maximum seat time (the k shortest stints must fit in it).
    int count_cap(int m) const {
        const int s_count = static_cast<int>(stints_.size());
        const auto may_take = [&](int i) {
            return driver_locked_[i] ? (drv_[i] == m ? 1 : 0) : (can_drive(m, i) ? 1 : 0);
        };
        int cap = 0;
        for (int i = 0; i < s_count; ++i) cap += may_take(i);
        if (rest_s_[m] > 0) {
            int least_inside = s_count;
            for (int i = 0; i < s_count; ++i) {
                int j = i;
                int inside = 0;
                while (j < s_count && stints_[j].end - stints_[i].start < rest_s_[m]) inside += may_take(j++);
                if (j == s_count) break;
                inside += may_take(j);
                least_inside = std::min(least_inside, inside);
            }
            cap -= std::min(cap, least_inside);
        }
        if (in_.max_seat_s) {
            std::vector<std::int64_t> lengths;
            for (const auto& st : stints_) lengths.push_back(st.seconds());
            std::sort(lengths.begin(), lengths.end());
            std::int64_t sum = 0;
            int fit = 0;
            while (fit < static_cast<int>(lengths.size()) && sum + lengths[fit] <= *in_.max_seat_s)
                sum += lengths[fit++];
            cap = std::min(cap, fit);
        }
        return cap;
    }

    // The fewest stints a declared driver must drive: the fair share and the minimum seat time
    // (no stint has more than laps_per_stint laps or lasts longer than the longest stint).
    int count_need(int m) const {
        if (!declared_[m]) return 0;
        int need = 0;
        if (in_.fair_share) need = static_cast<int>(ceil_div(fair_, laps_per_stint_));
        if (in_.min_seat_s) {
            std::int64_t longest = 1;
            for (const auto& st : stints_) longest = std::max(longest, st.seconds());
            need = std::max(need, static_cast<int>(ceil_div(*in_.min_seat_s, longest)));
        }
        return need;
    }

    // Exact test, ignoring the consecutive and rest rules and spotting (so a relaxation): can every
    // stint get one driver who may drive it (locked stints: their driver) with every counted
    // driver's count in [lo, hi] and every count within count_need/count_cap? A flow with lower
    // bounds: source -> stint (exactly 1) -> member -> sink ([lo, hi] for counted members),
    // checked as a circulation.
    bool counts_feasible(int lo, int hi) {
        const int s_count = static_cast<int>(stints_.size());
        const int m_count = static_cast<int>(in_.members.size());
        const int source = s_count + m_count, sink = source + 1, super_s = sink + 1, super_t = sink + 2;
        Flow flow(super_t + 1);
        std::vector<int> excess(super_t + 1, 0);
        const auto bounded = [&](int u, int v, int low, int high) {
            if (high > low) flow.edge(u, v, high - low);
            excess[v] += low;
            excess[u] -= low;
        };
        for (int i = 0; i < s_count; ++i) {
            bounded(source, i, 1, 1);
            if (driver_locked_[i]) {
                flow.edge(i, s_count + drv_[i], 1);
            } else {
                for (const int m : drivers_of_[i]) flow.edge(i, s_count + m, 1);
            }
        }
        for (int m = 0; m < m_count; ++m) {
            int low = 0, high = s_count;
            if (counted_[m]) {
                low = std::max(lo, need_[m]);
                high = std::min(hi, cap_[m]);
                if (low > high) return false;
            }
            bounded(s_count + m, sink, low, high);
        }
        flow.edge(sink, source, s_count);
        int needed = 0;
        for (int v = 0; v < super_s; ++v) {
            if (excess[v] > 0) {
                flow.edge(super_s, v, excess[v]);
                needed += excess[v];
            } else if (excess[v] < 0) {
                flow.edge(v, super_t, -excess[v]);
            }
        }
        return flow.run(super_s, super_t) == needed;
    }

    // The window [lo, lo + d] of driver counts with spread d that the relaxation allows, the one
    // nearest the mean count first; nullopt when none does.
    std::optional<int> window_for(int d) {
        const int s_count = static_cast<int>(stints_.size());
        if (counted_count_ == 0) return std::nullopt;
        for (int lo = s_count / counted_count_; lo >= 0; --lo) {
            if (static_cast<std::int64_t>(lo + d) * counted_count_ < s_count) break;
            if (counts_feasible(lo, lo + d)) return lo;
        }
        return std::nullopt;
    }

    // The smallest spread the relaxation allows (a lower bound on any valid plan's spread) and its
    // window; nullopt without counted drivers or when even an unbounded window fails.
    std::optional<std::pair<int, int>> spread_bound() {
        const int m_count = static_cast<int>(in_.members.size());
        need_.assign(m_count, 0);
        cap_.assign(m_count, 0);
        for (int m = 0; m < m_count; ++m) {
            need_[m] = count_need(m);
            cap_[m] = count_cap(m);
        }
        const int s_count = static_cast<int>(stints_.size());
        for (int d = 0; d <= s_count; ++d)
            if (const auto lo = window_for(d)) return std::make_pair(d, *lo);
        return std::nullopt;
    }

    // Steer the search towards counts in [lo, hi] (guide = 1000 x distance from the window + the
    // rest of the objective); lo > hi: no window (guide = total).
    void set_window(int lo, int hi) {
        win_lo_ = lo;
        win_hi_ = hi;
    }
    bool has_window() const { return win_lo_ <= win_hi_; }
    int window_spread() const { return win_hi_ - win_lo_; }

    // Greedy construction over the unlocked stints (see solver.hpp).
    void construct() {
        const int s_count = static_cast<int>(stints_.size());
        const int m_count = static_cast<int>(in_.members.size());
        std::vector<int> count(m_count, 0);
        std::vector<int> laps(m_count, 0);
        std::vector<int> spot_count(m_count, 0);
        std::vector<std::int64_t> free_from(m_count, in_.race_start);
        std::vector<char> rested(m_count, 0);
        // Stints from i on that m could drive (for fair-share urgency).
        std::vector<std::vector<int>> remaining(m_count, std::vector<int>(s_count + 1, 0));
        for (int m = 0; m < m_count; ++m)
            for (int i = s_count - 1; i >= 0; --i)
                remaining[m][i] = remaining[m][i + 1] + (can_drive(m, i) ? 1 : 0);
        const int target = counted_count_ > 0 ? static_cast<int>(ceil_div(s_count, counted_count_)) : s_count;

        const auto on_duty = [&](int m, int i) {
            const std::int64_t gap = stints_[i].start - free_from[m];
            if (rest_s_[m] > 0 && gap >= rest_s_[m]) rested[m] = 1;
            free_from[m] = stints_[i].end;
        };
        // Duty in stint i would leave m no room for their rest block.
        const auto kills_rest = [&](int m, int i) {
            if (rest_s_[m] == 0 || rested[m]) return false;
            if (stints_[i].start - free_from[m] >= rest_s_[m]) return false;
            return in_.race_end() - stints_[i].end < rest_s_[m];
        };

        int previous = kNone;
        int run = 0;
        int previous_spotter = kNone;
        for (int i = 0; i < s_count; ++i) {
            if (!driver_locked_[i]) {
                std::vector<int> options;
                for (const int m : drivers_of_[i]) {
                    if (m == previous && limit_[m] > 0 && run >= limit_[m]) continue;
                    if (kills_rest(m, i)) continue;
                    options.push_back(m);
                }
                if (options.empty()) options = drivers_of_[i];
                int best = kNone;
                std::tuple<int, int, int, int, int, int> best_key{};
                for (const int m : options) {
                    const int needed =
                        (in_.fair_share && declared_[m])
                            ? static_cast<int>(ceil_div(std::max(0, fair_ - laps[m]), laps_per_stint_))
                            : 0;
                    const int slack = remaining[m][i] - needed;
                    const bool keep = m == previous && count[m] < target;
                    const auto key = std::make_tuple(slack <= 0 ? 0 : 1, keep ? 0 : 1, count[m],
                                                     preferred_[m][i] ? 0 : 1, slack, m);
                    if (best == kNone || key < best_key) {
                        best = m;
                        best_key = key;
                    }
                }
                drv_[i] = best;
            }
            const int d = drv_[i];
            if (d != kNone) {
                run = d == previous ? run + 1 : 1;
                ++count[d];
                laps[d] += stints_[i].laps;
                on_duty(d, i);
            }
            previous = d;

            if (in_.spotters && !spotter_locked_[i]) {
                int best = kNone;
                std::tuple<int, int, int, int> best_key{};
                for (const int s : spotters_of_[i]) {
                    if (s == d) continue;
                    const auto key = std::make_tuple(kills_rest(s, i) ? 1 : 0, spot_count[s],
                                                     s == previous_spotter ? 0 : 1, s);
                    if (best == kNone || key < best_key) {
                        best = s;
                        best_key = key;
                    }
                }
                spt_[i] = best;
            }
            if (spt_[i] != kNone && spt_[i] != d) {
                ++spot_count[spt_[i]];
                on_duty(spt_[i], i);
            }
            previous_spotter = spt_[i];
        }
    }

    // A fast mirror of validate() (penalty, graded so the search can walk towards 0) plus score().
    Cost evaluate(const std::vector<int>& drv, const std::vector<int>& spt) {
        const int s_count = static_cast<int>(stints_.size());
        const int m_count = static_cast<int>(in_.members.size());
        count_.assign(m_count, 0);
        laps_.assign(m_count, 0);
        seat_.assign(m_count, 0);
        spot_.assign(m_count, 0);
        free_from_.assign(m_count, in_.race_start);
        longest_.assign(m_count, 0);
        duty_.assign(m_count, 0);
        Cost c;
        int changes = 0;
        int bonus = 0;
        int spotter_changes = 0;
        int run = 0;
        for (int i = 0; i < s_count; ++i) {
            const Stint& st = stints_[i];
            const int d = drv[i];
            if (d == kNone) {
                c.penalty += 10;
                run = 0;
            } else {
                if (!may_drive_[d] || !avail_[d][i]) c.penalty += 10;
                ++count_[d];
                laps_[d] += st.laps;
                seat_[d] += st.seconds();
                if (preferred_[d][i]) ++bonus;
                if (i > 0 && drv[i - 1] != d) ++changes;
                run = (i > 0 && drv[i - 1] == d) ? run + 1 : 1;
                if (limit_[d] > 0 && run > limit_[d]) c.penalty += 1;
                longest_[d] = std::max(longest_[d], st.start - free_from_[d]);
                free_from_[d] = st.end;
                duty_[d] = 1;
            }
            const int s = spt[i];
            if (in_.spotters && s == kNone) c.penalty += 10;
            if (s != kNone) {
                if (s == d) {
                    c.penalty += 1;
                } else {
                    if (!in_.members[s].is_spotter || !avail_[s][i]) c.penalty += 10;
                    ++spot_[s];
                    longest_[s] = std::max(longest_[s], st.start - free_from_[s]);
                    free_from_[s] = st.end;
                    duty_[s] = 1;
                }
                if (i > 0 && spt[i - 1] != s) ++spotter_changes;
            }
        }
        if (pinned_ != kNone && s_count > 0 && drv[0] != pinned_) c.penalty += 1;
        int lo = std::numeric_limits<int>::max();
        int hi = std::numeric_limits<int>::min();
        int dev = 0;
        std::int64_t spot_squares = 0;
        for (int m = 0; m < m_count; ++m) {
            if (duty_[m] && rest_s_[m] > 0) {
                const std::int64_t longest = std::max(longest_[m], in_.race_end() - free_from_[m]);
                if (longest < rest_s_[m]) c.penalty += 1 + ceil_div(rest_s_[m] - longest, kHourSeconds);
            }
            if (declared_[m]) {
                if (in_.fair_share && laps_[m] < fair_)
                    c.penalty += 1 + ceil_div(fair_ - laps_[m], laps_per_stint_);
                if (in_.min_seat_s && seat_[m] < *in_.min_seat_s)
                    c.penalty += 1 + ceil_div(*in_.min_seat_s - seat_[m], full_stint_s_);
            }
            if (in_.max_seat_s && seat_[m] > *in_.max_seat_s)
                c.penalty += 1 + ceil_div(seat_[m] - *in_.max_seat_s, full_stint_s_);
            if (counted_[m]) {
                lo = std::min(lo, count_[m]);
                hi = std::max(hi, count_[m]);
                if (has_window()) dev += std::max(0, count_[m] - win_hi_) + std::max(0, win_lo_ - count_[m]);
            }
            spot_squares += static_cast<std::int64_t>(spot_[m]) * spot_[m];
        }
        const int spread = counted_count_ > 0 ? hi - lo : 0;
        c.total = 1000LL * spread + 100LL * changes - bonus;
        c.secondary = spot_squares + 10LL * spotter_changes;
        c.spread = spread;
        c.guide = has_window() ? 1000LL * dev + 100LL * changes - bonus : c.total;
        return c;
    }

    // Late-acceptance hill climbing steered by the guide (see set_window); keeps the best valid
    // (penalty 0) plan by the true objective. `phase_stall` iterations without a better guided state:
    // when no valid plan has reached the window's spread, the window widens by one stint (the
    // relaxation's bound was not reachable under the rules the relaxation ignores); otherwise stop.
    void improve(std::int64_t iteration_budget, std::int64_t phase_stall, std::uint64_t seed,
                 std::chrono::steady_clock::time_point deadline, SolveStats& stats) {
        const int s_count = static_cast<int>(stints_.size());
        std::vector<int> free_drivers;
        std::vector<int> free_spotters;
        for (int i = 0; i < s_count; ++i) {
            if (!driver_locked_[i] && drivers_of_[i].size() > 0) free_drivers.push_back(i);
            if (in_.spotters && !spotter_locked_[i] && !spotters_of_[i].empty()) free_spotters.push_back(i);
        }
        Rng rng(seed);
        Cost current = evaluate(drv_, spt_);
        best_any_ = {drv_, spt_, current};
        guided_ = best_any_;
        if (current.penalty == 0) {
            best_valid_ = best_any_;
            stats.construction_valid = true;
        }
        constexpr int kHistory = 64;
        using Key = std::pair<std::int64_t, std::int64_t>;
        std::vector<Key> history(kHistory, accept_key(current));
        std::vector<int> keep_drv = drv_;
        std::vector<int> keep_spt = spt_;
        const auto guided_key = [](const Cost& c) { return std::make_pair(c.penalty > 0, accept_key(c)); };
        const auto window_reached = [&] {
            return best_valid_ && best_valid_->cost.spread <= window_spread();
        };
        // No better guided state for `restart_window` iterations: restart from the best guided state
        // with a kick of random moves.
        const std::int64_t restart_after = restart_window(s_count);
        std::int64_t since_best = 0;
        std::int64_t since_restart = 0;
        std::int64_t it = 0;
        for (; it < iteration_budget; ++it) {
            if ((it & 1023) == 0 && it > 0 && std::chrono::steady_clock::now() > deadline) {
                stats.stopped_by_clock = true;
                break;
            }
            if (free_drivers.empty() && free_spotters.empty()) break;
            if (since_best >= phase_stall) {
                if (!has_window() || window_reached()) break;
                const int d = window_spread() + 1;
                const auto lo = window_for(d);
                if (lo) {
                    set_window(*lo, *lo + d);
                } else {
                    set_window(1, 0);
                }
                ++stats.windows_widened;
                drv_ = guided_.drv;
                spt_ = guided_.spt;
                current = evaluate(drv_, spt_);
                guided_.cost = current;
                std::fill(history.begin(), history.end(), accept_key(current));
                since_best = 0;
                since_restart = 0;
            }
            if (since_restart >= restart_after) {
                drv_ = guided_.drv;
                spt_ = guided_.spt;
                const int kick = 2 + rng.below(std::max(1, s_count / 4));
                for (int k = 0; k < kick; ++k) (void)propose(rng, free_drivers, free_spotters);
                current = evaluate(drv_, spt_);
                std::fill(history.begin(), history.end(), accept_key(current));
                since_restart = 0;
                ++stats.restarts;
            }
            keep_drv = drv_;
            keep_spt = spt_;
            ++since_best;
            ++since_restart;
            if (!propose(rng, free_drivers, free_spotters)) continue;
            const Cost next = evaluate(drv_, spt_);
            const int v = static_cast<int>(it % kHistory);
            const Key next_key = accept_key(next);
            if (next_key <= accept_key(current) || next_key < history[v]) {
                current = next;
            } else {
                drv_ = keep_drv;
                spt_ = keep_spt;
            }
            history[v] = accept_key(current);
            if (current < best_any_.cost) best_any_ = {drv_, spt_, current};
            if (guided_key(current) < guided_key(guided_.cost)) {
                guided_ = {drv_, spt_, current};
                since_best = 0;
                since_restart = 0;
            }
            if (current.penalty == 0 && (!best_valid_ || current < best_valid_->cost)) {
                best_valid_ = State{drv_, spt_, current};
                ++stats.improvements;
                since_best = 0;
                since_restart = 0;
            }
        }
        stats.iterations = it;
    }

    struct State {
        std::vector<int> drv;
        std::vector<int> spt;
        Cost cost;
    };

    Plan to_plan(const State& state) const {
        Plan plan;
        plan.stints = stints_;
        for (std::size_t i = 0; i < stints_.size(); ++i) {
            Assignment a;
            a.stint = stints_[i].index;
            a.driver = state.drv[i] == kNone ? 0 : in_.members[state.drv[i]].id;
            if (state.spt[i] != kNone) a.spotter = in_.members[state.spt[i]].id;
            plan.assignments.push_back(a);
        }
        return plan;
    }

    const std::optional<State>& best_valid() const { return best_valid_; }
    const State& best_any() const { return best_any_; }

  private:
    // Applies one random move to drv_/spt_ (the caller keeps the previous state). false: no move.
    bool propose(Rng& rng, const std::vector<int>& free_drivers, const std::vector<int>& free_spotters) {
        const int kind = rng.below(12);
        if ((kind >= 10 || free_drivers.empty()) && !free_spotters.empty()) {
            const int i = free_spotters[rng.below(static_cast<int>(free_spotters.size()))];
            const auto& options = spotters_of_[i];
            const int s = options[rng.below(static_cast<int>(options.size()))];
            if (s == spt_[i] || s == drv_[i]) return false;
            spt_[i] = s;
            return true;
        }
        if (free_drivers.empty()) return false;
        const int s_count = static_cast<int>(stints_.size());
        const int i = free_drivers[rng.below(static_cast<int>(free_drivers.size()))];
        if (kind < 3) {  // one stint to another driver
            const auto& options = drivers_of_[i];
            const int d = options[rng.below(static_cast<int>(options.size()))];
            if (d == drv_[i]) return false;
            set_driver(rng, i, d);
            return true;
        }
        if (kind < 5) {  // swap two stints' drivers
            const int j = free_drivers[rng.below(static_cast<int>(free_drivers.size()))];
            const int a = drv_[i];
            const int b = drv_[j];
            if (a == b || a == kNone || b == kNone || !can_drive(b, i) || !can_drive(a, j)) return false;
            set_driver(rng, i, b);
            set_driver(rng, j, a);
            return true;
        }
        if (kind < 6) {  // a neighbour's driver takes this stint (shifts a run boundary)
            const int n = rng.below(2) == 0 ? i - 1 : i + 1;
            if (n < 0 || n >= s_count) return false;
            const int d = drv_[n];
            if (d == kNone || d == drv_[i] || !can_drive(d, i)) return false;
            set_driver(rng, i, d);
            return true;
        }
        if (kind <
            8) {  // a block of 2..5 stints from i to one driver (stops at a locked or unavailable stint)
            const auto& options = drivers_of_[i];
            const int d = options[rng.below(static_cast<int>(options.size()))];
            const int length = 2 + rng.below(4);
            bool changed = false;
            for (int k = i; k < i + length && k < s_count; ++k) {
                if (driver_locked_[k] || !can_drive(d, k)) break;
                if (drv_[k] != d) {
                    set_driver(rng, k, d);
                    changed = true;
                }
            }
            return changed;
        }
        if (kind < 9) {  // swap the drivers of two whole runs (counts move by the length difference)
            const int j = free_drivers[rng.below(static_cast<int>(free_drivers.size()))];
            const int a = drv_[i];
            const int b = drv_[j];
            if (a == b || a == kNone || b == kNone) return false;
            const auto [ai, aj] = run_of(i);
            const auto [bi, bj] = run_of(j);
            for (int k = ai; k <= aj; ++k)
                if (!can_drive(b, k)) return false;
            for (int k = bi; k <= bj; ++k)
                if (!can_drive(a, k)) return false;
            for (int k = ai; k <= aj; ++k) set_driver(rng, k, b);
            for (int k = bi; k <= bj; ++k) set_driver(rng, k, a);
            return true;
        }
        // Balance: stint i from its driver to one with at least two stints fewer (the spread's
        // only strictly improving single-stint step; chains of them move a stint between any two).
        const int a = drv_[i];
        if (a == kNone) return false;
        const auto& options = drivers_of_[i];
        const int start = rng.below(static_cast<int>(options.size()));
        int a_count = 0;
        for (int k = 0; k < s_count; ++k) a_count += drv_[k] == a ? 1 : 0;
        for (std::size_t n = 0; n < options.size(); ++n) {
            const int d = options[(start + n) % options.size()];
            if (d == a) continue;
            int d_count = 0;
            for (int k = 0; k < s_count; ++k) d_count += drv_[k] == d ? 1 : 0;
            if (d_count + 2 > a_count) continue;
            set_driver(rng, i, d);
            return true;
        }
        return false;
    }

    // The run of stint i: the unlocked stints around i with the same driver, [first, last].
    std::pair<int, int> run_of(int i) const {
        int first = i, last = i;
        while (first > 0 && !driver_locked_[first - 1] && drv_[first - 1] == drv_[i]) --first;
        while (last + 1 < static_cast<int>(stints_.size()) && !driver_locked_[last + 1] &&
               drv_[last + 1] == drv_[i])
            ++last;
        return {first, last};
    }

    // Sets the driver of stint i; a free spotter who would now spot their own stint is replaced.
    void set_driver(Rng& rng, int i, int d) {
        const int old = drv_[i];
        drv_[i] = d;
        if (!in_.spotters || spotter_locked_[i] || spt_[i] != d) return;
        const auto& options = spotters_of_[i];
        if (old != kNone && std::find(options.begin(), options.end(), old) != options.end()) {
            spt_[i] = old;  // the two trade places
            return;
        }
        if (options.size() < 2) return;
        int s = options[rng.below(static_cast<int>(options.size()))];
        if (s == d)
            s = options[(std::find(options.begin(), options.end(), s) - options.begin() + 1) %
                        options.size()];
        spt_[i] = s;
    }

    const PlanInput& in_;
    const std::vector<Stint>& stints_;
    int laps_per_stint_;
    std::int64_t full_stint_s_;
    std::map<MemberId, int> index_of_;
    std::vector<bool> may_drive_, counted_, declared_;
    std::vector<int> limit_;
    std::vector<std::int64_t> rest_s_;
    std::vector<std::vector<char>> avail_, preferred_;
    std::vector<std::vector<int>> drivers_of_, spotters_of_;
    int pinned_ = kNone;
    int team_laps_ = 0;
    int fair_ = 0;
    int counted_count_ = 0;
    std::vector<int> drv_, spt_;
    std::vector<char> driver_locked_, spotter_locked_;
    std::vector<int> need_, cap_;  // per member: count_need, count_cap
    int win_lo_ = 1, win_hi_ = 0;  // the target window of driver counts (none while lo > hi)
    // evaluate() scratch
    std::vector<int> count_, laps_, spot_;
    std::vector<std::int64_t> seat_, free_from_, longest_;
    std::vector<char> duty_;
    State best_any_;
    State guided_;  // the best state by (penalty > 0, accept_key): where restarts start
    std::optional<State> best_valid_;
};

Error violations_error(const std::vector<Violation>& violations, const char* stage) {
    const Violation& first = violations.front();
    Error e(ErrorKind::invalid_input, first.code, first.args);
    e.args.emplace_back("stage", stage);
    e.args.emplace_back("violations", std::to_string(violations.size()));
    for (std::size_t n = 0; n < violations.size(); ++n) {
        const Violation& v = violations[n];
        const std::string prefix = "v" + std::to_string(n + 1) + "_";
        e.args.emplace_back(prefix + "code", v.code);
        if (v.member) e.args.emplace_back(prefix + "member", std::to_string(*v.member));
        if (v.stint) e.args.emplace_back(prefix + "at", std::to_string(*v.stint));
        for (const auto& [k, value] : v.args) e.args.emplace_back(prefix + k, value);
    }
    e.detail = std::string("planner solve failed at ") + stage + ": " + first.code;
    return e;
}

}  // namespace

std::vector<Violation> violations_of(const Error& error) {
    std::vector<Violation> out;
    const std::string count = error.arg("violations");
    if (count.empty()) return out;
    const int n = std::stoi(count);
    for (int k = 1; k <= n; ++k) {
        const std::string prefix = "v" + std::to_string(k) + "_";
        Violation v;
        v.code = error.arg(prefix + "code");
        for (const Rule r : all_rules())
            if (rule_code(r) == v.code) v.rule = r;
        for (const auto& [key, value] : error.args) {
            if (!key.starts_with(prefix)) continue;
            const std::string name = key.substr(prefix.size());
            if (name == "code") continue;
            if (name == "member") {
                v.member = std::stoll(value);
            } else if (name == "at") {
                v.stint = std::stoi(value);
            } else {
                v.args.emplace_back(name, value);
            }
        }
        out.push_back(std::move(v));
    }
    return out;
}

std::vector<Assignment> lock_before(const Plan& driven, int from_stint) {
    std::vector<Assignment> locked;
    for (const auto& a : driven.assignments)
        if (a.stint < from_stint) locked.push_back(a);
    return locked;
}

Result<SolveResult> solve(const PlanInput& input, const SolveOptions& options) {
    const auto started = std::chrono::steady_clock::now();
    auto pre = feasibility(input);
    if (!pre) return std::move(pre).error();
    if (!pre->empty()) return violations_error(*pre, "feasibility");

    auto table = derive_stints(input);
    if (!table) return std::move(table).error();
    const auto& stints = table->stints;

    Search search(input, stints, table->laps_per_stint, table->full_stint_s);
    for (const auto& a : options.locked) {
        if (a.stint < 0 || a.stint >= static_cast<int>(stints.size()))
            return Error(ErrorKind::invalid_input, "planner.unknown_stint",
                         {{"stint", std::to_string(a.stint + 1)}});
        const auto driver = search.member_index(a.driver);
        if (!driver)
            return Error(ErrorKind::invalid_input, "planner.unknown_member",
                         {{"id", std::to_string(a.driver)}, {"stint", std::to_string(a.stint + 1)}});
        std::optional<int> spotter;
        if (a.spotter) {
            spotter = search.member_index(*a.spotter);
            if (!spotter)
                return Error(ErrorKind::invalid_input, "planner.unknown_member",
                             {{"id", std::to_string(*a.spotter)}, {"stint", std::to_string(a.stint + 1)}});
        }
        search.lock(a.stint, *driver, spotter);
    }

    SolveResult result;
    const std::int64_t budget_ms = std::max<std::int64_t>(1, options.time_budget_ms);
    result.stats.iteration_budget = budget_ms * kIterationsPerMs;
    // A phase ends after this many iterations without a better guided state: a fifth of the budget,
    // at least two restart windows.
    const std::int64_t stall = std::max<std::int64_t>(result.stats.iteration_budget / 5,
                                                      2 * restart_window(static_cast<int>(stints.size())));
    search.construct();
    if (const auto bound = search.spread_bound()) {
        result.stats.spread_bound = bound->first;
        search.set_window(bound->second, bound->second + bound->first);
    }
    search.improve(result.stats.iteration_budget, stall, options.seed,
                   started + std::chrono::milliseconds(2 * budget_ms), result.stats);

    const auto elapsed = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                     started)
            .count();
    };
    if (!search.best_valid()) {
        const Plan best = search.to_plan(search.best_any());
        auto violations = validate(input, best);
        if (violations.empty())  // cannot happen while evaluate() mirrors validate(); never hide a failure
            violations.push_back(
                Violation{Rule::no_driver, std::nullopt, std::nullopt, rule_code(Rule::no_driver), {}});
        return violations_error(violations, "search");
    }
    result.plan = search.to_plan(*search.best_valid());
    const auto violations = validate(input, result.plan);
    if (!violations.empty()) return violations_error(violations, "search");
    result.score = score(input, result.plan);
    result.stats.elapsed_ms = elapsed();
    return result;
}

}  // namespace pitwall::planner
