// The iRacing Data API (members-ng.iracing.com/data), as ../shared/reference/iracing.md describes it:
//
//   governor.acquire ─► GET /data/<endpoint>?params  (Bearer)   ─► x-ratelimit-* ─► governor
//        200 {link, expires}  ─► GET link WITHOUT Authorization (S3 rejects it) ─► payload
//            payload with chunk_info ─► GET base_download_url + each chunk file ─► one JSON array
//            link 403 (expired) ─► ask /data again, once
//        401 ─► TokenSource::refresh_after_unauthorized() once, retry; a second 401 fails
//        429 ─► nobody sends until x-ratelimit-reset (+0.5 s), then retry (bounded)
//        503 "Site Maintenance" ─► circuit open for maintenance_backoff: calls fail fast until then
//        other 5xx ─► bounded retries with back-off; 400/403 fail; 404 is not_found (negatively cached)
//
// Blocking (libcurl underneath): call it from jobs or the worker pool, never from an I/O thread.
// Reads can go through the KV cache (per-resource TTL, stale-while-revalidate, single-flight).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "integrations/iracing/models.hpp"
#include "integrations/token_source.hpp"
#include "platform/upstream/cache.hpp"
#include "platform/upstream/rate_governor.hpp"

namespace pitwall::auth {
class HttpClient;
}

namespace pitwall::integrations::iracing {

using integrations::TokenSource;

struct ClientOptions {
    std::string api_base = "https://members-ng.iracing.com";  // /data/... is appended
    std::chrono::milliseconds maintenance_backoff{std::chrono::minutes(5)};
    int max_throttle_retries = 3;  // 429s waited out per call
    int max_server_retries = 2;    // 5xx (not maintenance) retried per call
    std::chrono::milliseconds server_retry_backoff{std::chrono::seconds(2)};
};

struct CallOptions {
    upstream::Priority priority = upstream::Priority::background;
    std::optional<SystemTime> deadline;  // give up (rate_limited) rather than wait past it
};

using Params = std::vector<std::pair<std::string, std::string>>;

struct ClientStats {
    std::uint64_t data_requests = 0;  // GET /data/... sent (what the upstream rate limit counts)
    std::uint64_t link_fetches = 0;
    std::uint64_t chunk_fetches = 0;
    std::uint64_t unauthorized = 0;  // 401s seen
    std::uint64_t throttled = 0;     // 429s seen
    std::uint64_t maintenance = 0;   // 503 Site Maintenance seen
    std::uint64_t expired_links = 0;
};

class Client {
  public:
    // `cache` may be null: every read goes upstream (the "uncached" side of the team-week bench).
    Client(const auth::HttpClient& http, upstream::RateGovernor& governor, upstream::Cache* cache,
           const Clock& clock, ClientOptions options);

    // The resolved payload of /data/<endpoint> (link followed, chunks assembled into one array) as
    // JSON text. Errors (codes under error.iracing.*): unauthorized, forbidden, not_found,
    // bad_request, rate_limited, maintenance, unavailable, bad_answer.
    [[nodiscard]] Result<std::string> fetch(std::string_view endpoint, const Params& params,
                                            TokenSource& tokens, const CallOptions& options) const;

    // fetch() through the cache under `endpoint?params` (+ `scope` for answers that depend on whose
    // token asks, e.g. member/info); without a cache it is fetch().
    [[nodiscard]] Result<std::string> read(std::string_view endpoint, const Params& params,
                                           TokenSource& tokens, const CallOptions& options,
                                           const upstream::CachePolicy& policy,
                                           std::string_view scope = {}) const;

    // Drops a cached answer (a job saw that it changed, e.g. a member's iRating moved: they raced).
    void invalidate(std::string_view endpoint, const Params& params, std::string_view scope = {}) const;
    // The cache keys of the per-member answers that change when a member races.
    void invalidate_member(std::int64_t cust_id) const;

    // Typed reads with the default cache policy of each resource (see policy_for()).
    [[nodiscard]] Result<std::vector<Member>> members(const std::vector<std::int64_t>& cust_ids,
                                                      TokenSource& tokens,
                                                      const CallOptions& options = {}) const;
    [[nodiscard]] Result<ChartData> irating_history(std::int64_t cust_id, int category_id,
                                                    TokenSource& tokens,
                                                    const CallOptions& options = {}) const;
    [[nodiscard]] Result<std::vector<RecentRace>> recent_races(std::int64_t cust_id, TokenSource& tokens,
                                                               const CallOptions& options = {}) const;
    [[nodiscard]] Result<MemberSummary> member_summary(std::int64_t cust_id, TokenSource& tokens,
                                                       const CallOptions& options = {}) const;
    [[nodiscard]] Result<std::vector<Season>> seasons(TokenSource& tokens,
                                                      const CallOptions& options = {}) const;
    [[nodiscard]] Result<RaceGuide> race_guide(SystemTime from, TokenSource& tokens,
                                               const CallOptions& options = {}) const;
    [[nodiscard]] Result<SubsessionResult> result(std::int64_t subsession_id, TokenSource& tokens,
                                                  const CallOptions& options = {}) const;
    [[nodiscard]] Result<std::vector<LeagueSession>> league_season_sessions(
        std::int64_t league_id, std::int64_t season_id, TokenSource& tokens,
        const CallOptions& options = {}) const;
    [[nodiscard]] Result<std::vector<HostedSession>> search_hosted(std::int64_t league_id,
                                                                   std::int64_t season_id, SystemTime from,
                                                                   TokenSource& tokens,
                                                                   const CallOptions& options = {}) const;
    [[nodiscard]] Result<std::vector<Car>> cars(TokenSource& tokens, const CallOptions& options = {}) const;
    [[nodiscard]] Result<std::vector<Track>> tracks(TokenSource& tokens,
                                                    const CallOptions& options = {}) const;
    [[nodiscard]] Result<std::vector<DriverMatch>> lookup_drivers(std::string_view search_term,
                                                                  TokenSource& tokens,
                                                                  const CallOptions& options = {}) const;

    // How long each resource is cached (iRacing's expirationSeconds is 900 for most endpoints, 60 for
    // the race guide; results of a finished subsession never change).
    [[nodiscard]] static upstream::CachePolicy policy_for(std::string_view endpoint);

    [[nodiscard]] ClientStats stats() const;
    [[nodiscard]] bool in_maintenance() const;
    [[nodiscard]] upstream::Cache* cache() const { return cache_; }

  private:
    struct Answer;
    [[nodiscard]] Result<std::string> fetch_once(std::string_view endpoint, const Params& params,
                                                 TokenSource& tokens, const CallOptions& options) const;
    [[nodiscard]] Result<Answer> get_data(const std::string& url, const std::string& token,
                                          const CallOptions& options) const;
    [[nodiscard]] Result<std::string> resolve(std::string body, const CallOptions& options,
                                              bool& link_expired) const;
    [[nodiscard]] Result<std::string> get_unauthenticated(const std::string& url, bool& expired) const;

    const auth::HttpClient& http_;
    upstream::RateGovernor& governor_;
    upstream::Cache* cache_;
    const Clock& clock_;
    ClientOptions options_;
    mutable std::mutex mutex_;
    mutable ClientStats stats_;
    mutable std::atomic<std::int64_t> maintenance_until_ms_{0};
};

// "YYYY-MM-DDTHH:MMZ", the timestamp form the Data API takes.
[[nodiscard]] std::string api_time(SystemTime t);

}  // namespace pitwall::integrations::iracing
