#include "features/racing/views.hpp"

#include <chrono>
#include <cmath>

#include <boost/json.hpp>

namespace pitwall::racing {
namespace {

constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;
constexpr double kDaysPerMonth = 30.44;

std::string category_name(const i18n::Catalog& catalog, const i18n::Viewer& viewer,
                          std::string_view category) {
    return catalog.text(viewer, "racing.category." + std::string(category));
}

}  // namespace

std::string history_chart(const std::vector<CategoryHistory>& history, const i18n::Catalog& catalog,
                          const i18n::Viewer& viewer) {
    std::vector<ChartSeries> series;
    std::string summary;
    for (const auto& h : history) {
        if (h.points.empty()) continue;
        series.push_back({h.category, h.points});
        const auto months = static_cast<std::int64_t>(
            std::llround(static_cast<double>(h.points.back().day - h.points.front().day) / kDaysPerMonth));
        if (!summary.empty()) summary += "; ";
        summary += catalog.text(viewer, "racing.chart_summary",
                                {{"category", category_name(catalog, viewer, h.category)},
                                 {"from", static_cast<std::int64_t>(h.points.front().value)},
                                 {"to", static_cast<std::int64_t>(h.points.back().value)},
                                 {"months", months}});
    }
    ChartText text{summary, [&](int year, unsigned month, bool with_year) {
                       using namespace std::chrono;
                       const auto first = sys_days(std::chrono::year(year) / std::chrono::month(month) / 1);
                       // Noon UTC of the 1st, formatted in UTC: a calendar month, whatever the viewer's zone.
                       const std::int64_t noon = first.time_since_epoch().count() * kDayMs + kDayMs / 2;
                       return catalog.text(viewer.locale,
                                           with_year ? "racing.chart_month_year" : "racing.chart_month",
                                           {{"when", i18n::DateTime{noon}}}, "UTC");
                   }};
    return line_chart_svg(std::move(series), text);
}

boost::json::object section_data(const MemberRacing& racing, const i18n::Catalog& catalog,
                                 const i18n::Viewer& viewer) {
    boost::json::array ratings;
    for (const auto& r : racing.ratings)
        ratings.push_back(boost::json::object{{"category", r.category},
                                              {"irating", r.irating},
                                              {"safety_rating", r.safety_rating},
                                              {"license_class", r.license_class}});
    boost::json::array legend;
    for (const auto& h : racing.history)
        if (!h.points.empty()) legend.push_back(boost::json::object{{"category", h.category}});
    boost::json::array results;
    for (const auto& r : racing.recent_results) {
        const auto change = r.irating_change();
        results.push_back(boost::json::object{{"series", r.series_name},
                                              {"track", r.track_name},
                                              {"started_at", r.started_at},
                                              {"start", r.start_position},
                                              {"finish", r.finish_position},
                                              {"incidents", r.incidents},
                                              {"change", change},
                                              {"trend", change > 0   ? "up"
                                                        : change < 0 ? "down"
                                                                     : "flat"}});
    }
    auto chart = history_chart(racing.history, catalog, viewer);
    const bool has_results = !results.empty();
    return boost::json::object{
        {"ratings", std::move(ratings)},
        {"chart_html", chart.empty() ? boost::json::value(nullptr) : boost::json::value(chart)},
        {"legend", std::move(legend)},
        {"results", std::move(results)},
        {"has_results", has_results}};
}

boost::json::object schedule_data(const Schedule& schedule) {
    boost::json::array series;
    for (const auto& s : schedule.series) {
        boost::json::array sessions;
        for (auto start : s.sessions) sessions.push_back(boost::json::object{{"starts_at", start}});
        const bool has_sessions = !sessions.empty();
        series.push_back(boost::json::object{
            {"name", s.series_name},
            {"category", is_category(s.category) ? boost::json::value(s.category) : nullptr},
            {"track", s.track_name},
            {"members", s.members_raced},
            {"sessions", std::move(sessions)},
            {"has_sessions", has_sessions}});
    }
    return boost::json::object{{"series", std::move(series)}, {"raced_only", schedule.raced_only}};
}

}  // namespace pitwall::racing
