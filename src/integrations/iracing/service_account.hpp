// The team's iRacing service account: the password_limited grant (reference §1.4), used by background
// sync for data that is not a member's own. iRacing allows very few full logins per hour, and each
// refresh token works once, so:
//   - tokens live in SQL (service_tokens, AES-256-GCM like linked accounts) and survive restarts;
//   - one refresh or login runs at a time across every node (a KV lock), and the new pair is stored
//     before anyone uses it;
//   - full logins are counted in KV and capped (max_logins_per_hour); past the cap the account answers
//     iracing.login_limited instead of spending iRacing's budget;
//   - a maintenance answer (503) is not a failed login.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/clock.hpp"
#include "integrations/iracing/client.hpp"

namespace pitwall::auth {
class HttpClient;
class TokenCipher;
}  // namespace pitwall::auth
namespace pitwall::store {
class Database;
class Kv;
}  // namespace pitwall::store

namespace pitwall::integrations::iracing {

struct ServiceAccountOptions {
    std::string token_url;
    std::string client_id;
    std::string client_secret;  // sent masked with client_id
    std::string username;
    std::string password;  // sent masked with username
    std::chrono::seconds refresh_margin{60};
    int max_logins_per_hour = 6;  // iRacing reportedly allows 12; keep half for humans and restarts
    std::chrono::milliseconds lock_wait{std::chrono::seconds(15)};
};

class ServiceAccount final : public TokenSource {
  public:
    ServiceAccount(const auth::HttpClient& http, store::Database& sql, store::Kv& kv,
                   const auth::TokenCipher& cipher, const Clock& clock, ServiceAccountOptions options);

    [[nodiscard]] bool configured() const;
    [[nodiscard]] Result<std::string> access_token() override;
    [[nodiscard]] Result<std::string> refresh_after_unauthorized(std::string_view rejected) override;

    // token-refresh job: refresh when the access token expires within `margin`. True when it did.
    [[nodiscard]] Result<bool> refresh_if_expiring(std::chrono::seconds margin);

  private:
    struct Stored;
    [[nodiscard]] Result<std::string> obtain(std::chrono::seconds margin, std::string_view rejected);
    [[nodiscard]] Result<std::string> obtain_locked(std::chrono::seconds margin, std::string_view rejected);
    [[nodiscard]] Result<std::optional<Stored>> load() const;
    [[nodiscard]] Status store(const Stored& tokens) const;

    const auth::HttpClient& http_;
    store::Database& sql_;
    store::Kv& kv_;
    const auth::TokenCipher& cipher_;
    const Clock& clock_;
    ServiceAccountOptions options_;
};

}  // namespace pitwall::integrations::iracing
