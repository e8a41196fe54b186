// A local fake of Garage61's REST API (docs: ../shared/reference/garage61-and-discord.md, Part 1) at
// http://127.0.0.1:<port>/api/v1, serving the generated team of team_data.hpp.
//
//   - Bearer tokens: each member's static `garage61_token`, and tokens from issue_token(); a token
//     identifies its member. Missing: 401 "Missing authorization: ..."; unknown or revoked: 401 "Bad
//     authentication: ... invalid access token.". Every response carries an X-G61-Trace header.
//   - /me, /me/accounts, /teams, /teams/{idOrSlug}, /cars, /tracks, /laps. All members are in one team
//     (FakeTeam::g61_team_slug); Garage61 has its own ids for cars and tracks (platform_id = iRacing id).
//   - /laps: `tracks` and `cars` required (Garage61 ids, comma lists, integers), `drivers` only
//     me/following, `extraDrivers` (slugs), `teams` (team slugs), none of the three = you + teammates;
//     `group` driver (default: personal best per driver) | driver-car | none; `after`; `unclean`;
//     `sessionTypes`; `limit` (default and max 1000) and `offset` over `total`. Laps appear as they are
//     driven (a race's laps are the ones its results/get timing is made of). Unknown names are ignored.
//   - Rate limit: a token bucket refilling continuously (capacity, refill per second), one bucket per
//     access token by default; empty: 429 {"message":"Too many requests","details":{"retryAfterSeconds":N},
//     "trace":...} and no rate headers. A 401 costs nothing.
//   - Outage switch: 503 {"message":...,"trace":...} for every /api/v1 request.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "team_data.hpp"

namespace pitwall::fakes {

struct Garage61Options {
    std::filesystem::path locales_dir;  // the Pipeline's catalog; empty: the repository's locales/
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    int bucket_capacity = 30;
    double refill_per_second = 1.0;
    bool bucket_per_token = true;  // false: one bucket for every caller
    int lap_history_days = 180;    // laps older than this do not exist
    std::size_t io_threads = 1;
    std::size_t worker_threads = 2;
};

struct Garage61Stats {
    std::int64_t calls = 0;                           // authenticated /api/v1 requests (429s included)
    std::map<std::string, std::int64_t> by_endpoint;  // "laps", "me", "me/accounts", ...
    std::int64_t rate_limited = 0;                    // 429
    std::int64_t unauthorized = 0;                    // 401
    std::int64_t bad_requests = 0;                    // 400
    std::int64_t outage = 0;                          // 503 during an outage
    std::int64_t laps_returned = 0;                   // lap objects sent by /laps
};

class FakeGarage61 {
  public:
    // Starts listening; throws std::runtime_error when it cannot.
    FakeGarage61(std::shared_ptr<const FakeTeam> team, const Clock& clock, Garage61Options options = {});
    ~FakeGarage61();
    FakeGarage61(const FakeGarage61&) = delete;
    FakeGarage61& operator=(const FakeGarage61&) = delete;

    [[nodiscard]] std::string base_url() const;     // http://127.0.0.1:<port>
    [[nodiscard]] std::string api_url() const;      // <base>/api/v1 (garage61.api_base)
    [[nodiscard]] std::string control_url() const;  // <base>/_control
    [[nodiscard]] const FakeTeam& team() const;
    [[nodiscard]] const Garage61Options& options() const;

    [[nodiscard]] Garage61Stats stats() const;
    void reset_stats();   // counters only
    void reset_limits();  // every bucket full again

    void set_outage(bool on);
    void set_rate_limit(int capacity, double refill_per_second);
    void revoke_tokens();  // every token (static ones included) is refused from now on

    // A new access token for a member (as after an OAuth linking); throws std::invalid_argument for a
    // cust_id outside the team.
    [[nodiscard]] std::string issue_token(std::int64_t cust_id);
    // Accept `token` for the member (e.g. a token another test peer issued).
    void add_token(std::string token, std::int64_t cust_id);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pitwall::fakes
