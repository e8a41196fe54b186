// OAuth 2.0 token endpoint calls (RFC 6749 section 5): authorization_code, refresh_token and
// iRacing's password_limited grant all POST a form and read the same answer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace pitwall::auth {

class HttpClient;

struct TokenSet {
    std::string access_token;
    std::string refresh_token;
    std::string id_token;
    std::string scope;
    std::int64_t expires_at_ms = 0;
    std::int64_t refresh_expires_at_ms = 0;
};

// POSTs `form` to `token_url` and parses the token response. Errors:
//   auth.provider_unavailable (unavailable): timeout, unreachable, 5xx (maintenance included)
//   auth.provider_rate_limited (rate_limited): 429
//   auth.token_refused (invalid_input): other 4xx (invalid_grant: e.g. a used refresh token), or an
//   answer without an access token. The provider's `error` string is in Error::detail (logs only).
[[nodiscard]] Result<TokenSet> request_tokens(const HttpClient& client, std::string_view token_url,
                                              const std::vector<std::pair<std::string, std::string>>& form,
                                              const Clock& clock);

}  // namespace pitwall::auth
