// What the iRacing sync keeps, as members read it: ratings per licence category, the iRating
// history, recent official results (a member's racing section, on /profile and /members/{id}) and
// this week's series schedule (/schedule). Reads only; the sync jobs and the demo seed write.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "features/racing/chart.hpp"

namespace pitwall::store {
class Database;
}

namespace pitwall::racing {

// iRacing's licence categories, in the order pages list them.
inline constexpr std::array<std::string_view, 5> kCategories = {"sports_car", "formula_car", "oval",
                                                                "dirt_road", "dirt_oval"};
inline constexpr std::string_view kDefaultCategory = "sports_car";
[[nodiscard]] bool is_category(std::string_view text);

struct Rating {
    std::string category;
    std::int64_t irating = 0;
    double safety_rating = 0;
    std::string license_class;  // R, D, C, B, A, P
};

struct CategoryHistory {
    std::string category;
    std::vector<ChartPoint> points;  // iRating per day, oldest first
};

struct RaceResult {
    std::int64_t subsession_id = 0;
    std::int64_t series_id = 0;
    std::string series_name;
    std::string track_name;
    std::int64_t started_at = 0;  // epoch ms
    std::int64_t start_position = 0;
    std::int64_t finish_position = 0;
    std::int64_t laps = 0;
    std::int64_t incidents = 0;
    std::int64_t irating_before = 0;
    std::int64_t irating_after = 0;
    std::int64_t strength_of_field = 0;

    [[nodiscard]] std::int64_t irating_change() const { return irating_after - irating_before; }
};

// A member's racing data: categories with a rating (kCategories order), the history of the last
// kHistoryDays for categories that have one, and the last kRecentResults results, newest first.
struct MemberRacing {
    std::vector<Rating> ratings;
    std::vector<CategoryHistory> history;
    std::vector<RaceResult> recent_results;
};

struct ScheduledSeries {
    std::int64_t season_id = 0;
    std::int64_t series_id = 0;
    std::string series_name;
    std::string category;
    std::string track_name;
    std::int64_t race_week = 0;
    std::string week_start;              // YYYY-MM-DD
    std::int64_t members_raced = 0;      // team members (not guests) with a result in the lookback
    std::vector<std::int64_t> sessions;  // starts, epoch ms, soonest first, at most kMaxSessions
};

struct Schedule {
    std::vector<ScheduledSeries> series;  // most raced first, then by name
    bool raced_only = false;              // true: filtered to what members raced; false: every series
};

class Racing {
  public:
    static constexpr int kHistoryDays = 366;
    static constexpr int kRecentResults = 10;
    static constexpr int kLookbackDays = 90;
    static constexpr int kSessionHorizonDays = 7;
    static constexpr int kMaxSessions = 6;

    Racing(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

    // Everything a member's racing section shows, read in one snapshot. The profile page and
    // /members/{id} use it; a JSON API can serialize it as is.
    [[nodiscard]] Result<MemberRacing> member(std::int64_t user_id) const;

    // This week's series: those team members raced in the last kLookbackDays (every series with a
    // current week when they raced none), each with the week whose week_start is the latest on or
    // before today (UTC; a week that started more than 7 days ago is over) and the sessions of the
    // next kSessionHorizonDays.
    [[nodiscard]] Result<Schedule> schedule() const;

  private:
    store::Database& db_;
    const Clock& clock_;
};

}  // namespace pitwall::racing
