// The iRacing client against the fake iRacing (tests/fakes): real HTTP on loopback, the reference's
// shapes and limits, a ManualClock shared by client and fake so rate windows, token and link expiry
// move without sleeping.
#include "integrations/iracing/client.hpp"

#include <atomic>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "fakes/fake_iracing.hpp"
#include "integrations/iracing/service_account.hpp"
#include "platform/auth/http_client.hpp"
#include "platform/auth/secret_mask.hpp"
#include "platform/auth/token_cipher.hpp"
#include "platform/auth/token_request.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/migrate.hpp"
#include "platform/store/sql.hpp"
#include "platform/upstream/cache.hpp"
#include "platform/upstream/rate_governor.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::integrations::iracing {
namespace {

template <typename T>
T must(Result<T> r) {
    if (!r) throw std::runtime_error(r.error().code + ": " + r.error().detail);
    return std::move(*r);
}

// A member's tokens from the fake, refreshed with the refresh_token grant (single use) on a 401.
class FakeMemberTokens final : public TokenSource {
  public:
    FakeMemberTokens(fakes::FakeIracing& fake, const auth::HttpClient& http, const Clock& clock,
                     std::int64_t cust_id)
        : fake_(fake), http_(http), clock_(clock), tokens_(fake.issue_tokens(cust_id)) {}
    Result<std::string> access_token() override { return tokens_.access_token; }
    Result<std::string> refresh_after_unauthorized(std::string_view) override {
        ++refreshes;
        auto fresh = auth::request_tokens(
            http_, fake_.token_url(),
            {{"grant_type", "refresh_token"},
             {"client_id", fake_.options().client_id},
             {"client_secret", auth::mask_secret(fake_.options().client_secret, fake_.options().client_id)},
             {"refresh_token", tokens_.refresh_token}},
            clock_);
        if (!fresh) return fresh.error();
        tokens_.access_token = fresh->access_token;
        tokens_.refresh_token = fresh->refresh_token;
        return tokens_.access_token;
    }
    int refreshes = 0;

  private:
    fakes::FakeIracing& fake_;
    const auth::HttpClient& http_;
    const Clock& clock_;
    fakes::IssuedTokens tokens_;
};

class IracingClientTest : public ::testing::Test {
  protected:
    IracingClientTest()
        : team_(std::make_shared<fakes::FakeTeam>(fakes::generate_team(7, 60))),
          fake_(team_, clock_),
          kv_(must(store::open_embedded_kv({(dir_.path() / "kv.db").string()}, clock_))),
          governor_(clock_, {.name = "iracing", .limit = 240, .window = std::chrono::seconds(60)}),
          cache_(*kv_, clock_),
          client_(http_, governor_, &cache_, clock_, {.api_base = fake_.api_url()}),
          uncached_(http_, governor_, nullptr, clock_, {.api_base = fake_.api_url()}),
          tokens_(fake_, http_, clock_, member(0)) {}

    std::int64_t member(int i) const { return team_->members.at(static_cast<std::size_t>(i)).cust_id; }

    ManualClock clock_{1'790'000'000'000};  // 2026-09
    test_support::TempDir dir_;
    std::shared_ptr<const fakes::FakeTeam> team_;
    fakes::FakeIracing fake_;
    auth::HttpClient http_;
    std::unique_ptr<store::Kv> kv_;
    upstream::RateGovernor governor_;
    upstream::Cache cache_;
    Client client_;
    Client uncached_;
    FakeMemberTokens tokens_;
};

TEST_F(IracingClientTest, FollowsTheLinkWithoutTheBearerHeader) {
    auto members = uncached_.members({member(0), member(1), 999'999'999}, tokens_);
    ASSERT_TRUE(members.ok()) << members.error().code << " " << members.error().detail;
    ASSERT_EQ(members->size(), 2u);  // unknown ids are silently dropped, as iRacing does
    EXPECT_FALSE(members->front().licenses.empty());
    const auto stats = fake_.stats();
    EXPECT_EQ(stats.data_calls, 1);
    EXPECT_EQ(stats.s3_fetches, 1);
    EXPECT_EQ(stats.s3_refused, 0);  // S3 refuses a request carrying Authorization
    EXPECT_EQ(uncached_.stats().link_fetches, 1u);
}

TEST_F(IracingClientTest, AssemblesChunkedResultsInOrder) {
    const auto season_index = fakes::season_at(clock_.now_ms()).index;
    const auto league_season = fakes::league_season_id(team_->league, season_index);
    // Far enough back that several league sessions have run.
    clock_.advance(std::chrono::hours(24 * 60));
    FakeMemberTokens tokens(fake_, http_, clock_, member(0));  // issued now: the first ones expired
    auto sessions = uncached_.search_hosted(team_->league.league_id, league_season,
                                            clock_.now() - std::chrono::hours(24 * 89), tokens);
    ASSERT_TRUE(sessions.ok()) << sessions.error().code << " " << sessions.error().detail;
    ASSERT_GT(sessions->size(),
              static_cast<std::size_t>(fake_.options().search_chunk_rows));  // more than one chunk
    EXPECT_GT(uncached_.stats().chunk_fetches, 1u);
    for (std::size_t i = 1; i < sessions->size(); ++i)  // chunks concatenated in order
        EXPECT_LE(parse_iso_time_ms((*sessions)[i - 1].start_time),
                  parse_iso_time_ms((*sessions)[i].start_time));
}

TEST_F(IracingClientTest, TheGovernorThrottlesAheadFromTheHeaders) {
    fake_.set_rate_limit(5, std::chrono::seconds(60));
    // The governor believes 240 until the first answer's x-ratelimit-* headers say 5: from then on it
    // waits for the window's reset itself, and the fake never has to answer 429.
    const auto start = clock_.now_ms();
    for (int i = 0; i < 8; ++i) {
        auto summary = uncached_.member_summary(member(i % 3), tokens_);
        ASSERT_TRUE(summary.ok()) << i << " " << summary.error().code;
    }
    EXPECT_EQ(fake_.stats().rate_limited, 0);
    EXPECT_GE(clock_.now_ms() - start, 1'000);  // it waited on the clock for the next window
    EXPECT_LE(clock_.now_ms() - start, 61'000);
}

TEST_F(IracingClientTest, A429WaitsForTheResetThenSucceeds) {
    fake_.set_rate_limit(5, std::chrono::seconds(60));
    ASSERT_TRUE(uncached_.member_summary(member(0), tokens_).ok());  // learns limit 5, remaining 4
    // Another consumer of the same iRacing client id spends the rest of the window behind our back.
    upstream::RateGovernor other_governor(clock_, {.name = "other", .limit = 240});
    Client other(http_, other_governor, nullptr, clock_, {.api_base = fake_.api_url()});
    for (int i = 0; i < 4; ++i)
        ASSERT_TRUE(
            other.member_summary(member(1), tokens_, {.priority = upstream::Priority::interactive}).ok());
    const auto start = clock_.now_ms();
    auto summary = uncached_.member_summary(member(2), tokens_);
    ASSERT_TRUE(summary.ok()) << summary.error().code;
    EXPECT_EQ(fake_.stats().rate_limited, 1);
    EXPECT_EQ(uncached_.stats().throttled, 1u);
    EXPECT_GE(clock_.now_ms() - start, 500);  // slept until x-ratelimit-reset + 0.5 s, not a fixed time
    EXPECT_LE(clock_.now_ms() - start, 61'000);
}

TEST_F(IracingClientTest, MaintenanceOpensTheCircuit) {
    fake_.set_maintenance(true);
    auto first = uncached_.member_summary(member(0), tokens_);
    ASSERT_FALSE(first.ok());
    EXPECT_EQ(first.error().code, "iracing.maintenance");
    EXPECT_TRUE(uncached_.in_maintenance());
    const auto calls = fake_.stats().data_calls;
    auto second = uncached_.member_summary(member(0), tokens_);
    EXPECT_EQ(second.error().code, "iracing.maintenance");
    EXPECT_EQ(fake_.stats().data_calls, calls);  // failed fast, nothing sent
    fake_.set_maintenance(false);
    clock_.advance(std::chrono::minutes(6));  // past maintenance_backoff
    EXPECT_TRUE(uncached_.member_summary(member(0), tokens_).ok());
}

TEST_F(IracingClientTest, AnExpiredLinkIsRequestedAgainOnce) {
    fake_.set_link_ttl(std::chrono::seconds(0));  // every link is expired by the time it is fetched
    auto races = uncached_.recent_races(member(0), tokens_);
    ASSERT_FALSE(races.ok());
    EXPECT_EQ(fake_.stats().data_calls, 2);  // the original and one retry, no loop
    EXPECT_EQ(uncached_.stats().expired_links, 1u);
    fake_.set_link_ttl(std::chrono::seconds(600));
    EXPECT_TRUE(uncached_.recent_races(member(0), tokens_).ok());
}

TEST_F(IracingClientTest, A401RefreshesTheTokenOnceThenRetries) {
    ASSERT_TRUE(uncached_.member_summary(member(0), tokens_).ok());
    fake_.revoke_access_tokens();
    auto summary = uncached_.member_summary(member(0), tokens_);
    ASSERT_TRUE(summary.ok()) << summary.error().code;
    EXPECT_EQ(tokens_.refreshes, 1);
    EXPECT_EQ(fake_.stats().grants.at("refresh_token"), 1);
}

TEST_F(IracingClientTest, HundredConcurrentReadersMakeOneUpstreamCall) {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 100; ++i)
        threads.emplace_back([&] {
            if (client_.irating_history(member(3), 5, tokens_)) ++ok;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 100);
    EXPECT_EQ(fake_.stats().data_by_endpoint.at("member/chart_data"), 1);
    EXPECT_EQ(cache_.stats().upstream_calls, 1u);
    EXPECT_EQ(cache_.stats().saved(), 99u);
}

TEST_F(IracingClientTest, NotFoundIsCachedBriefly) {
    auto missing = client_.result(1, tokens_);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
    EXPECT_EQ(client_.result(1, tokens_).error().kind, ErrorKind::not_found);
    EXPECT_EQ(fake_.stats().data_by_endpoint.at("results/get"), 1);  // the second came from the cache
}

TEST_F(IracingClientTest, ServiceAccountLogsInOnceAndSurvivesARestart) {
    auto sql = must(store::open_sqlite({(dir_.path() / "pitwall.db").string()}));
    must(store::migrate(*sql,
                        must(store::load_migrations(std::filesystem::path(PITWALL_SOURCE_DIR) / "migrations",
                                                    store::Dialect::sqlite))));
    auto cipher = must(auth::TokenCipher::create({.id = "", .secret = std::string(40, 'k')}));
    const ServiceAccountOptions options{.token_url = fake_.token_url(),
                                        .client_id = fake_.options().client_id,
                                        .client_secret = fake_.options().client_secret,
                                        .username = fake_.options().username,
                                        .password = fake_.options().password};
    {
        ServiceAccount account(http_, *sql, *kv_, cipher, clock_, options);
        ASSERT_TRUE(uncached_.member_summary(member(0), account).ok());
        ASSERT_TRUE(uncached_.member_summary(member(1), account).ok());
        EXPECT_EQ(fake_.stats().grants.at("password_limited"), 1);
        clock_.advance(std::chrono::minutes(11));  // the 600 s access token expired: refresh, no login
        ASSERT_TRUE(uncached_.member_summary(member(0), account).ok());
        EXPECT_EQ(fake_.stats().grants.at("refresh_token"), 1);
    }
    // A restart reads the stored pair: no second login.
    ServiceAccount restarted(http_, *sql, *kv_, cipher, clock_, options);
    ASSERT_TRUE(uncached_.member_summary(member(2), restarted).ok());
    EXPECT_EQ(fake_.stats().grants.at("password_limited"), 1);
    // Tokens at rest are ciphertexts.
    auto stored = must(sql->execute({"test.service", "SELECT access_token FROM service_tokens"}));
    ASSERT_EQ(stored.rows.size(), 1u);
    EXPECT_TRUE(stored.first().text(0).starts_with("v1."));
}

TEST_F(IracingClientTest, ServiceAccountCapsFullLogins) {
    auto sql = must(store::open_sqlite({(dir_.path() / "caps.db").string()}));
    must(store::migrate(*sql,
                        must(store::load_migrations(std::filesystem::path(PITWALL_SOURCE_DIR) / "migrations",
                                                    store::Dialect::sqlite))));
    auto cipher = must(auth::TokenCipher::create({.id = "", .secret = std::string(40, 'k')}));
    ServiceAccount account(http_, *sql, *kv_, cipher, clock_,
                           {.token_url = fake_.token_url(),
                            .client_id = fake_.options().client_id,
                            .client_secret = fake_.options().client_secret,
                            .username = fake_.options().username,
                            .password = "wrong",
                            .max_logins_per_hour = 2});
    EXPECT_EQ(account.access_token().error().code, "iracing.login_refused");
    EXPECT_EQ(account.access_token().error().code, "iracing.login_refused");
    EXPECT_EQ(account.access_token().error().code, "iracing.login_limited");  // not sent to iRacing
    EXPECT_EQ(fake_.stats().token_errors, 2);
}

}  // namespace
}  // namespace pitwall::integrations::iracing
