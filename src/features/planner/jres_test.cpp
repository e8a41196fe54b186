#include "features/planner/jres.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace pitwall::planner {
namespace {

const std::filesystem::path kTestdata = PITWALL_JRES_TESTDATA;

std::string read(const std::string& name) {
    std::ifstream in(kTestdata / name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string with(const std::string& path_and_value);

JresInput parse_ok(const std::string& text) {
    auto r = parse_jres(text);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().code + " " + r.error().arg("field"));
    return r.ok() ? *r : JresInput{};
}

TEST(Jres, Iso8601) {
    EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_iso8601("1973-06-09T14:37:00.000Z"), 108484620);
    EXPECT_EQ(parse_iso8601("2025-07-11T23:00:00.000Z"), 1752274800);
    EXPECT_EQ(parse_iso8601("2025-07-12T01:00:00+02:00"), 1752274800);
    EXPECT_EQ(parse_iso8601("2024-02-29T00:00:00Z"), 1709164800);
    EXPECT_EQ(format_iso8601(108484620), "1973-06-09T14:37:00.000Z");
    EXPECT_EQ(format_iso8601(-1), "1969-12-31T23:59:59.000Z");
    for (const char* bad : {"", "2025-07-11", "2025-07-11T23:00:00", "2025-13-01T00:00:00Z",
                            "2023-02-29T00:00:00Z", "2025-07-11T24:00:00Z", "2025-07-11T23:60:00Z",
                            "2025-07-11 23:00:00Z", "2025-07-11T23:00:00.Z", "2025-07-11T23:00:00Zx",
                            "1899-12-31T00:00:00Z", "2025-07-11T23:00:00+2:00", "+025-07-11T23:00:00Z"})
        EXPECT_FALSE(parse_iso8601(bad)) << bad;
}

TEST(Jres, Parses24hrSample) {
    const auto in = parse_ok(read("24hr.json"));
    EXPECT_EQ(in.success, true);
    EXPECT_EQ(in.race_start_utc, *parse_iso8601("1973-06-09T14:37:00Z"));
    EXPECT_EQ(in.duration_hours, 24);
    EXPECT_EQ(in.avg_lap_time_s, 220.5);
    EXPECT_EQ(in.pit_time_s, 150);
    EXPECT_EQ(in.fuel_tank_size, 120);
    EXPECT_EQ(in.fuel_use_per_lap, 9.2);
    EXPECT_EQ(in.first_stint_driver, "James");
    ASSERT_EQ(in.team_members.size(), 6u);
    const JresMember nikki{"Nikki", true, true, std::nullopt, 1, 1, 8};
    EXPECT_EQ(in.team_members[0], nikki);
    const JresMember ricky{"Ricky", false, true, std::nullopt, 2, -6, 8};
    EXPECT_EQ(in.team_members[5], ricky);
    EXPECT_EQ(in.team_members[2].timezone_hours, 11);
    EXPECT_EQ(in.team_members[1].is_spotter, false);
    ASSERT_EQ(in.availability.size(), 6u);
    for (const auto& m : in.team_members) EXPECT_EQ(in.availability.at(m.name).size(), 25u) << m.name;
    EXPECT_EQ(in.count("Ayrton", JresAvailability::preferred), 12u);
    EXPECT_EQ(in.count("Ayrton", JresAvailability::unavailable), 13u);
    EXPECT_EQ(in.count("Ricky", JresAvailability::unavailable), 12u);
    EXPECT_EQ(in.count("Ricky", JresAvailability::available), 13u);
    for (const char* name : {"Nikki", "Jack", "James", "Mario"})
        EXPECT_EQ(in.count(name, JresAvailability::available), 25u) << name;
    // Ayrton: Preferred until 02:00 UTC on race day two, then Unavailable; hours not listed: Unavailable.
    EXPECT_EQ(in.availability_at("Ayrton", *parse_iso8601("1973-06-10T01:59:59Z")),
              JresAvailability::preferred);
    EXPECT_EQ(in.availability_at("Ayrton", *parse_iso8601("1973-06-10T02:00:00Z")),
              JresAvailability::unavailable);
    EXPECT_EQ(in.availability_at("Nikki", *parse_iso8601("1973-06-10T15:00:00Z")),
              JresAvailability::unavailable);
    EXPECT_EQ(in.availability_at("Nobody", in.race_start_utc), JresAvailability::unavailable);
}

TEST(Jres, Parses420SampleWithRolesAndFractionalDuration) {
    const auto in = parse_ok(read("420.json"));
    EXPECT_EQ(in.race_start_utc, *parse_iso8601("2025-07-11T23:00:00Z"));
    EXPECT_NEAR(in.duration_hours, 4 + 20.0 / 60, 1e-12);
    EXPECT_EQ(in.avg_lap_time_s, 90.5);
    EXPECT_EQ(in.pit_time_s, 107);
    EXPECT_EQ(in.fuel_tank_size, 99);
    EXPECT_EQ(in.fuel_use_per_lap, 4.1);
    EXPECT_EQ(in.first_stint_driver, std::nullopt);
    ASSERT_EQ(in.team_members.size(), 6u);
    const JresMember ayrton{"Ayrton", true, false, "Driver Only", 2, -3, std::nullopt};
    EXPECT_EQ(in.team_members[1], ayrton);
    EXPECT_TRUE(in.team_members[0].is_driver && in.team_members[0].is_spotter);
    EXPECT_TRUE(!in.team_members[5].is_driver && in.team_members[5].is_spotter);
    for (const auto& m : in.team_members) EXPECT_EQ(in.availability.at(m.name).size(), 7u) << m.name;
    EXPECT_EQ(in.count("Nikki", JresAvailability::preferred), 4u);
    EXPECT_EQ(in.count("James", JresAvailability::preferred), 3u);
    EXPECT_EQ(in.count("Jack", JresAvailability::unavailable), 2u);
    EXPECT_EQ(in.count("Ricky", JresAvailability::unavailable), 2u);
    EXPECT_EQ(in.count("Ayrton", JresAvailability::available), 7u);
    EXPECT_EQ(in.count("Mario", JresAvailability::available), 7u);
    // The grid is padded: 22:00 (before the 23:00 start) and 04:00 (after the 03:20 finish) are kept.
    EXPECT_EQ(in.availability_at("Nikki", *parse_iso8601("2025-07-11T22:30:00Z")),
              JresAvailability::preferred);
    EXPECT_EQ(in.availability_at("Nikki", *parse_iso8601("2025-07-12T04:00:00Z")),
              JresAvailability::preferred);
}

TEST(Jres, RoundTripsBothSamples) {
    for (const char* name : {"24hr.json", "420.json"}) {
        const auto in = parse_ok(read(name));
        const auto text = export_jres(in);
        const auto again = parse_ok(text);
        EXPECT_EQ(again, in) << name;
        EXPECT_EQ(export_jres(again), text) << name;
    }
    // The export reads like the samples: hour keys, timezone as text, whole numbers as integers.
    const auto out = boost::json::parse(export_jres(parse_ok(read("24hr.json")))).as_object();
    EXPECT_EQ(out.at("raceStartUTC"), "1973-06-09T14:37:00.000Z");
    EXPECT_EQ(out.at("durationHours"), 24);
    EXPECT_EQ(out.at("teamMembers").as_array()[1].at("timezone"), "-3");
    EXPECT_EQ(out.at("availability").at("Ayrton").at("1973-06-10T02:00:00.000Z"), "Unavailable");
}

// Numbers keep 15 significant digits, so any value exports to text that reads back identically.
TEST(Jres, NumbersRoundTripExactly) {
    auto in = parse_ok(read("420.json"));
    EXPECT_EQ(in.duration_hours, 4.33333333333333);  // 15 digits of 4.333333333333333
    std::uint64_t state = 42;
    auto next = [&state](double low, double high) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return low + (high - low) * static_cast<double>(state >> 11) / 9007199254740992.0;
    };
    for (int i = 0; i < 2000; ++i) {
        auto text = with("avgLapTimeInSeconds=" + std::to_string(next(1, 3600)).substr(0, 6 + i % 14));
        auto doc = boost::json::parse(text).as_object();
        doc["durationHours"] = next(0.01, 168);
        doc["fuelTankSize"] = next(50, 100000);
        doc["fuelUsePerLap"] = next(0.001, 50);
        doc["pitTimeInSeconds"] = next(0, 3600);
        doc["teamMembers"].as_array()[0].as_object()["timezone"] = next(-12, 14);
        doc["teamMembers"].as_array()[0].as_object()["minimumRestHours"] = next(0, 168);
        doc["availability"] = boost::json::object();
        const auto first = parse_ok(boost::json::serialize(doc));
        ASSERT_EQ(parse_ok(export_jres(first)), first) << boost::json::serialize(doc);
    }
}

TEST(Jres, AcceptsVariants) {
    // Minimal input; numbers as text; fractional time zone; firstStintDriver empty means none; unknown
    // fields ignored; a member without availability is Unavailable all race.
    const auto in =
        parse_ok(R"({"raceStartUTC":"2025-01-01T10:00:00Z","durationHours":"6","avgLapTimeInSeconds":100,
        "pitTimeInSeconds":0,"fuelTankSize":50,"fuelUsePerLap":50,"firstStintDriver":"","extra":[1],
        "teamMembers":[{"name":"Şule","isDriver":true,"preferredStints":"3","timezone":5.5,"nick":"x"}],
        "availability":{}})");
    EXPECT_EQ(in.duration_hours, 6);
    EXPECT_EQ(in.first_stint_driver, std::nullopt);
    ASSERT_EQ(in.team_members.size(), 1u);
    EXPECT_TRUE(in.team_members[0].is_driver);
    EXPECT_FALSE(in.team_members[0].is_spotter);
    EXPECT_EQ(in.team_members[0].timezone_hours, 5.5);
    EXPECT_EQ(in.team_members[0].preferred_stints, 3);
    EXPECT_EQ(in.availability_at("Şule", in.race_start_utc), JresAvailability::unavailable);
    EXPECT_EQ(parse_ok(export_jres(in)), in);
}

std::string with(const std::string& path_and_value) {
    // A valid base document with one field replaced: "key=<json>" at the top level, "member.key=<json>" in
    // teamMembers[1], "avail=<json>" for availability.
    boost::json::object doc = boost::json::parse(R"({"raceStartUTC":"2025-07-11T23:00:00.000Z",
        "durationHours":4,"avgLapTimeInSeconds":90,"pitTimeInSeconds":60,"fuelTankSize":100,"fuelUsePerLap":4,
        "teamMembers":[{"name":"A","isDriver":true,"isSpotter":false,"preferredStints":2,"timezone":"0"},
                       {"name":"B","isDriver":false,"isSpotter":true,"preferredStints":1,"timezone":"1"}],
        "availability":{"A":{"2025-07-11T23:00:00.000Z":"Preferred"}}})")
                                  .as_object();
    const auto eq = path_and_value.find('=');
    const std::string key = path_and_value.substr(0, eq);
    const auto value = boost::json::parse(path_and_value.substr(eq + 1));
    if (key.starts_with("member.")) {
        auto& member = doc["teamMembers"].as_array()[1].as_object();
        if (value.is_null() && key != "member.name")
            member.erase(key.substr(7));
        else
            member[key.substr(7)] = value;
    } else if (key == "avail") {
        doc["availability"] = value;
    } else if (value.is_null()) {
        doc.erase(key);
    } else {
        doc[key] = value;
    }
    return boost::json::serialize(doc);
}

TEST(Jres, BaseDocumentParses) {
    parse_ok(with("extra=1"));
}

struct Refusal {
    std::string input;  // for with(), or a whole document when it starts with '!'
    std::string code;
    std::string field;
};

TEST(Jres, RefusesBadInputNamingTheField) {
    const std::vector<Refusal> table = {
        {"!", "planner.jres_not_json", ""},
        {"![1,2]", "planner.jres_not_json", ""},
        {"!{\"a\":", "planner.jres_not_json", ""},
        {"raceStartUTC=null", "planner.jres_missing", "raceStartUTC"},
        {"raceStartUTC=\"2025-07-11\"", "planner.jres_bad_time", "raceStartUTC"},
        {"raceStartUTC=\"tomorrow\"", "planner.jres_bad_time", "raceStartUTC"},
        {"raceStartUTC=1752274800", "planner.jres_bad_time", "raceStartUTC"},
        {"durationHours=null", "planner.jres_missing", "durationHours"},
        {"durationHours=0", "planner.jres_out_of_range", "durationHours"},
        {"durationHours=169", "planner.jres_out_of_range", "durationHours"},
        {"durationHours=-4", "planner.jres_out_of_range", "durationHours"},
        {"durationHours=\"4h\"", "planner.jres_wrong_type", "durationHours"},
        {"durationHours=true", "planner.jres_wrong_type", "durationHours"},
        {"avgLapTimeInSeconds=0", "planner.jres_out_of_range", "avgLapTimeInSeconds"},
        {"pitTimeInSeconds=-1", "planner.jres_out_of_range", "pitTimeInSeconds"},
        {"fuelTankSize=0", "planner.jres_out_of_range", "fuelTankSize"},
        {"fuelUsePerLap=\"NaN\"", "planner.jres_wrong_type", "fuelUsePerLap"},
        {"fuelUsePerLap=101", "planner.jres_fuel_below_one_lap", "fuelUsePerLap"},
        {"teamMembers=null", "planner.jres_missing", "teamMembers"},
        {"teamMembers=[]", "planner.jres_missing", "teamMembers"},
        {"teamMembers={}", "planner.jres_wrong_type", "teamMembers"},
        {"teamMembers=[1]", "planner.jres_wrong_type", "teamMembers[0]"},
        {"teamMembers=[{\"name\":\"B\",\"isSpotter\":true,\"preferredStints\":1,\"timezone\":0}]",
         "planner.jres_no_driver", "teamMembers"},
        {"member.name=null", "planner.jres_missing", "teamMembers[1].name"},
        {"member.name=7", "planner.jres_wrong_type", "teamMembers[1].name"},
        {"member.name=\"\"", "planner.jres_bad_name", "teamMembers[1].name"},
        {"member.name=\"a\\nb\"", "planner.jres_bad_name", "teamMembers[1].name"},
        {"member.name=\"" + std::string(101, 'x') + "\"", "planner.jres_name_too_long",
         "teamMembers[1].name"},
        {"member.name=\"A\"", "planner.jres_duplicate", "teamMembers[1].name"},
        {"member.isDriver=\"yes\"", "planner.jres_wrong_type", "teamMembers[1].isDriver"},
        {"teamMembers=[{\"name\":\"A\",\"isDriver\":true,\"preferredStints\":1,\"timezone\":0},"
         "{\"name\":\"C\",\"preferredStints\":1,\"timezone\":0}]",
         "planner.jres_missing", "teamMembers[1].isDriver"},
        {"member.role=\"Pit Crew\"", "planner.jres_bad_role", "teamMembers[1].role"},
        {"member.role=\"Driver Only\"", "planner.jres_bad_role", "teamMembers[1].role"},  // isSpotter says no
        {"member.preferredStints=null", "planner.jres_missing", "teamMembers[1].preferredStints"},
        {"member.preferredStints=0", "planner.jres_out_of_range", "teamMembers[1].preferredStints"},
        {"member.preferredStints=1.5", "planner.jres_wrong_type", "teamMembers[1].preferredStints"},
        {"member.timezone=\"15\"", "planner.jres_out_of_range", "teamMembers[1].timezone"},
        {"member.timezone=\"UTC+1\"", "planner.jres_wrong_type", "teamMembers[1].timezone"},
        {"member.timezone=null", "planner.jres_missing", "teamMembers[1].timezone"},
        {"member.minimumRestHours=-1", "planner.jres_out_of_range", "teamMembers[1].minimumRestHours"},
        {"firstStintDriver=\"Z\"", "planner.jres_unknown_member", "firstStintDriver"},
        {"firstStintDriver=\"B\"", "planner.jres_not_a_driver", "firstStintDriver"},
        {"firstStintDriver=3", "planner.jres_wrong_type", "firstStintDriver"},
        {"availability=null", "planner.jres_missing", "availability"},
        {"availability=[]", "planner.jres_wrong_type", "availability"},
        {"avail={\"Z\":{}}", "planner.jres_unknown_member", "availability[\"Z\"]"},
        {"avail={\"A\":[]}", "planner.jres_wrong_type", "availability[\"A\"]"},
        {"avail={\"A\":{\"2025-07-12T00:00:00.000Z\":\"Maybe\"}}", "planner.jres_bad_availability",
         "availability[\"A\"][\"2025-07-12T00:00:00.000Z\"]"},
        {"avail={\"A\":{\"2025-07-12T00:00:00.000Z\":1}}", "planner.jres_bad_availability",
         "availability[\"A\"][\"2025-07-12T00:00:00.000Z\"]"},
        {"avail={\"A\":{\"noon\":\"Available\"}}", "planner.jres_bad_time", "availability[\"A\"][\"noon\"]"},
        {"avail={\"A\":{\"2025-07-12T00:30:00.000Z\":\"Available\"}}", "planner.jres_bad_time",
         "availability[\"A\"][\"2025-07-12T00:30:00.000Z\"]"},
        // Race 23:00-03:00: the grid may run 22:00-03:00 (one hour of padding either side, ending at the
        // hour after the finish); 21:00 and 04:00 are outside.
        {"avail={\"A\":{\"2025-07-11T21:00:00.000Z\":\"Available\"}}", "planner.jres_hour_outside_race",
         "availability[\"A\"][\"2025-07-11T21:00:00.000Z\"]"},
        {"avail={\"A\":{\"2025-07-12T04:00:00.000Z\":\"Available\"}}", "planner.jres_hour_outside_race",
         "availability[\"A\"][\"2025-07-12T04:00:00.000Z\"]"},
        {"avail={\"A\":{\"2025-07-12T00:00:00.000Z\":\"Available\",\"2025-07-12T00:00:00Z\":\"Preferred\"}}",
         "planner.jres_duplicate", "availability[\"A\"][\"2025-07-12T00:00:00Z\"]"},
    };
    for (const auto& row : table) {
        const std::string text = row.input.starts_with('!') ? row.input.substr(1) : with(row.input);
        auto r = parse_jres(text);
        ASSERT_FALSE(r.ok()) << row.input;
        EXPECT_EQ(r.error().code, row.code) << row.input;
        EXPECT_EQ(r.error().kind, ErrorKind::invalid_input) << row.input;
        EXPECT_EQ(r.error().arg("field"), row.field) << row.input;
    }
    EXPECT_TRUE(parse_jres(with("avail={\"A\":{\"2025-07-11T22:00:00.000Z\":\"Available\","
                                "\"2025-07-12T03:00:00.000Z\":\"Available\"}}"))
                    .ok());
}

TEST(Jres, BoundsSizeMembersAndNames) {
    auto big = parse_jres(std::string(kJresMaxBytes + 1, ' '));
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code, "planner.jres_too_large");
    EXPECT_EQ(big.error().kind, ErrorKind::too_large);

    boost::json::array members;
    for (std::size_t i = 0; i <= kJresMaxMembers; ++i)
        members.push_back({{"name", i == 0 ? std::string("A") : "m" + std::to_string(i)},
                           {"isDriver", true},
                           {"preferredStints", 1},
                           {"timezone", 0}});
    auto many = parse_jres(with("teamMembers=" + boost::json::serialize(members)));
    ASSERT_FALSE(many.ok());
    EXPECT_EQ(many.error().code, "planner.jres_too_many");
    members.pop_back();
    auto exactly = parse_jres(with("teamMembers=" + boost::json::serialize(members)));
    EXPECT_TRUE(exactly.ok()) << (exactly.ok() ? ""
                                               : exactly.error().code + " " + exactly.error().arg("field"));

    // 100 characters (not bytes) is the limit; the error argument is clipped.
    std::string turkish;
    for (int i = 0; i < 100; ++i) turkish += "ğ";
    EXPECT_TRUE(parse_jres(with("member.name=\"" + turkish + "\"")).ok());
    auto unknown = parse_jres(with("avail={\"" + std::string(5000, 'q') + "\":{}}"));
    ASSERT_FALSE(unknown.ok());
    EXPECT_LT(unknown.error().arg("field").size(), 100u);
}

TEST(Jres, MapsToThePlannerInput) {
    const auto in = parse_ok(read("24hr.json"));
    auto plan = to_plan_input(in);
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(plan->race_start, in.race_start_utc);
    EXPECT_EQ(plan->duration_s, 24 * 3600);
    EXPECT_EQ(plan->lap_s, 220.5);
    EXPECT_EQ(plan->pit_loss_s, 150);
    EXPECT_EQ(plan->fuel_tank, 120);
    EXPECT_EQ(plan->fuel_per_lap, 9.2);
    EXPECT_TRUE(plan->spotters);
    EXPECT_TRUE(plan->fair_share);
    EXPECT_EQ(plan->declared_drivers, (std::vector<MemberId>{1, 2, 3, 4, 5}));  // Ricky only spots
    EXPECT_EQ(plan->pinned_starter, 4);                                         // James
    ASSERT_EQ(plan->members.size(), 6u);
    const auto& ayrton = plan->members[1];
    EXPECT_EQ(ayrton.id, 2);
    EXPECT_EQ(ayrton.name, "Ayrton");
    EXPECT_EQ(ayrton.time_zone, "-03:00");
    EXPECT_EQ(plan->members[0].time_zone, "+01:00");
    EXPECT_EQ(plan->members[3].time_zone, "UTC");
    EXPECT_EQ(ayrton.max_consecutive_stints, 2);
    EXPECT_EQ(ayrton.minimum_rest_hours, 8.0);
    ASSERT_EQ(ayrton.availability.size(), 25u);
    EXPECT_EQ(ayrton.availability.at(*parse_iso8601("1973-06-09T14:00:00Z")), Availability::preferred);
    EXPECT_EQ(ayrton.availability.at(*parse_iso8601("1973-06-10T02:00:00Z")), Availability::unavailable);
    EXPECT_EQ(plan->members[0].availability.at(*parse_iso8601("1973-06-09T14:00:00Z")),
              Availability::available);

    const auto short_race = to_plan_input(parse_ok(read("420.json")));
    ASSERT_TRUE(short_race.ok());
    EXPECT_EQ(short_race->duration_s, 4 * 3600 + 20 * 60);
    EXPECT_EQ(short_race->pinned_starter, std::nullopt);
    EXPECT_EQ(short_race->members[0].minimum_rest_hours, std::nullopt);
    EXPECT_EQ(short_race->minimum_rest_hours, 0);

    JresInput fractional = in;
    fractional.team_members[0].timezone_hours = 5.75;
    fractional.team_members[1].timezone_hours = -9.5;
    auto zones = to_plan_input(fractional);
    ASSERT_TRUE(zones.ok());
    EXPECT_EQ(zones->members[0].time_zone, "+05:45");
    EXPECT_EQ(zones->members[1].time_zone, "-09:30");
    // A hand-built input is checked too.
    fractional.first_stint_driver = "Nobody";
    EXPECT_EQ(to_plan_input(fractional).error().code, "planner.jres_unknown_member");
    fractional.first_stint_driver = "Ricky";
    EXPECT_EQ(to_plan_input(fractional).error().code, "planner.jres_not_a_driver");
}

}  // namespace
}  // namespace pitwall::planner
