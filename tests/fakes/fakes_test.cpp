// The iRacing and Garage61 fakes, driven over HTTP with Pitwall's own client and a ManualClock.
#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "fakes/fake_garage61.hpp"
#include "fakes/fake_iracing.hpp"
#include "fakes/team_data.hpp"
#include "platform/auth/http_client.hpp"
#include "platform/auth/secret_mask.hpp"

namespace pitwall::fakes {
namespace {

namespace json = boost::json;
using auth::ClientResponse;

constexpr std::int64_t kStart = 1'741'780'800'000;  // 2025-03-12T12:00:00Z

json::value parse(const std::string& body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    EXPECT_FALSE(ec) << body.substr(0, 300);
    return v;
}

class Fakes : public ::testing::Test {
  protected:
    void SetUp() override {
        team = std::make_shared<const FakeTeam>(generate_team(42, 30));
        IracingOptions io;
        io.locales_dir = PITWALL_SOURCE_DIR "/locales";
        io.search_chunk_rows = 3;
        iracing = std::make_unique<FakeIracing>(team, clock, io);
        Garage61Options go;
        go.locales_dir = PITWALL_SOURCE_DIR "/locales";
        garage61 = std::make_unique<FakeGarage61>(team, clock, go);
    }

    ClientResponse request(const std::string& method, const std::string& url, auth::HttpHeaders headers = {},
                           std::string body = {}) {
        auto r = http.request({method, url, std::move(headers), std::move(body)});
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().code);
        return r.ok() ? *r : ClientResponse{};
    }
    ClientResponse data_raw(const std::string& endpoint, const std::string& token) {
        return request("GET", iracing->api_url() + "/data/" + endpoint,
                       {{"Authorization", "Bearer " + token}});
    }
    // /data + the link: the payload.
    json::value data(const std::string& endpoint, const std::string& token) {
        auto r = data_raw(endpoint, token);
        EXPECT_EQ(r.status, 200) << endpoint << " " << r.body;
        if (r.status != 200) return nullptr;
        auto link = parse(r.body).at("link").as_string();
        auto payload = request("GET", std::string(link));
        EXPECT_EQ(payload.status, 200) << payload.body;
        return parse(payload.body);
    }
    ClientResponse token(std::vector<std::pair<std::string, std::string>> fields) {
        return request("POST", iracing->token_url(), {{"Content-Type", "application/x-www-form-urlencoded"}},
                       auth::form_encode(fields));
    }
    ClientResponse password_grant(std::string scope = "iracing.auth") {
        const auto& o = iracing->options();
        return token({{"grant_type", "password_limited"},
                      {"client_id", o.client_id},
                      {"client_secret", auth::mask_secret(o.client_secret, o.client_id)},
                      {"username", o.username},
                      {"password", auth::mask_secret(o.password, o.username)},
                      {"scope", scope}});
    }
    ClientResponse refresh_grant(const std::string& refresh) {
        const auto& o = iracing->options();
        return token({{"grant_type", "refresh_token"},
                      {"client_id", o.client_id},
                      {"client_secret", auth::mask_secret(o.client_secret, o.client_id)},
                      {"refresh_token", refresh}});
    }
    ClientResponse g61(const std::string& path, const std::string& token) {
        return request("GET", garage61->api_url() + path, {{"Authorization", "Bearer " + token}});
    }
    const TeamMember& member(int i = 0) const { return team->members[static_cast<std::size_t>(i)]; }

    ManualClock clock{kStart};
    std::shared_ptr<const FakeTeam> team;
    std::unique_ptr<FakeIracing> iracing;
    std::unique_ptr<FakeGarage61> garage61;
    auth::HttpClient http;
};

TEST_F(Fakes, DataAnswersWithALinkToAnotherOriginThatRefusesAuthorization) {
    auto r = data_raw("member/info", member().iracing_token);
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = parse(r.body).as_object();
    ASSERT_TRUE(body.contains("link") && body.contains("expires"));
    const std::string link(body.at("link").as_string());
    EXPECT_TRUE(link.starts_with(iracing->s3_url() + "/")) << link;
    EXPECT_NE(iracing->s3_url(), iracing->api_url());
    EXPECT_EQ(parse_iso8601(body.at("expires").as_string()), kStart + 600'000);

    auto refused = request("GET", link, {{"Authorization", "Bearer " + member().iracing_token}});
    EXPECT_EQ(refused.status, 400);
    EXPECT_NE(refused.body.find("<Code>InvalidArgument</Code>"), std::string::npos);
    EXPECT_NE(refused.body.find("Only one auth mechanism allowed"), std::string::npos);

    auto payload = request("GET", link);
    ASSERT_EQ(payload.status, 200);
    auto info = parse(payload.body).as_object();
    EXPECT_EQ(info.at("cust_id").as_int64(), member().cust_id);
    EXPECT_EQ(info.at("display_name").as_string(), member().display_name);
    ASSERT_TRUE(info.at("licenses").is_object());  // member/info: keyed by category
    for (auto key : {"oval", "sports_car", "formula_car", "dirt_oval", "dirt_road"})
        EXPECT_TRUE(info.at("licenses").as_object().contains(key)) << key;

    // member/get: licences as an array, unknown ids silently dropped, group from the level.
    auto got = data("member/get?cust_ids=" + std::to_string(member(1).cust_id) + ",1,2&include_licenses=true",
                    member().iracing_token)
                   .as_object();
    ASSERT_EQ(got.at("members").as_array().size(), 1u);
    const auto& licences = got.at("members").as_array()[0].at("licenses").as_array();
    ASSERT_EQ(licences.size(), 5u);
    for (const auto& l : licences) {
        const auto level = l.at("license_level").as_int64();
        EXPECT_EQ(l.at("group_id").as_int64(), (level - 1) / 4 + 1);
        const auto ir = l.at("irating").as_int64();
        EXPECT_GE(ir, 800);
        EXPECT_LE(ir, 5500);
    }

    auto missing = data_raw("member/get", member().iracing_token);
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(parse(missing.body).at("error").as_string(), "Bad Request");
    EXPECT_EQ(data_raw("member/chart_data?category_id=5", member().iracing_token).status, 400);
    EXPECT_EQ(data_raw("no/such_endpoint", member().iracing_token).status, 404);
    EXPECT_EQ(data_raw("results/get?subsession_id=12345", member().iracing_token).status, 404);

    auto anonymous = request("GET", iracing->api_url() + "/data/member/info");
    EXPECT_EQ(anonymous.status, 401);
    EXPECT_EQ(parse(anonymous.body).at("error").as_string(), "Unauthorized");
    EXPECT_EQ(data_raw("member/info", "nope").status, 401);

    auto chart = data("member/chart_data?category_id=5&chart_type=1", member().iracing_token).as_object();
    EXPECT_EQ(chart.at("data").as_array().size(), 365u);
    EXPECT_EQ(chart.at("data").as_array().back().at("when").as_string(), "2025-03-12");

    auto s = iracing->stats();
    EXPECT_EQ(s.unauthorized, 2);
    EXPECT_EQ(s.s3_fetches, 3);
    EXPECT_EQ(s.s3_refused, 1);
    EXPECT_EQ(s.data_by_endpoint["member/info"], 1);
    EXPECT_EQ(s.data_calls, 7);
}

TEST_F(Fakes, LinksExpire) {
    auto r = data_raw("car/get", member().iracing_token);
    const std::string link(parse(r.body).at("link").as_string());
    clock.advance(std::chrono::seconds(599));
    EXPECT_EQ(request("GET", link).status, 200);
    clock.advance(std::chrono::seconds(1));
    auto expired = request("GET", link);
    EXPECT_EQ(expired.status, 403);
    EXPECT_NE(expired.body.find("<Code>AccessDenied</Code>"), std::string::npos);
    EXPECT_NE(expired.body.find("Request has expired"), std::string::npos);

    const std::string fresh(parse(data_raw("track/get", member().iracing_token).body).at("link").as_string());
    iracing->expire_links();
    EXPECT_EQ(request("GET", fresh).status, 403);
    const std::string after(parse(data_raw("track/get", member().iracing_token).body).at("link").as_string());
    EXPECT_EQ(request("GET", after).status, 200);
}

TEST_F(Fakes, SearchHostedIsChunked) {
    const std::string league = std::to_string(team->league.league_id);
    auto missing = data_raw("results/search_hosted?league_id=" + league, member().iracing_token);
    EXPECT_EQ(missing.status, 400);

    const std::string begin = iso8601(kStart - 80 * kDayMs);
    auto result = data("results/search_hosted?league_id=" + league + "&start_range_begin=" + begin,
                       member().iracing_token)
                      .as_object();
    EXPECT_EQ(result.at("type").as_string(), "search_hosted");
    const auto& info = result.at("data").at("chunk_info").as_object();
    const auto rows = info.at("rows").as_int64();
    ASSERT_GT(rows, 3);
    EXPECT_EQ(info.at("chunk_size").as_int64(), 3);
    EXPECT_EQ(info.at("num_chunks").as_int64(), (rows + 2) / 3);
    std::vector<json::value> all;
    for (const auto& name : info.at("chunk_file_names").as_array()) {
        const std::string url =
            std::string(info.at("base_download_url").as_string()) + std::string(name.as_string());
        EXPECT_EQ(request("GET", url, {{"Authorization", "Bearer x"}}).status, 400);
        auto chunk = request("GET", url);
        ASSERT_EQ(chunk.status, 200);
        const auto rows_of_chunk = parse(chunk.body);
        for (const auto& row : rows_of_chunk.as_array()) all.push_back(row);
    }
    ASSERT_EQ(static_cast<std::int64_t>(all.size()), rows);
    for (const auto& row : all) {
        EXPECT_EQ(row.at("league_id").as_int64(), team->league.league_id);
        EXPECT_LT(*parse_iso8601(row.at("end_time").as_string()), kStart);
    }
    // The subsessions found have results.
    const auto subsession = all.back().at("subsession_id").as_int64();
    auto results =
        data("results/get?subsession_id=" + std::to_string(subsession), member().iracing_token).as_object();
    EXPECT_EQ(results.at("subsession_id").as_int64(), subsession);
    EXPECT_EQ(results.at("league_id").as_int64(), team->league.league_id);
    EXPECT_FALSE(results.at("session_results").as_array()[0].at("results").as_array().empty());

    auto none = data("results/search_hosted?league_id=1&start_range_begin=" + begin, member().iracing_token);
    EXPECT_EQ(none.at("data").at("chunk_info").at("num_chunks").as_int64(), 0);
}

TEST_F(Fakes, RateLimitWindowWithHeadersAndRecovery) {
    iracing->set_rate_limit(5, std::chrono::seconds(60));
    const std::int64_t window_end_s = (kStart / 60'000 + 1) * 60;
    for (int i = 0; i < 5; ++i) {
        auto r = data_raw("member/info", member().iracing_token);
        ASSERT_EQ(r.status, 200);
        EXPECT_EQ(r.header("x-ratelimit-limit"), "5");
        EXPECT_EQ(r.header("x-ratelimit-remaining"), std::to_string(4 - i));
        EXPECT_EQ(r.header("x-ratelimit-reset"), std::to_string(window_end_s));
    }
    auto limited = data_raw("member/info", member().iracing_token);
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(limited.body, "Rate limit exceeded");
    EXPECT_TRUE(limited.header("content-type")->starts_with("text/plain"));
    EXPECT_EQ(limited.header("x-ratelimit-remaining"), "0");
    EXPECT_EQ(limited.header("x-ratelimit-reset"), std::to_string(window_end_s));
    // S3 fetches do not count (by default), 401s are answered before the limiter.
    EXPECT_EQ(data_raw("member/info", "bad").status, 401);
    EXPECT_EQ(iracing->stats().rate_limited, 1);

    clock.set_ms(window_end_s * 1000);
    auto again = data_raw("member/info", member().iracing_token);
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.header("x-ratelimit-remaining"), "4");
    EXPECT_EQ(again.header("x-ratelimit-reset"), std::to_string(window_end_s + 60));
}

TEST_F(Fakes, MaintenanceAnswers503) {
    iracing->set_maintenance(true);
    const std::string expected =
        R"({"error":"Site Maintenance","note":"The site is currently undergoing maintenance. Please try your request later."})";
    auto d = data_raw("member/info", member().iracing_token);
    EXPECT_EQ(d.status, 503);
    EXPECT_EQ(d.body, expected);
    auto t = password_grant();
    EXPECT_EQ(t.status, 503);
    EXPECT_EQ(t.body, expected);
    EXPECT_EQ(iracing->stats().maintenance, 2);
    iracing->set_maintenance(false);
    EXPECT_EQ(data_raw("member/info", member().iracing_token).status, 200);

    garage61->set_outage(true);
    auto g = g61("/me", member().garage61_token);
    EXPECT_EQ(g.status, 503);
    EXPECT_TRUE(g.header("x-g61-trace").has_value());
    garage61->set_outage(false);
    EXPECT_EQ(g61("/me", member().garage61_token).status, 200);
}

TEST_F(Fakes, PasswordLimitedAndSingleUseRefreshTokens) {
    auto r = password_grant();
    ASSERT_EQ(r.status, 200) << r.body;
    auto grant = parse(r.body).as_object();
    EXPECT_EQ(grant.at("token_type").as_string(), "bearer");
    EXPECT_EQ(grant.at("expires_in").as_int64(), 600);
    EXPECT_EQ(grant.at("refresh_token_expires_in").as_int64(), 3600);
    EXPECT_EQ(grant.at("scope").as_string(), "iracing.auth");
    const std::string access(grant.at("access_token").as_string()),
        refresh(grant.at("refresh_token").as_string());
    EXPECT_EQ(data("member/info", access).at("cust_id").as_int64(), iracing->service_cust_id());

    auto refreshed = refresh_grant(refresh);
    ASSERT_EQ(refreshed.status, 200) << refreshed.body;
    const std::string access2(parse(refreshed.body).at("access_token").as_string());
    EXPECT_NE(access2, access);
    auto reused = refresh_grant(refresh);
    EXPECT_EQ(reused.status, 400);
    auto error = parse(reused.body).as_object();
    EXPECT_EQ(error.at("error").as_string(), "invalid_grant");
    EXPECT_EQ(error.at("status").as_int64(), 400);
    EXPECT_EQ(error.at("status_reason").as_string(), "Bad Request");
    EXPECT_EQ(error.at("error_uri").as_string(), "https://oauth.iracing.com/oauth2/book/errors.html");

    // Expiry and revocation.
    clock.advance(std::chrono::seconds(600));
    EXPECT_EQ(data_raw("member/info", access2).status, 401);
    iracing->revoke_access_tokens();
    EXPECT_EQ(data_raw("member/info", member().iracing_token).status, 401);

    // Refused grants.
    const auto& o = iracing->options();
    auto unmasked = token({{"grant_type", "password_limited"},
                           {"client_id", o.client_id},
                           {"client_secret", o.client_secret},
                           {"username", o.username},
                           {"password", auth::mask_secret(o.password, o.username)},
                           {"scope", "iracing.auth"}});
    EXPECT_EQ(parse(unmasked.body).at("error").as_string(), "invalid_client");
    EXPECT_EQ(parse(password_grant("iracing.profile").body).at("error").as_string(), "invalid_scope");
    auto bad_password = token({{"grant_type", "password_limited"},
                               {"client_id", o.client_id},
                               {"client_secret", auth::mask_secret(o.client_secret, o.client_id)},
                               {"username", o.username},
                               {"password", o.password},
                               {"scope", "iracing.auth"}});
    EXPECT_EQ(parse(bad_password.body).at("error").as_string(), "invalid_grant");

    // 12 attempts per hour: 3 made so far.
    for (int i = 0; i < 9; ++i) EXPECT_EQ(password_grant().status, 200) << i;
    auto throttled = password_grant();
    EXPECT_EQ(throttled.status, 429);
    EXPECT_EQ(parse(throttled.body).at("status").as_int64(), 429);
    clock.advance(std::chrono::minutes(60));
    EXPECT_EQ(password_grant().status, 200);

    auto s = iracing->stats();
    EXPECT_EQ(s.grants["password_limited"], 11);
    EXPECT_EQ(s.grants["refresh_token"], 1);
    EXPECT_EQ(s.password_limited_throttled, 1);

    // Member tokens as after linking.
    auto linked = iracing->issue_tokens(member(3).cust_id);
    EXPECT_EQ(data("member/info", linked.access_token).at("cust_id").as_int64(), member(3).cust_id);
    EXPECT_EQ(refresh_grant(linked.refresh_token).status, 200);
    EXPECT_THROW((void)iracing->issue_tokens(1), std::invalid_argument);
}

TEST_F(Fakes, Garage61LapsPageByOffsetAgainstTotal) {
    garage61->set_rate_limit(1000, 100.0);
    const std::string token = member().garage61_token;
    auto me = parse(g61("/me", token).body).as_object();
    EXPECT_EQ(me.at("slug").as_string(), member().g61_slug);
    EXPECT_EQ(me.at("teams").as_array()[0].at("slug").as_string(), team->g61_team_slug);
    auto accounts = parse(g61("/me/accounts", token).body);
    EXPECT_EQ(accounts.at("items").as_array()[0].at("id").as_string(), std::to_string(member().cust_id));

    auto no_tracks = g61("/laps?cars=1", token);
    EXPECT_EQ(no_tracks.status, 400);
    EXPECT_EQ(no_tracks.body,
              R"({"error_message":"operation FindLaps: decode params: query parameter \"tracks\" not set"})");
    EXPECT_EQ(g61("/laps?tracks=1", token).status, 400);
    EXPECT_EQ(g61("/laps?tracks=1&cars=abc", token).status, 400);
    EXPECT_EQ(g61("/laps?tracks=1&cars=1&drivers=" + member(1).g61_slug, token).status, 400);

    // The league's car on its tracks: weekly races of the whole team.
    const Car& car = team->cars[static_cast<std::size_t>(team->league.car)];
    std::string tracks;
    for (int t : team->league.tracks)
        tracks +=
            (tracks.empty() ? "" : ",") + std::to_string(team->tracks[static_cast<std::size_t>(t)].g61_id);
    const std::string base = "/laps?cars=" + std::to_string(car.g61_id) + "&tracks=" + tracks +
                             "&after=" + iso8601(kStart - 40 * kDayMs);

    auto first = parse(g61(base + "&group=none&limit=1", token).body).as_object();
    const auto total = first.at("total").as_int64();
    ASSERT_GT(total, 400);
    std::set<std::string> ids;
    for (std::int64_t offset = 0; offset < total; offset += 200) {
        auto page = parse(g61(base + "&group=none&limit=200&offset=" + std::to_string(offset), token).body)
                        .as_object();
        EXPECT_EQ(page.at("total").as_int64(), total);
        const auto& items = page.at("items").as_array();
        EXPECT_EQ(static_cast<std::int64_t>(items.size()), std::min<std::int64_t>(200, total - offset));
        for (const auto& lap : items) {
            EXPECT_EQ(lap.at("id").as_string().size(), 26u);
            EXPECT_EQ(lap.at("car").at("platform_id").as_int64(), car.car_id);
            EXPECT_TRUE(lap.at("clean").as_bool());
            EXPECT_LT(*parse_iso8601(lap.at("startTime").as_string()), kStart);
            ids.insert(std::string(lap.at("id").as_string()));
        }
    }
    EXPECT_EQ(static_cast<std::int64_t>(ids.size()), total);  // disjoint pages

    // Unknown names are ignored; the default group is one personal best per driver.
    EXPECT_EQ(
        parse(g61(base + "&group=none&limit=1&start=2020-01-01&bogus=1", token).body).at("total").as_int64(),
        total);
    auto best = parse(g61(base, token).body).as_object();
    std::set<std::string> drivers;
    for (const auto& lap : best.at("items").as_array())
        drivers.insert(std::string(lap.at("driver").at("slug").as_string()));
    EXPECT_EQ(drivers.size(), best.at("items").as_array().size());
    auto mine = parse(g61(base + "&drivers=me", token).body).as_object();
    EXPECT_LE(mine.at("total").as_int64(), 1);
    auto one = parse(g61(base + "&group=none&extraDrivers=" + member(1).g61_slug, token).body).as_object();
    for (const auto& lap : one.at("items").as_array())
        EXPECT_EQ(lap.at("driver").at("slug").as_string(), member(1).g61_slug);
    auto unclean = parse(g61(base + "&group=none&limit=1&unclean=true", token).body).as_object();
    EXPECT_GT(unclean.at("total").as_int64(), total);

    // Laps appear over time.
    clock.advance(std::chrono::hours(24 * 14));
    EXPECT_GT(parse(g61(base + "&group=none&limit=1", token).body).at("total").as_int64(), total);
}

TEST_F(Fakes, Garage61BucketAndAuthErrors) {
    garage61->set_rate_limit(3, 0.5);
    const std::string token = member().garage61_token;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(g61("/me", token).status, 200);
    auto limited = g61("/me", token);
    EXPECT_EQ(limited.status, 429);
    auto body = parse(limited.body).as_object();
    EXPECT_EQ(body.at("message").as_string(), "Too many requests");
    EXPECT_EQ(body.at("details").at("retryAfterSeconds").as_int64(), 2);
    EXPECT_TRUE(body.contains("trace"));
    EXPECT_TRUE(limited.header("x-g61-trace").has_value());
    EXPECT_FALSE(limited.header("x-ratelimit-limit").has_value());
    EXPECT_FALSE(limited.header("retry-after").has_value());
    EXPECT_EQ(g61("/me", member(1).garage61_token).status, 200);  // another token, another bucket
    clock.advance(std::chrono::seconds(2));
    EXPECT_EQ(g61("/me", token).status, 200);
    EXPECT_EQ(g61("/me", token).status, 429);
    EXPECT_EQ(garage61->stats().rate_limited, 2);

    auto missing = request("GET", garage61->api_url() + "/me");
    EXPECT_EQ(missing.status, 401);
    EXPECT_EQ(parse(missing.body).at("message").as_string(),
              "Missing authorization: supply a Bearer token in the Authorization header.");
    auto bad = g61("/me", "nope");
    EXPECT_EQ(bad.status, 401);
    EXPECT_TRUE(std::string(parse(bad.body).at("message").as_string()).starts_with("Bad authentication:"));
    const std::string issued = garage61->issue_token(member(2).cust_id);
    EXPECT_EQ(parse(g61("/me", issued).body).at("id").as_string(), member(2).g61_id);
    garage61->revoke_tokens();
    EXPECT_EQ(g61("/me", issued).status, 401);
}

TEST_F(Fakes, DataIsDeterministicForASeedAndMovesWithTime) {
    const FakeTeam a = generate_team(7), b = generate_team(7), c = generate_team(8);
    ASSERT_EQ(a.members.size(), 60u);
    EXPECT_GE(a.cars.size(), 110u);
    EXPECT_GE(a.tracks.size(), 80u);
    EXPECT_GE(a.series.size(), 20u);
    for (std::size_t i = 0; i < a.members.size(); ++i) {
        EXPECT_EQ(a.members[i].cust_id, b.members[i].cust_id);
        EXPECT_EQ(a.members[i].display_name, b.members[i].display_name);
        EXPECT_EQ(a.members[i].g61_slug, b.members[i].g61_slug);
        EXPECT_EQ(a.members[i].iracing_token, b.members[i].iracing_token);
    }
    EXPECT_NE(a.members[0].cust_id, c.members[0].cust_id);
    std::set<std::int64_t> cust_ids;
    std::set<std::string> slugs, names;
    for (const auto& m : a.members) {
        cust_ids.insert(m.cust_id);
        slugs.insert(m.g61_slug);
        names.insert(m.display_name);
    }
    EXPECT_EQ(cust_ids.size(), 60u);
    EXPECT_EQ(slugs.size(), 60u);
    EXPECT_EQ(names.size(), 60u);
    for (const auto& car : a.cars) EXPECT_NE(car.car_id, car.g61_id);

    // Two fakes on the same seed and time answer the same payloads.
    auto other_team = std::make_shared<const FakeTeam>(generate_team(42, 30));
    IracingOptions io;
    io.locales_dir = PITWALL_SOURCE_DIR "/locales";
    FakeIracing twin(other_team, clock, io);
    const std::string endpoint = "stats/member_recent_races?cust_id=" + std::to_string(member(4).cust_id);
    auto mine = data(endpoint, member().iracing_token);
    auto r = request("GET", twin.api_url() + "/data/" + endpoint,
                     {{"Authorization", "Bearer " + member().iracing_token}});
    auto theirs = parse(request("GET", std::string(parse(r.body).at("link").as_string())).body);
    EXPECT_EQ(json::serialize(mine), json::serialize(theirs));

    // The 10 latest races before now; results/get agrees with them (positions 1-based there, 0-based here).
    const auto& races = mine.at("races").as_array();
    ASSERT_EQ(races.size(), 10u);
    std::int64_t previous = kStart;
    for (const auto& race : races) {
        const auto start = *parse_iso8601(race.at("session_start_time").as_string());
        EXPECT_LE(start, previous);
        previous = start;
    }
    const auto& latest = races[0];
    auto results = data("results/get?subsession_id=" + std::to_string(latest.at("subsession_id").as_int64()),
                        member().iracing_token);
    bool found = false;
    for (const auto& row : results.at("session_results").as_array()[0].at("results").as_array()) {
        if (row.at("cust_id").as_int64() != member(4).cust_id) continue;
        found = true;
        EXPECT_EQ(row.at("finish_position").as_int64() + 1, latest.at("finish_position").as_int64());
        EXPECT_EQ(row.at("laps_complete").as_int64(), latest.at("laps").as_int64());
        EXPECT_EQ(row.at("newi_rating").as_int64(), latest.at("newi_rating").as_int64());
    }
    EXPECT_TRUE(found);

    // A week later there are newer races.
    clock.advance(std::chrono::hours(24 * 7));
    auto later = data(endpoint, member().iracing_token);
    EXPECT_GT(*parse_iso8601(later.at("races").as_array()[0].at("session_start_time").as_string()),
              *parse_iso8601(latest.at("session_start_time").as_string()));
}

TEST_F(Fakes, Garage61LapsMatchTheRaceResults) {
    const TeamMember& m = member(5);
    auto races = member_recent_races(*team, m, kStart, 10);
    const Race* official = nullptr;
    for (const auto& race : races)
        if (!race.league) official = &race;
    ASSERT_NE(official, nullptr);
    const RaceEntry* entry = official->entry(m.cust_id);
    ASSERT_NE(entry, nullptr);
    const Car& car = team->cars[static_cast<std::size_t>(entry->car)];
    const Track& track = team->tracks[static_cast<std::size_t>(official->track)];
    auto laps = parse(g61("/laps?group=none&unclean=true&sessionTypes=3&cars=" + std::to_string(car.g61_id) +
                              "&tracks=" + std::to_string(track.g61_id) + "&extraDrivers=" + m.g61_slug +
                              "&after=" + iso8601(official->start_ms - 1000),
                          member().garage61_token)
                          .body);
    double best = 1e9;
    int count = 0;
    for (const auto& lap : laps.at("items").as_array()) {
        const auto start = *parse_iso8601(lap.at("startTime").as_string());
        if (start >= official->end_ms) continue;
        ++count;
        if (lap.at("lapNumber").as_int64() > 1) best = std::min(best, lap.at("lapTime").to_number<double>());
    }
    EXPECT_EQ(count, entry->laps_complete);
    EXPECT_NEAR(best, static_cast<double>(entry->best_lap) / 10000.0, 1e-6);
}

TEST(TeamData, Iso8601RoundTrips) {
    EXPECT_EQ(iso8601(kStart), "2025-03-12T12:00:00Z");
    EXPECT_EQ(iso8601(kStart + 5, true), "2025-03-12T12:00:00.005Z");
    EXPECT_EQ(parse_iso8601("2025-03-12T12:00:00Z"), kStart);
    EXPECT_EQ(parse_iso8601("2025-03-12T12:00Z"), kStart);
    EXPECT_EQ(parse_iso8601("2025-03-12T15:00:00+03:00"), kStart);
    EXPECT_EQ(parse_iso8601("2025-03-12T12:00:00.250Z"), kStart + 250);
    EXPECT_EQ(parse_iso8601("2025-03-12"), kStart - 12 * kHourMs);
    EXPECT_FALSE(parse_iso8601("yesterday"));
    EXPECT_FALSE(parse_iso8601("2025-13-01"));
    // 13-week seasons from 2023-12-12 (2024 Season 1): 2025 Season 2 starts on 2025-03-11.
    EXPECT_EQ(season_at(kStart).year, 2025);
    EXPECT_EQ(season_at(kStart).quarter, 2);
    EXPECT_EQ(iso_date(season_at(kStart).start_ms), "2025-03-11");
    EXPECT_EQ(race_week_at(season_at(kStart), kStart), 0);
}

}  // namespace
}  // namespace pitwall::fakes
