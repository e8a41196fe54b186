// The server's end of the bridge (docs/bridge.md): the /bridge WebSocket endpoint, the bot's
// session (handshake, sequencing, resume), and the dispatcher that feeds the bot from the durable
// KV queues: "dm" (the DM queue, through notify::DmQueue) and "bot" (role changes, announcements).
//
// One bot session is active on a node at a time; a newer identified connection replaces it. A
// session whose socket dropped stays resumable for bridge.resume_window_s: frames the bot did not
// acknowledge are replayed when it resumes. When the window passes, or the bot comes back with a
// fresh session (it restarted), the DMs that session had in flight go back to the queue at once;
// the ones that did reach Discord are deduplicated by their nonce.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "platform/bridge/frame.hpp"

namespace pitwall::http {
struct WsEndpoint;
class WsHub;
}  // namespace pitwall::http
namespace pitwall::store {
class Kv;
}
namespace pitwall::identity {
class Users;
}
namespace pitwall::notify {
class DmQueue;
}

namespace pitwall::bot {

inline constexpr std::string_view kBotQueue = "bot";              // KV queue: roles.apply, announce
inline constexpr std::string_view kBotStatusTopic = "admin:bot";  // /ws: connected / disconnected

// Answers the slash commands the bot forwards (commands.hpp). Runs on a worker thread.
class CommandHandler {
  public:
    virtual ~CommandHandler() = default;
    [[nodiscard]] virtual bridge::CommandResult handle(const bridge::Command& command) = 0;
};

struct BridgeOptions {
    std::string secret;  // secrets.bridge_secret; empty: every bot is refused
    std::chrono::milliseconds heartbeat{15'000};
    std::chrono::milliseconds handshake_skew{30'000};
    std::chrono::milliseconds identify_timeout{10'000};
    std::chrono::milliseconds resume_window{120'000};
    std::size_t max_frame_bytes = 64 * 1024;
    std::size_t max_unacked = 512;
    std::size_t dm_in_flight_max = 128;
    std::chrono::milliseconds poll{50};  // how often the dispatcher looks at the queues when idle
};

struct BridgeStatus {
    bool connected = false;
    std::string bot_id;
    std::string session_id;
    std::int64_t connected_since_ms = 0;
    std::size_t dms_in_flight = 0;
    std::uint64_t sessions_started = 0;
    std::uint64_t resumes = 0;
};

class BridgeServer {
  public:
    BridgeServer(BridgeOptions options, const Clock& clock, notify::DmQueue& dms, store::Kv& kv,
                 identity::Users& users, CommandHandler& commands, http::WsHub* hub = nullptr);
    ~BridgeServer();
    BridgeServer(const BridgeServer&) = delete;
    BridgeServer& operator=(const BridgeServer&) = delete;

    // For Server::add_websocket_endpoint("/bridge", ...).
    [[nodiscard]] http::WsEndpoint endpoint();
    // The dispatcher thread (feeds the bot while a session is active); stop() joins it.
    void start();
    void stop();

    // Site-side changes for Discord, durable in the "bot" queue until the bot confirms them.
    [[nodiscard]] Status apply_roles(std::string discord_user_id, std::vector<std::string> add,
                                     std::vector<std::string> remove, std::string reason);
    // Returns the request id the AnnounceResult will carry.
    [[nodiscard]] Result<std::string> announce(std::string channel_id, std::string content,
                                               std::optional<std::string> edit_message_id = {});
    // Called with announce results (the planner keeps the message id to edit on re-publish).
    void on_announce_result(std::function<void(const bridge::AnnounceResult&)> callback);
    // A member's Discord roles changed and the site role was recomputed (for pages to refresh).
    void on_member_change(std::function<void(std::int64_t user_id)> callback);

    [[nodiscard]] BridgeStatus status() const;

    struct State;  // bridge_server.cpp; shared with the connections, which may outlive a stop()

  private:
    std::shared_ptr<State> state_;
};

}  // namespace pitwall::bot
