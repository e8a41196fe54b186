// A local fake of iRacing's OAuth token endpoint and /data API (docs: ../shared/reference/iracing.md
// sections 1.4-1.8, 2 and 3), serving the generated team of team_data.hpp.
//
// Two listeners, two origins:
//   API  http://127.0.0.1:<api>   POST /oauth2/token, GET /oauth2/iracing/profile, GET /data/...,
//                                  /_control/... (for the pitwall-fakes binary)
//   S3   http://127.0.0.1:<s3>    the signed payload links and chunk files the /data answers point to
//
// Behaviour (everything time-dependent reads the injected Clock):
//   - /data needs "Authorization: Bearer <access token>"; missing, unknown, revoked or expired: 401
//     {"error":"Unauthorized","message":...}. Accepted tokens: those issued by /oauth2/token or
//     issue_tokens() (they expire after access_token_ttl), and each member's static `iracing_token`
//     (no expiry; revoke_access_tokens() kills it too).
//   - Every accepted /data answer is {"link","expires"} pointing at the S3 listener; the link dies after
//     link_ttl (403 XML AccessDenied "Request has expired"); S3 refuses any request that carries an
//     Authorization header (400 XML InvalidArgument "Only one auth mechanism allowed"). /data/doc is
//     answered directly (as iRacing does).
//   - Rate limit: `rate_limit` /data requests per fixed window of `rate_window` (windows aligned to the
//     epoch), one budget for the whole fake (one team client). Authenticated /data answers carry
//     x-ratelimit-limit / -remaining / -reset (epoch seconds of the window end); over the limit: 429,
//     text/plain "Rate limit exceeded". A 401 is answered before the limiter and costs nothing. S3
//     fetches count against the window only with count_s3_fetches (unconfirmed upstream).
//   - Maintenance: every /data and /oauth2 request answers 503 {"error":"Site Maintenance","note":...}.
//   - /oauth2/token: password_limited (the configured service account) and refresh_token (single-use).
//     Both need client_id and client_secret masked with the client id (auth::mask_secret);
//     password_limited also needs the password masked with the username and a scope with iracing.auth,
//     and is limited to password_limited_per_hour attempts per sliding hour (answered 429 with an OAuth
//     error body: the limit is reported by one client library, the answer's shape is our guess).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "team_data.hpp"

namespace pitwall::fakes {

struct IracingOptions {
    std::filesystem::path locales_dir;  // the Pipeline's catalog; empty: the repository's locales/
    std::string host = "127.0.0.1";
    std::uint16_t api_port = 0;  // 0: any free port
    std::uint16_t s3_port = 0;

    // The team's OAuth client and its password_limited service account.
    std::string client_id = "pitwall-fake-client";
    std::string client_secret = "fake-client-secret";
    std::string username = "team@pitwall.test";
    std::string password = "fake-password";
    std::int64_t service_cust_id = 0;  // whose data the service account sees as "self"; 0: the first member

    std::chrono::seconds access_token_ttl{600};
    std::chrono::seconds refresh_token_ttl{3600};
    int password_limited_per_hour = 12;
    std::chrono::seconds link_ttl{600};
    int rate_limit = 240;
    std::chrono::seconds rate_window{60};
    bool count_s3_fetches = false;
    int search_chunk_rows = 5;  // rows per chunk file of results/search_hosted
    std::size_t io_threads = 1;
    std::size_t worker_threads = 2;
};

struct IssuedTokens {
    std::string access_token;
    std::string refresh_token;
    int expires_in = 0;
    int refresh_token_expires_in = 0;
    std::string scope;
};

struct IracingStats {
    std::int64_t data_calls = 0;                           // authenticated /data requests (429s included)
    std::map<std::string, std::int64_t> data_by_endpoint;  // "member/get" -> calls
    std::int64_t s3_fetches = 0;                           // payloads and chunks served
    std::int64_t s3_refused = 0;                           // Authorization header, expired or unknown link
    std::int64_t rate_limited = 0;                         // 429 on /data
    std::int64_t unauthorized = 0;                         // 401 on /data
    std::map<std::string, std::int64_t> grants;            // tokens issued by /oauth2/token, per grant_type
    std::int64_t token_errors = 0;                         // refused /oauth2/token requests (429s included)
    std::int64_t password_limited_throttled = 0;           // 429 on password_limited
    std::int64_t maintenance = 0;                          // 503 answers during maintenance
};

class FakeIracing {
  public:
    // Starts both listeners; throws std::runtime_error when one cannot listen.
    FakeIracing(std::shared_ptr<const FakeTeam> team, const Clock& clock, IracingOptions options = {});
    ~FakeIracing();
    FakeIracing(const FakeIracing&) = delete;
    FakeIracing& operator=(const FakeIracing&) = delete;

    [[nodiscard]] std::string api_url() const;  // http://127.0.0.1:<api> (iracing.api_base; /data/... below)
    [[nodiscard]] std::string token_url() const;    // <api>/oauth2/token
    [[nodiscard]] std::string profile_url() const;  // <api>/oauth2/iracing/profile
    [[nodiscard]] std::string s3_url() const;       // http://127.0.0.1:<s3>
    [[nodiscard]] std::string control_url() const;  // <api>/_control
    [[nodiscard]] const FakeTeam& team() const;
    [[nodiscard]] const IracingOptions& options() const;
    [[nodiscard]] std::int64_t service_cust_id() const;

    [[nodiscard]] IracingStats stats() const;
    void reset_stats();   // counters only
    void reset_limits();  // the current rate window and the password_limited history

    void set_maintenance(bool on);
    void set_rate_limit(int limit, std::chrono::seconds window);
    void set_link_ttl(std::chrono::seconds ttl);
    void expire_links();          // every link handed out so far is expired from now on
    void revoke_access_tokens();  // every access token (static ones included) is refused from now on

    // Tokens of a member as if linked through the authorization-code flow (scope iracing.auth
    // iracing.profile); the refresh token works with the refresh_token grant. Throws
    // std::invalid_argument for a cust_id outside the team.
    [[nodiscard]] IssuedTokens issue_tokens(std::int64_t cust_id);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pitwall::fakes
