// The Garage61 API (garage61.net/api/v1), as ../shared/reference/garage61-and-discord.md Part 1
// describes it: Bearer tokens, list answers {items, total}, /laps paged by offset against total with
// comma lists of Garage61's own integer car/track ids, and a continuously refilling rate bucket whose
// 429 says how long to wait in details.retryAfterSeconds (no rate headers). The documented procedure
// is to stop the operation, wait, and never retry in parallel: the governor holds every caller.
//
// Blocking (libcurl); call from jobs or the worker pool.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "integrations/token_source.hpp"
#include "platform/upstream/cache.hpp"
#include "platform/upstream/rate_governor.hpp"

namespace pitwall::auth {
class HttpClient;
}

namespace pitwall::integrations::garage61 {

struct Team {
    std::string id;
    std::string name;
    std::string slug;
    std::string role;
};

struct Me {
    std::string id;  // stable subject
    std::string slug;
    std::string first_name;
    std::string last_name;
    std::string subscription_plan;
    std::vector<std::string> api_permissions;
    std::vector<Team> teams;
};

struct Account {
    std::string platform;  // "iracing"
    std::string id;        // believed to be the iRacing customer id
    std::string name;
};

struct Car {
    std::int64_t id = 0;  // Garage61's own id: what /laps filters take
    std::string name;
    std::string platform;
    std::int64_t platform_id = 0;  // the iRacing car id
};

struct Track {
    std::int64_t id = 0;
    std::string name;
    std::string variant;
    std::string platform;
    std::int64_t platform_id = 0;
};

struct Lap {
    std::string id;  // ULID
    std::string driver_id;
    std::string driver_slug;
    Car car;
    Track track;
    double lap_time_s = 0;
    std::string start_time;  // ISO-8601
    bool clean = false;
    int session_type = 0;  // 1 practice, 2 qualifying, 3 race
};

enum class LapGrouping { driver, driver_car, none };

struct LapQuery {
    std::vector<std::int64_t> cars;          // Garage61 ids; required by the API
    std::vector<std::int64_t> tracks;        // Garage61 ids; required by the API
    std::vector<std::string> teams;          // team slugs: adds teammates
    std::vector<std::string> extra_drivers;  // driver slugs
    LapGrouping group = LapGrouping::none;
    std::optional<std::string> after;  // ISO-8601 UTC
    int page_size = 1000;              // the API's maximum
    int max_pages = 100;               // bound: at most 100,000 laps per query
};

struct ClientOptions {
    std::string api_base = "https://garage61.net/api/v1";
    int max_throttle_retries = 3;
};

struct CallOptions {
    upstream::Priority priority = upstream::Priority::background;
    std::optional<SystemTime> deadline;
};

struct ClientStats {
    std::uint64_t requests = 0;
    std::uint64_t throttled = 0;
    std::uint64_t unauthorized = 0;
    std::uint64_t pages = 0;
};

class Client {
  public:
    Client(const auth::HttpClient& http, upstream::RateGovernor& governor, upstream::Cache* cache,
           const Clock& clock, ClientOptions options);

    // Errors (error.garage61.*): unauthorized, forbidden, not_found, bad_request, rate_limited,
    // unavailable, bad_answer.
    [[nodiscard]] Result<Me> me(TokenSource& tokens, const CallOptions& options = {}) const;
    [[nodiscard]] Result<std::vector<Account>> accounts(TokenSource& tokens,
                                                        const CallOptions& options = {}) const;
    [[nodiscard]] Result<std::vector<Team>> teams(TokenSource& tokens, const CallOptions& options = {}) const;
    [[nodiscard]] Result<std::vector<Car>> cars(TokenSource& tokens, const CallOptions& options = {}) const;
    [[nodiscard]] Result<std::vector<Track>> tracks(TokenSource& tokens,
                                                    const CallOptions& options = {}) const;
    // Every page of a lap query (offset += page size until total is reached or a page is short).
    [[nodiscard]] Result<std::vector<Lap>> laps(const LapQuery& query, TokenSource& tokens,
                                                const CallOptions& options = {}) const;

    // GET <api_base><path> with the token; the body of a 200. Public for the cache-warm job and tests.
    [[nodiscard]] Result<std::string> get(std::string_view path_and_query, TokenSource& tokens,
                                          const CallOptions& options) const;

    [[nodiscard]] ClientStats stats() const;

  private:
    [[nodiscard]] Result<std::string> read(std::string_view path, TokenSource& tokens,
                                           const CallOptions& options, const upstream::CachePolicy& policy,
                                           std::string_view scope) const;

    const auth::HttpClient& http_;
    upstream::RateGovernor& governor_;
    upstream::Cache* cache_;
    const Clock& clock_;
    ClientOptions options_;
    mutable std::mutex mutex_;
    mutable ClientStats stats_;
};

// Parsers (tolerant, like the iRacing ones). Error garage61.bad_answer on the wrong outer shape.
[[nodiscard]] Result<Me> parse_me(std::string_view json);
[[nodiscard]] Result<std::vector<Account>> parse_accounts(std::string_view json);
[[nodiscard]] Result<std::vector<Team>> parse_teams(std::string_view json);
[[nodiscard]] Result<std::vector<Car>> parse_cars(std::string_view json);
[[nodiscard]] Result<std::vector<Track>> parse_tracks(std::string_view json);
struct LapPage {
    std::vector<Lap> laps;
    std::int64_t total = 0;
};
[[nodiscard]] Result<LapPage> parse_lap_page(std::string_view json);

}  // namespace pitwall::integrations::garage61
