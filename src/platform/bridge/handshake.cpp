#include "platform/bridge/handshake.hpp"

#include "core/encoding.hpp"
#include "core/random.hpp"

namespace pitwall::bridge {

std::string make_nonce() {
    return random::token(32);
}

std::string make_session_id() {
    return random::token(24);
}

std::string sign(std::string_view secret, std::string_view nonce, std::int64_t ts_ms,
                 std::string_view bot_id) {
    std::string message;
    message.reserve(nonce.size() + bot_id.size() + 24);
    message += nonce;
    message += '|';
    message += std::to_string(ts_ms);
    message += '|';
    message += bot_id;
    return encoding::hex(encoding::hmac_sha256(secret, message));
}

Identify make_identify(std::string_view secret, const Hello& hello, std::string bot_id, std::int64_t now_ms,
                       std::optional<Resume> resume) {
    Identify identify;
    identify.mac = sign(secret, hello.nonce, now_ms, bot_id);
    identify.bot_id = std::move(bot_id);
    identify.ts_ms = now_ms;
    identify.resume = std::move(resume);
    return identify;
}

Status verify(std::string_view secret, std::string_view expected_nonce, const Identify& identify,
              std::int64_t now_ms, std::int64_t max_skew_ms) {
    const std::string expected = sign(secret, expected_nonce, identify.ts_ms, identify.bot_id);
    const bool signed_ok =
        encoding::constant_time_equal(expected, identify.mac) && !secret.empty() && !expected_nonce.empty();
    if (!signed_ok)
        return Error(
            ErrorKind::unauthorized, "bridge.bad_signature", {},
            "identify of bot \"" + identify.bot_id.substr(0, 64) + "\" does not carry the expected mac");

    // |now - ts| without overflow: the difference of two int64 always fits in a uint64.
    const auto now = static_cast<std::uint64_t>(now_ms);
    const auto ts = static_cast<std::uint64_t>(identify.ts_ms);
    const std::uint64_t skew = now_ms >= identify.ts_ms ? now - ts : ts - now;
    if (max_skew_ms < 0 || skew > static_cast<std::uint64_t>(max_skew_ms))
        return Error(ErrorKind::unauthorized, "bridge.stale_handshake", {},
                     "identify ts_ms is " + std::to_string(skew) + " ms " +
                         (now_ms >= identify.ts_ms ? "old" : "in the future"));
    return {};
}

}  // namespace pitwall::bridge
