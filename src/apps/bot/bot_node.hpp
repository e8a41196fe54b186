// pitwall-bot's node: what ties Discord (gateway events, REST) to the server (the bridge).
//   INTERACTION_CREATE   -> deferred at once (the 3-second rule), forwarded as `command`; the
//                           server's `command.result` edits the deferred reply
//   GUILD_MEMBER_*       -> `member.update` (the server remaps the member's site role)
//   dm.send              -> DM channel + message with the DM's id as nonce (enforce_nonce): a message
//                           sent twice is created once; -> `dm.result`
//   roles.apply          -> role add/remove -> `roles.result`;  announce -> post/edit -> `announce.result`
// The node caches only what it uses: DM channels (in the REST client) and the ids of DMs it delivered
// lately (a bounded map), so a repeated dm.send is answered without touching Discord.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "platform/bridge/frame.hpp"

namespace pitwall::integrations::discord {
class RestClient;
struct GatewaySession;
}  // namespace pitwall::integrations::discord

namespace pitwall::bot {

class BridgeClient;

// A small fixed pool of threads with a bounded-by-the-caller task queue (blocking REST calls).
class WorkerPool {
  public:
    explicit WorkerPool(std::size_t threads);
    ~WorkerPool();
    void post(std::function<void()> task);
    void stop();

  private:
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> tasks_;
    std::vector<std::thread> threads_;
    bool stopping_ = false;
};

struct BotNodeOptions {
    std::string guild_id;
    std::string application_id;  // empty: taken from READY
    std::string commands_json;   // the slash commands, registered in the guild at READY
    std::size_t dm_workers = 8;
    std::size_t delivered_memory = 20'000;  // DM ids remembered as delivered
};

struct BotNodeStats {
    std::uint64_t dms_delivered = 0;
    std::uint64_t dms_failed = 0;
    std::uint64_t dms_repeated = 0;  // answered from memory
    std::uint64_t interactions = 0;
    std::uint64_t member_updates = 0;
};

class BotNode {
  public:
    BotNode(BotNodeOptions options, integrations::discord::RestClient& rest, const Clock& clock);
    ~BotNode();

    void attach(BridgeClient& bridge) { bridge_ = &bridge; }
    void on_dispatch(std::string_view type, std::string_view d_json);
    void on_ready(const integrations::discord::GatewaySession& session);
    void on_bridge_message(const bridge::Message& message);
    void stop();
    [[nodiscard]] BotNodeStats stats() const;

  private:
    void interaction(std::string_view d_json);
    void member_event(std::string_view d_json, bool removed);
    void deliver(const bridge::DmSend& dm);
    void apply_roles(const bridge::RolesApply& roles);
    void announce(const bridge::Announce& announce);
    void command_result(const bridge::CommandResult& result);
    void to_server(bridge::Message message);

    BotNodeOptions options_;
    integrations::discord::RestClient& rest_;
    const Clock& clock_;
    BridgeClient* bridge_ = nullptr;
    WorkerPool interactions_{2};  // never queued behind DMs: the 3-second deadline
    WorkerPool workers_;

    mutable std::mutex mutex_;
    std::string application_id_;
    std::map<std::string, std::string> pending_tokens_;       // interaction id -> token, until answered
    std::unordered_map<std::string, std::string> delivered_;  // DM id -> message id
    std::list<std::string> delivered_order_;
    std::map<std::string, int> in_progress_;  // DM ids being delivered now
    BotNodeStats stats_;
};

}  // namespace pitwall::bot
