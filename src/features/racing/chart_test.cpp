#include "features/racing/chart.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

namespace pitwall::racing {
namespace {

const std::filesystem::path kTestdata =
    std::filesystem::path(PITWALL_SOURCE_DIR) / "src" / "features" / "racing" / "testdata";

std::string read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::int64_t day(std::string_view text) {
    return parse_day(text).value();
}

ChartText english(std::string summary = "iRating") {
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    return {std::move(summary), [](int year, unsigned month, bool with_year) {
                return std::string(kMonths[month - 1]) + (with_year ? " " + std::to_string(year) : "");
            }};
}

struct Xy {
    double x, y;
};

// Every coordinate pair the SVG draws: polyline points, circles, lines and text positions.
std::vector<Xy> coordinates(const std::string& svg) {
    std::vector<Xy> out;
    static const std::regex points(R"re(points="([^"]*)")re");
    for (std::sregex_iterator it(svg.begin(), svg.end(), points), end; it != end; ++it) {
        std::istringstream in((*it)[1].str());
        for (std::string pair; in >> pair;) {
            const auto comma = pair.find(',');
            out.push_back({std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1))});
        }
    }
    static const std::regex attribute(R"re(\b(cx|x|x1|x2)="([-0-9.]+)"[^>]*?\b(cy|y|y1|y2)="([-0-9.]+)")re");
    for (std::sregex_iterator it(svg.begin(), svg.end(), attribute), end; it != end; ++it)
        out.push_back({std::stod((*it)[2].str()), std::stod((*it)[4].str())});
    return out;
}

std::vector<std::vector<Xy>> polylines(const std::string& svg) {
    std::vector<std::vector<Xy>> out;
    static const std::regex points(R"re(<polyline[^>]*points="([^"]*)")re");
    for (std::sregex_iterator it(svg.begin(), svg.end(), points), end; it != end; ++it) {
        out.emplace_back();
        std::istringstream in((*it)[1].str());
        for (std::string pair; in >> pair;) {
            const auto comma = pair.find(',');
            out.back().push_back({std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1))});
        }
    }
    return out;
}

// A year of a believable walk: a race every few days.
std::vector<ChartPoint> walk(std::int64_t from_day, int days, double start, unsigned seed, int mean_gap = 3) {
    std::mt19937 rng(seed);
    std::vector<ChartPoint> out;
    double value = start;
    for (std::int64_t d = from_day; d < from_day + days;
         d += 1 + static_cast<std::int64_t>(rng() % (2 * mean_gap))) {
        value += static_cast<double>(static_cast<int>(rng() % 81) - 38);
        out.push_back({d, value});
    }
    return out;
}

TEST(Chart, RendersAsTheGoldenFile) {
    std::vector<ChartSeries> series = {
        {"sports_car", walk(day("2025-03-29"), 365, 2140, 1)},
        {"formula_car", walk(day("2025-09-01"), 200, 1650, 2, 6)},
    };
    const auto svg = line_chart_svg(series, english("Sports car iRating from 2140 to 2380 over 12 months"));
    const auto golden = kTestdata / "irating_chart.svg";
    if (std::getenv("PITWALL_UPDATE_GOLDEN")) {
        std::ofstream(golden, std::ios::binary) << svg << "\n";
        GTEST_SKIP() << "rewrote " << golden;
    }
    EXPECT_EQ(svg + "\n", read(golden)) << golden << " differs; PITWALL_UPDATE_GOLDEN=1 rewrites it";
}

TEST(Chart, IsAccessibleAndScalesWithItsViewBox) {
    const auto svg =
        line_chart_svg({{"sports_car", walk(day("2025-03-29"), 365, 2140, 1)}}, english("Summary"));
    EXPECT_TRUE(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 720 240\" "
                        "role=\"img\" aria-label=\"Summary\">\n<title>Summary</title>"))
        << svg.substr(0, 200);
    EXPECT_EQ(svg.find("width="), std::string::npos);  // no fixed size: CSS sets the width
    EXPECT_EQ(svg.find("style"), std::string::npos);   // the CSP would block it
    EXPECT_NE(svg.find("class=\"chart-line chart-line-sports_car\""), std::string::npos);
}

TEST(Chart, NoPointsIsTheEmptyState) {
    EXPECT_EQ(line_chart_svg({}, english()), "");
    EXPECT_EQ(line_chart_svg({{"oval", {}}, {"sports_car", {}}}, english()), "");
}

TEST(Chart, EveryCoordinateIsInsideTheViewBox) {
    std::mt19937 rng(7);
    for (int round = 0; round < 50; ++round) {
        std::vector<ChartSeries> series;
        const int lines = 1 + static_cast<int>(rng() % 3);
        for (int i = 0; i < lines; ++i) {
            std::vector<ChartPoint> points;
            const int n = 1 + static_cast<int>(rng() % 600);
            const std::int64_t start = 19000 + static_cast<std::int64_t>(rng() % 400);
            for (int j = 0; j < n; ++j)
                points.push_back({start + static_cast<std::int64_t>(rng() % 500), 300.0 + rng() % 9000});
            series.push_back({"sports_car", std::move(points)});
        }
        ChartOptions options;
        options.width = 200 + static_cast<int>(rng() % 800);
        options.height = 100 + static_cast<int>(rng() % 300);
        const auto svg = line_chart_svg(series, english(), options);
        const auto xy = coordinates(svg);
        ASSERT_FALSE(xy.empty());
        for (const auto& p : xy) {
            EXPECT_GE(p.x, 0) << "round " << round;
            EXPECT_LE(p.x, options.width) << "round " << round;
            EXPECT_GE(p.y, 0) << "round " << round;
            EXPECT_LE(p.y, options.height) << "round " << round;
        }
    }
}

TEST(Chart, XGrowsStrictlyAlongEveryLine) {
    // Out of order, with two values for one day: sorted, and the last value of the day kept.
    std::vector<ChartPoint> points = {{day("2026-01-10"), 2000},
                                      {day("2026-01-01"), 1900},
                                      {day("2026-01-05"), 1950},
                                      {day("2026-01-05"), 1960}};
    const auto prepared = prepare_points(points, 400);
    ASSERT_EQ(prepared.size(), 3u);
    EXPECT_EQ(prepared[1], (ChartPoint{day("2026-01-05"), 1960}));
    std::mt19937 rng(3);
    std::vector<ChartPoint> shuffled = walk(day("2025-01-01"), 700, 2000, 9, 1);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (const auto& line : polylines(line_chart_svg({{"a", points}, {"b", shuffled}}, english())))
        for (std::size_t i = 1; i < line.size(); ++i) EXPECT_GT(line[i].x, line[i - 1].x);
}

TEST(Chart, EscapesItsText) {
    ChartText text{"<script>alert('x')</script> & \"more\"\x01",
                   [](int, unsigned, bool) { return std::string("<b>M&M</b>"); }};
    const auto svg = line_chart_svg({{"x\" onload=\"evil()", walk(day("2025-03-01"), 200, 2000, 4)}}, text);
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    EXPECT_EQ(svg.find("<b>"), std::string::npos);
    EXPECT_EQ(svg.find("onload=\""), std::string::npos);
    EXPECT_EQ(svg.find('\x01'), std::string::npos);
    EXPECT_NE(
        svg.find("aria-label=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;\""),
        std::string::npos);
    EXPECT_NE(svg.find("&lt;b&gt;M&amp;M&lt;/b&gt;</text>"), std::string::npos);
    EXPECT_NE(svg.find("chart-line-xonloadevil"), std::string::npos);  // the class keeps [a-z0-9_] only
}

TEST(Chart, LongSeriesAreDownsampled) {
    std::vector<ChartPoint> points;
    for (int i = 0; i < 5000; ++i) points.push_back({10000 + i, 2000.0 + (i % 50)});
    points[2345].value = 4000;  // a spike is what a reader must still see
    const auto prepared = prepare_points(points, 400);
    ASSERT_EQ(prepared.size(), 400u);
    EXPECT_EQ(prepared.front(), points.front());
    EXPECT_EQ(prepared.back(), points.back());
    EXPECT_NE(std::find(prepared.begin(), prepared.end(), points[2345]), prepared.end());

    const auto svg = line_chart_svg({{"sports_car", points}, {"formula_car", points}}, english());
    const auto lines = polylines(svg);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].size(), 400u);
    EXPECT_LT(svg.size(), 24'000u);  // two lines of 400 points, not 10,000
    EXPECT_EQ(prepare_points(points, 2).size(), 2u);
    EXPECT_EQ(prepare_points({{1, 1}, {2, 2}, {3, 3}}, 400).size(), 3u);
}

TEST(Chart, OnePointOrAFlatLineStillHasAScale) {
    const auto one = line_chart_svg({{"oval", {{day("2026-03-10"), 1500}}}}, english());
    EXPECT_NE(one.find("<circle"), std::string::npos);
    EXPECT_NE(one.find(">1500</text>"), std::string::npos);
    EXPECT_NE(one.find(">Mar 2026</text>"), std::string::npos);  // the month of a lone point is named
    const auto flat =
        line_chart_svg({{"oval", {{day("2026-01-01"), 1500}, {day("2026-03-01"), 1500}}}}, english());
    for (const auto& p : coordinates(flat)) EXPECT_TRUE(std::isfinite(p.x) && std::isfinite(p.y));
}

TEST(Chart, MonthTicksAreThinnedAndNameTheYearWhereItChanges) {
    const auto svg = line_chart_svg({{"sports_car", walk(day("2025-03-29"), 365, 2140, 1)}}, english());
    static const std::regex label(R"re(text-anchor="middle">([^<]*)</text>)re");
    std::vector<std::string> labels;
    for (std::sregex_iterator it(svg.begin(), svg.end(), label), end; it != end; ++it)
        labels.push_back((*it)[1]);
    EXPECT_EQ(labels, (std::vector<std::string>{"May 2025", "Jul", "Sep", "Nov", "Jan 2026", "Mar"}));
}

TEST(NiceTicks, CoverTheRangeWithRoundSteps) {
    EXPECT_EQ(nice_ticks(2140, 2380, 4), (std::vector<double>{2100, 2200, 2300, 2400}));
    EXPECT_EQ(nice_ticks(0, 1, 4), (std::vector<double>{0, 1}));
    EXPECT_EQ(nice_ticks(1500, 1500, 4), (std::vector<double>{1500, 1501}));
    std::mt19937 rng(11);
    for (int i = 0; i < 200; ++i) {
        const double lo = rng() % 9000, hi = lo + rng() % 5000;
        const auto ticks = nice_ticks(lo, hi, 4);
        ASSERT_GE(ticks.size(), 2u);
        EXPECT_LE(ticks.size(), 7u) << lo << ".." << hi;
        EXPECT_LE(ticks.front(), lo);
        EXPECT_GE(ticks.back(), hi);
        const double step = ticks[1] - ticks[0];
        const double mantissa = step / std::pow(10, std::floor(std::log10(step)));
        EXPECT_TRUE(mantissa == 1 || mantissa == 2 || mantissa == 5) << step;
    }
}

TEST(ParseDay, AcceptsOnlyCalendarDates) {
    EXPECT_EQ(parse_day("1970-01-01"), 0);
    EXPECT_EQ(parse_day("2026-03-29"), 20541);
    EXPECT_EQ(parse_day("2024-02-29"), 19782);
    for (const char* bad :
         {"2026-02-30", "2026-13-01", "2026-1-01", "20260101", "", "abcd-ef-gh", "2026-03-29T"})
        EXPECT_FALSE(parse_day(bad).has_value()) << bad;
}

}  // namespace
}  // namespace pitwall::racing
