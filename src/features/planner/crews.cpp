#include "features/planner/crews.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <tuple>

namespace pitwall::planner {

namespace {

using Args = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kCodeNames[] = {
    "bad_window",         "bad_sizes",
    "bad_count",          "duplicate",
    "too_few_drivers",    "hour_short",
    "hour_unsplittable",  "no_role",
    "not_verified",       "irating_below",
    "irating_above",      "no_room",
    "spotter_hour_short", "spotter_hour_unsplittable",
};

std::string code(const char* name) {
    return std::string("planner.crew_") + name;
}

std::int64_t floor_hour(std::int64_t t) {
    return t - (((t % kHourSeconds) + kHourSeconds) % kHourSeconds);
}

std::string clock_utc(std::int64_t t) {
    const std::int64_t s = ((t % 86400) + 86400) % 86400;
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(s / 3600), static_cast<int>(s % 3600 / 60));
    return buf;
}

CrewIssue issue(const char* name, std::optional<MemberId> member, Args args) {
    return CrewIssue{code(name), member, std::move(args)};
}

// "from", "to" (HH:MM UTC) and "hour" (1-based race hour) of race hour `h`.
Args hour_args(const std::vector<std::int64_t>& hours, std::size_t h) {
    return {{"from", clock_utc(hours[h])},
            {"to", clock_utc(hours[h] + kHourSeconds)},
            {"hour", std::to_string(h + 1)}};
}

// Everything the solver needs from the input, and every obstacle found on the way.
struct Analysis {
    std::vector<std::int64_t> hours;
    std::vector<int> drivers;   // pool indices of the eligible drivers
    std::vector<int> spotters;  // pool indices of the spotter-only seats
    std::vector<CrewIssue> unassigned;
    std::vector<CrewIssue> spotter_only;
    std::vector<std::uint8_t> avail;  // drivers.size() x hours.size()
    std::vector<int> available;       // per hour, eligible drivers available
    int crews = 0;
    std::vector<CrewIssue> issues;  // infeasibility
};

Analysis analyse(const CrewInput& in) {
    Analysis a;
    const int k = std::max(0, in.min_drivers_per_hour);
    if (in.duration_s <= 0) a.issues.push_back(issue("bad_window", std::nullopt, {}));
    if (in.min_drivers < 1 || in.max_drivers < in.min_drivers || k > in.max_drivers)
        a.issues.push_back(issue("bad_sizes", std::nullopt,
                                 {{"min", std::to_string(in.min_drivers)},
                                  {"max", std::to_string(in.max_drivers)},
                                  {"per_hour", std::to_string(k)}}));
    if (in.crews && *in.crews < 1)
        a.issues.push_back(issue("bad_count", std::nullopt, {{"crews", std::to_string(*in.crews)}}));
    std::set<MemberId> seen;
    for (const auto& m : in.pool)
        if (!seen.insert(m.id).second)
            a.issues.push_back(issue("duplicate", m.id, {{"name", m.name}, {"id", std::to_string(m.id)}}));
    if (!a.issues.empty()) return a;

    a.hours = in.hours();
    for (int i = 0; i < static_cast<int>(in.pool.size()); ++i) {
        const PoolMember& m = in.pool[static_cast<std::size_t>(i)];
        if (!m.is_driver && !m.is_spotter) {
            a.unassigned.push_back(issue("no_role", m.id, {{"name", m.name}}));
            continue;
        }
        if (!m.is_driver) {
            a.spotters.push_back(i);
            continue;
        }
        std::optional<CrewIssue> reason;
        if (!m.verified())
            reason = issue("not_verified", m.id, {{"name", m.name}, {"car", in.car_id}});
        else if (in.irating_min && m.irating < *in.irating_min)
            reason = issue("irating_below", m.id,
                           {{"name", m.name},
                            {"irating", std::to_string(m.irating)},
                            {"min", std::to_string(*in.irating_min)}});
        else if (in.irating_max && m.irating > *in.irating_max)
            reason = issue("irating_above", m.id,
                           {{"name", m.name},
                            {"irating", std::to_string(m.irating)},
                            {"max", std::to_string(*in.irating_max)}});
        if (!reason) {
            a.drivers.push_back(i);
        } else if (m.is_spotter) {
            a.spotter_only.push_back(std::move(*reason));
            a.spotters.push_back(i);
        } else {
            a.unassigned.push_back(std::move(*reason));
        }
    }

    const std::size_t H = a.hours.size();
    a.avail.assign(a.drivers.size() * H, 0);
    a.available.assign(H, 0);
    for (std::size_t d = 0; d < a.drivers.size(); ++d)
        for (std::size_t h = 0; h < H; ++h)
            if (in.pool[static_cast<std::size_t>(a.drivers[d])].available_at(a.hours[h])) {
                a.avail[d * H + h] = 1;
                ++a.available[h];
            }

    const int E = static_cast<int>(a.drivers.size());
    int K = 0;
    if (in.crews) {
        K = *in.crews;
    } else {
        K = E / in.min_drivers;
        if (k > 0)
            for (std::size_t h = 0; h < H; ++h) K = std::min(K, a.available[h] / k);
        K = std::max(K, 1);  // report why not even one crew fits
    }
    if (E < K * in.min_drivers)
        a.issues.push_back(issue("too_few_drivers", std::nullopt,
                                 {{"crews", std::to_string(K)},
                                  {"min", std::to_string(in.min_drivers)},
                                  {"needed", std::to_string(K * in.min_drivers)},
                                  {"eligible", std::to_string(E)}}));
    for (std::size_t h = 0; h < H; ++h)
        if (a.available[h] < K * k) {
            Args args = hour_args(a.hours, h);
            args.emplace_back("available", std::to_string(a.available[h]));
            args.emplace_back("crews", std::to_string(K));
            args.emplace_back("needed", std::to_string(K * k));
            a.issues.push_back(issue("hour_short", std::nullopt, std::move(args)));
        }
    if (in.spotting) {
        // Every crew needs an available spotter in every hour: seated drivers who spot and the
        // spotter seats are all there are.
        for (std::size_t h = 0; h < H; ++h) {
            int spotters = 0;
            for (const int i : a.drivers)
                spotters += in.pool[static_cast<std::size_t>(i)].is_spotter &&
                                    in.pool[static_cast<std::size_t>(i)].available_at(a.hours[h])
                                ? 1
                                : 0;
            for (const int i : a.spotters)
                spotters += in.pool[static_cast<std::size_t>(i)].available_at(a.hours[h]) ? 1 : 0;
            if (spotters < K) {
                Args args = hour_args(a.hours, h);
                args.emplace_back("available", std::to_string(spotters));
                args.emplace_back("crews", std::to_string(K));
                args.emplace_back("needed", std::to_string(K));
                a.issues.push_back(issue("spotter_hour_short", std::nullopt, std::move(args)));
            }
        }
    }
    a.crews = K;
    return a;
}

// The local search's state: drivers (indices into Analysis::drivers) over crews 0..K-1 and a bench
// (crew K) for those left out when the crews are full.
class Search {
  public:
    Search(const CrewInput& in, const Analysis& a)
        : in_(in),
          a_(a),
          K_(a.crews),
          H_(static_cast<int>(a.hours.size())),
          n_(static_cast<int>(a.drivers.size())),
          k_(std::max(0, in.min_drivers_per_hour)) {
        rating_.resize(static_cast<std::size_t>(n_));
        volunteer_.resize(static_cast<std::size_t>(n_));
        std::map<MemberId, int> index;
        for (int d = 0; d < n_; ++d) {
            const PoolMember& m = member(d);
            rating_[static_cast<std::size_t>(d)] = m.irating;
            volunteer_[static_cast<std::size_t>(d)] = m.captain_volunteer ? 1 : 0;
            volunteers_ += m.captain_volunteer ? 1 : 0;
            index[m.id] = d;
        }
        std::set<std::pair<int, int>> pairs;
        for (int d = 0; d < n_; ++d)
            for (MemberId t : member(d).teammates) {
                const auto it = index.find(t);
                if (it == index.end() || it->second == d) continue;
                pairs.insert({std::min(d, it->second), std::max(d, it->second)});
            }
        pairs_.assign(pairs.begin(), pairs.end());
        // The fair share of each hour's available drivers: what "covering the clock" aims at.
        target_.resize(static_cast<std::size_t>(H_));
        for (int h = 0; h < H_; ++h)
            target_[static_cast<std::size_t>(h)] = a.available[static_cast<std::size_t>(h)] / K_;
        crew_of_.assign(static_cast<std::size_t>(n_), K_);
        size_.assign(static_cast<std::size_t>(K_ + 1), 0);
        sum_.assign(static_cast<std::size_t>(K_ + 1), 0);
        vol_.assign(static_cast<std::size_t>(K_ + 1), 0);
        cov_.assign(static_cast<std::size_t>((K_ + 1) * H_), 0);
        // Spotting: spotter coverage per crew and hour from seated drivers who spot and from the
        // spotter seats (items 0..spotters-1, always in a real crew once placed).
        spotting_ = in.spotting;
        ns_ = static_cast<int>(a.spotters.size());
        spot_cov_.assign(static_cast<std::size_t>((K_ + 1) * H_), 0);
        seat_of_.assign(static_cast<std::size_t>(ns_), -1);
    }

    int spotter_seats() const { return ns_; }
    int seat_of(int j) const { return seat_of_[static_cast<std::size_t>(j)]; }
    int spotter_coverage(int c, int h) const { return spot_cov_[static_cast<std::size_t>(c * H_ + h)]; }
    bool spotting() const { return spotting_; }

    // Spotter seat j (index into Analysis::spotters) to crew c (< K).
    void seat_spotter(int j, int c) {
        const int old = seat_of(j);
        if (old == c) return;
        const PoolMember& m = in_.pool[static_cast<std::size_t>(a_.spotters[static_cast<std::size_t>(j)])];
        for (int h = 0; h < H_; ++h) {
            if (!m.available_at(a_.hours[static_cast<std::size_t>(h)])) continue;
            if (old >= 0) --spot_cov_[static_cast<std::size_t>(old * H_ + h)];
            ++spot_cov_[static_cast<std::size_t>(c * H_ + h)];
        }
        seat_of_[static_cast<std::size_t>(j)] = c;
    }

    // Crew-hours without an available spotter (0 with spotting off).
    int spotter_gaps() const {
        if (!spotting_) return 0;
        int gaps = 0;
        for (int c = 0; c < K_; ++c)
            for (int h = 0; h < H_; ++h) gaps += spotter_coverage(c, h) == 0 ? 1 : 0;
        return gaps;
    }

    const PoolMember& member(int d) const {
        return in_.pool[static_cast<std::size_t>(a_.drivers[static_cast<std::size_t>(d)])];
    }
    int crew_of(int d) const { return crew_of_[static_cast<std::size_t>(d)]; }
    int coverage(int c, int h) const { return cov_[static_cast<std::size_t>(c * H_ + h)]; }
    int K() const { return K_; }
    int n() const { return n_; }

    void place(int d, int c) {
        const int old = crew_of(d);
        if (old == c) return;
        update(d, old, -1);
        crew_of_[static_cast<std::size_t>(d)] = c;
        update(d, c, +1);
    }

    // Hard deficits: missing driver-hours and size breaches over the real crews.
    int hard() const {
        int hard = 0;
        for (int c = 0; c < K_; ++c) {
            for (int h = 0; h < H_; ++h) hard += std::max(0, k_ - coverage(c, h));
            const int s = size_[static_cast<std::size_t>(c)];
            hard += std::max(0, in_.min_drivers - s) + std::max(0, s - in_.max_drivers);
        }
        return hard + spotter_gaps();
    }

    double score() const {
        int thin = 0;  // driver-hours under each hour's fair share
        for (int c = 0; c < K_; ++c)
            for (int h = 0; h < H_; ++h)
                thin += std::max(0, target_[static_cast<std::size_t>(h)] - coverage(c, h));
        std::vector<double> avg(static_cast<std::size_t>(K_), 0.0);
        for (int c = 0; c < K_; ++c)
            if (size_[static_cast<std::size_t>(c)] > 0)
                avg[static_cast<std::size_t>(c)] = static_cast<double>(sum_[static_cast<std::size_t>(c)]) /
                                                   size_[static_cast<std::size_t>(c)];
        double rating_term = 0;
        if (in_.mode == BalanceMode::balanced) {
            rating_term =
                *std::max_element(avg.begin(), avg.end()) - *std::min_element(avg.begin(), avg.end());
        } else {
            // Tiers: averages descending, and little overlap between neighbouring crews.
            std::vector<int> lo(static_cast<std::size_t>(K_), std::numeric_limits<int>::max());
            std::vector<int> hi(static_cast<std::size_t>(K_), std::numeric_limits<int>::min());
            for (int d = 0; d < n_; ++d) {
                const int c = crew_of(d);
                if (c >= K_) continue;
                lo[static_cast<std::size_t>(c)] =
                    std::min(lo[static_cast<std::size_t>(c)], rating_[static_cast<std::size_t>(d)]);
                hi[static_cast<std::size_t>(c)] =
                    std::max(hi[static_cast<std::size_t>(c)], rating_[static_cast<std::size_t>(d)]);
            }
            for (int c = 0; c + 1 < K_; ++c) {
                const auto i = static_cast<std::size_t>(c);
                rating_term += 10.0 * std::max(0.0, avg[i + 1] - avg[i]);
                if (size_[i] > 0 && size_[i + 1] > 0) rating_term += std::max(0, hi[i + 1] - lo[i]);
            }
        }
        int together = 0;
        for (const auto& [x, y] : pairs_)
            if (crew_of(x) == crew_of(y) && crew_of(x) < K_) ++together;
        int with_volunteer = 0;
        for (int c = 0; c < K_; ++c) with_volunteer += vol_[static_cast<std::size_t>(c)] > 0 ? 1 : 0;
        const int no_volunteer = std::min(K_, volunteers_) - with_volunteer;
        return 1e6 * hard() + 1e4 * size_[static_cast<std::size_t>(K_)] + rating_term + 20.0 * thin -
               40.0 * together + 300.0 * no_volunteer;
    }

    bool can_move(int d, int to) const {
        const int from = crew_of(d);
        if (from == to) return false;
        if (from < K_ && size_[static_cast<std::size_t>(from)] - 1 < in_.min_drivers) return false;
        if (to < K_ && size_[static_cast<std::size_t>(to)] + 1 > in_.max_drivers) return false;
        return true;
    }

    int pair_count() const { return static_cast<int>(pairs_.size()); }
    int pairs_together() const {
        int together = 0;
        for (const auto& [x, y] : pairs_)
            if (crew_of(x) == crew_of(y) && crew_of(x) < K_) ++together;
        return together;
    }

  private:
    void update(int d, int c, int sign) {
        const auto ci = static_cast<std::size_t>(c);
        size_[ci] += sign;
        sum_[ci] += sign * rating_[static_cast<std::size_t>(d)];
        vol_[ci] += sign * volunteer_[static_cast<std::size_t>(d)];
        const bool spots = spotting_ && member(d).is_spotter;
        for (int h = 0; h < H_; ++h)
            if (a_.avail[static_cast<std::size_t>(d * H_ + h)]) {
                cov_[static_cast<std::size_t>(c * H_ + h)] += sign;
                if (spots) spot_cov_[static_cast<std::size_t>(c * H_ + h)] += sign;
            }
    }

    const CrewInput& in_;
    const Analysis& a_;
    int K_, H_, n_, k_;
    int volunteers_ = 0;
    std::vector<int> rating_, volunteer_, target_;
    std::vector<std::pair<int, int>> pairs_;
    std::vector<int> crew_of_, size_, sum_, vol_, cov_;
    bool spotting_ = false;
    int ns_ = 0;
    std::vector<int> spot_cov_, seat_of_;
};

// Fisher-Yates with a fixed formula, so the order is the same with every standard library.
template <typename T>
void shuffle(std::vector<T>& v, std::mt19937_64& rng) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}

// First-improvement hill climbing over moves (incl. to and from the bench) and swaps; returns the
// number of improving steps.
int climb(Search& s, std::mt19937_64& rng, int passes, double& current) {
    int steps = 0;
    bool improved = false;
    // A move has been made: keep it when it improves the score, or undo it.
    const auto keep_if_better = [&](const auto& undo) {
        const double next = s.score();
        if (next < current - 1e-9) {
            current = next;
            improved = true;
            ++steps;
            return true;
        }
        undo();
        return false;
    };
    std::vector<int> order(static_cast<std::size_t>(s.n()));
    for (int d = 0; d < s.n(); ++d) order[static_cast<std::size_t>(d)] = d;
    for (int pass = 0; pass < passes; ++pass) {
        improved = false;
        shuffle(order, rng);
        for (int d : order) {
            for (int c = 0; c <= s.K(); ++c) {
                if (!s.can_move(d, c)) continue;
                const int from = s.crew_of(d);
                s.place(d, c);
                if (keep_if_better([&] { s.place(d, from); })) break;
            }
        }
        for (std::size_t i = 0; i < order.size(); ++i)
            for (std::size_t j = i + 1; j < order.size(); ++j) {
                const int x = order[i], y = order[j];
                const int cx = s.crew_of(x), cy = s.crew_of(y);
                if (cx == cy) continue;
                s.place(x, cy);
                s.place(y, cx);
                (void)keep_if_better([&] {
                    s.place(x, cx);
                    s.place(y, cy);
                });
            }
        // Spotting: spotter seats to another crew, and two seats in different crews swapped.
        for (int j = 0; s.spotting() && j < s.spotter_seats(); ++j) {
            const int from = s.seat_of(j);
            for (int c = 0; c < s.K(); ++c) {
                if (c == from) continue;
                s.seat_spotter(j, c);
                if (keep_if_better([&] { s.seat_spotter(j, from); })) break;
            }
        }
        for (int x = 0; s.spotting() && x < s.spotter_seats(); ++x)
            for (int y = x + 1; y < s.spotter_seats(); ++y) {
                const int cx = s.seat_of(x), cy = s.seat_of(y);
                if (cx == cy) continue;
                s.seat_spotter(x, cy);
                s.seat_spotter(y, cx);
                (void)keep_if_better([&] {
                    s.seat_spotter(x, cx);
                    s.seat_spotter(y, cy);
                });
            }
        if (!improved) break;
    }
    return steps;
}

}  // namespace

bool PoolMember::available_at(std::int64_t hour_start) const {
    const auto it = availability.find(floor_hour(hour_start));
    return it != availability.end() && it->second != Availability::unavailable;
}

const PoolMember* CrewInput::member(MemberId id) const {
    for (const auto& m : pool)
        if (m.id == id) return &m;
    return nullptr;
}

std::vector<std::int64_t> CrewInput::hours() const {
    std::vector<std::int64_t> out;
    for (std::int64_t h = floor_hour(race_start); h < race_start + duration_s; h += kHourSeconds)
        out.push_back(h);
    return out;
}

std::string CrewIssue::arg(std::string_view name) const {
    for (const auto& [k, v] : args)
        if (k == name) return v;
    return {};
}

Error CrewIssue::to_error() const {
    return Error(ErrorKind::invalid_input, code, args);
}

std::vector<std::string> crew_codes() {
    std::vector<std::string> out;
    for (const char* name : kCodeNames) out.push_back(code(name));
    return out;
}

std::vector<CrewIssue> crew_feasibility(const CrewInput& input) {
    return analyse(input).issues;
}

Result<CrewPlan> form_crews(const CrewInput& input, std::uint64_t seed) {
    const Analysis a = analyse(input);
    if (!a.issues.empty()) return a.issues.front().to_error();

    std::mt19937_64 rng(seed);
    Search s(input, a);
    const int K = a.crews;
    const int H = static_cast<int>(a.hours.size());
    const int n = s.n();

    // Seat the most available drivers when there are more than the crews hold (ties: iRating, id).
    std::vector<int> hours_of(static_cast<std::size_t>(n), 0);
    for (int d = 0; d < n; ++d)
        for (int h = 0; h < H; ++h)
            hours_of[static_cast<std::size_t>(d)] += a.avail[static_cast<std::size_t>(d * H + h)];
    std::vector<std::uint64_t> tie(static_cast<std::size_t>(n));
    for (auto& t : tie) t = rng();
    std::vector<int> ranked(static_cast<std::size_t>(n));
    for (int d = 0; d < n; ++d) ranked[static_cast<std::size_t>(d)] = d;
    std::sort(ranked.begin(), ranked.end(), [&](int x, int y) {
        const auto ux = static_cast<std::size_t>(x), uy = static_cast<std::size_t>(y);
        if (hours_of[ux] != hours_of[uy]) return hours_of[ux] > hours_of[uy];
        if (s.member(x).irating != s.member(y).irating) return s.member(x).irating > s.member(y).irating;
        return s.member(x).id < s.member(y).id;
    });
    const int seats = std::min(n, K * input.max_drivers);
    std::vector<int> seated(ranked.begin(), ranked.begin() + seats);
    // By iRating, equal ratings in a seeded order.
    std::sort(seated.begin(), seated.end(), [&](int x, int y) {
        if (s.member(x).irating != s.member(y).irating) return s.member(x).irating > s.member(y).irating;
        return tie[static_cast<std::size_t>(x)] < tie[static_cast<std::size_t>(y)];
    });
    if (input.mode == BalanceMode::balanced) {
        // Snake draft: 0..K-1, K-1..0, ...
        for (int i = 0; i < seats; ++i) {
            const int round = i / K, pos = i % K;
            s.place(seated[static_cast<std::size_t>(i)], round % 2 == 0 ? pos : K - 1 - pos);
        }
    } else {
        // Sorted chunks: crew 0 the fastest; sizes differ by at most one.
        int i = 0;
        for (int c = 0; c < K; ++c) {
            const int size = seats / K + (c < seats % K ? 1 : 0);
            for (int j = 0; j < size; ++j) s.place(seated[static_cast<std::size_t>(i++)], c);
        }
    }

    // The spotter seats go in the search too when the event spots: first each to the crew whose
    // spotter-less hours it covers most (ties: fewer seats, then the lower crew), most available first.
    const auto hours_available = [&](int i) {
        int count = 0;
        for (auto hour : a.hours) count += input.pool[static_cast<std::size_t>(i)].available_at(hour) ? 1 : 0;
        return count;
    };
    std::vector<int> seat_order(static_cast<std::size_t>(s.spotter_seats()));
    for (int j = 0; j < s.spotter_seats(); ++j) seat_order[static_cast<std::size_t>(j)] = j;
    std::stable_sort(seat_order.begin(), seat_order.end(), [&](int x, int y) {
        const int px = a.spotters[static_cast<std::size_t>(x)], py = a.spotters[static_cast<std::size_t>(y)];
        const int hx = hours_available(px), hy = hours_available(py);
        if (hx != hy) return hx > hy;
        return input.pool[static_cast<std::size_t>(px)].id < input.pool[static_cast<std::size_t>(py)].id;
    });
    if (s.spotting()) {
        std::vector<int> seats(static_cast<std::size_t>(K), 0);
        for (int j : seat_order) {
            const PoolMember& m =
                input.pool[static_cast<std::size_t>(a.spotters[static_cast<std::size_t>(j)])];
            int best = 0, best_gain = -1;
            for (int c = 0; c < K; ++c) {
                int gain = 0;
                for (int h = 0; h < H; ++h)
                    gain +=
                        m.available_at(a.hours[static_cast<std::size_t>(h)]) && s.spotter_coverage(c, h) == 0;
                if (gain > best_gain || (gain == best_gain && seats[static_cast<std::size_t>(c)] <
                                                                  seats[static_cast<std::size_t>(best)])) {
                    best = c;
                    best_gain = gain;
                }
            }
            s.seat_spotter(j, best);
            ++seats[static_cast<std::size_t>(best)];
        }
    }

    double current = s.score();
    int steps = climb(s, rng, input.search_passes, current);
    // Still an uncovered hour: kick (a few random swaps) and climb again, keeping the best.
    for (int kick = 0; kick < 40 && s.hard() > 0; ++kick) {
        std::vector<int> before(static_cast<std::size_t>(n));
        for (int d = 0; d < n; ++d) before[static_cast<std::size_t>(d)] = s.crew_of(d);
        std::vector<int> seats_before(static_cast<std::size_t>(s.spotter_seats()));
        for (int j = 0; j < s.spotter_seats(); ++j) seats_before[static_cast<std::size_t>(j)] = s.seat_of(j);
        const double best = current;
        for (int t = 0; t < 4 && n > 1; ++t) {
            const int x = static_cast<int>(rng() % static_cast<std::uint64_t>(n));
            const int y = static_cast<int>(rng() % static_cast<std::uint64_t>(n));
            const int cx = s.crew_of(x), cy = s.crew_of(y);
            s.place(x, cy);
            s.place(y, cx);
        }
        if (s.spotting() && s.spotter_gaps() > 0)  // and a few spotter seats elsewhere
            for (int t = 0; t < 2 && s.spotter_seats() > 0; ++t)
                s.seat_spotter(static_cast<int>(rng() % static_cast<std::uint64_t>(s.spotter_seats())),
                               static_cast<int>(rng() % static_cast<std::uint64_t>(K)));
        current = s.score();
        steps += climb(s, rng, input.search_passes, current);
        if (current >= best) {
            for (int d = 0; d < n; ++d) s.place(d, before[static_cast<std::size_t>(d)]);
            for (int j = 0; j < s.spotter_seats(); ++j)
                s.seat_spotter(j, seats_before[static_cast<std::size_t>(j)]);
            current = best;
        }
    }
    if (s.hard() > 0) {
        // Name the first uncovered hour and crew.
        for (int h = 0; h < H; ++h)
            for (int c = 0; c < K; ++c)
                if (s.coverage(c, h) < std::max(0, input.min_drivers_per_hour)) {
                    Args args = hour_args(a.hours, static_cast<std::size_t>(h));
                    args.emplace_back("crew", std::to_string(c + 1));
                    args.emplace_back("crews", std::to_string(K));
                    args.emplace_back("available", std::to_string(a.available[static_cast<std::size_t>(h)]));
                    args.emplace_back("needed", std::to_string(input.min_drivers_per_hour));
                    return issue("hour_unsplittable", std::nullopt, std::move(args)).to_error();
                }
        // Or the first hour and crew without an available spotter.
        for (int h = 0; h < H; ++h)
            for (int c = 0; c < K; ++c)
                if (s.spotter_coverage(c, h) == 0) {
                    int available = 0;  // spotters available in this hour over the whole pool
                    for (const int i : a.drivers)
                        available += input.pool[static_cast<std::size_t>(i)].is_spotter &&
                                     input.pool[static_cast<std::size_t>(i)].available_at(
                                         a.hours[static_cast<std::size_t>(h)]);
                    for (const int i : a.spotters)
                        available += input.pool[static_cast<std::size_t>(i)].available_at(
                            a.hours[static_cast<std::size_t>(h)]);
                    Args args = hour_args(a.hours, static_cast<std::size_t>(h));
                    args.emplace_back("crew", std::to_string(c + 1));
                    args.emplace_back("crews", std::to_string(K));
                    args.emplace_back("available", std::to_string(available));
                    return issue("spotter_hour_unsplittable", std::nullopt, std::move(args)).to_error();
                }
    }

    CrewPlan plan;
    plan.unassigned = a.unassigned;
    plan.spotter_only = a.spotter_only;
    plan.crews.resize(static_cast<std::size_t>(K));
    std::vector<int> order(static_cast<std::size_t>(K));
    for (int c = 0; c < K; ++c) order[static_cast<std::size_t>(c)] = c;
    std::vector<double> avg(static_cast<std::size_t>(K), 0.0);
    std::vector<std::vector<int>> members(static_cast<std::size_t>(K));
    for (int d = 0; d < n; ++d) {
        const int c = s.crew_of(d);
        if (c < K) {
            members[static_cast<std::size_t>(c)].push_back(d);
            avg[static_cast<std::size_t>(c)] += s.member(d).irating;
        } else {
            plan.unassigned.push_back(issue("no_room", s.member(d).id,
                                            {{"name", s.member(d).name},
                                             {"crews", std::to_string(K)},
                                             {"max", std::to_string(input.max_drivers)}}));
        }
    }
    for (int c = 0; c < K; ++c)
        avg[static_cast<std::size_t>(c)] /= static_cast<double>(members[static_cast<std::size_t>(c)].size());
    // Tiered: crew 1 the fastest. Balanced: the order the search left.
    if (input.mode == BalanceMode::tiered)
        std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
            return avg[static_cast<std::size_t>(x)] > avg[static_cast<std::size_t>(y)];
        });

    for (int out = 0; out < K; ++out) {
        const int c = order[static_cast<std::size_t>(out)];
        Crew& crew = plan.crews[static_cast<std::size_t>(out)];
        crew.index = out;
        auto& ds = members[static_cast<std::size_t>(c)];
        std::sort(ds.begin(), ds.end(), [&](int x, int y) {
            if (s.member(x).irating != s.member(y).irating) return s.member(x).irating > s.member(y).irating;
            return s.member(x).id < s.member(y).id;
        });
        for (int d : ds) {
            crew.drivers.push_back(s.member(d).id);
            if (!s.member(d).has_car_laps) crew.verified_by_override.push_back(s.member(d).id);
        }
        crew.average_irating = avg[static_cast<std::size_t>(c)];
        crew.available_drivers.resize(static_cast<std::size_t>(H));
        for (int h = 0; h < H; ++h) crew.available_drivers[static_cast<std::size_t>(h)] = s.coverage(c, h);
    }

    // Spotter-only seats. With spotting on, where the search left them (in the greedy order above);
    // otherwise each to the crew whose spotter-less hours (spotter seats only) it covers most (ties:
    // fewer spotters, then the lower crew).
    if (s.spotting()) {
        std::vector<int> out_of(static_cast<std::size_t>(K));
        for (int out = 0; out < K; ++out)
            out_of[static_cast<std::size_t>(order[static_cast<std::size_t>(out)])] = out;
        for (int j : seat_order)
            plan.crews[static_cast<std::size_t>(out_of[static_cast<std::size_t>(s.seat_of(j))])]
                .spotters.push_back(
                    input.pool[static_cast<std::size_t>(a.spotters[static_cast<std::size_t>(j)])].id);
    } else {
        std::vector<std::vector<int>> spotter_cov(static_cast<std::size_t>(K),
                                                  std::vector<int>(static_cast<std::size_t>(H), 0));
        for (int j : seat_order) {
            const PoolMember& m =
                input.pool[static_cast<std::size_t>(a.spotters[static_cast<std::size_t>(j)])];
            int best = 0, best_gain = -1;
            for (int c = 0; c < K; ++c) {
                int gain = 0;
                for (int h = 0; h < H; ++h)
                    if (m.available_at(a.hours[static_cast<std::size_t>(h)]) &&
                        spotter_cov[static_cast<std::size_t>(c)][static_cast<std::size_t>(h)] == 0)
                        ++gain;
                const auto& crew = plan.crews[static_cast<std::size_t>(c)];
                const auto& held = plan.crews[static_cast<std::size_t>(best)];
                if (gain > best_gain || (gain == best_gain && crew.spotters.size() < held.spotters.size())) {
                    best = c;
                    best_gain = gain;
                }
            }
            plan.crews[static_cast<std::size_t>(best)].spotters.push_back(m.id);
            for (int h = 0; h < H; ++h)
                if (m.available_at(a.hours[static_cast<std::size_t>(h)]))
                    ++spotter_cov[static_cast<std::size_t>(best)][static_cast<std::size_t>(h)];
        }
    }
    // Available spotters per hour, from the input: seated drivers who spot and the spotter seats.
    for (auto& crew : plan.crews) {
        crew.available_spotters.assign(static_cast<std::size_t>(H), 0);
        for (int h = 0; h < H; ++h) {
            const std::int64_t hour = a.hours[static_cast<std::size_t>(h)];
            int count = 0;
            for (MemberId id : crew.drivers)
                count += input.member(id)->is_spotter && input.member(id)->available_at(hour);
            for (MemberId id : crew.spotters) count += input.member(id)->available_at(hour);
            crew.available_spotters[static_cast<std::size_t>(h)] = count;
        }
    }

    // One captain per crew: volunteers first, then experience, iRating, id.
    for (auto& crew : plan.crews) {
        std::vector<MemberId> everyone = crew.drivers;
        everyone.insert(everyone.end(), crew.spotters.begin(), crew.spotters.end());
        const PoolMember* captain = nullptr;
        for (MemberId id : everyone) {
            const PoolMember* m = input.member(id);
            if (!captain) {
                captain = m;
                continue;
            }
            const auto key = [](const PoolMember* p) {
                return std::tuple(p->captain_volunteer ? 1 : 0, p->experience, p->irating, -p->id);
            };
            if (key(m) > key(captain)) captain = m;
        }
        crew.captain = captain->id;
    }

    // Stats.
    double lo = std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::lowest();
    int min_cov = std::numeric_limits<int>::max();
    for (const auto& crew : plan.crews) {
        lo = std::min(lo, crew.average_irating);
        hi = std::max(hi, crew.average_irating);
        for (int v : crew.available_drivers) min_cov = std::min(min_cov, v);
    }
    plan.stats.irating_spread = hi - lo;
    plan.stats.teammate_pairs = s.pair_count();
    plan.stats.teammate_pairs_together = s.pairs_together();
    plan.stats.min_hour_coverage = H > 0 ? min_cov : 0;
    plan.stats.score = current;
    plan.stats.improving_moves = steps;
    return plan;
}

}  // namespace pitwall::planner
