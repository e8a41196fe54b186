// Fuzzes the WebSocket hub's client commands: each input line is one text frame from a client, handed
// to WsHub::handle_client_frame for one of two fake peers in turn. Every reply must be a JSON object
// with a "type"; the hub's subscriptions must match what its replies said (a model kept here), stay
// under the per-peer cap, and vanish when the peers detach.
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "fuzz_check.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/i18n/catalog.hpp"

namespace {

constexpr std::size_t kMaxTopics = 4;
constexpr int kMaxFrames = 64;

class FakePeer final : public pitwall::http::WsPeer {
  public:
    explicit FakePeer(std::string locale) : locale_(std::move(locale)) {}
    void send(std::shared_ptr<const std::string> frame) override {
        PITWALL_FUZZ_CHECK(frame != nullptr);
        ++received;
    }
    [[nodiscard]] const std::string& locale() const override { return locale_; }

    std::size_t received = 0;

  private:
    std::string locale_;
};

const pitwall::i18n::Catalog& catalog() {
    static const auto* instance = [] {
        auto loaded = pitwall::i18n::Catalog::from_json({
            {"en", R"({"error":{"ws":{"bad_frame":"That message is not a valid command.",
                                      "bad_topic":"That topic name is not valid.",
                                      "too_many_topics":"Too many subscriptions on one connection."}}})"},
            {"tr", R"({"error":{"ws":{"bad_frame":"Bu mesaj geçerli bir komut değil."}}})"},
        });
        PITWALL_FUZZ_CHECK(loaded.ok());
        return new pitwall::i18n::Catalog(std::move(*loaded));
    }();
    return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);

    pitwall::http::WsHub hub(&catalog(), kMaxTopics);
    std::array<std::shared_ptr<FakePeer>, 2> peers{std::make_shared<FakePeer>("en"),
                                                   std::make_shared<FakePeer>("tr")};
    for (const auto& peer : peers) hub.attach(peer);
    std::array<std::set<std::string>, 2> model;  // topics each peer is subscribed to, per the replies
    std::set<std::string> seen;

    std::string_view rest = input;
    for (int frame = 0; frame < kMaxFrames && !rest.empty(); ++frame) {
        auto newline = rest.find('\n');
        std::string_view text = rest.substr(0, newline);
        rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
        std::size_t who = static_cast<std::size_t>(frame) % peers.size();

        std::string reply = hub.handle_client_frame(peers[who].get(), text);
        boost::system::error_code ec;
        auto value = boost::json::parse(reply, ec);
        PITWALL_FUZZ_CHECK(!ec && value.is_object());
        const auto* type = value.get_object().if_contains("type");
        PITWALL_FUZZ_CHECK(type != nullptr && type->is_string());
        std::string_view kind = type->get_string();
        if (kind == "subscribed" || kind == "unsubscribed") {
            const auto* topic_value = value.get_object().if_contains("topic");
            PITWALL_FUZZ_CHECK(topic_value != nullptr && topic_value->is_string());
            std::string topic(topic_value->get_string());
            PITWALL_FUZZ_CHECK(pitwall::http::WsHub::valid_topic(topic));
            if (kind == "subscribed")
                model[who].insert(topic);
            else
                model[who].erase(topic);
            seen.insert(topic);
        } else if (kind == "error") {
            const auto* message = value.get_object().if_contains("message");
            PITWALL_FUZZ_CHECK(message != nullptr && message->is_string() && !message->get_string().empty());
        } else {
            PITWALL_FUZZ_CHECK(kind == "pong");
        }
        PITWALL_FUZZ_CHECK(model[who].size() <= kMaxTopics);
    }

    for (const auto& topic : seen) {
        std::size_t expected = model[0].count(topic) + model[1].count(topic);
        PITWALL_FUZZ_CHECK(hub.subscribers(topic) == expected);
        std::array<std::size_t, 2> before{peers[0]->received, peers[1]->received};
        hub.broadcast(topic, R"({"lap":1})");
        for (std::size_t i = 0; i < peers.size(); ++i)
            PITWALL_FUZZ_CHECK(peers[i]->received - before[i] == model[i].count(topic));
    }

    PITWALL_FUZZ_CHECK(hub.connections() == peers.size());
    for (const auto& peer : peers) hub.detach(peer.get());
    PITWALL_FUZZ_CHECK(hub.connections() == 0);
    for (const auto& topic : seen) PITWALL_FUZZ_CHECK(hub.subscribers(topic) == 0);
    return 0;
}
