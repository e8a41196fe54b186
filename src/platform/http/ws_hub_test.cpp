#include "platform/http/ws_hub.hpp"

#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "platform/i18n/catalog.hpp"

namespace pitwall::http {
namespace {

class FakePeer : public WsPeer {
  public:
    void send(std::shared_ptr<const std::string> frame) override { frames.push_back(std::move(frame)); }
    [[nodiscard]] const std::string& locale() const override { return locale_; }
    std::vector<std::shared_ptr<const std::string>> frames;
    std::string locale_ = "tr";
};

i18n::Catalog catalog() {
    return *i18n::Catalog::from_json(
        {{"en",
          R"({"error":{"ws":{"bad_frame":"Bad frame","bad_topic":"Bad topic","too_many_topics":"Too many"}}})"},
         {"tr",
          R"({"error":{"ws":{"bad_frame":"Geçersiz","bad_topic":"Geçersiz konu","too_many_topics":"Çok fazla"}}})"}});
}

boost::json::object parse(std::string_view s) {
    return boost::json::parse(s).as_object();
}

TEST(WsHub, SubscribersReceiveTheSameSerializedFrame) {
    auto messages = catalog();
    WsHub hub(&messages, 4);
    auto a = std::make_shared<FakePeer>(), b = std::make_shared<FakePeer>(), c = std::make_shared<FakePeer>();
    for (auto& p : {a, b, c}) hub.attach(p);
    EXPECT_EQ(parse(hub.handle_client_frame(a.get(), R"({"op":"subscribe","topic":"event:7"})")).at("type"),
              "subscribed");
    (void)hub.handle_client_frame(b.get(), R"({"op":"subscribe","topic":"event:7"})");
    (void)hub.handle_client_frame(c.get(), R"({"op":"subscribe","topic":"event:8"})");
    EXPECT_EQ(hub.subscribers("event:7"), 2u);

    hub.broadcast("event:7", R"({"registered":"Mert"})");
    ASSERT_EQ(a->frames.size(), 1u);
    ASSERT_EQ(b->frames.size(), 1u);
    EXPECT_TRUE(c->frames.empty());
    EXPECT_EQ(a->frames[0].get(), b->frames[0].get());  // one buffer, shared
    auto frame = parse(*a->frames[0]);
    EXPECT_EQ(frame.at("topic"), "event:7");
    EXPECT_EQ(frame.at("data").at("registered"), "Mert");

    (void)hub.handle_client_frame(a.get(), R"({"op":"unsubscribe","topic":"event:7"})");
    hub.broadcast("event:7", "1");
    EXPECT_EQ(a->frames.size(), 1u);
    EXPECT_EQ(b->frames.size(), 2u);

    hub.detach(b.get());
    EXPECT_EQ(hub.subscribers("event:7"), 0u);
    EXPECT_EQ(hub.connections(), 2u);
}

TEST(WsHub, BadFramesGetLocalizedErrors) {
    auto messages = catalog();
    WsHub hub(&messages, 2);
    auto p = std::make_shared<FakePeer>();
    hub.attach(p);
    for (std::string_view bad : {"", "not json", "[]", R"({"op":1})", R"({"op":"explode","topic":"a"})",
                                 R"({"op":"subscribe"})", R"([[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]])"}) {
        auto reply = parse(hub.handle_client_frame(p.get(), bad));
        EXPECT_EQ(reply.at("type"), "error") << bad;
    }
    auto topic = parse(hub.handle_client_frame(p.get(), R"({"op":"subscribe","topic":"Bad Topic!"})"));
    EXPECT_EQ(topic.at("code"), "ws.bad_topic");
    EXPECT_EQ(topic.at("message"), "Geçersiz konu");

    (void)hub.handle_client_frame(p.get(), R"({"op":"subscribe","topic":"a"})");
    (void)hub.handle_client_frame(p.get(), R"({"op":"subscribe","topic":"b"})");
    EXPECT_EQ(parse(hub.handle_client_frame(p.get(), R"({"op":"subscribe","topic":"c"})")).at("code"),
              "ws.too_many_topics");
    EXPECT_EQ(parse(hub.handle_client_frame(p.get(), R"({"op":"ping"})")).at("type"), "pong");
}

TEST(WsHub, RelayCarriesBroadcastsBetweenNodes) {
    WsHub node_a(nullptr, 8), node_b(nullptr, 8);
    std::vector<WsHub*> nodes{&node_a, &node_b};
    // A stand-in for KV pub/sub: every published message reaches every node.
    auto relay = [&](std::string_view message) {
        for (auto* n : nodes) n->deliver_relayed(message);
        return true;
    };
    node_a.set_relay(relay);
    node_b.set_relay(relay);
    auto on_b = std::make_shared<FakePeer>();
    node_b.attach(on_b);
    (void)node_b.handle_client_frame(on_b.get(), R"({"op":"subscribe","topic":"planner:1"})");

    node_a.broadcast("planner:1", R"({"stint":3})");
    ASSERT_EQ(on_b->frames.size(), 1u);
    EXPECT_EQ(parse(*on_b->frames[0]).at("data").at("stint"), 3);
}

TEST(WsHub, FailedRelayStillDeliversLocally) {
    WsHub hub(nullptr, 8);
    hub.set_relay([](std::string_view) { return false; });
    auto p = std::make_shared<FakePeer>();
    hub.attach(p);
    (void)hub.handle_client_frame(p.get(), R"({"op":"subscribe","topic":"t"})");
    hub.broadcast("t", "true");
    EXPECT_EQ(p->frames.size(), 1u);
}

}  // namespace
}  // namespace pitwall::http
