// The three providers: Discord signs members in, iRacing and Garage61 are linked to a signed-in
// member. Each callback either completes (member/link stored, tokens encrypted) or fails with a
// localized error and leaves nothing behind: no session, no link, no half-written row.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "features/identity/oauth.hpp"
#include "features/identity/users.hpp"

namespace pitwall::auth {
class HttpClient;
class TokenCipher;
class SessionStore;
class JwkSet;
struct ProviderMetadata;
}  // namespace pitwall::auth

namespace pitwall::identity {

enum class Provider { discord, iracing, garage61 };
[[nodiscard]] std::string_view provider_name(Provider p);
[[nodiscard]] std::optional<Provider> parse_provider(std::string_view name);

// The origins the browser is sent to for signing in and linking (for the CSP form-action directive).
[[nodiscard]] std::vector<std::string> provider_origins(const Config& config);

struct Redirect {
    std::string location;
    std::string binder;  // pre-auth cookie value
};

struct SignedIn {
    std::int64_t user_id = 0;
    std::string return_to;
};

class Providers {
  public:
    Providers(const Config& config, Users& users, store::Kv& kv, const Clock& clock);
    ~Providers();

    [[nodiscard]] bool configured(Provider p) const;
    [[nodiscard]] bool can_link() const { return cipher_ != nullptr; }

    // The authorize redirect. `user_id` is the member linking an account (0 for Discord sign-in).
    [[nodiscard]] Result<Redirect> begin(Provider p, std::string_view return_to, std::int64_t user_id);

    // Discord: the member who signed in.
    [[nodiscard]] Result<SignedIn> complete_sign_in(std::string_view code, std::string_view state,
                                                    std::string_view binder);
    // iRacing / Garage61: links the account to `user_id` (which must be the member who began).
    [[nodiscard]] Status complete_link(Provider p, std::string_view code, std::string_view state,
                                       std::string_view binder, std::int64_t user_id);
    // Revokes at the provider (best effort) and deletes the link and its tokens.
    [[nodiscard]] Status unlink(Provider p, std::int64_t user_id);

    [[nodiscard]] std::string redirect_uri(Provider p) const;

    // A usable access token of a linked iRacing/Garage61 account, refreshed first when it expires
    // within `margin`. Refresh tokens are single-use, so one refresh per account runs at a time
    // across every node (a KV lock); a caller that finds the lock taken waits for the new token.
    // Errors: auth.not_linked, auth.link_expired (the provider refused the refresh token: the
    // member must link again; the link is marked expired).
    [[nodiscard]] Result<std::string> access_token(Provider p, std::int64_t user_id,
                                                   std::chrono::seconds margin = std::chrono::minutes(5));

  private:
    [[nodiscard]] Status link_iracing(const PendingAuthorization& pending, std::string_view code);
    [[nodiscard]] Status link_garage61(const PendingAuthorization& pending, std::string_view code);
    [[nodiscard]] Result<std::shared_ptr<const auth::ProviderMetadata>> garage61_metadata();
    [[nodiscard]] Result<std::shared_ptr<const auth::JwkSet>> garage61_keys(bool refresh);
    [[nodiscard]] Result<LinkedAccount> encrypt_tokens(std::int64_t user_id, std::string_view provider,
                                                       const TokenSet& tokens, LinkedAccount account) const;

    [[nodiscard]] Result<std::string> refresh_locked(Provider p, std::int64_t user_id,
                                                     std::chrono::seconds margin);
    [[nodiscard]] static std::string aad(std::int64_t user_id, std::string_view provider,
                                         std::string_view which);

    const Config& config_;
    Users& users_;
    store::Kv& kv_;
    const Clock& clock_;
    PreAuthStore preauth_;
    std::unique_ptr<auth::HttpClient> client_;
    std::unique_ptr<auth::TokenCipher> cipher_;
    std::mutex oidc_mutex_;
    std::shared_ptr<const auth::ProviderMetadata> garage61_metadata_;
    std::shared_ptr<const auth::JwkSet> garage61_keys_;
};

}  // namespace pitwall::identity
