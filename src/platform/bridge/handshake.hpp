// The bridge handshake (docs/bridge.md, "Handshake"):
//
//   server -> bot     hello{nonce, heartbeat_ms, server_time_ms}
//   bot -> server     identify{bot_id, ts_ms, mac, resume?}
//                     mac = lowercase hex HMAC-SHA256(secret, nonce + "|" + ts_ms + "|" + bot_id)
//   server -> bot     ready{session_id, resumed, resume_from}
//
// The shared secret never crosses the wire; the MAC proves the bot knows it. The nonce is fresh for
// every connection and the server checks identify against the nonce it sent on that connection only,
// then forgets it, so an identify captured from another connection (or sent twice) fails as
// bridge.bad_signature: it is bound to a nonce that is no longer expected. ts_ms bounds how long a
// signed identify is worth anything even to a peer that could stall a connection open
// (bridge.stale_handshake beyond max_skew_ms either way).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "platform/bridge/frame.hpp"

namespace pitwall::bridge {

inline constexpr std::int64_t default_max_skew_ms = 30'000;  // bridge.handshake_skew_s

// 32 random bytes, base64url (43 characters): one per connection, in hello.
[[nodiscard]] std::string make_nonce();
// An opaque random session id for ready.
[[nodiscard]] std::string make_session_id();

// Lowercase hex HMAC-SHA256(secret, nonce + "|" + ts_ms + "|" + bot_id), ts_ms in decimal.
[[nodiscard]] std::string sign(std::string_view secret, std::string_view nonce, std::int64_t ts_ms,
                               std::string_view bot_id);

// The bot's identify for a hello, signed at now_ms.
[[nodiscard]] Identify make_identify(std::string_view secret, const Hello& hello, std::string bot_id,
                                     std::int64_t now_ms, std::optional<Resume> resume = {});

// The server's check of an identify against the nonce it sent on this connection. The MAC is compared
// in constant time before anything else is looked at; an empty secret or nonce never verifies.
// bridge.bad_signature: wrong secret, wrong or replayed nonce, a bot_id or ts_ms that is not the
// signed one, a tampered mac. bridge.stale_handshake: |now_ms - ts_ms| > max_skew_ms.
[[nodiscard]] Status verify(std::string_view secret, std::string_view expected_nonce,
                            const Identify& identify, std::int64_t now_ms,
                            std::int64_t max_skew_ms = default_max_skew_ms);

}  // namespace pitwall::bridge
