// Parsing of Data API payloads in the shapes ../shared/reference/iracing.md §3 documents, including
// the drift the reference warns about (licences as an array or an object, unknown keys, ids as
// strings, missing optional fields).
#include "integrations/iracing/models.hpp"

#include <gtest/gtest.h>

namespace pitwall::integrations::iracing {
namespace {

TEST(IracingModels, MemberGetWithLicenceArrayAndUnknownKeys) {
    auto members = parse_members(R"({"success":true,"cust_ids":[926270],"members":[
        {"cust_id":926270,"display_name":"Alistair Murray","last_login":"2025-09-01T10:00:00Z","new_field":{"x":1},
         "licenses":[{"category_id":5,"category":"sports_car","license_level":19,"safety_rating":3.13,
                      "irating":2417,"group_name":"Class A","group_id":5},
                     {"category_id":6,"license_level":10,"safety_rating":2.5,"irating":1350,"group_id":3}]},
        {"display_name":"no id, dropped"}]})");
    ASSERT_TRUE(members.ok()) << members.error().detail;
    ASSERT_EQ(members->size(), 1u);
    const auto& m = members->front();
    EXPECT_EQ(m.cust_id, 926270);
    ASSERT_EQ(m.licenses.size(), 2u);
    EXPECT_EQ(m.licenses[0].irating, 2417);
    EXPECT_DOUBLE_EQ(m.licenses[0].safety_rating, 3.13);
    EXPECT_EQ(license_class(m.licenses[0].group_id), "A");
    EXPECT_EQ(m.licenses[1].category, "formula_car");  // derived from the id when absent
}

TEST(IracingModels, MemberInfoWithLicencesKeyedByCategory) {
    auto members = parse_members(R"([{"cust_id":"15535","licenses":{"oval":{"category_id":1,"irating":1800,
        "group_id":4},"dirt_road":{"irating":900,"group_id":1}}}])");
    ASSERT_TRUE(members.ok());
    ASSERT_EQ(members->size(), 1u);
    EXPECT_EQ(members->front().cust_id, 15535);
    ASSERT_EQ(members->front().licenses.size(), 2u);
    EXPECT_EQ(members->front().licenses[0].category, "oval");
    EXPECT_EQ(members->front().licenses[1].category, "dirt_road");  // the key names the category
}

TEST(IracingModels, ChartDataKeepsValidPoints) {
    auto chart = parse_chart(R"({"blackout":false,"category_id":5,"chart_type":1,"cust_id":1,"success":true,
        "data":[{"when":"2025-01-01","value":2000},{"when":"bad"},{"when":"2025-01-08","value":2050.0}]})");
    ASSERT_TRUE(chart.ok());
    ASSERT_EQ(chart->points.size(), 2u);
    EXPECT_EQ(chart->points[1].day, "2025-01-08");
    EXPECT_EQ(chart->points[1].value, 2050);
}

TEST(IracingModels, RecentRacesWithNestedTrack) {
    auto races = parse_recent_races(R"({"cust_id":1,"races":[{"subsession_id":70001,"series_id":4,
        "series_name":"IMSA","car_id":156,"session_start_time":"2025-09-10T18:00:00Z","start_position":5,
        "finish_position":2,"laps":40,"incidents":4,"strength_of_field":2400,"oldi_rating":2300,
        "newi_rating":2351,"track":{"track_id":1,"track_name":"Spa"}}]})");
    ASSERT_TRUE(races.ok());
    ASSERT_EQ(races->size(), 1u);
    EXPECT_EQ(races->front().track_name, "Spa");
    EXPECT_EQ(races->front().newi_rating - races->front().oldi_rating, 51);
}

TEST(IracingModels, ResultsTakeTheRaceSessionOnly) {
    auto result = parse_result(R"({"subsession_id":9,"series_name":"X","track":{"track_name":"Le Mans"},
        "session_results":[{"simsession_number":-1,"results":[{"cust_id":1}]},
                           {"simsession_number":0,"results":[{"team_id":-5,"display_name":"Team","finish_position":0,
                              "driver_results":[{"cust_id":1,"best_lap_time":2250000},{"cust_id":2}]}]}]})");
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->race.size(), 1u);
    EXPECT_EQ(result->race[0].team_id, -5);
    ASSERT_EQ(result->race[0].driver_results.size(), 2u);
    EXPECT_EQ(result->race[0].driver_results[0].best_lap_time, 2250000);
    EXPECT_EQ(result->race[0].driver_results[1].best_lap_time, -1);
}

TEST(IracingModels, WrongShapesAreBadAnswersNotCrashes) {
    EXPECT_EQ(parse_members("not json").error().code, "iracing.bad_answer");
    EXPECT_EQ(parse_members(R"({"members":7})").error().code, "iracing.bad_answer");
    EXPECT_EQ(parse_chart("[]").error().code, "iracing.bad_answer");
    EXPECT_EQ(parse_result(R"({"series_name":"no id"})").error().code, "iracing.bad_answer");
    EXPECT_EQ(parse_hosted_sessions(R"({"a":1})").error().code, "iracing.bad_answer");
    EXPECT_TRUE(parse_cars("[]").ok());
}

TEST(IracingModels, IsoTimes) {
    EXPECT_EQ(parse_iso_time_ms("1970-01-01T00:00Z"), 0);
    EXPECT_EQ(parse_iso_time_ms("1970-01-01T00:01:02Z"), 62'000);
    EXPECT_EQ(parse_iso_time_ms("2024-02-29T12:00:00.123Z"), 1'709'208'000'123);
    EXPECT_EQ(parse_iso_time_ms("2024-02-29T12:00:00.5Z"), 1'709'208'000'500);
    EXPECT_EQ(parse_iso_time_ms("2024-02-29T12:00:00.Z"), std::nullopt);
    EXPECT_EQ(parse_iso_time_ms("2023-02-29T12:00:00Z"), std::nullopt);
    EXPECT_EQ(parse_iso_time_ms("2023-01-01T12:00:00+02:00"), std::nullopt);  // only UTC is accepted
    EXPECT_EQ(parse_iso_time_ms("garbage"), std::nullopt);
}

}  // namespace
}  // namespace pitwall::integrations::iracing
