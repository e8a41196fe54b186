// The planner service on a real SQLite file migrated with the shipped migrations: stage 1 and 2 on
// registered members, the revision check, manual edits through the rule engine, locks kept by a
// re-plan, an infeasible crew named by member and rule, publishing (DMs through the real DM queue on
// the embedded KV, the announcement edited in place), race day (green flag, pit now), the iCal feed
// and its secret URL, and the exports.
#include "features/planner/service.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "features/bot/commands.hpp"
#include "features/events/events.hpp"
#include "features/identity/users.hpp"
#include "features/notify/dm_queue.hpp"
#include "features/racing/racing.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/migrate.hpp"
#include "platform/store/sql.hpp"
#include "support/servers.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::planner {
namespace {

const std::filesystem::path kSource = PITWALL_SOURCE_DIR;
constexpr std::int64_t kNowMs = 1774785600000;  // Sunday 2026-03-29 12:00 UTC
constexpr std::int64_t kNow = kNowMs / 1000;
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kStart = kNow + 2 * 24 * kHour;  // Tuesday 12:00 UTC
constexpr std::int64_t kHours = 6;

template <typename T>
T must(Result<T> result) {
    if (!result) throw std::runtime_error(result.error().code + ": " + result.error().detail);
    return std::move(result).value();
}
void must(const Status& status) {
    if (!status) throw std::runtime_error(status.error().code + ": " + status.error().detail);
}
template <typename T>
std::string code_of(const Result<T>& result) {
    return result ? std::string("ok") : result.error().code;
}

constexpr store::Statement kAddUser{
    "test.add_user",
    "INSERT INTO users (discord_id, username, global_name, site_role, time_zone, locale, created_at, "
    "updated_at) VALUES ($1, $1, $2, 'member', $3, $4, 0, 0) RETURNING id"};
constexpr store::Statement kAvoidNight{
    "test.avoid_night",
    "UPDATE event_registrations SET avoid_night = 1 WHERE event_id = $1 AND "
    "user_id = $2"};
constexpr store::Statement kPrefer{"test.prefer",
                                   "UPDATE event_availability SET preferred = 1 WHERE event_id = $1 AND "
                                   "user_id = $2 AND hour_start = $3"};

class Recorder : public http::WsPeer {
  public:
    void send(std::shared_ptr<const std::string> frame) override { frames.push_back(*frame); }
    [[nodiscard]] const std::string& locale() const override { return locale_; }
    [[nodiscard]] int plan_messages() const {
        return static_cast<int>(std::count_if(frames.begin(), frames.end(), [](const std::string& f) {
            return f.find("\"type\":\"plan\"") != std::string::npos;
        }));
    }
    std::vector<std::string> frames;
    std::string locale_ = "en";
};

struct Announced {
    std::string channel, content;
    std::optional<std::string> edit;
};

// Every test runs on SQLite and on PostgreSQL (a schema of its own in the shared test cluster): the
// service's statements are written for both dialects.
class PlannerServiceTest : public ::testing::TestWithParam<store::Dialect> {
  protected:
    void SetUp() override {
        if (GetParam() == store::Dialect::postgres) {
            auto& cluster = test_support::shared_postgres();
            schema_ = cluster.create_schema();
            db_ = must(store::open_postgres({.url = cluster.schema_url(schema_)}));
        } else {
            db_ = must(store::open_sqlite({(dir_.path() / "pitwall.db").string()}));
        }
        must(store::migrate(*db_, must(store::load_migrations(kSource / "migrations", GetParam()))));
        kv_ = must(store::open_embedded_kv({(dir_.path() / "kv.db").string()}, clock_));
        dms_ = std::make_unique<notify::DmQueue>(*db_, *kv_, catalog_, clock_, notify::DmQueueOptions{});
        planner_ = std::make_unique<Planner>(
            *db_, catalog_, clock_,
            PlannerOptions{.public_url = "https://pitwall.test", .announce_locale = "en", .ical_key = "k3y"},
            &hub_, dms_.get(),
            [this](std::string channel, std::string content, std::optional<std::string> edit) {
                announced_.push_back({std::move(channel), std::move(content), std::move(edit)});
                return Result<std::string>("req-" + std::to_string(announced_.size()));
            });
        events_ = std::make_unique<events::Events>(*db_, clock_);
        event_ = must(events_->create({.name = "Daytona 6",
                                       .track = "Daytona",
                                       .car_class = "GT3",
                                       .starts_at = kStart,
                                       .duration_min = kHours * 60,
                                       .discord_channel_id = "900000000000000001"},
                                      std::nullopt))
                     .id;
        hub_.attach(peer_);
        (void)hub_.handle_client_frame(peer_.get(),
                                       R"({"op":"subscribe","topic":")" + Planner::topic(event_) + "\"}");
    }

    std::int64_t member(const std::string& name, events::Role role, std::vector<int> hours = {},
                        std::string locale = "en", std::string zone = "Europe/Istanbul") {
        const auto id = must(db_->execute(kAddUser, {std::to_string(100000000000000000LL + ++users_), name,
                                                     std::move(zone), std::move(locale)}))
                            .first()
                            .int64(0);
        must(events_->register_member(event_, id, role, events::Source::web));
        if (hours.empty())
            for (int h = 0; h < kHours; ++h) hours.push_back(h);
        std::vector<std::int64_t> at;
        for (int h : hours) at.push_back(kStart + h * kHour);
        must(events_->set_availability(event_, id, at));
        return id;
    }

    void settings(Settings s) { must(planner_->save_settings(event_, s)); }
    [[nodiscard]] EventPlan plan() const { return must(planner_->plan(event_)); }

    // Six drivers and two spotters, 2 cars; Mert is away in hours 2 and 3.
    void pool() {
        ayse_ = member("Ayşe", events::Role::driver, {}, "tr");
        mert_ = member("Mert", events::Role::driver, {0, 1, 4, 5});
        for (const char* n : {"Lena", "Kai", "Noor", "Ivo"})
            drivers_.push_back(member(n, events::Role::driver));
        spotters_.push_back(member("Sam", events::Role::spotter));
        spotters_.push_back(member("Tove", events::Role::spotter));
        settings(Settings{.lap_s = 120,
                          .pit_loss_s = 60,
                          .fuel_tank = 60,
                          .fuel_per_lap = 3,
                          .crews = 2,
                          .min_drivers = 2,
                          .max_drivers = 4,
                          .max_consecutive = 2});
    }

    [[nodiscard]] static const CrewRow& crew_of(const EventPlan& p, std::int64_t user) {
        for (const auto& c : p.crews)
            if (std::find(c.drivers.begin(), c.drivers.end(), user) != c.drivers.end()) return c;
        throw std::runtime_error("not seated");
    }

    void TearDown() override {
        planner_.reset();
        dms_.reset();
        events_.reset();
        db_.reset();
        if (!schema_.empty()) test_support::shared_postgres().drop_schema(schema_);
    }

    test_support::TempDir dir_;
    std::string schema_;
    ManualClock clock_{kNowMs};
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<store::Kv> kv_;
    i18n::Catalog catalog_ = must(i18n::Catalog::load(kSource / "locales"));
    http::WsHub hub_{nullptr, 8};
    std::shared_ptr<Recorder> peer_ = std::make_shared<Recorder>();
    std::unique_ptr<notify::DmQueue> dms_;
    std::unique_ptr<Planner> planner_;
    std::unique_ptr<events::Events> events_;
    std::vector<Announced> announced_;
    std::int64_t event_ = 0;
    int users_ = 0;
    std::int64_t ayse_ = 0, mert_ = 0;
    std::vector<std::int64_t> drivers_, spotters_;
};

TEST_P(PlannerServiceTest, SettingsRoundTripAndBadValuesNameTheField) {
    const Settings s{.lap_s = 97.5,
                     .crews = 3,
                     .min_seat_min = 40,
                     .irating_min = 1500,
                     .spotters = true,
                     .mode = BalanceMode::tiered,
                     .car_id = 132,
                     .car_name = "BMW M4 GT3"};
    EXPECT_EQ(must(parse_settings(settings_json(s))), s);
    auto bad = parse_settings(R"({"lap_s": "fast"})");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "planner.bad_settings");
    EXPECT_EQ(bad.error().arg("field"), "lap_s");
    EXPECT_EQ(parse_settings(R"({"fuel_per_lap": 200, "fuel_tank": 100})").error().arg("field"),
              "fuel_per_lap");
    EXPECT_EQ(parse_settings(R"({"mode": "random"})").error().arg("field"), "mode");
    EXPECT_EQ(parse_settings("[1,2").error().code, "planner.bad_settings_json");
    EXPECT_EQ(parse_settings(R"({"irating_min": 3000, "irating_max": 2000})").error().arg("field"),
              "irating_max");
}

TEST_P(PlannerServiceTest, FormCrewsSeatsEveryoneAndPlansValidStints) {
    pool();
    const auto before = plan().revision;
    const auto p = must(planner_->form_crews(event_, before));
    EXPECT_GT(p.revision, before);
    ASSERT_EQ(p.crews.size(), 2U);
    std::size_t seated = 0;
    for (const auto& c : p.crews) {
        seated += c.drivers.size();
        EXPECT_TRUE(c.captain.has_value());
        EXPECT_FALSE(c.solve_error) << c.solve_error->code;
        EXPECT_TRUE(c.violations.empty()) << c.violations.front().code;
        ASSERT_FALSE(c.stints.empty());
        EXPECT_EQ(c.stints.front().starts_at, kStart);
        EXPECT_EQ(c.stints.back().ends_at, kStart + kHours * kHour);
        for (const auto& s : c.stints) EXPECT_TRUE(s.driver.has_value());
    }
    EXPECT_EQ(seated, 6U);
    EXPECT_GE(peer_->plan_messages(), 1);
    // Mert never drives in hours 2-3.
    for (const auto& s : crew_of(p, mert_).stints)
        if (s.driver == mert_) {
            EXPECT_TRUE(s.ends_at <= kStart + 2 * kHour || s.starts_at >= kStart + 4 * kHour);
        }
}

TEST_P(PlannerServiceTest, AManualEditIsCheckedByTheRuleEngineAndBlocksPublish) {
    pool();
    auto p = must(planner_->form_crews(event_, plan().revision));
    const CrewRow crew = crew_of(p, mert_);  // a copy: p is reassigned below
    // The stint running at hour 2:30: Mert is away.
    int away = -1;
    for (const auto& s : crew.stints)
        if (s.starts_at <= kStart + 2 * kHour + 1800 && s.ends_at > kStart + 2 * kHour + 1800) away = s.stint;
    ASSERT_GE(away, 0);
    const std::vector<StintEdit> edit{{.stint = away, .driver = mert_}};
    const auto preview = must(planner_->preview(event_, crew.crew, edit));
    ASSERT_FALSE(preview.empty());
    const auto unavailable = std::find_if(preview.begin(), preview.end(),
                                          [](const Violation& v) { return v.rule == Rule::unavailable; });
    ASSERT_NE(unavailable, preview.end());
    EXPECT_EQ(unavailable->member, mert_);
    EXPECT_EQ(catalog_.error_text("en", unavailable->to_error(), "UTC"),
              "Mert is unavailable during stint " + std::to_string(away + 1) + ".");
    EXPECT_EQ(plan().revision, p.revision) << "a preview stores nothing";

    EXPECT_EQ(code_of(planner_->edit(event_, crew.crew, edit, p.revision - 1)), "planner.stale");
    p = must(planner_->edit(event_, crew.crew, edit, p.revision));
    EXPECT_EQ(p.crew(crew.crew)->stints[static_cast<std::size_t>(away)].driver, mert_);
    EXPECT_FALSE(p.crew(crew.crew)->violations.empty());
    EXPECT_EQ(code_of(planner_->publish(event_)), "planner.not_publishable");
    EXPECT_TRUE(announced_.empty());

    // Re-planning the unlocked stints repairs it.
    p = must(planner_->assign_stints(event_, crew.crew, p.revision));
    EXPECT_TRUE(p.crew(crew.crew)->violations.empty());
}

TEST_P(PlannerServiceTest, LockedStintsSurviveAReplan) {
    pool();
    auto p = must(planner_->form_crews(event_, plan().revision));
    const CrewRow crew = crew_of(p, ayse_);
    // Put someone else of the crew in stint 0 and lock it.
    const std::int64_t other =
        crew.drivers.front() == crew.stints[0].driver ? crew.drivers.back() : crew.drivers.front();
    p = must(planner_->edit(event_, crew.crew, {{.stint = 0, .driver = other}}, p.revision));
    p = must(planner_->set_locked(event_, crew.crew, 0, true, p.revision));
    for (int i = 0; i < 3; ++i) {
        p = must(planner_->assign_stints(event_, std::nullopt, p.revision));
        EXPECT_EQ(p.crew(crew.crew)->stints[0].driver, other);
        EXPECT_TRUE(p.crew(crew.crew)->stints[0].locked);
        EXPECT_TRUE(p.crew(crew.crew)->violations.empty());
    }
    EXPECT_EQ(code_of(planner_->set_locked(event_, 7, 0, true, p.revision)), "planner.unknown_crew");
}

TEST_P(PlannerServiceTest, AnInfeasibleCrewNamesTheMemberAndTheRule) {
    pool();
    auto p = must(planner_->form_crews(event_, plan().revision));
    // A series minimum of 2 h 30 min seat time per driver: Mert is available 4 h but cannot drive
    // 2.5 h of the 3 h left for a crew of three... the solver's feasibility names him or another.
    Settings s = p.settings;
    s.min_seat_min = 150;
    settings(s);
    auto replanned = planner_->assign_stints(event_, crew_of(p, mert_).crew, plan().revision);
    ASSERT_FALSE(replanned);
    EXPECT_EQ(replanned.error().kind, ErrorKind::invalid_input);
    EXPECT_TRUE(replanned.error().code == "planner.seat_time_unreachable" ||
                replanned.error().code == "planner.min_seat_time")
        << replanned.error().code;
    EXPECT_FALSE(replanned.error().arg("name").empty());
    const auto text = catalog_.error_text("en", replanned.error(), "UTC");
    EXPECT_NE(text.find(replanned.error().arg("name")), std::string::npos) << text;
    // Stored: the crew shows the error, the page can explain it.
    const auto after = plan();
    ASSERT_TRUE(crew_of(after, mert_).solve_error.has_value());
    EXPECT_EQ(crew_of(after, mert_).solve_error->code, replanned.error().code);
}

TEST_P(PlannerServiceTest, PublishMessagesEveryoneOnceAndEditsTheAnnouncementInPlace) {
    pool();
    auto p = must(planner_->form_crews(event_, plan().revision));
    const auto first = must(planner_->publish(event_));
    EXPECT_TRUE(plan().published_is_current()) << "what was published is what is stored";
    EXPECT_EQ(first.revision, plan().revision);
    EXPECT_TRUE(first.announced);
    EXPECT_FALSE(first.edited);
    ASSERT_EQ(announced_.size(), 1U);
    EXPECT_EQ(announced_[0].channel, "900000000000000001");
    EXPECT_NE(announced_[0].content.find("Daytona 6"), std::string::npos);
    int with_duties = 0;
    for (const auto& [id, m] : plan().members)
        with_duties += must(planner_->duties(id, kNow)).empty() ? 0 : 1;
    EXPECT_EQ(first.dms_queued, with_duties);
    EXPECT_GE(with_duties, 6);
    // Ayşe reads hers in Turkish, in Istanbul time (UTC+3): the race starts at 15:00 there.
    const auto recent = must(dms_->recent(std::nullopt, 50));
    EXPECT_EQ(static_cast<int>(recent.size()), with_duties);

    planner_->announce_result("req-1", "1200000000000000001");
    const auto again = must(planner_->publish(event_));
    EXPECT_EQ(again.dms_queued, 0) << "nothing changed for anyone";
    EXPECT_TRUE(again.edited);
    ASSERT_EQ(announced_.size(), 2U);
    EXPECT_EQ(announced_[1].edit, "1200000000000000001");

    // One swap: only the two drivers concerned hear about it.
    p = plan();
    const CrewRow crew = crew_of(p, ayse_);
    int a = -1, b = -1;
    for (const auto& s : crew.stints) {
        if (a < 0 && s.driver) {
            a = s.stint;
        } else if (a >= 0 && b < 0 && s.driver &&
                   s.driver != crew.stints[static_cast<std::size_t>(a)].driver) {
            b = s.stint;
        }
    }
    ASSERT_GE(b, 0);
    const auto da = *crew.stints[static_cast<std::size_t>(a)].driver,
               db = *crew.stints[static_cast<std::size_t>(b)].driver;
    auto swapped = planner_->edit(event_, crew.crew, {{.stint = a, .driver = db}, {.stint = b, .driver = da}},
                                  p.revision);
    ASSERT_TRUE(swapped);
    if (swapped->crew(crew.crew)->violations.empty()) {
        EXPECT_EQ(must(planner_->publish(event_)).dms_queued, 2);
    }
}

TEST_P(PlannerServiceTest, RemindersGoAtThirtyFifteenAndFiveMinutesOnceEach) {
    pool();
    auto p = must(planner_->form_crews(event_, plan().revision));
    EXPECT_EQ(must(planner_->send_reminders()), 0) << "nothing is published yet";
    must(planner_->publish(event_));
    const auto queued = [&] { return must(dms_->recent(std::nullopt, 500)).size(); };
    const std::size_t itineraries = queued();
    // Two cars start at once: two drivers are due at each mark.
    clock_.set_ms((kStart - 29 * 60) * 1000);
    EXPECT_EQ(must(planner_->send_reminders()), 2);
    EXPECT_EQ(queued(), itineraries + 2);
    EXPECT_EQ(must(planner_->send_reminders()), 2);
    EXPECT_EQ(queued(), itineraries + 2) << "the same mark twice queues nothing";
    clock_.set_ms((kStart - 14 * 60) * 1000);
    must(planner_->send_reminders());
    clock_.set_ms((kStart - 4 * 60) * 1000);
    must(planner_->send_reminders());
    EXPECT_EQ(queued(), itineraries + 6);
    const auto last = must(dms_->recent(std::nullopt, 1)).front();
    EXPECT_EQ(last.message_key, "planner.dm_reminder_drive");
}

TEST_P(PlannerServiceTest, SlashNextListsTheMembersPublishedStintsInTheirLanguageAndZone) {
    pool();
    identity::Users users(*db_, clock_);
    racing::Racing racing(*db_, clock_);
    bot::Commands commands({.catalog = catalog_,
                            .clock = clock_,
                            .sql = *db_,
                            .users = users,
                            .events = *events_,
                            .racing = racing,
                            .dms = *dms_,
                            .public_url = "https://pitwall.test",
                            .planner = planner_.get()});
    const auto next = [&] {
        // Ayşe: the first member the fixture made, Discord id ...001, Turkish, Istanbul.
        return commands
            .handle({.ref = "1", .discord_user_id = "100000000000000001", .locale = "tr", .name = "next"})
            .content;
    };
    EXPECT_NE(next().find("Plan yayımlandığında"), std::string::npos) << next();
    must(planner_->form_crews(event_, plan().revision));
    must(planner_->publish(event_));
    const auto text = next();
    const auto duties = must(planner_->duties(ayse_, kNow));
    ASSERT_FALSE(duties.empty());
    EXPECT_NE(text.find("Stintlerin"), std::string::npos) << text;
    EXPECT_NE(text.find(std::to_string(duties.front().stint + 1) + ". stint"), std::string::npos) << text;
}

TEST_P(PlannerServiceTest, GreenFlagMovesThePlanAndPitNowReplansTheRest) {
    pool();
    auto p = must(planner_->form_crews(event_, plan().revision));
    EXPECT_EQ(code_of(planner_->pit_now(event_, 0, kStart + 600)), "planner.not_green");
    p = must(planner_->green_flag(event_, kStart + 240));  // four minutes late
    for (const auto& c : p.crews) {
        EXPECT_EQ(c.stints.front().starts_at, kStart + 240);
        EXPECT_EQ(c.stints.front().actual_start, kStart + 240);
        EXPECT_EQ(c.stints.back().ends_at, kStart + 240 + kHours * kHour);
    }
    EXPECT_EQ(code_of(planner_->green_flag(event_, kStart)), "planner.already_green");
    const auto first_driver = p.crews[0].stints[0].driver;
    // An early stop after 30 minutes: stint 1 starts then, the rest is derived again from fuel.
    const std::int64_t pit = kStart + 240 + 1800;
    p = must(planner_->pit_now(event_, 0, pit));
    const CrewRow& c = *p.crew(0);
    EXPECT_EQ(c.stints[0].ends_at, pit);
    EXPECT_EQ(c.stints[0].actual_end, pit);
    EXPECT_TRUE(c.stints[0].locked);
    EXPECT_EQ(c.stints[0].driver, first_driver);
    EXPECT_EQ(c.stints[1].starts_at, pit);
    EXPECT_EQ(c.stints[1].actual_start, pit);
    EXPECT_EQ(c.stints.back().ends_at, kStart + 240 + kHours * kHour);
    EXPECT_FALSE(c.solve_error) << c.solve_error->code << " " << c.solve_error->arg("stint");
    for (const auto& s : c.stints) EXPECT_TRUE(s.driver.has_value());
    EXPECT_EQ(code_of(planner_->pit_now(event_, 0, pit - 60)), "planner.bad_pit_time");
}

TEST_P(PlannerServiceTest, TheIcalFeedNeedsItsSecretAndARotationRevokesTheOldUrl) {
    pool();
    must(planner_->form_crews(event_, plan().revision));
    must(planner_->publish(event_));
    const auto url = must(planner_->ical_url(ayse_));
    const std::string prefix = "https://pitwall.test/calendar/" + std::to_string(ayse_) + "/";
    ASSERT_EQ(url.rfind(prefix, 0), 0U) << url;
    const std::string token = url.substr(prefix.size(), url.size() - prefix.size() - 4);
    const auto feed = must(planner_->ical_feed(ayse_, token));
    EXPECT_NE(feed.find("BEGIN:VCALENDAR\r\n"), std::string::npos);
    EXPECT_NE(feed.find("DTSTART:"), std::string::npos);
    EXPECT_EQ(code_of(planner_->ical_feed(ayse_, token + "x")), "planner.ical_not_found");
    EXPECT_EQ(code_of(planner_->ical_feed(mert_, token)), "planner.ical_not_found");
    const auto rotated = must(planner_->rotate_ical(ayse_));
    EXPECT_NE(rotated, url);
    EXPECT_EQ(code_of(planner_->ical_feed(ayse_, token)), "planner.ical_not_found");
}

TEST_P(PlannerServiceTest, AvoidMyNightKeepsAMemberOutOfTheirLocalNightWhenTheCrewCanCoverIt) {
    // The race runs 12:00-18:00 UTC: 01:00-07:00 in Auckland (UTC+13 in March).
    const auto kiwi = member("Aroha", events::Role::driver, {}, "en", "Pacific/Auckland");
    for (const char* n : {"Lena", "Kai", "Noor"}) drivers_.push_back(member(n, events::Role::driver));
    settings(Settings{.lap_s = 120,
                      .pit_loss_s = 60,
                      .fuel_tank = 60,
                      .fuel_per_lap = 3,
                      .crews = 1,
                      .min_drivers = 2,
                      .max_drivers = 4,
                      .fair_share = false,
                      .max_consecutive = 2});
    auto p = must(planner_->form_crews(event_, plan().revision));
    const auto night_stints = [&](const EventPlan& plan) {
        int n = 0;
        for (const auto& s : plan.crews.at(0).stints)
            if (s.driver == kiwi && s.starts_at < kStart + 5 * kHour) ++n;  // before 06:00 in Auckland
        return n;
    };
    ASSERT_TRUE(p.crews.at(0).violations.empty());
    must(db_->execute(kAvoidNight, {event_, kiwi}));
    p = must(planner_->assign_stints(event_, std::nullopt, p.revision));
    EXPECT_EQ(night_stints(p), 0);
    EXPECT_TRUE(p.crews.at(0).violations.empty());
    // With one teammate left, who may drive two stints in a row at most, Aroha must drive at night:
    // the plan still comes (the wish is soft).
    for (std::size_t i = 1; i < drivers_.size(); ++i)
        must(planner_->move_member(event_, drivers_[i], std::nullopt, true, plan().revision));
    p = must(planner_->assign_stints(event_, std::nullopt, plan().revision));
    EXPECT_FALSE(p.crews.at(0).solve_error.has_value());
    EXPECT_GT(night_stints(p), 0);
}

TEST_P(PlannerServiceTest, ExportsCarryEveryStintAndDefuseSpreadsheetFormulas) {
    pool();
    auto p = must(planner_->form_crews(event_, plan().revision));
    p.members[ayse_].name = "=HYPERLINK(\"x\")";
    const auto csv = Planner::plan_csv(p);
    std::size_t stints = 0;
    for (const auto& c : p.crews) stints += c.stints.size();
    EXPECT_EQ(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')), stints + 1);
    EXPECT_EQ(csv.find(",=HYPERLINK"), std::string::npos);
    const auto json = boost::json::parse(Planner::plan_json(p)).as_object();
    EXPECT_EQ(json.at("crews").as_array().size(), p.crews.size());
    EXPECT_EQ(json.at("revision").as_int64(), p.revision);
}

INSTANTIATE_TEST_SUITE_P(Dialects, PlannerServiceTest,
                         ::testing::Values(store::Dialect::sqlite, store::Dialect::postgres),
                         [](const ::testing::TestParamInfo<store::Dialect>& info) {
                             return std::string(info.param == store::Dialect::sqlite ? "sqlite" : "postgres");
                         });

}  // namespace
}  // namespace pitwall::planner
