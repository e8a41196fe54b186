#include "features/racing/racing.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "platform/store/sql.hpp"

namespace pitwall::racing {
namespace {

using store::Statement;

constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;

constexpr Statement kRatings{
    "racing.ratings",
    "SELECT category, irating, safety_rating, license_class FROM member_ratings WHERE user_id = $1"};
constexpr Statement kHistory{
    "racing.history",
    "SELECT category, day, irating FROM irating_history WHERE user_id = $1 AND day >= $2 "
    "ORDER BY category, day"};
constexpr Statement kLastResults{
    "racing.recent_results",
    "SELECT subsession_id, series_id, series_name, track_name, started_at, start_position, finish_position, "
    "laps, incidents, irating_before, irating_after, strength_of_field FROM race_results WHERE user_id = $1 "
    "ORDER BY started_at DESC, subsession_id DESC LIMIT 10"};
constexpr Statement kRacedSeries{
    "racing.raced_series",
    "SELECT r.series_id, COUNT(DISTINCT r.user_id) FROM race_results r JOIN users u ON u.id = r.user_id "
    "WHERE u.site_role <> 'guest' AND r.started_at >= $1 GROUP BY r.series_id"};
// Per series, the week that started last on or before today ($1), if it started after $2.
constexpr Statement kCurrentWeeks{
    "racing.current_weeks",
    "SELECT season_id, series_id, series_name, category, track_name, race_week, week_start FROM ("
    "SELECT season_id, series_id, series_name, category, track_name, race_week, week_start, ROW_NUMBER() "
    "OVER "
    "(PARTITION BY series_id ORDER BY week_start DESC, season_id DESC) AS n FROM series_weeks "
    "WHERE week_start <= $1 AND week_start > $2) w WHERE n = 1"};
// The first six sessions of each series in [$1, $2).
constexpr Statement kSessions{
    "racing.sessions",
    "SELECT series_id, starts_at FROM (SELECT series_id, starts_at, ROW_NUMBER() OVER (PARTITION BY "
    "series_id "
    "ORDER BY starts_at) AS n FROM series_sessions WHERE starts_at >= $1 AND starts_at < $2) s WHERE n <= 6 "
    "ORDER BY series_id, starts_at"};
static_assert(Racing::kRecentResults == 10 && Racing::kMaxSessions == 6, "the LIMITs in the SQL above");

std::string day_text(std::int64_t day) {
    using namespace std::chrono;
    const year_month_day date{sys_days(days(day))};
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    return buffer;
}

std::int64_t today(const Clock& clock) {
    const auto ms = clock.now_ms();
    return ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs;
}

std::size_t category_rank(std::string_view category) {
    return static_cast<std::size_t>(std::find(kCategories.begin(), kCategories.end(), category) -
                                    kCategories.begin());
}

}  // namespace

bool is_category(std::string_view text) {
    return std::find(kCategories.begin(), kCategories.end(), text) != kCategories.end();
}

Result<MemberRacing> Racing::member(std::int64_t user_id) const {
    MemberRacing out;
    const std::string since = day_text(today(clock_) - kHistoryDays);
    auto status = db_.read([&](store::Connection& c) -> Status {
        auto ratings = c.execute(kRatings, {user_id});
        if (!ratings) return ratings.error();
        for (const auto& r : ratings->rows)
            out.ratings.push_back({r.text(0), r.int64(1), r.real(2), r.text(3)});

        auto history = c.execute(kHistory, {user_id, since});
        if (!history) return history.error();
        for (const auto& r : history->rows) {
            auto day = parse_day(r.text(1));
            if (!day || !is_category(r.text(0))) continue;  // skip a row the page cannot show, not the page
            if (out.history.empty() || out.history.back().category != r.text(0))
                out.history.push_back({r.text(0), {}});
            out.history.back().points.push_back({*day, static_cast<double>(r.int64(2))});
        }

        auto results = c.execute(kLastResults, {user_id});
        if (!results) return results.error();
        for (const auto& r : results->rows)
            out.recent_results.push_back({r.int64(0), r.int64(1), r.text(2), r.text(3), r.int64(4),
                                          r.int64(5), r.int64(6), r.int64(7), r.int64(8), r.int64(9),
                                          r.int64(10), r.int64(11)});
        return {};
    });
    if (!status) return status.error();
    auto by_category = [](const auto& a, const auto& b) {
        return category_rank(a.category) < category_rank(b.category);
    };
    std::stable_sort(out.ratings.begin(), out.ratings.end(), by_category);
    std::stable_sort(out.history.begin(), out.history.end(), by_category);
    return out;
}

Result<Schedule> Racing::schedule() const {
    Schedule out;
    const std::int64_t now = clock_.now_ms();
    const std::int64_t day = today(clock_);
    std::map<std::int64_t, std::int64_t> raced;  // series id -> members
    std::map<std::int64_t, std::vector<std::int64_t>> sessions;
    auto status = db_.read([&](store::Connection& c) -> Status {
        auto counts = c.execute(kRacedSeries, {now - kLookbackDays * kDayMs});
        if (!counts) return counts.error();
        for (const auto& r : counts->rows) raced[r.int64(0)] = r.int64(1);

        auto weeks = c.execute(kCurrentWeeks, {day_text(day), day_text(day - 7)});
        if (!weeks) return weeks.error();
        for (const auto& r : weeks->rows)
            out.series.push_back(
                {r.int64(0), r.int64(1), r.text(2), r.text(3), r.text(4), r.int64(5), r.text(6), 0, {}});

        auto starts = c.execute(kSessions, {now, now + kSessionHorizonDays * kDayMs});
        if (!starts) return starts.error();
        for (const auto& r : starts->rows) sessions[r.int64(0)].push_back(r.int64(1));
        return {};
    });
    if (!status) return status.error();

    out.raced_only = std::any_of(out.series.begin(), out.series.end(),
                                 [&](const ScheduledSeries& s) { return raced.contains(s.series_id); });
    if (out.raced_only)
        std::erase_if(out.series, [&](const ScheduledSeries& s) { return !raced.contains(s.series_id); });
    for (auto& s : out.series) {
        if (auto it = raced.find(s.series_id); it != raced.end()) s.members_raced = it->second;
        if (auto it = sessions.find(s.series_id); it != sessions.end()) s.sessions = std::move(it->second);
    }
    std::sort(out.series.begin(), out.series.end(), [](const ScheduledSeries& a, const ScheduledSeries& b) {
        if (a.members_raced != b.members_raced) return a.members_raced > b.members_raced;
        if (a.series_name != b.series_name) return a.series_name < b.series_name;
        return a.series_id < b.series_id;
    });
    return out;
}

}  // namespace pitwall::racing
