// The WebSocket hub behind /ws: topic subscriptions and broadcast for features, with no Beast type
// in sight. A broadcast is serialized once and the same immutable buffer is queued on every
// subscriber (each peer has its own strand and a bounded send queue; see server.cpp).
// With a relay set (KV pub/sub), a broadcast on one node reaches subscribers on every node.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace pitwall::i18n {
class Catalog;
}

namespace pitwall::http {

class WsPeer {
  public:
    virtual ~WsPeer() = default;
    // Queues a text frame. A peer whose queue is full disconnects itself (slow consumer).
    virtual void send(std::shared_ptr<const std::string> frame) = 0;
    [[nodiscard]] virtual const std::string& locale() const = 0;
};

class WsHub {
  public:
    using Relay = std::function<bool(std::string_view message)>;

    WsHub(const i18n::Catalog* catalog, std::size_t max_topics_per_peer);

    // Features: send `json_data` (a serialized JSON value) to every subscriber of `topic`.
    void broadcast(std::string_view topic, std::string_view json_data);

    // Multi-node fan-out: `relay` publishes a message (KV pub/sub); every node's subscription passes
    // what it receives to `deliver_relayed`. Without a relay, broadcast delivers locally.
    void set_relay(Relay relay);
    void deliver_relayed(std::string_view message);

    // Used by the server's WebSocket sessions.
    void attach(const std::shared_ptr<WsPeer>& peer);
    void detach(const WsPeer* peer);
    // Handles one client frame ({"op":"subscribe"|"unsubscribe"|"ping","topic":...}); returns the reply.
    [[nodiscard]] std::string handle_client_frame(const WsPeer* peer, std::string_view text);

    [[nodiscard]] std::size_t connections() const;
    [[nodiscard]] std::size_t subscribers(std::string_view topic) const;
    [[nodiscard]] static bool valid_topic(std::string_view topic);

  private:
    void deliver_local(std::string_view topic, const std::shared_ptr<const std::string>& frame);
    [[nodiscard]] std::string error_frame(const WsPeer* peer, std::string_view code) const;

    const i18n::Catalog* catalog_;
    std::size_t max_topics_per_peer_;
    mutable std::mutex mutex_;
    std::map<const WsPeer*, std::weak_ptr<WsPeer>> peers_;
    std::map<std::string, std::set<const WsPeer*>, std::less<>> topics_;
    std::map<const WsPeer*, std::set<std::string>> peer_topics_;
    Relay relay_;
};

}  // namespace pitwall::http
