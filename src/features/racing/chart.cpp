#include "features/racing/chart.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

namespace pitwall::racing {
namespace {

// Room for the y labels on the left and the month labels below.
constexpr double kLeft = 44;
constexpr double kRight = 12;
constexpr double kTop = 10;
constexpr double kBottom = 26;
constexpr int kMaxMonthLabels = 7;
constexpr double kMinValueSpan = 100;  // a flat line still gets a readable scale around it
constexpr int kMaxTicks = 50;

// Coordinates with at most one decimal ("12.5", "40"): small markup, stable goldens.
std::string number(double value) {
    const double rounded = std::round(value * 10) / 10;
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, rounded == 0 ? 0.0 : rounded,
                                   std::chars_format::fixed, 1);
    std::string out = ec == std::errc() ? std::string(buffer, end) : std::string("0");
    if (out.ends_with(".0")) out.resize(out.size() - 2);
    return out;
}

std::string css_key(std::string_view key) {
    std::string out;
    for (char c : key)
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') out += c;
    return out.empty() ? std::string("line") : out;
}

double nice_step(double raw) {
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double fraction = raw / magnitude;
    const double nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
    return nice * magnitude;
}

std::vector<ChartPoint> largest_triangle_three_buckets(const std::vector<ChartPoint>& points,
                                                       std::size_t max_points) {
    const std::size_t n = points.size();
    std::vector<ChartPoint> out;
    out.reserve(max_points);
    out.push_back(points.front());
    const double bucket = static_cast<double>(n - 2) / static_cast<double>(max_points - 2);
    std::size_t previous = 0;
    for (std::size_t i = 0; i + 2 < max_points; ++i) {
        // The average of the next bucket is the triangle's third corner.
        const auto next_begin = static_cast<std::size_t>(std::floor(static_cast<double>(i + 1) * bucket)) + 1;
        const auto next_end =
            std::min(n, static_cast<std::size_t>(std::floor(static_cast<double>(i + 2) * bucket)) + 1);
        double avg_x = 0, avg_y = 0;
        for (std::size_t j = next_begin; j < next_end; ++j) {
            avg_x += static_cast<double>(points[j].day);
            avg_y += points[j].value;
        }
        const double count = static_cast<double>(std::max<std::size_t>(1, next_end - next_begin));
        avg_x /= count;
        avg_y /= count;
        const auto begin = static_cast<std::size_t>(std::floor(static_cast<double>(i) * bucket)) + 1;
        const auto end = std::min(n - 1, next_begin);
        const auto& a = points[previous];
        double best_area = -1;
        std::size_t best = begin;
        for (std::size_t j = begin; j < end; ++j) {
            const double area = std::fabs((static_cast<double>(a.day) - avg_x) * (points[j].value - a.value) -
                                          (static_cast<double>(a.day) - static_cast<double>(points[j].day)) *
                                              (avg_y - a.value));
            if (area > best_area) {
                best_area = area;
                best = j;
            }
        }
        out.push_back(points[best]);
        previous = best;
    }
    out.push_back(points.back());
    return out;
}

struct MonthTick {
    std::int64_t day;
    int year;
    unsigned month;
};

// First days of months inside [first, last], thinned to at most kMaxMonthLabels on a regular step
// (every month, every 2nd, 3rd, 4th, 6th or 12th, aligned on January).
std::vector<MonthTick> month_ticks(std::int64_t first, std::int64_t last) {
    using namespace std::chrono;
    std::vector<MonthTick> all;
    year_month ym =
        year_month_day(sys_days(days(first))).year() / year_month_day(sys_days(days(first))).month();
    for (int guard = 0; guard < 1200; ++guard, ym += months(1)) {
        const auto day = static_cast<std::int64_t>(sys_days(ym / 1).time_since_epoch().count());
        if (day > last) break;
        if (day >= first)
            all.push_back({day, static_cast<int>(ym.year()), static_cast<unsigned>(ym.month())});
    }
    for (unsigned step : {1u, 2u, 3u, 4u, 6u, 12u}) {
        std::vector<MonthTick> kept;
        for (const auto& t : all)
            if ((t.month - 1) % step == 0) kept.push_back(t);
        if (kept.size() <= static_cast<std::size_t>(kMaxMonthLabels) || step == 12) return kept;
    }
    return all;
}

}  // namespace

std::optional<std::int64_t> parse_day(std::string_view text) {
    using namespace std::chrono;
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    int y = 0;
    unsigned m = 0, d = 0;
    auto digits = [&](std::size_t at, std::size_t len, auto& out) {
        auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + len, out);
        return ec == std::errc() && end == text.data() + at + len;
    };
    if (!digits(0, 4, y) || !digits(5, 2, m) || !digits(8, 2, d)) return std::nullopt;
    const year_month_day date{year(y), month(m), day(d)};
    if (!date.ok()) return std::nullopt;
    return static_cast<std::int64_t>(sys_days(date).time_since_epoch().count());
}

std::vector<double> nice_ticks(double lo, double hi, int count, double min_step) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
    if (hi < lo) std::swap(lo, hi);
    count = std::max(count, 2);
    if (!(min_step > 0)) min_step = std::numeric_limits<double>::min();
    const double span = std::max(hi - lo, min_step * (count - 1));
    const double step = std::max(nice_step(span / (count - 1)), min_step);
    const double first = std::floor(lo / step) * step;
    double last = std::ceil(hi / step) * step;
    if (last <= first) last = first + step;
    const int n = std::min(kMaxTicks, static_cast<int>(std::llround((last - first) / step)));
    std::vector<double> ticks;
    for (int i = 0; i <= n; ++i) ticks.push_back(first + step * i);
    return ticks;
}

std::vector<ChartPoint> prepare_points(std::vector<ChartPoint> points, std::size_t max_points) {
    std::erase_if(points, [](const ChartPoint& p) { return !std::isfinite(p.value); });
    std::stable_sort(points.begin(), points.end(),
                     [](const ChartPoint& a, const ChartPoint& b) { return a.day < b.day; });
    std::vector<ChartPoint> unique;
    unique.reserve(points.size());
    for (const auto& p : points) {
        if (!unique.empty() && unique.back().day == p.day)
            unique.back() = p;  // the last value given for a day wins
        else
            unique.push_back(p);
    }
    if (unique.size() <= max_points) return unique;
    if (max_points < 3) {
        std::vector<ChartPoint> ends{unique.front(), unique.back()};
        ends.resize(max_points);
        return ends;
    }
    return largest_triangle_three_buckets(unique, max_points);
}

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                // Control characters are not allowed in XML 1.0 text; drop them.
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
        }
    }
    return out;
}

std::string line_chart_svg(std::vector<ChartSeries> series, const ChartText& text,
                           const ChartOptions& options) {
    for (auto& s : series)
        s.points = prepare_points(std::move(s.points), std::max<std::size_t>(options.max_points, 2));
    std::erase_if(series, [](const ChartSeries& s) { return s.points.empty(); });
    if (series.empty()) return {};

    std::int64_t first_day = std::numeric_limits<std::int64_t>::max();
    std::int64_t last_day = std::numeric_limits<std::int64_t>::min();
    double low = std::numeric_limits<double>::infinity();
    double high = -std::numeric_limits<double>::infinity();
    for (const auto& s : series)
        for (const auto& p : s.points) {
            first_day = std::min(first_day, p.day);
            last_day = std::max(last_day, p.day);
            low = std::min(low, p.value);
            high = std::max(high, p.value);
        }
    if (first_day == last_day) {  // one day: put it in the middle of a month
        first_day -= 15;
        last_day += 15;
    }
    if (high - low < kMinValueSpan) {
        const double middle = (high + low) / 2;
        low = middle - kMinValueSpan / 2;
        high = middle + kMinValueSpan / 2;
    }
    const auto ticks = nice_ticks(low, high, options.y_ticks, 1);
    const double v0 = ticks.front(), v1 = ticks.back();

    const double width = std::max(options.width, 160);
    const double height = std::max(options.height, 80);
    const double plot_w = width - kLeft - kRight;
    const double plot_h = height - kTop - kBottom;
    auto x_of = [&](std::int64_t day) {
        return kLeft +
               static_cast<double>(day - first_day) / static_cast<double>(last_day - first_day) * plot_w;
    };
    auto y_of = [&](double value) { return kTop + (v1 - value) / (v1 - v0) * plot_h; };

    const std::string summary = xml_escape(text.summary);
    std::string svg;
    svg.reserve(1024 + series.size() * options.max_points * 14);
    svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " + number(width) + " " +
           number(height) + "\" role=\"img\" aria-label=\"" + summary + "\">\n";
    svg += "<title>" + summary + "</title>\n";

    svg += "<g class=\"chart-grid\">\n";
    for (double t : ticks)
        svg += "<line x1=\"" + number(kLeft) + "\" y1=\"" + number(y_of(t)) + "\" x2=\"" +
               number(width - kRight) + "\" y2=\"" + number(y_of(t)) + "\"/>\n";
    svg += "</g>\n<g class=\"chart-axis chart-axis-y\">\n";
    for (double t : ticks)
        svg += "<text x=\"" + number(kLeft - 6) + "\" y=\"" + number(y_of(t)) +
               "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + xml_escape(number(t)) + "</text>\n";
    svg += "</g>\n<g class=\"chart-axis chart-axis-x\">\n";
    const double axis_y = kTop + plot_h;
    auto label = [&](int year, unsigned month, bool with_year) {
        return text.month_label ? text.month_label(year, month, with_year) : std::string();
    };
    const auto months = month_ticks(first_day, last_day);
    for (std::size_t i = 0; i < months.size(); ++i) {
        const double x = x_of(months[i].day);
        svg += "<line x1=\"" + number(x) + "\" y1=\"" + number(axis_y) + "\" x2=\"" + number(x) + "\" y2=\"" +
               number(axis_y + 4) + "\"/>\n";
        svg += "<text x=\"" + number(x) + "\" y=\"" + number(height - 6) + "\" text-anchor=\"middle\">" +
               xml_escape(label(months[i].year, months[i].month, i == 0 || months[i].month == 1)) +
               "</text>\n";
    }
    if (months.empty()) {  // less than a month shown: name the month at the start
        using namespace std::chrono;
        const year_month_day start{sys_days(days(first_day))};
        svg += "<text x=\"" + number(kLeft) + "\" y=\"" + number(height - 6) + "\" text-anchor=\"start\">" +
               xml_escape(label(static_cast<int>(start.year()), static_cast<unsigned>(start.month()), true)) +
               "</text>\n";
    }
    svg += "</g>\n";

    for (const auto& s : series) {
        const std::string key = css_key(s.key);
        std::string points;
        for (const auto& p : s.points) {
            if (!points.empty()) points += ' ';
            points += number(x_of(p.day)) + "," + number(y_of(p.value));
        }
        svg += "<polyline class=\"chart-line chart-line-" + key + "\" points=\"" + points + "\"/>\n";
        const auto& end = s.points.back();
        svg += "<circle class=\"chart-dot chart-dot-" + key + "\" cx=\"" + number(x_of(end.day)) +
               "\" cy=\"" + number(y_of(end.value)) + "\" r=\"3\"/>\n";
    }
    svg += "</svg>";
    return svg;
}

}  // namespace pitwall::racing
