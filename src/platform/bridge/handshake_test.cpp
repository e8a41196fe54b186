#include "platform/bridge/handshake.hpp"

#include <cctype>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/encoding.hpp"

namespace pitwall::bridge {
namespace {

constexpr std::string_view secret = "correct horse battery staple";
constexpr std::int64_t now = 1'718'000'000'000;

Hello hello() {
    return Hello{make_nonce(), 30'000, now};
}

TEST(Handshake, NoncesAndSessionIdsAreFreshAndUrlSafe) {
    const auto a = make_nonce(), b = make_nonce();
    EXPECT_NE(a, b);
    EXPECT_EQ(a.size(), 43u);  // 32 bytes of base64url
    EXPECT_EQ(encoding::base64url_decode(a)->size(), 32u);
    EXPECT_NE(make_session_id(), make_session_id());
}

TEST(Handshake, SignatureIsHmacSha256OfNonceTsAndBotIdInLowercaseHex) {
    const auto mac = sign(secret, "n0nce", 1700000000000, "bot-1");
    EXPECT_EQ(mac, encoding::hex(encoding::hmac_sha256(secret, "n0nce|1700000000000|bot-1")));
    EXPECT_EQ(mac.size(), 64u);
    EXPECT_EQ(mac.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(sign("key", "n", -1, "b"), encoding::hex(encoding::hmac_sha256("key", "n|-1|b")));
}

TEST(Handshake, TheBotsIdentifyVerifies) {
    const auto h = hello();
    const auto identify = make_identify(secret, h, "bot-eu-1", now + 120, Resume{"sess", 9});
    EXPECT_EQ(identify.bot_id, "bot-eu-1");
    EXPECT_EQ(identify.ts_ms, now + 120);
    ASSERT_TRUE(identify.resume.has_value());
    EXPECT_TRUE(verify(secret, h.nonce, identify, now).ok());
    // And after a trip over the wire.
    auto decoded = decode(encode(Frame{0, std::nullopt, identify}));
    ASSERT_TRUE(decoded.ok());
    EXPECT_TRUE(verify(secret, h.nonce, std::get<Identify>(decoded->message), now).ok());
}

struct Refusal {
    std::string name;
    std::function<Status(const Hello&, Identify)> attempt;
    std::string code;
};

const std::vector<Refusal> refusals = {
    {"wrong secret",
     [](const Hello& h, Identify) {
         return verify(secret, h.nonce, make_identify("not the secret", h, "bot-eu-1", now), now);
     },
     "bad_signature"},
    {"replayed identify from an earlier connection (its nonce is no longer expected)",
     [](const Hello&, Identify i) {
         const Hello next = hello();  // a new connection, a new nonce
         return verify(secret, next.nonce, i, now);
     },
     "bad_signature"},
    {"wrong bot id",
     [](const Hello& h, Identify i) {
         i.bot_id = "bot-eu-2";
         return verify(secret, h.nonce, i, now);
     },
     "bad_signature"},
    {"ts changed after signing",
     [](const Hello& h, Identify i) {
         i.ts_ms += 1;
         return verify(secret, h.nonce, i, now);
     },
     "bad_signature"},
    {"tampered mac",
     [](const Hello& h, Identify i) {
         i.mac[10] = i.mac[10] == 'a' ? 'b' : 'a';
         return verify(secret, h.nonce, i, now);
     },
     "bad_signature"},
    {"uppercase mac",
     [](const Hello& h, Identify i) {
         for (auto& c : i.mac) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
         return verify(secret, h.nonce, i, now);
     },
     "bad_signature"},
    {"truncated mac",
     [](const Hello& h, Identify i) {
         i.mac.resize(32);
         return verify(secret, h.nonce, i, now);
     },
     "bad_signature"},
    {"empty secret on both sides",
     [](const Hello& h, Identify) { return verify("", h.nonce, make_identify("", h, "bot-eu-1", now), now); },
     "bad_signature"},
    {"empty nonce on both sides",
     [](const Hello&, Identify) {
         return verify(secret, "", make_identify(secret, Hello{"", 1, now}, "bot-eu-1", now), now);
     },
     "bad_signature"},
    {"stale: signed too long ago",
     [](const Hello& h, Identify) {
         return verify(secret, h.nonce, make_identify(secret, h, "bot-eu-1", now - 30'001), now);
     },
     "stale_handshake"},
    {"stale: signed in the future",
     [](const Hello& h, Identify) {
         return verify(secret, h.nonce, make_identify(secret, h, "bot-eu-1", now + 30'001), now);
     },
     "stale_handshake"},
    {"stale: the far ends of time do not overflow",
     [](const Hello& h, Identify) {
         return verify(secret, h.nonce, make_identify(secret, h, "bot-eu-1", INT64_MIN), INT64_MAX);
     },
     "stale_handshake"},
    {"stale: a bad signature is reported first",
     [](const Hello& h, Identify) {
         return verify(secret, h.nonce, make_identify("wrong", h, "bot-eu-1", now - 3'600'000), now);
     },
     "bad_signature"},
};

TEST(Handshake, RefusesEveryBadIdentify) {
    for (const auto& r : refusals) {
        const Hello h = hello();
        const Status status = r.attempt(h, make_identify(secret, h, "bot-eu-1", now));
        ASSERT_FALSE(status.ok()) << r.name;
        EXPECT_EQ(status.error().code, "bridge." + r.code) << r.name;
        EXPECT_EQ(status.error().kind, ErrorKind::unauthorized) << r.name;
        EXPECT_EQ(status.error().detail.find(secret), std::string::npos) << r.name;
    }
}

TEST(Handshake, SkewAtTheLimitIsAccepted) {
    const Hello h = hello();
    EXPECT_TRUE(verify(secret, h.nonce, make_identify(secret, h, "b", now - 30'000), now).ok());
    EXPECT_TRUE(verify(secret, h.nonce, make_identify(secret, h, "b", now + 30'000), now).ok());
    EXPECT_TRUE(verify(secret, h.nonce, make_identify(secret, h, "b", now - 5'000), now, 5'000).ok());
    EXPECT_FALSE(verify(secret, h.nonce, make_identify(secret, h, "b", now - 5'001), now, 5'000).ok());
}

}  // namespace
}  // namespace pitwall::bridge
