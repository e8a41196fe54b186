// The Garage61 client against the fake Garage61: paging by offset against total, the required
// tracks/cars, 429 with details.retryAfterSeconds honoured by holding every caller.
#include "integrations/garage61/client.hpp"

#include <set>

#include <gtest/gtest.h>

#include "fakes/fake_garage61.hpp"
#include "platform/auth/http_client.hpp"

namespace pitwall::integrations::garage61 {
namespace {

class Garage61ClientTest : public ::testing::Test {
  protected:
    Garage61ClientTest()
        : team_(std::make_shared<fakes::FakeTeam>(fakes::generate_team(11, 60))),
          fake_(team_, clock_),
          governor_(clock_, {.name = "garage61",
                             .limit = 1000,  // looser than the fake on purpose: its 429s must be honoured
                             .window = std::chrono::seconds(60),
                             .refill = upstream::Refill::continuous}),
          client_(http_, governor_, nullptr, clock_, {.api_base = fake_.api_url()}),
          token_(fake_.issue_token(team_->members.front().cust_id)) {}

    ManualClock clock_{1'790'000'000'000};
    std::shared_ptr<const fakes::FakeTeam> team_;
    fakes::FakeGarage61 fake_;
    auth::HttpClient http_;
    upstream::RateGovernor governor_;
    Client client_;
    StaticToken token_;
};

TEST_F(Garage61ClientTest, MeAndAccountsIdentifyTheMember) {
    auto me = client_.me(token_);
    ASSERT_TRUE(me.ok()) << me.error().code;
    EXPECT_EQ(me->id, team_->members.front().g61_id);
    EXPECT_FALSE(me->teams.empty());
    auto accounts = client_.accounts(token_);
    ASSERT_TRUE(accounts.ok());
    ASSERT_FALSE(accounts->empty());
    EXPECT_EQ(accounts->front().platform, "iracing");
    EXPECT_EQ(accounts->front().id, std::to_string(team_->members.front().cust_id));
}

TEST_F(Garage61ClientTest, PagesEveryLapByOffsetAgainstTotal) {
    // Two cars on every track: a few thousand laps, several pages of 200.
    LapQuery query;
    for (const auto& c : team_->cars) query.cars.push_back(c.g61_id);
    query.cars.resize(2);
    for (const auto& t : team_->tracks) query.tracks.push_back(t.g61_id);
    query.page_size = 200;
    auto laps = client_.laps(query, token_);
    ASSERT_TRUE(laps.ok()) << laps.error().code << " " << laps.error().detail;
    ASSERT_GT(laps->size(), 400u);  // several pages
    EXPECT_GE(client_.stats().pages, 3u);
    std::set<std::string> ids;
    for (const auto& lap : *laps) ids.insert(lap.id);
    EXPECT_EQ(ids.size(), laps->size());  // disjoint pages: no lap twice
    EXPECT_EQ(static_cast<std::int64_t>(laps->size()), fake_.stats().laps_returned);
}

TEST_F(Garage61ClientTest, TracksAndCarsAreRequired) {
    LapQuery query;
    query.cars = {1};
    EXPECT_EQ(client_.laps(query, token_).error().code, "garage61.bad_request");
    EXPECT_EQ(fake_.stats().calls, 0);  // refused before sending
}

TEST_F(Garage61ClientTest, A429HoldsEveryCallerForRetryAfter) {
    fake_.set_rate_limit(3, 0.5);  // 3 at once, then one every 2 s
    const auto start = clock_.now_ms();
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(client_.cars(token_).ok()) << i;
    EXPECT_GE(fake_.stats().rate_limited, 1);
    EXPECT_GE(client_.stats().throttled, 1u);
    EXPECT_GE(clock_.now_ms() - start, 2'000);  // waited as told, on the clock
}

TEST_F(Garage61ClientTest, RevokedTokenIsUnauthorized) {
    fake_.revoke_tokens();
    EXPECT_EQ(client_.me(token_).error().code, "auth.link_expired");  // the static source cannot refresh
}

}  // namespace
}  // namespace pitwall::integrations::garage61
