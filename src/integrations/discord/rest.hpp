// The bot's Discord REST v10 client (shared/reference/garage61-and-discord.md §2.1, 2.4-2.6, Part 3).
//
// Every call goes through RestRateLimiter, which follows Discord's rules:
//   - per-route buckets: a route (method + template) is mapped to the bucket id Discord names in
//     X-RateLimit-Bucket; the state key is that bucket + the major parameter (channel id, guild id,
//     or webhook id + token). X-RateLimit-Remaining / -Reset-After are authoritative; a request
//     whose bucket is used up waits (Clock::sleep_for) until the bucket resets. Until a route's
//     first answer is in, one request probes it and the others wait for that answer.
//   - a global budget of `global_per_second` (no 1-second span holds more grants, plus a margin for
//     latency) that /interactions/... and /webhooks/{id}/{token}... do not count against;
//   - a 429 waits retry_after (JSON body, or the Retry-After header) and retries, a bounded number of
//     times; X-RateLimit-Global: true (or "global": true) pauses every request.
// Callers reserve their slot under a short lock and sleep without it, so many threads share the
// budgets without queueing behind one sleeper (the DM queue sends from several workers at once).
//
// 401, 403 and 429 answers are counted over a sliding 10 minutes (invalid_requests()): Cloudflare
// bans an IP at 10,000. After a 401 the token is never used again: every later call fails with
// discord.unauthorized without a request.
//
// Errors carry Discord's JSON error code in arg "discord_code" and a 429's wait in "retry_after"
// (seconds); discord_code() / retry_after_seconds() read them. Blocking: call from worker threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "integrations/discord/client.hpp"
#include "platform/auth/http_client.hpp"

namespace pitwall::integrations::discord {

// Discord's JSON error code of a failed call (50007, 10062, ...), or 0.
[[nodiscard]] int discord_code(const Error& error);
// The wait a 429 asked for, in seconds, or 0.
[[nodiscard]] double retry_after_seconds(const Error& error);

// Where a request goes, for rate limiting.
struct Route {
    std::string method;          // "POST"
    std::string path;            // template: "/channels/{channel}/messages"
    std::string major;           // the major parameter's value: channel id, guild id, webhook id + token
    bool global_exempt = false;  // interaction callbacks and webhook (interaction token) routes

    [[nodiscard]] std::string key() const { return method + " " + path; }
};

// What a response said about its bucket; absent headers stay nullopt.
struct RateLimitHeaders {
    std::optional<std::string> bucket;
    std::optional<std::int64_t> limit;
    std::optional<std::int64_t> remaining;
    std::optional<double> reset_after_s;  // X-RateLimit-Reset-After
    std::optional<double> reset_epoch_s;  // X-RateLimit-Reset (used only without Reset-After)
    bool global = false;                  // X-RateLimit-Global: true
    std::string scope;                    // X-RateLimit-Scope (429 only): user, global, shared

    [[nodiscard]] static RateLimitHeaders from(const auth::ClientResponse& response);
};

struct LimiterOptions {
    int global_per_second = 50;
    // Added to every reset time and to the global window: covers the time a request travels
    // (the server counts arrivals, we count departures).
    std::chrono::milliseconds margin{50};
    // acquire() fails with discord.rate_limited rather than wait longer than this.
    std::chrono::milliseconds max_wait{60'000};
    std::size_t max_buckets = 10'000;  // idle bucket states are forgotten beyond this
};

struct LimiterStats {
    std::uint64_t granted = 0;
    std::uint64_t route_waits = 0;   // grants that waited for a bucket reset or a probe
    std::uint64_t global_waits = 0;  // grants that waited for the global budget
    std::uint64_t throttled = 0;     // 429s reported
    std::uint64_t global_throttled = 0;
    std::size_t buckets = 0;
};

class RestRateLimiter {
  public:
    // A granted request. Report its answer with observe() (or release() when none came).
    struct Permit {
        std::string state_key;
        std::string route_key;
        std::string major;
    };

    RestRateLimiter(const Clock& clock, LimiterOptions options);
    RestRateLimiter(const RestRateLimiter&) = delete;
    RestRateLimiter& operator=(const RestRateLimiter&) = delete;

    // Blocks until `route` may be sent. Fails with discord.rate_limited (arg retry_after) when
    // the wait would pass max_wait.
    [[nodiscard]] Result<Permit> acquire(const Route& route);
    // The answer's headers (any status). A 429 (`was_429`) also goes to throttled().
    void observe(const Permit& permit, const RateLimitHeaders& headers, bool was_429 = false);
    // A 429: the bucket (or, when global, everyone) waits `retry_after`.
    void throttled(const Permit& permit, std::chrono::milliseconds retry_after, bool global);
    // No answer arrived (transport error): frees the probe slot.
    void release(const Permit& permit);

    [[nodiscard]] LimiterStats stats() const;

  private:
    struct Bucket {
        bool known = false;      // an answer with rate-limit headers arrived
        bool unlimited = false;  // answers carry no rate-limit headers
        std::int64_t limit = 1;
        std::int64_t remaining = 1;           // grants left in the window ending at reset_at (local view)
        SystemTime reset_at{};                // margin included
        std::chrono::milliseconds window{0};  // longest Reset-After seen: the window's length
        int in_flight = 0;
        SystemTime last_used{};
    };

    [[nodiscard]] std::string state_key(const std::string& route_key, const std::string& major) const;
    void forget_idle(SystemTime now);

    const Clock& clock_;
    LimiterOptions options_;

    mutable std::mutex mutex_;
    std::condition_variable answered_;                  // a probe's answer arrived
    std::map<std::string, std::string> route_buckets_;  // route key -> X-RateLimit-Bucket
    std::map<std::string, Bucket> buckets_;             // state key -> state
    std::deque<SystemTime> global_slots_;               // the last global_per_second grant times
    SystemTime global_blocked_until_{};
    std::uint64_t global_epoch_ = 0;  // bumped by every global 429: reserved slots are void
    LimiterStats stats_;
};

struct RestOptions {
    std::string api_base = "https://discord.com/api/v10";
    std::string bot_token;
    std::string user_agent;  // empty: "DiscordBot (https://github.com/pitwall, <version>)"
    int global_per_second = 50;
    int max_retries = 3;  // after a 429, a 5xx or a transport error
    std::chrono::milliseconds margin{50};
    std::chrono::milliseconds max_wait{60'000};
    std::size_t dm_channel_cache = 10'000;  // user id -> DM channel id entries kept
};

struct GatewayInfo {
    std::string url;
    int shards = 1;
    std::int64_t session_start_remaining = 0;
    std::int64_t session_start_reset_after_ms = 0;
    int max_concurrency = 1;
};

struct User {
    std::string id;
    std::string username;
    bool bot = false;
};

struct Role {
    std::string id;
    std::string name;
    std::int64_t position = 0;
    bool managed = false;
};

struct RegisteredCommand {
    std::string id;
    std::string name;
};

struct MessageDraft {
    std::string content;
    std::string embeds_json;  // a JSON array, or empty
    std::string nonce;        // up to 25 characters; with enforce_nonce a repeat returns the first message
    bool enforce_nonce = false;
};

struct RestStats {
    std::uint64_t requests = 0;  // HTTP requests sent
    std::uint64_t throttled = 0;
    std::uint64_t retries = 0;
    std::uint64_t dm_cache_hits = 0;
};

class RestClient {
  public:
    using Transport = std::function<Result<auth::ClientResponse>(const auth::ClientRequest&)>;

    RestClient(const auth::HttpClient& http, const Clock& clock, RestOptions options);
    // Sends through `transport` instead of an HttpClient (unit tests).
    RestClient(Transport transport, const Clock& clock, RestOptions options);
    RestClient(const RestClient&) = delete;
    RestClient& operator=(const RestClient&) = delete;

    [[nodiscard]] Result<GatewayInfo> gateway_bot();
    [[nodiscard]] Result<User> me();
    // The DM channel with a user (cached per user).
    [[nodiscard]] Result<std::string> open_dm(const std::string& user_id);
    // Returns the message id. A closed DM is discord.dm_closed (discord_code 50007 or 50278).
    [[nodiscard]] Result<std::string> create_message(const std::string& channel_id,
                                                     const MessageDraft& draft);
    [[nodiscard]] Status edit_message(const std::string& channel_id, const std::string& message_id,
                                      const std::string& content);
    [[nodiscard]] Status add_role(const std::string& guild_id, const std::string& user_id,
                                  const std::string& role_id, const std::string& reason = {});
    [[nodiscard]] Status remove_role(const std::string& guild_id, const std::string& user_id,
                                     const std::string& role_id, const std::string& reason = {});
    [[nodiscard]] Result<GuildMember> guild_member(const std::string& guild_id, const std::string& user_id);
    [[nodiscard]] Result<std::vector<Role>> guild_roles(const std::string& guild_id);
    // PUT: replaces every command of the guild with `commands_json` (a JSON array).
    [[nodiscard]] Result<std::vector<RegisteredCommand>> overwrite_guild_commands(
        const std::string& application_id, const std::string& guild_id, const std::string& commands_json);
    // `data_json` empty: no data (type 5 without flags, type 6). Errors: discord.interaction_expired
    // (10062), discord.already_acknowledged (40060).
    [[nodiscard]] Status interaction_callback(const std::string& interaction_id, const std::string& token,
                                              int type, const std::string& data_json = {});
    // PATCH @original; returns the message id.
    [[nodiscard]] Result<std::string> edit_original(const std::string& application_id,
                                                    const std::string& token, const std::string& data_json);
    // POST a follow-up message; returns its id.
    [[nodiscard]] Result<std::string> followup(const std::string& application_id, const std::string& token,
                                               const std::string& data_json);

    // 401/403/429 answers in the last 10 minutes (429s with scope "shared" excluded).
    [[nodiscard]] std::size_t invalid_requests() const;
    [[nodiscard]] bool token_revoked() const;
    [[nodiscard]] RestStats stats() const;
    [[nodiscard]] LimiterStats limiter_stats() const { return limiter_.stats(); }

  private:
    struct Call {
        Route route;
        std::string url_path;  // below api_base, parameters encoded
        std::string body;      // JSON, or empty
        auth::HttpHeaders extra_headers;
    };

    [[nodiscard]] Result<auth::ClientResponse> execute(const Call& call);
    void count_invalid();

    Transport transport_;
    const Clock& clock_;
    RestOptions options_;
    RestRateLimiter limiter_;

    mutable std::mutex mutex_;  // guards everything below
    bool unauthorized_ = false;
    std::deque<SystemTime> invalid_;  // times of 401/403/429 answers, last 10 minutes
    std::map<std::string, std::string> dm_channels_;
    std::deque<std::string> dm_order_;  // insertion order, for eviction
    RestStats stats_;
};

}  // namespace pitwall::integrations::discord
