// The OAuth 2.0 authorization-code dance shared by the three providers.
//
// begin(): a random `state`, a PKCE verifier (S256 always) and, for OpenID Connect, a `nonce`, kept
// server-side in KV for auth.preauth_ttl_s under the SHA-256 of the state; the browser gets the state
// in the authorize URL and a random binder in a short-lived pre-auth cookie. finish(): the callback's
// state must match a pending record AND the binder cookie of the same browser; the record is deleted
// on first use, so a replayed callback finds nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "platform/auth/token_request.hpp"

namespace pitwall::store {
class Kv;
}
namespace pitwall::auth {
class HttpClient;
}

namespace pitwall::identity {

inline constexpr std::string_view kPreAuthCookie = "pw_oauth";

struct PendingAuthorization {
    std::string provider;
    std::string state;
    std::string verifier;
    std::string nonce;
    std::string return_to;
    std::int64_t user_id = 0;  // the signed-in member who is linking (0 for sign-in)
};

struct Begun {
    PendingAuthorization pending;
    std::string challenge;  // PKCE S256 challenge for the authorize URL
    std::string binder;     // value of the pre-auth cookie
};

class PreAuthStore {
  public:
    PreAuthStore(store::Kv& kv, std::chrono::seconds ttl) : kv_(kv), ttl_(ttl) {}

    [[nodiscard]] Result<Begun> begin(std::string provider, std::string return_to, std::int64_t user_id);
    // Errors: auth.bad_state (unknown, expired, replayed, other browser or other provider).
    [[nodiscard]] Result<PendingAuthorization> finish(std::string_view provider, std::string_view state,
                                                      std::string_view binder_cookie);
    [[nodiscard]] std::chrono::seconds ttl() const { return ttl_; }

  private:
    store::Kv& kv_;
    std::chrono::seconds ttl_;
};

// The authorize URL: `base` plus the query parameters, correctly encoded whatever `base` already has.
[[nodiscard]] std::string with_query(std::string_view base,
                                     const std::vector<std::pair<std::string, std::string>>& params);

using auth::request_tokens;
using auth::TokenSet;

// GET with a bearer token; the JSON body on 2xx. 404 -> nullopt; other failures as above.
[[nodiscard]] Result<std::optional<std::string>> get_json(const auth::HttpClient& client,
                                                          std::string_view url, std::string_view bearer);

// A provider JSON field as text: strings as they are, integers in decimal (ids arrive as either);
// "" when absent or of another type.
[[nodiscard]] std::string json_text(const boost::json::object& o, std::string_view name);

// A local path to return to after sign-in; anything else (absolute URLs, //host, backslashes) -> "/".
[[nodiscard]] std::string safe_return_path(std::string_view requested);

}  // namespace pitwall::identity
