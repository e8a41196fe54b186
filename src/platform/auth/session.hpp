// Server-side sessions in the KV store. The browser holds only an opaque random id (HttpOnly
// cookie); the KV key is the SHA-256 of that id, so a dump of the store yields no usable cookie.
// Sign-in always creates a new id (rotation), sign-out deletes it server-side.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace pitwall::store {
class Kv;
}

namespace pitwall::auth {

struct Session {
    std::string id;  // the cookie value; only known right after create()
    std::int64_t user_id = 0;
    std::string csrf_token;
    std::int64_t created_ms = 0;
};

class SessionStore {
  public:
    SessionStore(store::Kv& kv, const Clock& clock, std::chrono::seconds ttl);

    [[nodiscard]] Result<Session> create(std::int64_t user_id);
    // nullopt for an unknown, expired or malformed id.
    [[nodiscard]] Result<std::optional<Session>> load(std::string_view id);
    [[nodiscard]] Status destroy(std::string_view id);
    // Sign-in on top of an existing session: the old id stops working.
    [[nodiscard]] Result<Session> rotate(std::string_view old_id, std::int64_t user_id);

    [[nodiscard]] std::chrono::seconds ttl() const { return ttl_; }

  private:
    [[nodiscard]] static std::string key_for(std::string_view id);
    store::Kv& kv_;
    const Clock& clock_;
    std::chrono::seconds ttl_;
};

// Cookie helpers (RFC 6265): the header value of a Set-Cookie for a session or pre-auth cookie.
struct CookieOptions {
    bool secure = false;              // served over TLS (directly or at a trusted proxy)
    std::chrono::seconds max_age{0};  // 0: a session cookie; negative: delete
    std::string same_site = "Lax";
    std::string path = "/";
};
[[nodiscard]] std::string set_cookie(std::string_view name, std::string_view value,
                                     const CookieOptions& options);
// The value of cookie `name` in a Cookie header, if present exactly once.
[[nodiscard]] std::optional<std::string> read_cookie(std::string_view cookie_header, std::string_view name);

}  // namespace pitwall::auth
