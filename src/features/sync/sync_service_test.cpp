// The sync jobs (SyncService) against the in-process iRacing and Garage61 fakes: the real component
// (HTTP client, governors, KV cache, service account, sync log, scheduler run inline), a migrated
// SQLite file and the embedded KV in a TempDir, and one ManualClock shared by the fakes and the
// component so cache TTLs, token expiry and the fakes' race activity move without sleeping.
#include "features/sync/sync_service.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fakes/fake_garage61.hpp"
#include "fakes/fake_iracing.hpp"
#include "features/identity/users.hpp"
#include "features/sync/component.hpp"
#include "features/sync/sync_log.hpp"
#include "integrations/garage61/client.hpp"
#include "platform/jobs/scheduler.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/migrate.hpp"
#include "platform/store/sql.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::sync {
namespace {

using namespace std::chrono_literals;

template <typename T>
T must(Result<T> r) {
    if (!r) throw std::runtime_error(r.error().code + ": " + r.error().detail);
    return std::move(*r);
}

constexpr int kTeamSize = 16;  // the fakes' team (Garage61 "teammates" included)
constexpr int kLinked = 12;    // members with a Pitwall account and both links
constexpr int kHistoryDays = 30;
constexpr std::int64_t kStartMs = 1'790'000'000'000;  // 2026-09-21, two weeks into a season

class SyncServiceTest : public ::testing::Test {
  protected:
    SyncServiceTest()
        : team_(std::make_shared<fakes::FakeTeam>(fakes::generate_team(5, kTeamSize))),
          iracing_(team_, clock_),
          garage61_(team_, clock_,
                    {.bucket_capacity = 1000, .refill_per_second = 100, .lap_history_days = kHistoryDays}),
          sql_(must(store::open_sqlite({(dir_.path() / "pitwall.db").string()}))),
          kv_(must(store::open_embedded_kv({(dir_.path() / "kv.db").string()}, clock_))),
          users_(*sql_, clock_),
          config_(must(parse_config_text("", {}))) {
        must(store::migrate(
            *sql_, must(store::load_migrations(std::filesystem::path(PITWALL_SOURCE_DIR) / "migrations",
                                               store::Dialect::sqlite))));
        config_.data_dir = dir_.path().string();
        config_.iracing.api_base = iracing_.api_url();
        config_.iracing.token_url = iracing_.token_url();
        config_.iracing.client_id = iracing_.options().client_id;
        config_.iracing.client_secret = iracing_.options().client_secret;
        config_.iracing.service_username = iracing_.options().username;
        config_.iracing.service_password = iracing_.options().password;
        config_.iracing.league_id = team_->league.league_id;
        config_.iracing.league_season_id = fakes::league_season_id(team_->league, season_index());
        config_.garage61.api_base = garage61_.api_url();
        config_.garage61.rate_limit = 10'000;  // the fake's bucket is generous too: no waiting here
        config_.secrets.token_key = std::string(40, 'k');
        config_.sync.node_id = "test-node";
        link_members();
        component_ = create();
        component_->scheduler().set_inline(true);
    }

    std::unique_ptr<SyncComponent> create() {
        return must(SyncComponent::create(
            config_, *sql_, *kv_, clock_, users_, nullptr, nullptr,
            {.member_tokens = [this](std::string_view provider, std::int64_t user_id) -> Result<std::string> {
                std::lock_guard lock(tokens_mutex_);
                auto it = tokens_.find({std::string(provider), user_id});
                if (it == tokens_.end())
                    return Error(ErrorKind::unauthorized, "auth.not_linked",
                                 {{"provider", std::string(provider)}});
                return it->second;
            }}));
    }

    // users rows for the first kLinked members (guild members), both links active.
    void link_members() {
        const auto now = clock_.now_ms();
        for (int i = 0; i < kLinked; ++i) {
            const auto& m = member(i);
            auto id = must(sql_->execute(
                {"test.user",
                 "INSERT INTO users (discord_id, username, site_role, guild_member, created_at, updated_at) "
                 "VALUES ($1, $2, 'member', 1, $3, $3) RETURNING id"},
                {"d" + std::to_string(m.cust_id), m.display_name, now}));
            const auto user_id = id.first().int64(0);
            user_of_.push_back(user_id);
            must(sql_->execute(
                {"test.link",
                 "INSERT INTO linked_accounts (user_id, provider, subject, display_name, slug, "
                 "status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'active', $6, $6)"},
                {user_id, std::string("iracing"), std::to_string(m.cust_id), m.display_name,
                 store::Value(store::Null{}), now}));
            must(sql_->execute(
                {"test.link",
                 "INSERT INTO linked_accounts (user_id, provider, subject, display_name, slug, "
                 "status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'active', $6, $6)"},
                {user_id, std::string("garage61"), m.g61_id, m.display_name, m.g61_slug, now}));
            tokens_[{"iracing", user_id}] = m.iracing_token;
            tokens_[{"garage61", user_id}] = m.garage61_token;
        }
    }

    const fakes::TeamMember& member(int i) const { return team_->members.at(static_cast<std::size_t>(i)); }
    int season_index() const { return fakes::season_at(clock_.now_ms()).index; }
    std::vector<const fakes::TeamMember*> linked_members() const {
        std::vector<const fakes::TeamMember*> out;
        for (int i = 0; i < kLinked; ++i) out.push_back(&member(i));
        return out;
    }

    // Runs a job inline through the scheduler and returns its sync_runs row.
    RunRow run(const std::string& job) {
        auto id = component_->scheduler().run_now(job, jobs::Trigger::manual);
        if (!id) throw std::runtime_error("run_now " + job + ": " + id.error().code);
        auto row = must(component_->log().find(*id));
        if (!row) throw std::runtime_error("no sync_runs row for " + job);
        return *row;
    }

    // One integer from a query (a string literal: it names the prepared statement).
    std::int64_t scalar(std::string_view sql, store::Params params = {}) {
        auto rows = must(sql_->execute(store::Statement{sql, sql}, params));
        return rows.empty() ? 0 : rows.first().int64(0);
    }

    std::int64_t grants(std::string_view grant) const {
        const auto stats = iracing_.stats();
        auto it = stats.grants.find(std::string(grant));
        return it == stats.grants.end() ? 0 : it->second;
    }
    std::int64_t data_calls(std::string_view endpoint) const {
        const auto stats = iracing_.stats();
        auto it = stats.data_by_endpoint.find(std::string(endpoint));
        return it == stats.data_by_endpoint.end() ? 0 : it->second;
    }

    fakes::LapQuery all_laps_of_linked(std::int64_t now_ms, std::int64_t after_ms = 0) const {
        fakes::LapQuery q;
        for (std::size_t i = 0; i < team_->cars.size(); ++i) q.cars.push_back(static_cast<int>(i));
        for (std::size_t i = 0; i < team_->tracks.size(); ++i) q.tracks.push_back(static_cast<int>(i));
        q.drivers = linked_members();
        q.now_ms = now_ms;
        q.after_ms = after_ms;
        q.history_days = kHistoryDays;
        return q;
    }

    ManualClock clock_{kStartMs};
    test_support::TempDir dir_;
    std::shared_ptr<const fakes::FakeTeam> team_;
    fakes::FakeIracing iracing_;
    fakes::FakeGarage61 garage61_;
    std::unique_ptr<store::Database> sql_;
    std::unique_ptr<store::Kv> kv_;
    identity::Users users_;
    Config config_;
    std::vector<std::int64_t> user_of_;  // member index -> user id
    std::mutex tokens_mutex_;
    std::map<std::pair<std::string, std::int64_t>, std::string> tokens_;  // (provider, user) -> token
    std::unique_ptr<SyncComponent> component_;
};

TEST_F(SyncServiceTest, MembersWritesRatingsThenServesTheRepeatFromTheCache) {
    const auto first = run("iracing-members");
    ASSERT_EQ(first.status, "ok") << first.error_code << " " << first.error_text;
    EXPECT_EQ(first.trigger, "manual");
    EXPECT_EQ(first.node, "test-node");
    EXPECT_EQ(first.items, kLinked);
    EXPECT_GT(first.upstream_calls, 0);
    EXPECT_EQ(first.progress_done, kLinked);
    EXPECT_EQ(scalar("SELECT COUNT(DISTINCT user_id) FROM member_ratings"), kLinked);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM member_ratings"), kLinked * 5);  // every licence category
    for (int i : {0, 5, kLinked - 1}) {
        EXPECT_EQ(scalar("SELECT irating FROM member_ratings WHERE user_id = $1 AND category = 'sports_car'",
                         {user_of_[static_cast<std::size_t>(i)]}),
                  fakes::irating_at(*team_, member(i), fakes::kSportsCar, clock_.now_ms()))
            << "member " << i;
        EXPECT_EQ(scalar("SELECT irating FROM member_ratings WHERE user_id = $1 AND category = 'oval'",
                         {user_of_[static_cast<std::size_t>(i)]}),
                  fakes::irating_at(*team_, member(i), fakes::kOval, clock_.now_ms()))
            << "member " << i;
    }
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM linked_accounts WHERE provider = 'iracing' AND last_sync_at = $1",
                     {clock_.now_ms()}),
              kLinked);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM linked_accounts WHERE provider = 'garage61' AND last_sync_at "
                     "IS NOT NULL"),
              0);
    EXPECT_EQ(data_calls("member/get"), 1);    // 12 members: one batch
    EXPECT_EQ(grants("password_limited"), 1);  // the service account read them

    clock_.advance(5min);
    const auto again = run("iracing-members");
    ASSERT_EQ(again.status, "ok") << again.error_code;
    EXPECT_EQ(again.items, kLinked);
    EXPECT_EQ(again.upstream_calls, 0);
    EXPECT_GT(again.cache_hits, 0);
    EXPECT_EQ(data_calls("member/get"), 1);
}

TEST_F(SyncServiceTest, RecentRacesAreIdempotentAndPickUpNewRaces) {
    const auto first = run("iracing-recent-races");
    ASSERT_EQ(first.status, "ok") << first.error_code << " " << first.error_text;
    const auto stored = scalar("SELECT COUNT(*) FROM race_results");
    EXPECT_GT(stored, 0);
    EXPECT_EQ(first.items, stored);
    EXPECT_EQ(first.upstream_calls, kLinked);  // one stats/member_recent_races per member
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM race_results WHERE posted_at IS NULL"), 0);  // the feed saw them
    // The stored rows of one member are the fake's recent races.
    for (const auto& race : fakes::member_recent_races(*team_, member(2), clock_.now_ms()))
        EXPECT_EQ(scalar("SELECT COUNT(*) FROM race_results WHERE user_id = $1 AND subsession_id = $2",
                         {user_of_[2], race.subsession_id}),
                  1)
            << race.subsession_id;

    const auto second = run("iracing-recent-races");
    ASSERT_EQ(second.status, "ok") << second.error_code;
    EXPECT_EQ(second.items, 0);
    EXPECT_EQ(second.upstream_calls, 0);  // nobody raced since: nobody is read again
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM race_results"), stored);

    const auto before = clock_.now_ms();
    clock_.advance(72h);  // members keep racing; iracing-members sees whose ratings moved
    const auto members = run("iracing-members");
    ASSERT_EQ(members.status, "ok") << members.error_code;
    const auto later = run("iracing-recent-races");
    EXPECT_GT(later.upstream_calls, 0);
    EXPECT_LE(later.upstream_calls, kLinked);  // only those who raced
    ASSERT_EQ(later.status, "ok") << later.error_code << " " << later.error_text;
    EXPECT_GT(later.items, 0);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM race_results"), stored + later.items);
    EXPECT_GT(scalar("SELECT COUNT(*) FROM race_results WHERE started_at > $1", {before}), 0);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM race_results WHERE posted_at IS NULL"), 0);
}

TEST_F(SyncServiceTest, IratingHistoryFillsEveryRatedCategory) {
    ASSERT_EQ(run("iracing-members").status, "ok");
    const auto history = run("iracing-irating-history");
    ASSERT_EQ(history.status, "ok") << history.error_code << " " << history.error_text;
    EXPECT_GT(history.items, 0);
    EXPECT_EQ(history.progress_done, kLinked);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM member_ratings"), kLinked * 5);
    EXPECT_EQ(
        scalar("SELECT COUNT(*) FROM member_ratings r WHERE NOT EXISTS (SELECT 1 FROM irating_history h "
               "WHERE h.user_id = r.user_id AND h.category = r.category)"),
        0);
    EXPECT_GE(history.items, scalar("SELECT COUNT(*) FROM irating_history"));
    EXPECT_EQ(data_calls("member/chart_data"), kLinked * 5);
}

TEST_F(SyncServiceTest, WeeklyScheduleFillsWeeksAndTheNextDaysSessions) {
    const auto schedule = run("iracing-weekly-schedule");
    ASSERT_EQ(schedule.status, "ok") << schedule.error_code << " " << schedule.error_text;
    EXPECT_GT(scalar("SELECT COUNT(*) FROM series_weeks"), 0);
    EXPECT_EQ(scalar("SELECT COUNT(DISTINCT series_id) FROM series_weeks"),
              static_cast<std::int64_t>(team_->series.size()));
    const auto now = clock_.now_ms();
    const auto expected = fakes::sessions_starting_between(*team_, now, now + 23 * fakes::kHourMs);
    ASSERT_FALSE(expected.empty());
    std::int64_t missing = 0;
    for (const auto& s : expected)
        if (scalar("SELECT COUNT(*) FROM series_sessions WHERE season_id = $1 AND starts_at = $2",
                   {s.season_id, s.start_ms}) != 1)
            ++missing;
    EXPECT_EQ(missing, 0) << "of " << expected.size() << " sessions in the next 23 hours";
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM series_sessions WHERE ends_at < $1", {now - fakes::kDayMs}), 0);
}

TEST_F(SyncServiceTest, LeagueResultsImportFinishedSessionsOnce) {
    const int season = season_index();
    clock_.advance(std::chrono::hours(24 * 7 * 4));  // four weeks further into the same season
    ASSERT_EQ(season_index(), season);
    const auto sessions = fakes::league_sessions(*team_, season);
    auto finished = [&] {
        std::vector<fakes::LeagueSession> out;
        for (const auto& s : sessions)
            if (fakes::league_race(*team_, s, clock_.now_ms())) out.push_back(s);
        return out;
    };
    const auto ran = finished();
    ASSERT_GT(ran.size(), 1u);
    ASSERT_LT(ran.size(), sessions.size());

    const auto first = run("iracing-league-results");
    ASSERT_EQ(first.status, "ok") << first.error_code << " " << first.error_text;
    EXPECT_GT(first.items, 0);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM league_sessions"), static_cast<std::int64_t>(sessions.size()));
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM league_sessions WHERE has_results = 1"),
              static_cast<std::int64_t>(ran.size()));
    EXPECT_EQ(scalar("SELECT COUNT(DISTINCT subsession_id) FROM league_results"),
              static_cast<std::int64_t>(ran.size()));
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM league_results"), first.items);
    const auto race = fakes::league_race(*team_, ran.front(), clock_.now_ms());
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM league_results WHERE subsession_id = $1", {race->subsession_id}),
              static_cast<std::int64_t>(race->field.size()));
    EXPECT_EQ(data_calls("results/get"), static_cast<std::int64_t>(ran.size()));

    const auto second = run("iracing-league-results");
    ASSERT_EQ(second.status, "ok") << second.error_code;
    EXPECT_EQ(second.items, 0);
    EXPECT_EQ(second.upstream_calls, 0);
    EXPECT_LE(second.cache_hits, 1);  // the session list only: stored results are not even looked up
    EXPECT_EQ(data_calls("results/get"), static_cast<std::int64_t>(ran.size()));

    clock_.advance(std::chrono::hours(24 * 7));  // one more league night
    ASSERT_EQ(season_index(), season);
    const auto more = finished();
    ASSERT_GT(more.size(), ran.size());
    const auto third = run("iracing-league-results");
    ASSERT_EQ(third.status, "ok") << third.error_code << " " << third.error_text;
    EXPECT_GT(third.items, 0);
    EXPECT_EQ(third.cache_hits, 0);  // fetched only the new subsessions
    EXPECT_EQ(data_calls("results/get"), static_cast<std::int64_t>(more.size()));
    EXPECT_EQ(scalar("SELECT COUNT(DISTINCT subsession_id) FROM league_results"),
              static_cast<std::int64_t>(more.size()));
}

TEST_F(SyncServiceTest, Garage61LapsAreIncrementalAndCarsUseIracingIds) {
    const auto now1 = clock_.now_ms();
    const auto first = run("garage61-laps");
    ASSERT_EQ(first.status, "ok") << first.error_code << " " << first.error_text;
    const auto stored = scalar("SELECT COUNT(*) FROM garage61_laps");
    EXPECT_GT(stored, 0);
    EXPECT_EQ(first.items, stored);
    std::set<std::string> first_ids;
    for (const auto& lap : fakes::find_laps(*team_, all_laps_of_linked(now1))) first_ids.insert(lap.id);
    EXPECT_EQ(stored, static_cast<std::int64_t>(first_ids.size()));
    const auto returned1 = garage61_.stats().laps_returned;
    EXPECT_GT(returned1, stored);  // the unlinked teammates' laps came back and were skipped
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM garage61_laps WHERE user_id NOT IN (SELECT user_id FROM "
                     "linked_accounts WHERE provider = 'garage61')"),
              0);
    EXPECT_GT(scalar("SELECT COUNT(DISTINCT user_id) FROM garage61_laps"), kLinked / 2);
    const auto latest = scalar("SELECT MAX(driven_at) FROM garage61_laps");

    clock_.advance(24h);
    garage61_.reset_stats();
    const auto now2 = clock_.now_ms();
    const auto second = run("garage61-laps");
    ASSERT_EQ(second.status, "ok") << second.error_code << " " << second.error_text;
    // driven_at keeps whole seconds (as `after` does): the newest stored lap may come back, once.
    std::int64_t added = 0;
    for (const auto& lap : fakes::find_laps(*team_, all_laps_of_linked(now2, latest)))
        added += first_ids.contains(lap.id) ? 0 : 1;
    ASSERT_GT(added, 0);
    EXPECT_EQ(second.items, added);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM garage61_laps"), stored + second.items);
    // `after` kept the answer to the new day: far fewer laps than the first full query.
    EXPECT_LT(garage61_.stats().laps_returned, returned1 / 4);
    // Nothing was lost between the runs: every lap of a linked member still in the history is stored.
    std::set<std::string> stored_ids;
    for (const auto& r : must(sql_->execute({"test.lap_ids", "SELECT lap_id FROM garage61_laps"})).rows)
        stored_ids.insert(r.text(0));
    std::int64_t missing = 0;
    for (const auto& lap : fakes::find_laps(*team_, all_laps_of_linked(now2)))
        missing += stored_ids.contains(lap.id) ? 0 : 1;
    EXPECT_EQ(missing, 0);

    const auto cars = run("garage61-cars");
    ASSERT_EQ(cars.status, "ok") << cars.error_code << " " << cars.error_text;
    // One row per (linked member, car) with clean laps in the history, keyed by the iRacing car id.
    std::set<std::pair<std::int64_t, std::int64_t>> expected;
    for (const auto& lap : fakes::find_laps(*team_, all_laps_of_linked(now2)))
        expected.insert({user_of_[static_cast<std::size_t>(lap.driver->index)],
                         team_->cars[static_cast<std::size_t>(lap.car)].car_id});
    EXPECT_EQ(cars.items, static_cast<std::int64_t>(expected.size()));
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM member_cars"), static_cast<std::int64_t>(expected.size()));
    for (const auto& [user, car] : expected)
        EXPECT_EQ(scalar("SELECT COUNT(*) FROM member_cars WHERE user_id = $1 AND car_id = $2", {user, car}),
                  1)
            << user << " " << car;
    bool g61_ids_differ = false;
    for (const auto& car : team_->cars) g61_ids_differ |= car.g61_id != car.car_id;
    EXPECT_TRUE(g61_ids_differ);  // otherwise the check above could not tell the ids apart
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM member_cars c WHERE laps != (SELECT COUNT(*) FROM garage61_laps l "
                     "WHERE l.user_id = c.user_id AND l.car_id = c.car_id)"),
              0);
}

TEST_F(SyncServiceTest, SubscriptionAuditFindsTheRightProblems) {
    const auto expired = user_of_[1];  // iRacing link expired
    const auto revoked = user_of_[2];  // Garage61 token no longer accepted
    const auto left = user_of_[3];     // left the Discord server
    must(sql_->execute({"test.expire",
                        "UPDATE linked_accounts SET status = 'expired' WHERE user_id = $1 AND "
                        "provider = 'iracing'"},
                       {expired}));
    {
        std::lock_guard lock(tokens_mutex_);
        tokens_[{"garage61", revoked}] = "g61-revoked-token";
    }
    must(sql_->execute({"test.leave", "UPDATE users SET guild_member = 0 WHERE id = $1"}, {left}));

    const auto audit = run("subscription-audit");
    ASSERT_EQ(audit.status, "ok") << audit.error_code << " " << audit.error_text;
    EXPECT_EQ(audit.items, 2 * kLinked);

    auto kinds = [&](std::int64_t user) {
        std::set<std::string> out;
        auto rows = must(sql_->execute(
            {"test.findings", "SELECT kind FROM audit_findings WHERE user_id = $1 ORDER BY kind"}, {user}));
        for (const auto& r : rows.rows) out.insert(r.text(0));
        return out;
    };
    EXPECT_TRUE(kinds(expired).contains("iracing_token"));
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_findings WHERE user_id = $1 AND kind = 'iracing_token' AND "
                     "detail = 'expired'",
                     {expired}),
              1);
    EXPECT_TRUE(kinds(revoked).contains("garage61_token"));
    EXPECT_FALSE(kinds(revoked).contains("garage61_plan"));
    EXPECT_TRUE(kinds(left).contains("left_guild"));
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_findings WHERE kind = 'iracing_inactive'"), 0);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_findings WHERE kind = 'left_guild'"), 1);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_findings WHERE kind = 'iracing_token'"), 1);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_findings WHERE kind = 'garage61_token'"), 1);

    // Everyone else: at most a free Garage61 plan, exactly when /me says so; a pro member is clean.
    int clean = 0;
    for (int i = 4; i < kLinked; ++i) {
        const auto user = user_of_[static_cast<std::size_t>(i)];
        integrations::StaticToken token(member(i).garage61_token);
        const auto me = must(component_->garage61().me(token));
        const auto found = kinds(user);
        if (me.subscription_plan == "pro") {
            EXPECT_TRUE(found.empty()) << "member " << i;
            ++clean;
        } else {
            EXPECT_EQ(found, std::set<std::string>{"garage61_plan"}) << "member " << i;
        }
    }
    EXPECT_GT(clean, 0);

    // A second audit replaces the findings: the member back in the guild is clean of left_guild.
    must(sql_->execute({"test.leave", "UPDATE users SET guild_member = 0 WHERE id = $1"}, {user_of_[0]}));
    must(sql_->execute({"test.rejoin", "UPDATE users SET guild_member = 1 WHERE id = $1"}, {left}));
    ASSERT_EQ(run("subscription-audit").status, "ok");
    EXPECT_FALSE(kinds(left).contains("left_guild"));
    EXPECT_TRUE(kinds(user_of_[0]).contains("left_guild"));
}

TEST_F(SyncServiceTest, MaintenanceFailsTheRunWithoutHalfWrites) {
    ASSERT_EQ(run("iracing-members").status, "ok");
    auto snapshot = [&] {
        std::vector<std::string> out;
        auto rows = must(
            sql_->execute({"test.ratings",
                           "SELECT user_id, category, irating, safety_rating, license_class, updated_at FROM "
                           "member_ratings ORDER BY user_id, category"}));
        for (const auto& r : rows.rows)
            out.push_back(std::to_string(r.int64(0)) + r.text(1) + std::to_string(r.int64(2)) +
                          std::to_string(r.real(3)) + r.text(4) + std::to_string(r.int64(5)));
        return out;
    };
    const auto before = snapshot();
    const auto synced_at = scalar("SELECT MAX(last_sync_at) FROM linked_accounts");

    clock_.advance(2h);  // past the cache's TTL and stale window: the next run must go upstream
    ASSERT_EQ(run("token-refresh").status, "ok");  // a valid service token going into the maintenance
    iracing_.set_maintenance(true);
    const auto failed = run("iracing-members");
    EXPECT_EQ(failed.status, "failed");
    EXPECT_EQ(failed.error_code, "iracing.maintenance");
    EXPECT_EQ(failed.items, 0);
    EXPECT_TRUE(failed.ended_at.has_value());
    EXPECT_EQ(snapshot(), before);
    EXPECT_EQ(scalar("SELECT MAX(last_sync_at) FROM linked_accounts"), synced_at);
    EXPECT_GT(iracing_.stats().maintenance, 0);

    // Over: the next run after the back-off succeeds.
    iracing_.set_maintenance(false);
    clock_.advance(std::chrono::seconds(config_.iracing.maintenance_backoff_s + 1));
    const auto ok = run("iracing-members");
    EXPECT_EQ(ok.status, "ok") << ok.error_code << " " << ok.error_text;
}

TEST_F(SyncServiceTest, TokenRefreshLogsInOnceThenRefreshes) {
    const auto first = run("token-refresh");
    ASSERT_EQ(first.status, "ok") << first.error_code << " " << first.error_text;
    EXPECT_EQ(first.items, 1);
    EXPECT_EQ(grants("password_limited"), 1);
    EXPECT_EQ(grants("refresh_token"), 0);

    clock_.advance(2min);  // 8 of 10 minutes left: beyond the job's 6-minute margin
    const auto idle = run("token-refresh");
    ASSERT_EQ(idle.status, "ok") << idle.error_code;
    EXPECT_EQ(idle.items, 0);
    EXPECT_EQ(grants("refresh_token"), 0);

    clock_.advance(3min);  // 5 minutes left
    const auto refreshed = run("token-refresh");
    ASSERT_EQ(refreshed.status, "ok") << refreshed.error_code << " " << refreshed.error_text;
    EXPECT_EQ(refreshed.items, 1);
    EXPECT_EQ(grants("refresh_token"), 1);

    clock_.advance(5min);
    ASSERT_EQ(run("token-refresh").status, "ok");
    EXPECT_EQ(grants("refresh_token"), 2);
    EXPECT_EQ(grants("password_limited"), 1);  // never a second full login
    // The refreshed token serves data.
    ASSERT_EQ(run("iracing-members").status, "ok");
    EXPECT_EQ(grants("password_limited"), 1);
}

TEST_F(SyncServiceTest, HousekeepingPrunesOldRunsAndWritesASnapshot) {
    const auto now = clock_.now_ms();
    const auto day = fakes::kDayMs;
    auto insert = [&](std::int64_t started, std::optional<std::int64_t> ended, std::string_view status) {
        must(sql_->execute(
            {"test.run",
             "INSERT INTO sync_runs (job, run_trigger, node, started_at, ended_at, "
             "status) VALUES ('iracing-members', 'schedule', 'n', $1, $2, $3)"},
            {started, ended ? store::Value(*ended) : store::Value(store::Null{}), std::string(status)}));
    };
    const auto keep = config_.sync.keep_runs_days;
    insert(now - (keep + 5) * day, now - (keep + 5) * day + 1000, "ok");
    insert(now - (keep + 1) * day, now - (keep + 1) * day + 1000, "failed");
    insert(now - (keep - 1) * day, now - (keep - 1) * day + 1000, "ok");  // kept
    insert(now - day, now - day + 1000, "ok");                            // kept
    insert(now - 2 * 3'600'000, std::nullopt, "running");                 // a crashed node's run

    const auto housekeeping = run("housekeeping");
    ASSERT_EQ(housekeeping.status, "ok") << housekeeping.error_code << " " << housekeeping.error_text;
    EXPECT_EQ(housekeeping.items, 3);  // two pruned, one abandoned run closed
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_runs WHERE ended_at < $1", {now - keep * day}), 0);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_runs WHERE job = 'iracing-members'"), 3);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_runs WHERE status = 'running'"), 0);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_runs WHERE error_code = 'jobs.abandoned'"), 1);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_runs WHERE job = 'housekeeping' AND status = 'ok'"), 1);

    const auto dir = dir_.path() / "snapshots";
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files.front().filename().string(), "pitwall-" + fakes::iso_date(now) + ".db");
    EXPECT_GT(std::filesystem::file_size(files.front()), 0u);
    // A usable copy of the database.
    auto copy = must(store::open_sqlite({files.front().string()}));
    EXPECT_EQ(
        must(copy->execute({"test.copy", "SELECT COUNT(*) FROM sync_runs WHERE job = 'iracing-members'"}))
            .first()
            .int64(0),
        3);

    // Same day: no second snapshot.
    clock_.advance(1min);
    ASSERT_EQ(run("housekeeping").status, "ok");
    int snapshots = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        snapshots += entry.path().extension() == ".db" ? 1 : 0;  // the copy opened above left -wal/-shm
    EXPECT_EQ(snapshots, 1);
}

TEST_F(SyncServiceTest, ABadScheduleNamesItsJobsKey) {
    config_.sync.schedules["garage61-laps"] = "61 * * * *";
    // Through the component (what the server does at start-up) ...
    auto created = SyncComponent::create(config_, *sql_, *kv_, clock_, users_, nullptr, nullptr);
    ASSERT_FALSE(created.ok());
    EXPECT_TRUE(created.error().code.starts_with("cron.")) << created.error().code;
    EXPECT_EQ(created.error().arg("key"), "jobs.garage61-laps");
    // ... and register_jobs itself.
    SyncLog log(*sql_, nullptr, clock_, "other-node");
    jobs::Scheduler scheduler(*kv_, clock_, log, {.node_id = "other-node"});
    auto registered = component_->service().register_jobs(scheduler);
    ASSERT_FALSE(registered.ok());
    EXPECT_TRUE(registered.error().code.starts_with("cron.")) << registered.error().code;
    EXPECT_EQ(registered.error().arg("key"), "jobs.garage61-laps");

    config_.sync.schedules["garage61-laps"] = "off";  // "off" is not an error: the job is disabled
    jobs::Scheduler other(*kv_, clock_, log, {.node_id = "third-node"});
    ASSERT_TRUE(component_->service().register_jobs(other).ok());
    EXPECT_EQ(other.jobs().size(), SyncService::job_names().size());
}

}  // namespace
}  // namespace pitwall::sync
