// The racing reads on a real SQLite file migrated with the shipped migrations: a member's racing
// data, the weekly schedule, the page data built from them, and the demo seed that fills them.
#include "features/racing/racing.hpp"

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "features/demo/seed.hpp"
#include "features/racing/views.hpp"
#include "platform/store/migrate.hpp"
#include "platform/store/sql.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::racing {
namespace {

const std::filesystem::path kSource = PITWALL_SOURCE_DIR;
constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;
constexpr std::int64_t kHourMs = 60LL * 60 * 1000;
constexpr std::int64_t kNow = 1774785600000;  // Sunday 2026-03-29 12:00 UTC

template <typename T>
T must(Result<T> result) {
    if (!result) throw std::runtime_error(result.error().code + ": " + result.error().detail);
    return std::move(result).value();
}

constexpr store::Statement kAddUser{
    "test.add_user",
    "INSERT INTO users (discord_id, username, site_role, created_at, updated_at) VALUES ($1, $1, $2, 0, 0) "
    "RETURNING id"};
constexpr store::Statement kAddWeek{"test.add_week",
                                    "INSERT INTO series_weeks (season_id, race_week, series_id, series_name, "
                                    "category, track_name, week_start, "
                                    "updated_at) VALUES ($1, $2, $3, $4, 'sports_car', $5, $6, 0)"};
constexpr store::Statement kAddSession{"test.add_session",
                                       "INSERT INTO series_sessions (season_id, series_id, starts_at, "
                                       "ends_at) VALUES ($1, $2, $3, $3 + 3600000)"};
constexpr store::Statement kAddResult{
    "test.add_result",
    "INSERT INTO race_results (user_id, subsession_id, series_id, series_name, track_name, car_id, "
    "started_at, "
    "start_position, finish_position, laps, incidents, irating_before, irating_after, strength_of_field) "
    "VALUES ($1, $2, $3, 'Series', 'Track', 1, $4, 5, 2, 20, 4, 2000, 2031, 1800)"};
constexpr store::Statement kAddRating{
    "test.add_rating",
    "INSERT INTO member_ratings (user_id, category, irating, safety_rating, license_class, updated_at) "
    "VALUES ($1, $2, $3, 3.41, 'A', 0)"};
constexpr store::Statement kAddHistory{
    "test.add_history",
    "INSERT INTO irating_history (user_id, category, day, irating) VALUES ($1, $2, $3, $4)"};
constexpr store::Statement kHistoryOf{
    "test.history_of",
    "SELECT irating FROM irating_history WHERE user_id = $1 AND category = $2 ORDER BY day DESC LIMIT 1"};
constexpr store::Statement kRatingOf{
    "test.rating_of", "SELECT irating FROM member_ratings WHERE user_id = $1 AND category = $2"};

class RacingTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = must(store::open_sqlite({(dir_.path() / "pitwall.db").string()}));
        must(store::migrate(*db_,
                            must(store::load_migrations(kSource / "migrations", store::Dialect::sqlite))));
    }

    std::int64_t add_user(const std::string& name, const std::string& role = "member") {
        return must(db_->execute(kAddUser, {name, role})).first().int64(0);
    }
    void add_week(std::int64_t season, std::int64_t week, std::int64_t series, const std::string& name,
                  const std::string& track, const std::string& start) {
        must(db_->execute(kAddWeek, {season, week, series, name, track, start}));
    }
    void add_result(std::int64_t user, std::int64_t series, std::int64_t started_at) {
        must(db_->execute(kAddResult, {user, next_subsession_++, series, started_at}));
    }

    test_support::TempDir dir_{"pitwall-racing"};
    std::unique_ptr<store::Database> db_;
    ManualClock clock_{kNow};
    std::int64_t next_subsession_ = 1;
};

TEST_F(RacingTest, NothingSyncedIsAnEmptyScheduleAndAnEmptySection) {
    const auto schedule = must(Racing(*db_, clock_).schedule());
    EXPECT_TRUE(schedule.series.empty());
    const auto member = must(Racing(*db_, clock_).member(add_user("a")));
    EXPECT_TRUE(member.ratings.empty() && member.history.empty() && member.recent_results.empty());
}

TEST_F(RacingTest, TheWeekShownIsTheLatestThatStartedOnOrBeforeToday) {
    add_week(1, 2, 10, "GT Sprint", "Spa", "2026-03-17");
    add_week(1, 3, 10, "GT Sprint", "Monza", "2026-03-24");
    add_week(1, 4, 10, "GT Sprint", "Suzuka", "2026-03-31");      // next week
    add_week(2, 0, 20, "Old Cup", "Brands Hatch", "2026-02-03");  // its season is over
    add_week(3, 0, 30, "New Cup", "Imola", "2026-04-07");         // not started
    add_week(4, 5, 40, "Today Cup", "Fuji", "2026-03-29");        // starts today (UTC)
    const auto schedule = must(Racing(*db_, clock_).schedule());
    ASSERT_EQ(schedule.series.size(), 2u);
    EXPECT_FALSE(schedule.raced_only);  // nobody raced: every series with a current week
    EXPECT_EQ(schedule.series[0].series_name, "GT Sprint");
    EXPECT_EQ(schedule.series[0].track_name, "Monza");
    EXPECT_EQ(schedule.series[0].race_week, 3);
    EXPECT_EQ(schedule.series[1].track_name, "Fuji");
}

TEST_F(RacingTest, ScheduleKeepsWhatMembersRacedAndCountsThem) {
    add_week(1, 3, 10, "GT Sprint", "Monza", "2026-03-24");
    add_week(2, 3, 20, "MX-5 Cup", "Lime Rock", "2026-03-24");
    add_week(3, 3, 30, "Formula Vee", "Oran Park", "2026-03-24");
    add_week(4, 3, 40, "Porsche Cup", "Zandvoort", "2026-03-24");
    const auto a = add_user("a"), b = add_user("b"), c = add_user("c"), guest = add_user("g", "guest");
    add_result(a, 20, kNow - 2 * kDayMs);
    add_result(a, 20, kNow - 3 * kDayMs);  // the same member twice counts once
    add_result(b, 20, kNow - 80 * kDayMs);
    add_result(c, 10, kNow - 10 * kDayMs);
    add_result(guest, 30, kNow - kDayMs);    // guests are not the team
    add_result(a, 40, kNow - 100 * kDayMs);  // longer ago than 90 days
    add_result(a, 99, kNow - kDayMs);        // a series with no week this week
    const auto schedule = must(Racing(*db_, clock_).schedule());
    EXPECT_TRUE(schedule.raced_only);
    ASSERT_EQ(schedule.series.size(), 2u);
    EXPECT_EQ(schedule.series[0].series_name, "MX-5 Cup");
    EXPECT_EQ(schedule.series[0].members_raced, 2);
    EXPECT_EQ(schedule.series[1].series_name, "GT Sprint");
    EXPECT_EQ(schedule.series[1].members_raced, 1);
}

TEST_F(RacingTest, SessionsAreTheNextSixOfTheComingWeek) {
    add_week(1, 3, 10, "GT Sprint", "Monza", "2026-03-24");
    add_week(2, 3, 20, "MX-5 Cup", "Lime Rock", "2026-03-24");
    must(db_->execute(kAddSession, {std::int64_t{1}, std::int64_t{10}, kNow - kHourMs}));  // started
    for (int i = 9; i >= 0; --i)
        must(db_->execute(kAddSession, {std::int64_t{1}, std::int64_t{10}, kNow + i * 2 * kHourMs}));
    must(db_->execute(kAddSession, {std::int64_t{2}, std::int64_t{20}, kNow + 6 * kDayMs}));
    must(db_->execute(kAddSession, {std::int64_t{2}, std::int64_t{20}, kNow + 7 * kDayMs}));  // too far
    const auto schedule = must(Racing(*db_, clock_).schedule());
    ASSERT_EQ(schedule.series.size(), 2u);
    const auto& gt = schedule.series[0].series_id == 10 ? schedule.series[0] : schedule.series[1];
    const auto& mx5 = schedule.series[0].series_id == 10 ? schedule.series[1] : schedule.series[0];
    ASSERT_EQ(gt.sessions.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i)
        EXPECT_EQ(gt.sessions[i], kNow + static_cast<std::int64_t>(i) * 2 * kHourMs);
    EXPECT_EQ(mx5.sessions, (std::vector<std::int64_t>{kNow + 6 * kDayMs}));
}

TEST_F(RacingTest, MemberDataIsOrderedAndBounded) {
    const auto a = add_user("a");
    must(db_->execute(kAddRating, {a, "oval", std::int64_t{1200}}));
    must(db_->execute(kAddRating, {a, "sports_car", std::int64_t{2380}}));
    must(db_->execute(kAddHistory, {a, "sports_car", "2025-03-01", std::int64_t{2000}}));  // over a year ago
    must(db_->execute(kAddHistory, {a, "sports_car", "2025-04-01", std::int64_t{2140}}));
    must(db_->execute(kAddHistory, {a, "sports_car", "2026-03-28", std::int64_t{2380}}));
    must(db_->execute(kAddHistory, {a, "sports_car", "garbage", std::int64_t{1}}));  // skipped
    must(db_->execute(kAddHistory, {a, "road", "2026-01-01", std::int64_t{1}}));     // no such category now
    must(db_->execute(kAddHistory, {a, "oval", "2026-02-01", std::int64_t{1200}}));
    for (int i = 0; i < 14; ++i) add_result(a, 10, kNow - i * kDayMs);
    const auto member = must(Racing(*db_, clock_).member(a));
    ASSERT_EQ(member.ratings.size(), 2u);
    EXPECT_EQ(member.ratings[0].category, "sports_car");  // kCategories order
    EXPECT_EQ(member.ratings[1].category, "oval");
    ASSERT_EQ(member.history.size(), 2u);
    EXPECT_EQ(member.history[0].category, "sports_car");
    ASSERT_EQ(member.history[0].points.size(), 2u);
    EXPECT_EQ(member.history[0].points[0].value, 2140);
    ASSERT_EQ(member.recent_results.size(), 10u);
    EXPECT_EQ(member.recent_results[0].started_at, kNow);
    EXPECT_EQ(member.recent_results[9].started_at, kNow - 9 * kDayMs);
    EXPECT_EQ(member.recent_results[0].irating_change(), 31);
}

TEST_F(RacingTest, SectionDataCarriesAnAccessibleChart) {
    const auto catalog = must(i18n::Catalog::load(kSource / "locales"));
    const auto a = add_user("a");
    must(db_->execute(kAddHistory, {a, "sports_car", "2025-03-30", std::int64_t{2140}}));
    must(db_->execute(kAddHistory, {a, "sports_car", "2026-03-28", std::int64_t{2380}}));
    const auto member = must(Racing(*db_, clock_).member(a));
    const auto en = section_data(member, catalog, {"en", "America/Los_Angeles"});
    const std::string svg(en.at("chart_html").as_string());
    EXPECT_NE(svg.find("aria-label=\"Sports car iRating from 2140 to 2380 over 12 months\""),
              std::string::npos)
        << svg.substr(0, 300);
    // Calendar months, whatever the viewer's zone: 1 January is January in Los Angeles too.
    EXPECT_NE(svg.find(">May 2025</text>"), std::string::npos);
    EXPECT_NE(svg.find(">Jan 2026</text>"), std::string::npos);
    const auto tr = section_data(member, catalog, {"tr", "Europe/Istanbul"});
    const std::string tr_svg(tr.at("chart_html").as_string());
    EXPECT_NE(tr_svg.find("Spor otomobil iRating: 12 ayda 2140 değerinden 2380 değerine"), std::string::npos)
        << tr_svg.substr(0, 300);
    EXPECT_NE(tr_svg.find(">Oca 2026</text>"), std::string::npos);
    EXPECT_NE(tr_svg.find(">Mar</text>"), std::string::npos);
    EXPECT_TRUE(section_data(MemberRacing{}, catalog, {}).at("chart_html").is_null());
}

TEST_F(RacingTest, TheDemoSeedFillsEveryRacingTable) {
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(must(demo::seed_if_empty(*db_, clock_)), 60);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_LT(took, std::chrono::seconds(5));  // it runs at start-up

    Racing racing(*db_, clock_);
    for (std::int64_t id : {1, 30, 60}) {
        const auto member = must(racing.member(id));
        ASSERT_EQ(member.history.size(), 2u) << id;
        EXPECT_GT(member.history[0].points.size(), 60u) << id;
        EXPECT_EQ(member.recent_results.size(), 10u) << id;
        for (const auto& r : member.recent_results) EXPECT_LT(r.started_at, kNow);
        // The history ends at the current rating.
        for (const char* category : {"sports_car", "formula_car"})
            EXPECT_EQ(must(db_->execute(kHistoryOf, {id, category})).first().int64(0),
                      must(db_->execute(kRatingOf, {id, category})).first().int64(0));
    }
    const auto schedule = must(racing.schedule());
    EXPECT_TRUE(schedule.raced_only);
    EXPECT_GE(schedule.series.size(), 10u);
    for (const auto& s : schedule.series) {
        EXPECT_GT(s.members_raced, 0) << s.series_name;
        EXPECT_EQ(s.sessions.size(), 6u) << s.series_name;
        EXPECT_FALSE(s.track_name.empty());
        for (auto start : s.sessions) EXPECT_GE(start, kNow);
    }
    EXPECT_EQ(must(demo::seed_if_empty(*db_, clock_)), 0);  // only into an empty database
}

}  // namespace
}  // namespace pitwall::racing
