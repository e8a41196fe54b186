// The bot's Discord Gateway v10 connection (shared/reference/garage61-and-discord.md §2.3, Part 3.3):
// JSON encoding, no compression, one shard.
//
//   connect <url>?v=10&encoding=json → HELLO → heartbeats (first after interval × jitter, jitter in
//   [0,1) from the injected randomness, then every interval; an op 1 from Discord is answered at
//   once) → IDENTIFY, or RESUME when a session is known → READY (session_id, resume_gateway_url) /
//   RESUMED → dispatches.
//
// Reconnects: a heartbeat without an ACK before the next one (zombie), op 7, op 9 d:true, a dropped
// socket (1006) and every resumable close code → close with 4000 (never 1000/1001, which end the
// session), open resume_gateway_url and RESUME with session_id + the last sequence. op 9 d:false →
// wait 1–5 s, then IDENTIFY anew on the discovery url; 4007/4009 (and a 1000 from Discord) → new
// session. 4004, 4010, 4011, 4012, 4013, 4014 are fatal: the gateway stops and on_fatal gets
// discord.gateway_fatal (args code, meaning) — no reconnect loop. Failing connections are retried
// with exponential back-off + jitter, bounded by max_backoff.
//
// Sends: every payload is at most 4096 bytes; at most 120 per connection in any 60 s, of which a
// share is kept for heartbeats (send() waits in a bounded queue for the rest).
//
// Threading: one gateway thread owns all state; the WebSocket client's I/O thread only queues frames
// for it. Callbacks run on the gateway thread, one at a time: keep them short and hand work off.
// Timers follow the injected Clock (a ManualClock drives the unit tests); the thread re-reads the
// clock at least every poll_interval. stop() (and the destructor) closes with 1000 and joins.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "platform/http/ws_client.hpp"

namespace pitwall::integrations::discord {

namespace intents {
inline constexpr int guilds = 1 << 0;
inline constexpr int guild_members = 1 << 1;
inline constexpr int guild_messages = 1 << 9;
inline constexpr int direct_messages = 1 << 12;
inline constexpr int message_content = 1 << 15;
}  // namespace intents

// Opens a WebSocket (WsClient::connect by default; tests pass a fake).
using WsConnector = std::function<Result<std::unique_ptr<http::WsClient>>(const std::string& url,
                                                                          http::WsClient::Handlers handlers)>;

struct GatewayOptions {
    std::string token;
    int intents = intents::guilds | intents::guild_members;
    std::string url;  // from GET /gateway/bot, without query
    std::string os = "linux";
    std::string browser = "pitwall";
    std::string device = "pitwall";
    WsConnector connector;  // empty: http::WsClient::connect with connect_timeout
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds hello_timeout{20'000};  // no HELLO by then: reconnect
    std::chrono::milliseconds min_backoff{1'000};
    std::chrono::milliseconds max_backoff{60'000};
    std::chrono::milliseconds invalid_session_min_wait{1'000};  // op 9 d:false waits 1–5 s
    std::chrono::milliseconds invalid_session_max_wait{5'000};
    int send_limit = 120;  // per connection per send_window
    std::chrono::milliseconds send_window{60'000};
    std::size_t max_payload_bytes = 4096;
    std::size_t outbox_max = 256;
    std::chrono::milliseconds poll_interval{100};  // longest the thread goes without reading the clock
};

struct GatewaySession {
    std::string session_id;
    std::string resume_gateway_url;
    std::string user_id;
    std::string application_id;
};

struct GatewayCallbacks {
    std::function<void(std::string_view type, std::string_view d_json)> on_dispatch;  // every op 0
    std::function<void(const GatewaySession& session)> on_ready;                      // READY
    std::function<void(const Error& error)> on_fatal;  // a close code that must not be reconnected on
};

struct GatewayStats {
    std::uint64_t connects = 0;  // WebSocket connections opened
    std::uint64_t connect_failures = 0;
    std::uint64_t identifies = 0;
    std::uint64_t resumes = 0;     // RESUME sent
    std::uint64_t resumed = 0;     // RESUMED received
    std::uint64_t reconnects = 0;  // connections given up for a new one
    std::uint64_t zombies = 0;     // missing ACKs
    std::uint64_t heartbeats = 0;
    std::uint64_t acks = 0;
    std::uint64_t dispatches = 0;
    std::uint64_t invalid_sessions = 0;
    std::uint64_t sent = 0;  // payloads sent, heartbeats included
    std::int64_t last_sequence = -1;
    int last_close_code = 0;
    bool fatal = false;
};

class Gateway {
  public:
    // `random` returns values in [0,1) (heartbeat jitter, back-off jitter, the op 9 wait); empty: the
    // OS CSPRNG.
    Gateway(GatewayOptions options, GatewayCallbacks callbacks, const Clock& clock,
            std::function<double()> random = {});
    ~Gateway();
    Gateway(const Gateway&) = delete;
    Gateway& operator=(const Gateway&) = delete;

    // Starts the gateway thread, which connects. Once only.
    void start();
    // Closes with 1000 (the session ends), joins the thread. Idempotent.
    void stop();
    // READY or RESUMED on an open connection.
    [[nodiscard]] bool connected() const;
    [[nodiscard]] GatewayStats stats() const;
    [[nodiscard]] GatewaySession session() const;

    // Queues a payload {"op": op, "d": <d_json>} (presence update, request guild members). Errors:
    // discord.gateway_payload_too_large (over 4096 bytes), discord.gateway_busy (queue full),
    // discord.gateway_closed (stopped or fatal), discord.bad_request (d_json is not JSON).
    [[nodiscard]] Status send(int op, std::string_view d_json);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// What a gateway close code means (Discord's table), e.g. 4004 → "authentication failed".
[[nodiscard]] std::string_view close_code_meaning(int code);
// True for the close codes that must not be reconnected on.
[[nodiscard]] bool is_fatal_close_code(int code);

}  // namespace pitwall::integrations::discord
