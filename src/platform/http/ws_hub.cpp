#include "platform/http/ws_hub.hpp"

#include <vector>

#include <boost/json.hpp>

#include "platform/i18n/catalog.hpp"

namespace pitwall::http {

WsHub::WsHub(const i18n::Catalog* catalog, std::size_t max_topics_per_peer)
    : catalog_(catalog), max_topics_per_peer_(max_topics_per_peer) {}

bool WsHub::valid_topic(std::string_view topic) {
    if (topic.empty() || topic.size() > 128) return false;
    for (char c : topic) {
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '.' || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

void WsHub::broadcast(std::string_view topic, std::string_view json_data) {
    // {"type":"event","topic":...,"data":<json>} built once; data is already serialized JSON.
    auto frame = std::make_shared<std::string>();
    frame->reserve(json_data.size() + topic.size() + 40);
    *frame += R"({"type":"event","topic":)";
    *frame += boost::json::serialize(boost::json::string_view(topic.data(), topic.size()));
    *frame += R"(,"data":)";
    *frame += json_data;
    *frame += '}';

    Relay relay;
    {
        std::lock_guard lock(mutex_);
        relay = relay_;
    }
    if (relay) {
        // message = topic '\n' frame; the topic alphabet has no newline.
        std::string message;
        message.reserve(topic.size() + 1 + frame->size());
        message.append(topic).append(1, '\n').append(*frame);
        if (relay(message)) return;  // delivered to us (and the other nodes) through the subscription
    }
    deliver_local(topic, frame);
}

void WsHub::set_relay(Relay relay) {
    std::lock_guard lock(mutex_);
    relay_ = std::move(relay);
}

void WsHub::deliver_relayed(std::string_view message) {
    auto newline = message.find('\n');
    if (newline == std::string_view::npos) return;
    std::string_view topic = message.substr(0, newline);
    if (!valid_topic(topic)) return;
    deliver_local(topic, std::make_shared<const std::string>(message.substr(newline + 1)));
}

void WsHub::deliver_local(std::string_view topic, const std::shared_ptr<const std::string>& frame) {
    std::vector<std::shared_ptr<WsPeer>> targets;
    {
        std::lock_guard lock(mutex_);
        auto it = topics_.find(topic);
        if (it == topics_.end()) return;
        targets.reserve(it->second.size());
        for (const WsPeer* p : it->second)
            if (auto peer = peers_[p].lock()) targets.push_back(std::move(peer));
    }
    for (auto& peer : targets) peer->send(frame);
}

void WsHub::attach(const std::shared_ptr<WsPeer>& peer) {
    std::lock_guard lock(mutex_);
    peers_[peer.get()] = peer;
}

void WsHub::detach(const WsPeer* peer) {
    std::lock_guard lock(mutex_);
    if (auto it = peer_topics_.find(peer); it != peer_topics_.end()) {
        for (const auto& topic : it->second) {
            auto t = topics_.find(topic);
            if (t == topics_.end()) continue;
            t->second.erase(peer);
            if (t->second.empty()) topics_.erase(t);
        }
        peer_topics_.erase(it);
    }
    peers_.erase(peer);
}

std::string WsHub::error_frame(const WsPeer* peer, std::string_view code) const {
    std::string message =
        catalog_ ? catalog_->text(peer->locale(), "error." + std::string(code)) : std::string(code);
    boost::json::object o{{"type", "error"}, {"code", code}, {"message", message}};
    return boost::json::serialize(o);
}

std::string WsHub::handle_client_frame(const WsPeer* peer, std::string_view text) {
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = 8;
    auto value = boost::json::parse(text, ec, {}, options);
    if (ec || !value.is_object()) return error_frame(peer, "ws.bad_frame");
    const auto& o = value.get_object();
    const auto* op = o.if_contains("op");
    if (!op || !op->is_string()) return error_frame(peer, "ws.bad_frame");
    std::string_view operation = op->get_string();
    if (operation == "ping") return R"({"type":"pong"})";

    const auto* topic_value = o.if_contains("topic");
    if (!topic_value || !topic_value->is_string() || !valid_topic(topic_value->get_string()))
        return error_frame(peer, "ws.bad_topic");
    std::string topic(topic_value->get_string());

    std::lock_guard lock(mutex_);
    if (operation == "subscribe") {
        auto& mine = peer_topics_[peer];
        if (!mine.contains(topic) && mine.size() >= max_topics_per_peer_)
            return error_frame(peer, "ws.too_many_topics");
        mine.insert(topic);
        topics_[topic].insert(peer);
        return boost::json::serialize(boost::json::object{{"type", "subscribed"}, {"topic", topic}});
    }
    if (operation == "unsubscribe") {
        if (auto it = peer_topics_.find(peer); it != peer_topics_.end()) it->second.erase(topic);
        if (auto t = topics_.find(topic); t != topics_.end()) {
            t->second.erase(peer);
            if (t->second.empty()) topics_.erase(t);
        }
        return boost::json::serialize(boost::json::object{{"type", "unsubscribed"}, {"topic", topic}});
    }
    return error_frame(peer, "ws.bad_frame");
}

std::size_t WsHub::connections() const {
    std::lock_guard lock(mutex_);
    return peers_.size();
}

std::size_t WsHub::subscribers(std::string_view topic) const {
    std::lock_guard lock(mutex_);
    auto it = topics_.find(topic);
    return it == topics_.end() ? 0 : it->second.size();
}

}  // namespace pitwall::http
