// The bot's Discord gateway connection.
//   Unit: a fake WebSocket and a ManualClock drive the state machine: HELLO → IDENTIFY, heartbeat
//   jitter and schedule, op 1, zombie detection → RESUME on resume_gateway_url, op 7, op 9 (both
//   kinds), close codes (fatal, new session, resume), connect back-off, payload size and send budget.
//   Integration: the same against the Discord emulator (tests/node/discord/emulator-cli.mjs) when
//   node is on PATH: READY + GUILD_CREATE, ACKs, a dropped socket resumed with no event lost, op 7,
//   op 9 d:false, and a bad token (4004) reported once without a reconnect loop.
#include "integrations/discord/gateway.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "integrations/discord/emulator_process_test_support.hpp"
#include "integrations/discord/rest.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::integrations::discord {
namespace {

using testing::Emulator;

using std::chrono::milliseconds;

bool eventually(const std::function<bool()>& condition, milliseconds timeout = milliseconds(3000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(milliseconds(2));
    }
    return condition();
}

// ---------------------------------------------------------------------------------------------
// A fake WebSocket: the test plays Discord's side.

struct FakeConnection {
    std::string url;
    mutable std::mutex mutex;
    http::WsClient::Handlers handlers;
    std::vector<std::string> sent;
    bool open = true;
    int closed_with = 0;  // the close code the gateway sent (-1: aborted)

    void deliver(const std::string& text) {
        std::function<void(std::string_view)> handler;
        {
            std::lock_guard lock(mutex);
            if (!open) return;
            handler = handlers.on_text;
        }
        handler(text);
    }

    void server_close(int code) {
        std::function<void(int, std::string_view)> handler;
        {
            std::lock_guard lock(mutex);
            if (!open) return;
            open = false;
            handler = handlers.on_close;
        }
        handler(code, "closed by the test");
    }

    std::vector<boost::json::object> payloads() const {
        std::lock_guard lock(mutex);
        std::vector<boost::json::object> out;
        for (const auto& s : sent) out.push_back(boost::json::parse(s).as_object());
        return out;
    }

    int count(int op) const {
        int n = 0;
        for (const auto& p : payloads())
            if (p.at("op").as_int64() == op) ++n;
        return n;
    }

    std::size_t size() const {
        std::lock_guard lock(mutex);
        return sent.size();
    }

    int close_code() const {
        std::lock_guard lock(mutex);
        return closed_with;
    }
};

class FakeSocket final : public http::WsClient {
  public:
    explicit FakeSocket(std::shared_ptr<FakeConnection> c) : c_(std::move(c)) {}
    ~FakeSocket() override {
        std::lock_guard lock(c_->mutex);
        c_->open = false;
        c_->handlers = {};
    }

    bool send(std::string text) override {
        std::lock_guard lock(c_->mutex);
        if (!c_->open) return false;
        c_->sent.push_back(std::move(text));
        return true;
    }
    void close(int code, std::string_view) override { end(code, code); }
    void abort() override { end(-1, 1006); }
    [[nodiscard]] bool is_open() const override {
        std::lock_guard lock(c_->mutex);
        return c_->open;
    }

  private:
    void end(int recorded, int reported) {
        std::function<void(int, std::string_view)> handler;
        {
            std::lock_guard lock(c_->mutex);
            if (!c_->open) return;
            c_->open = false;
            c_->closed_with = recorded;
            handler = c_->handlers.on_close;
        }
        if (handler) handler(reported, "");  // synchronously: stricter than the real client's I/O thread
    }

    std::shared_ptr<FakeConnection> c_;
};

class FakeDiscord {
  public:
    explicit FakeDiscord(const Clock& clock) : clock_(clock) {}

    WsConnector connector() {
        return [this](const std::string& url,
                      http::WsClient::Handlers handlers) -> Result<std::unique_ptr<http::WsClient>> {
            std::lock_guard lock(mutex_);
            attempts_ms_.push_back(clock_.now_ms());
            if (fail_next_ > 0) {
                --fail_next_;
                return Error(ErrorKind::unavailable, "ws.connect_failed", {}, "scripted failure");
            }
            auto c = std::make_shared<FakeConnection>();
            c->url = url;
            c->handlers = std::move(handlers);
            connections_.push_back(c);
            return std::unique_ptr<http::WsClient>(std::make_unique<FakeSocket>(c));
        };
    }

    std::size_t count() const {
        std::lock_guard lock(mutex_);
        return connections_.size();
    }
    std::shared_ptr<FakeConnection> at(std::size_t i) const {
        std::lock_guard lock(mutex_);
        return connections_.at(i);
    }
    std::vector<std::int64_t> attempts_ms() const {
        std::lock_guard lock(mutex_);
        return attempts_ms_;
    }
    void fail_next(int n) {
        std::lock_guard lock(mutex_);
        fail_next_ = n;
    }

  private:
    const Clock& clock_;
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<FakeConnection>> connections_;
    std::vector<std::int64_t> attempts_ms_;
    int fail_next_ = 0;
};

std::string hello(int interval_ms) {
    return R"({"op":10,"d":{"heartbeat_interval":)" + std::to_string(interval_ms) + R"(},"s":null,"t":null})";
}
std::string ready(int seq, const std::string& session = "S1") {
    return R"({"op":0,"t":"READY","s":)" + std::to_string(seq) + R"(,"d":{"v":10,"session_id":")" + session +
           R"(","resume_gateway_url":"wss://resume.test","user":{"id":"42"},"application":{"id":"77"}}})";
}
std::string dispatch(const std::string& type, int seq, const std::string& d = "{}") {
    return R"({"op":0,"t":")" + type + R"(","s":)" + std::to_string(seq) + R"(,"d":)" + d + "}";
}
constexpr const char* ack = R"({"op":11})";

class GatewayUnitTest : public ::testing::Test {
  protected:
    ~GatewayUnitTest() override {
        if (gateway_) gateway_->stop();
    }

    GatewayOptions options() {
        GatewayOptions o;
        o.token = "bot-token";
        o.url = "wss://gateway.test";
        o.connector = discord_.connector();
        o.poll_interval = milliseconds(2);
        return o;
    }

    void start(GatewayOptions o) {
        gateway_ =
            std::make_unique<Gateway>(std::move(o),
                                      GatewayCallbacks{.on_dispatch =
                                                           [this](std::string_view type, std::string_view d) {
                                                               std::lock_guard lock(mutex_);
                                                               dispatches_.emplace_back(type, d);
                                                           },
                                                       .on_ready =
                                                           [this](const GatewaySession& s) {
                                                               std::lock_guard lock(mutex_);
                                                               readies_.push_back(s);
                                                           },
                                                       .on_fatal =
                                                           [this](const Error& e) {
                                                               std::lock_guard lock(mutex_);
                                                               fatals_.push_back(e);
                                                           }},
                                      clock_, [this] { return jitter_.load(); });
        gateway_->start();
    }

    // Connection i is open, HELLO is answered with IDENTIFY (or RESUME), READY arrives.
    std::shared_ptr<FakeConnection> connect_ready(std::size_t i = 0, int interval = 1000, int seq = 1) {
        EXPECT_TRUE(eventually([&] { return discord_.count() > i; }));
        auto c = discord_.at(i);
        c->deliver(hello(interval));
        EXPECT_TRUE(eventually([&] { return c->size() >= 1; }));
        c->deliver(ready(seq));
        EXPECT_TRUE(eventually([&] { return gateway_->connected(); }));
        return c;
    }

    std::size_t dispatch_count() {
        std::lock_guard lock(mutex_);
        return dispatches_.size();
    }

    ManualClock clock_{1'800'000'000'000};
    FakeDiscord discord_{clock_};
    std::atomic<double> jitter_{0.25};
    std::mutex mutex_;
    std::vector<std::pair<std::string, std::string>> dispatches_;
    std::vector<GatewaySession> readies_;
    std::vector<Error> fatals_;
    std::unique_ptr<Gateway> gateway_;
};

TEST_F(GatewayUnitTest, HelloIdentifiesAndHeartbeatsAfterJitterThenEveryInterval) {
    start(options());
    ASSERT_TRUE(eventually([&] { return discord_.count() == 1; }));
    auto c = discord_.at(0);
    EXPECT_EQ(c->url, "wss://gateway.test?v=10&encoding=json");
    c->deliver(hello(1000));
    ASSERT_TRUE(eventually([&] { return c->size() == 1; }));
    auto identify = c->payloads()[0];
    EXPECT_EQ(identify.at("op").as_int64(), 2);
    const auto& d = identify.at("d").as_object();
    EXPECT_EQ(d.at("token").as_string(), "bot-token");
    EXPECT_EQ(d.at("intents").as_int64(), 3);  // GUILDS | GUILD_MEMBERS
    EXPECT_EQ(d.at("properties").as_object().at("os").as_string(), "linux");

    // First heartbeat after interval × jitter = 250 ms, with d = null (no sequence yet).
    clock_.advance(milliseconds(249));
    std::this_thread::sleep_for(milliseconds(30));
    EXPECT_EQ(c->count(1), 0);
    clock_.advance(milliseconds(1));
    ASSERT_TRUE(eventually([&] { return c->count(1) == 1; }));
    EXPECT_TRUE(c->payloads().back().at("d").is_null());
    c->deliver(ack);

    c->deliver(ready(1));
    ASSERT_TRUE(eventually([&] { return gateway_->connected(); }));
    c->deliver(dispatch("GUILD_CREATE", 2, R"({"id":"800"})"));
    ASSERT_TRUE(eventually([&] { return dispatch_count() == 2; }));
    {
        std::lock_guard lock(mutex_);
        EXPECT_EQ(dispatches_[0].first, "READY");
        EXPECT_EQ(dispatches_[1].first, "GUILD_CREATE");
        EXPECT_EQ(dispatches_[1].second, R"({"id":"800"})");
        ASSERT_EQ(readies_.size(), 1u);
        EXPECT_EQ(readies_[0].session_id, "S1");
        EXPECT_EQ(readies_[0].resume_gateway_url, "wss://resume.test");
        EXPECT_EQ(readies_[0].user_id, "42");
    }

    // Then every interval, carrying the last sequence.
    clock_.advance(milliseconds(999));
    std::this_thread::sleep_for(milliseconds(30));
    EXPECT_EQ(c->count(1), 1);
    clock_.advance(milliseconds(1));
    ASSERT_TRUE(eventually([&] { return c->count(1) == 2; }));
    EXPECT_EQ(c->payloads().back().at("d").as_int64(), 2);
    EXPECT_EQ(gateway_->stats().last_sequence, 2);
}

TEST_F(GatewayUnitTest, AHeartbeatRequestIsAnsweredAtOnce) {
    start(options());
    auto c = connect_ready();
    c->deliver(R"({"op":1,"d":null})");
    ASSERT_TRUE(eventually([&] { return c->count(1) == 1; }));
    EXPECT_EQ(c->payloads().back().at("d").as_int64(), 1);
}

TEST_F(GatewayUnitTest, AMissingAckIsAZombieResumedOnTheResumeUrl) {
    start(options());
    auto c = connect_ready();
    c->deliver(dispatch("GUILD_CREATE", 5));
    clock_.advance(milliseconds(250));
    ASSERT_TRUE(eventually([&] { return c->count(1) == 1; }));
    // No ACK: at the next heartbeat the connection is given up with a code that keeps the session.
    clock_.advance(milliseconds(1000));
    ASSERT_TRUE(eventually([&] { return discord_.count() == 2; }));
    EXPECT_EQ(c->close_code(), 4000);
    auto next = discord_.at(1);
    EXPECT_EQ(next->url, "wss://resume.test?v=10&encoding=json");
    next->deliver(hello(1000));
    ASSERT_TRUE(eventually([&] { return next->size() == 1; }));
    auto resume = next->payloads()[0];
    EXPECT_EQ(resume.at("op").as_int64(), 6);
    EXPECT_EQ(resume.at("d").as_object().at("session_id").as_string(), "S1");
    EXPECT_EQ(resume.at("d").as_object().at("seq").as_int64(), 5);
    EXPECT_EQ(resume.at("d").as_object().at("token").as_string(), "bot-token");
    next->deliver(dispatch("RESUMED", 6));
    ASSERT_TRUE(eventually([&] { return gateway_->connected(); }));
    const auto stats = gateway_->stats();
    EXPECT_EQ(stats.zombies, 1u);
    EXPECT_EQ(stats.identifies, 1u);
    EXPECT_EQ(stats.resumes, 1u);
    EXPECT_EQ(stats.resumed, 1u);
}

TEST_F(GatewayUnitTest, ReconnectRequestResumes) {
    start(options());
    auto c = connect_ready();
    c->deliver(R"({"op":7,"d":null})");
    ASSERT_TRUE(eventually([&] { return discord_.count() == 2; }));
    EXPECT_EQ(c->close_code(), 4000);
    auto next = discord_.at(1);
    EXPECT_EQ(next->url, "wss://resume.test?v=10&encoding=json");
    next->deliver(hello(1000));
    ASSERT_TRUE(eventually([&] { return next->size() == 1; }));
    EXPECT_EQ(next->payloads()[0].at("op").as_int64(), 6);
}

TEST_F(GatewayUnitTest, AResumableInvalidSessionResumes) {
    start(options());
    auto c = connect_ready();
    c->deliver(R"({"op":9,"d":true})");
    ASSERT_TRUE(eventually([&] { return discord_.count() == 2; }));
    auto next = discord_.at(1);
    next->deliver(hello(1000));
    ASSERT_TRUE(eventually([&] { return next->size() == 1; }));
    EXPECT_EQ(next->payloads()[0].at("op").as_int64(), 6);
}

TEST_F(GatewayUnitTest, ANonResumableInvalidSessionWaitsThenIdentifiesOnTheDiscoveryUrl) {
    jitter_ = 0.25;  // the wait: 1 s + 0.25 × 4 s = 2 s
    start(options());
    auto c = connect_ready();
    c->deliver(R"({"op":9,"d":false})");
    ASSERT_TRUE(eventually([&] { return c->close_code() != 0; }));
    EXPECT_NE(c->close_code(), 1000);
    clock_.advance(milliseconds(1999));
    std::this_thread::sleep_for(milliseconds(30));
    EXPECT_EQ(discord_.count(), 1u);
    clock_.advance(milliseconds(1));
    ASSERT_TRUE(eventually([&] { return discord_.count() == 2; }));
    auto next = discord_.at(1);
    EXPECT_EQ(next->url, "wss://gateway.test?v=10&encoding=json");
    next->deliver(hello(1000));
    ASSERT_TRUE(eventually([&] { return next->size() == 1; }));
    EXPECT_EQ(next->payloads()[0].at("op").as_int64(), 2);
    EXPECT_EQ(gateway_->stats().identifies, 2u);
    EXPECT_EQ(gateway_->stats().invalid_sessions, 1u);
}

TEST_F(GatewayUnitTest, FatalCloseCodesStopWithAClearError) {
    for (int code : {4004, 4010, 4011, 4012, 4013, 4014}) {
        FakeDiscord discord(clock_);
        auto o = options();
        o.connector = discord.connector();
        fatals_.clear();
        start(o);
        ASSERT_TRUE(eventually([&] { return discord.count() == 1; }));
        discord.at(0)->deliver(hello(1000));
        discord.at(0)->server_close(code);
        ASSERT_TRUE(eventually([&] {
            std::lock_guard lock(mutex_);
            return fatals_.size() == 1;
        })) << code;
        {
            std::lock_guard lock(mutex_);
            EXPECT_EQ(fatals_[0].code, "discord.gateway_fatal");
            EXPECT_EQ(fatals_[0].arg("code"), std::to_string(code));
            EXPECT_EQ(fatals_[0].arg("meaning"), close_code_meaning(code));
        }
        clock_.advance(std::chrono::minutes(10));
        std::this_thread::sleep_for(milliseconds(20));
        EXPECT_EQ(discord.count(), 1u) << code;  // no reconnect
        EXPECT_TRUE(gateway_->stats().fatal);
        EXPECT_EQ(gateway_->send(3, "{}").error().code, "discord.gateway_closed");
        gateway_->stop();
        gateway_.reset();
    }
    EXPECT_EQ(close_code_meaning(4004), "authentication failed");
}

TEST_F(GatewayUnitTest, SessionTimeoutStartsANewSession) {
    start(options());
    auto c = connect_ready();
    c->server_close(4009);
    ASSERT_TRUE(eventually([&] { return discord_.count() == 2; }));
    auto next = discord_.at(1);
    EXPECT_EQ(next->url, "wss://gateway.test?v=10&encoding=json");
    next->deliver(hello(1000));
    ASSERT_TRUE(eventually([&] { return next->size() == 1; }));
    EXPECT_EQ(next->payloads()[0].at("op").as_int64(), 2);
    EXPECT_TRUE(gateway_->session().session_id.empty());
}

TEST_F(GatewayUnitTest, ADroppedSocketResumes) {
    start(options());
    auto c = connect_ready();
    c->server_close(1006);
    ASSERT_TRUE(eventually([&] { return discord_.count() == 2; }));
    auto next = discord_.at(1);
    EXPECT_EQ(next->url, "wss://resume.test?v=10&encoding=json");
    next->deliver(hello(1000));
    ASSERT_TRUE(eventually([&] { return next->size() == 1; }));
    EXPECT_EQ(next->payloads()[0].at("op").as_int64(), 6);
    EXPECT_EQ(gateway_->stats().last_close_code, 1006);
}

TEST_F(GatewayUnitTest, FailingConnectsBackOffExponentiallyWithinABound) {
    jitter_ = 0.5;  // back-off = base/2 + 0.5 × base/2 = 0.75 × base
    discord_.fail_next(5);
    auto o = options();
    o.min_backoff = milliseconds(1000);
    o.max_backoff = milliseconds(4000);
    start(o);
    std::vector<std::int64_t> expected_gaps{750, 1500, 3000, 3000, 3000};
    for (std::size_t i = 0; i < expected_gaps.size(); ++i) {
        ASSERT_TRUE(eventually([&] { return discord_.attempts_ms().size() == i + 1; })) << i;
        std::this_thread::sleep_for(milliseconds(10));
        clock_.advance(milliseconds(expected_gaps[i] - 1));
        std::this_thread::sleep_for(milliseconds(20));
        EXPECT_EQ(discord_.attempts_ms().size(), i + 1) << i;
        clock_.advance(milliseconds(1));
    }
    ASSERT_TRUE(eventually([&] { return discord_.count() == 1; }));
    const auto attempts = discord_.attempts_ms();
    for (std::size_t i = 1; i < attempts.size(); ++i)
        EXPECT_EQ(attempts[i] - attempts[i - 1], expected_gaps[i - 1]);
    EXPECT_EQ(gateway_->stats().connect_failures, 5u);
}

TEST_F(GatewayUnitTest, PayloadsAreLimitedTo4096Bytes) {
    start(options());
    connect_ready();
    const std::string big = R"({"name":")" + std::string(5000, 'x') + R"("})";
    auto refused = gateway_->send(3, big);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "discord.gateway_payload_too_large");
    EXPECT_EQ(gateway_->send(3, "{not json").error().code, "discord.bad_request");
}

TEST_F(GatewayUnitTest, SendsStayWithin120PerMinuteKeepingRoomForHeartbeats) {
    start(options());
    auto c = connect_ready(0, 41250);  // IDENTIFY is send #1
    for (int i = 0; i < 150; ++i)
        ASSERT_TRUE(gateway_->send(3, R"({"since":null,"activities":[],"status":"online","afk":false})").ok())
            << i;
    // 120 per minute, 3 kept for heartbeats (one per 41.25 s, + 2): 117 now, IDENTIFY included.
    ASSERT_TRUE(eventually([&] { return c->size() == 117; }));
    std::this_thread::sleep_for(milliseconds(30));
    EXPECT_EQ(c->size(), 117u);
    // The heartbeat still goes.
    clock_.advance(milliseconds(20'000));
    ASSERT_TRUE(eventually([&] { return c->count(1) == 1; }));
    c->deliver(ack);
    // A minute after the first sends, the rest flows.
    clock_.advance(milliseconds(60'000));
    ASSERT_TRUE(eventually([&] { return c->count(3) == 150; }));
    EXPECT_LE(c->size(), 1u + 150u + 3u);
}

TEST_F(GatewayUnitTest, StopClosesWith1000) {
    start(options());
    auto c = connect_ready();
    gateway_->stop();
    EXPECT_EQ(c->close_code(), 1000);
    EXPECT_FALSE(gateway_->connected());
    gateway_->stop();  // idempotent
}

// ---------------------------------------------------------------------------------------------
// Integration: the Discord emulator

constexpr const char* bot_token = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GEmuLa.cGl0d2FsbC1jcHAtdGVzdHMtdG9rZW4";
constexpr const char* member1 = "100000000000000003";

class GatewayEmulatorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string why;
        emulator_ = Emulator::start(
            std::string(R"({"botToken":")") + bot_token + R"(","heartbeatIntervalMs":200})", why);
        ASSERT_TRUE(emulator_) << why;
        RestClient rest(http_, SystemClock::instance(), {.api_base = emulator_->api, .bot_token = bot_token});
        auto info = rest.gateway_bot();
        ASSERT_TRUE(info.ok()) << info.error().code;
        url_ = info->url;
    }

    void TearDown() override {
        if (gateway_) gateway_->stop();
    }

    void start(std::string token = bot_token) {
        GatewayOptions o;
        o.token = std::move(token);
        o.url = url_;
        o.min_backoff = milliseconds(200);
        gateway_ =
            std::make_unique<Gateway>(std::move(o),
                                      GatewayCallbacks{.on_dispatch =
                                                           [this](std::string_view type, std::string_view d) {
                                                               std::lock_guard lock(mutex_);
                                                               dispatches_.emplace_back(type, d);
                                                           },
                                                       .on_ready =
                                                           [this](const GatewaySession&) {
                                                               std::lock_guard lock(mutex_);
                                                               ++readies_;
                                                           },
                                                       .on_fatal =
                                                           [this](const Error& e) {
                                                               std::lock_guard lock(mutex_);
                                                               fatals_.push_back(e);
                                                           }},
                                      SystemClock::instance());
        gateway_->start();
    }

    int seen(const std::string& type, const std::string& fragment = {}) {
        std::lock_guard lock(mutex_);
        int n = 0;
        for (const auto& [t, d] : dispatches_)
            if (t == type && d.find(fragment) != std::string::npos) ++n;
        return n;
    }

    int readies() {
        std::lock_guard lock(mutex_);
        return readies_;
    }

    auth::HttpClient http_;
    std::unique_ptr<Emulator> emulator_;
    std::string url_;
    std::unique_ptr<Gateway> gateway_;
    std::mutex mutex_;
    std::vector<std::pair<std::string, std::string>> dispatches_;
    int readies_ = 0;
    std::vector<Error> fatals_;
};

TEST_F(GatewayEmulatorTest, IdentifiesReceivesGuildCreateAndKeepsHeartbeating) {
    start();
    ASSERT_TRUE(eventually([&] { return seen("GUILD_CREATE") == 1; }));
    EXPECT_EQ(readies(), 1);
    EXPECT_TRUE(gateway_->connected());
    std::this_thread::sleep_for(milliseconds(1200));  // 6 intervals of 200 ms
    const auto stats = gateway_->stats();
    EXPECT_GE(stats.heartbeats, 5u);
    EXPECT_GE(stats.acks + 1, stats.heartbeats);
    EXPECT_EQ(stats.zombies, 0u);
    EXPECT_EQ(stats.reconnects, 0u);  // the emulator closes late heartbeats with 4009: none happened
    EXPECT_GE(emulator_->stat("heartbeats"), 5);
    EXPECT_EQ(emulator_->stat("identifies"), 1);
}

TEST_F(GatewayEmulatorTest, ADroppedSocketIsResumedWithoutLosingEvents) {
    start();
    ASSERT_TRUE(eventually([&] { return gateway_->connected(); }));
    emulator_->control("POST", "/drop");
    ASSERT_TRUE(eventually([&] { return gateway_->stats().resumed == 1; }, milliseconds(5000)));
    EXPECT_EQ(emulator_->stat("resumes"), 1);
    EXPECT_EQ(emulator_->stat("identifies"), 1);
    EXPECT_EQ(gateway_->stats().last_close_code, 1006);
    auto created = emulator_->control("POST", "/interactions",
                                      std::string(R"({"user_id":")") + member1 + R"(","name":"stint"})");
    const std::string id(created.as_object().at("id").as_string());
    ASSERT_TRUE(eventually([&] { return seen("INTERACTION_CREATE", id) == 1; }));
}

TEST_F(GatewayEmulatorTest, EventsDuringADropAreReplayedOnResume) {
    start();
    ASSERT_TRUE(eventually([&] { return gateway_->connected(); }));
    emulator_->control("POST", "/drop");
    // Sent while the bot is away: buffered by the session and replayed after RESUME.
    emulator_->control("POST", std::string("/members/") + member1 + "/roles",
                       R"({"roles":["900000000000000004"]})");
    ASSERT_TRUE(eventually([&] { return gateway_->stats().resumed == 1; }, milliseconds(5000)));
    ASSERT_TRUE(eventually([&] { return seen("GUILD_MEMBER_UPDATE", member1) == 1; }));
}

TEST_F(GatewayEmulatorTest, AReconnectRequestResumes) {
    start();
    ASSERT_TRUE(eventually([&] { return gateway_->connected(); }));
    emulator_->control("POST", "/reconnect");
    ASSERT_TRUE(eventually([&] { return gateway_->stats().resumed == 1; }, milliseconds(5000)));
    EXPECT_EQ(emulator_->stat("resumes"), 1);
    EXPECT_EQ(emulator_->stat("identifies"), 1);
}

TEST_F(GatewayEmulatorTest, ANonResumableInvalidSessionIdentifiesAgain) {
    start();
    ASSERT_TRUE(eventually([&] { return gateway_->connected(); }));
    emulator_->control("POST", "/invalid-session", R"({"resumable":false})");
    ASSERT_TRUE(eventually([&] { return readies() == 2; }, milliseconds(8000)));  // after 1–5 s
    EXPECT_EQ(emulator_->stat("identifies"), 2);
    EXPECT_EQ(emulator_->stat("resumes"), 0);
    EXPECT_EQ(gateway_->stats().invalid_sessions, 1u);
}

TEST_F(GatewayEmulatorTest, AResumableInvalidSessionResumes) {
    start();
    ASSERT_TRUE(eventually([&] { return gateway_->connected(); }));
    emulator_->control("POST", "/invalid-session", R"({"resumable":true})");
    ASSERT_TRUE(eventually([&] { return gateway_->stats().resumed == 1; }, milliseconds(5000)));
    EXPECT_EQ(emulator_->stat("identifies"), 1);
}

TEST_F(GatewayEmulatorTest, ABadTokenIsFatalWithoutAReconnectLoop) {
    start("MTEwMDAwMDAwMDAwMDAwMDAwMQ.GEmuLa.d3Jvbmc");
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(mutex_);
        return fatals_.size() == 1;
    }));
    {
        std::lock_guard lock(mutex_);
        EXPECT_EQ(fatals_[0].code, "discord.gateway_fatal");
        EXPECT_EQ(fatals_[0].arg("code"), "4004");
        EXPECT_EQ(fatals_[0].arg("meaning"), "authentication failed");
    }
    std::this_thread::sleep_for(milliseconds(1000));
    EXPECT_EQ(gateway_->stats().connects, 1u);
    EXPECT_EQ(emulator_->stat("gateway_connections"), 1);
    EXPECT_FALSE(gateway_->connected());
}

}  // namespace
}  // namespace pitwall::integrations::discord
