// The bot's end of the bridge (docs/bridge.md): connects to the server's /bridge, answers hello with
// an HMAC-signed identify (resuming its session when it has one), heartbeats, acknowledges what it
// receives, and keeps every application message it sends until the server acknowledges it — so a
// dropped connection, or a server restart, loses nothing. Reconnects with exponential back-off and
// jitter.
//
// Threading: one bridge thread owns the state; the WebSocket's I/O thread only queues frames for it.
// on_message runs on the bridge thread, in order: hand work off. send() is safe from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "platform/bridge/frame.hpp"

namespace pitwall::bot {

struct BridgeClientOptions {
    std::string url;  // ws://host:port/bridge or wss://...
    std::string bot_id;
    std::string secret;
    std::size_t max_frame_bytes = 64 * 1024;
    std::size_t max_unacked = 512;
    std::chrono::milliseconds min_backoff{1'000};  // docs/bridge.md, "Heartbeats": 1 s doubling to 60 s
    std::chrono::milliseconds max_backoff{60'000};
    std::string ca_file;  // wss: extra trust anchors
};

struct BridgeClientStats {
    std::uint64_t connects = 0;
    std::uint64_t sessions = 0;  // ready with a new session
    std::uint64_t resumes = 0;   // ready with resumed = true
    std::uint64_t received = 0;  // application messages delivered
    std::uint64_t duplicates = 0;
    std::uint64_t errors = 0;  // error frames from the server
    bool connected = false;
};

class BridgeClient {
  public:
    struct Callbacks {
        std::function<void(const bridge::Message& message)> on_message;  // dm.send, roles.apply, ...
        std::function<void(bool connected)> on_state;
    };

    BridgeClient(BridgeClientOptions options, Callbacks callbacks, const Clock& clock);
    ~BridgeClient();
    BridgeClient(const BridgeClient&) = delete;
    BridgeClient& operator=(const BridgeClient&) = delete;

    void start();
    void stop();
    // An application message for the server; kept until acknowledged (also across reconnects).
    // bridge.backpressure when too many wait for their ack: retry later.
    [[nodiscard]] Status send(bridge::Message message);
    [[nodiscard]] BridgeClientStats stats() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pitwall::bot
