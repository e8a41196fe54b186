// Whose token an upstream request carries: a linked member's (identity keeps and refreshes those) or
// one of the team's own accounts (the iRacing service account).
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace pitwall::integrations {

//
// Cached reads refresh stale answers in the background after the call returned, with the same token
// source: token sources are long-lived objects (the service account, a registry of member sources),
// never temporaries.
class TokenSource {
  public:
    virtual ~TokenSource() = default;
    // A currently valid access token (refreshed first when it is about to expire).
    [[nodiscard]] virtual Result<std::string> access_token() = 0;
    // The upstream answered 401 to `rejected`: get a new token (one refresh), or fail.
    [[nodiscard]] virtual Result<std::string> refresh_after_unauthorized(std::string_view rejected) = 0;
};

// A fixed token (tests, and personal access tokens where an upstream offers them).
class StaticToken final : public TokenSource {
  public:
    explicit StaticToken(std::string token) : token_(std::move(token)) {}
    [[nodiscard]] Result<std::string> access_token() override { return token_; }
    [[nodiscard]] Result<std::string> refresh_after_unauthorized(std::string_view) override {
        return Error(ErrorKind::unauthorized, "auth.link_expired", {{"provider", "static"}});
    }

  private:
    std::string token_;
};

}  // namespace pitwall::integrations
