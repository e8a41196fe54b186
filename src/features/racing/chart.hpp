// The iRating history chart as inline SVG, built on the server: no JavaScript, no chart library.
// Pure: series in, markup out. Text (the accessible summary, month labels) comes from the caller,
// already localized; every piece of text is XML-escaped here. Colours are not in the markup: each
// line carries the class chart-line-<key>, and pitwall.css maps it to a CSS variable (the CSP forbids
// style attributes, and presentation attributes cannot read CSS variables).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pitwall::racing {

// One value on one calendar day; `day` counts days since 1970-01-01.
struct ChartPoint {
    std::int64_t day = 0;
    double value = 0;
    bool operator==(const ChartPoint&) const = default;
};

struct ChartSeries {
    std::string key;                 // [a-z0-9_]: picks the line's CSS class; other characters dropped
    std::vector<ChartPoint> points;  // any order; one point per day is kept (the last given)
};

struct ChartText {
    std::string summary;  // <title> and aria-label: what a screen reader announces
    // The label of a month tick (month 1..12); with_year on the first tick and on every January.
    std::function<std::string(int year, unsigned month, bool with_year)> month_label;
};

struct ChartOptions {
    int width = 720;  // viewBox units; the SVG scales to its container's width
    int height = 240;
    std::size_t max_points = 400;  // per series; longer series are downsampled (LTTB)
    int y_ticks = 4;               // about this many horizontal grid lines
};

// The <svg> element, or "" when no series has a point (the page shows its empty state instead).
[[nodiscard]] std::string line_chart_svg(std::vector<ChartSeries> series, const ChartText& text,
                                         const ChartOptions& options = {});

// Parts, exposed for tests.

// "YYYY-MM-DD" as days since 1970-01-01; nullopt unless it is a valid calendar date.
[[nodiscard]] std::optional<std::int64_t> parse_day(std::string_view text);
// About `count` round tick values (steps of 1, 2 or 5 x 10^n, at least `min_step`) whose first is
// <= lo and whose last is >= hi.
[[nodiscard]] std::vector<double> nice_ticks(double lo, double hi, int count, double min_step = 1);
// Sorted by day, one point per day; at most `max_points` of them, chosen by largest-triangle-three-
// buckets (keeps the first, the last and the visible peaks and dips).
[[nodiscard]] std::vector<ChartPoint> prepare_points(std::vector<ChartPoint> points, std::size_t max_points);
[[nodiscard]] std::string xml_escape(std::string_view text);

}  // namespace pitwall::racing
