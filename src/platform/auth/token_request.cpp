#include "platform/auth/token_request.hpp"

#include <boost/json.hpp>

#include "core/json.hpp"
#include "core/log.hpp"
#include "platform/auth/http_client.hpp"

namespace pitwall::auth {

Result<TokenSet> request_tokens(const HttpClient& client, std::string_view token_url,
                                const std::vector<std::pair<std::string, std::string>>& form,
                                const Clock& clock) {
    auto response = client.request(
        {.method = "POST",
         .url = std::string(token_url),
         .headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
         .body = form_encode(form)});
    if (!response)
        return Error(ErrorKind::unavailable, "auth.provider_unavailable", {}, response.error().code);
    if (response->status >= 500)
        return Error(ErrorKind::unavailable, "auth.provider_unavailable", {},
                     "token endpoint status " + std::to_string(response->status));
    if (response->status == 429)
        return Error(ErrorKind::rate_limited, "auth.provider_rate_limited", {}, "token endpoint status 429");
    boost::system::error_code ec;
    auto value = boost::json::parse(response->body, ec);
    if (response->status >= 400 || ec || !value.is_object()) {
        std::string reason =
            !ec && value.is_object() ? json::text(value.get_object(), "error") : "unparseable";
        reason = reason.substr(0, 64);
        log::warn("token endpoint refused the grant: status {} error {}", response->status, reason);
        return Error(ErrorKind::invalid_input, "auth.token_refused", {}, reason);
    }
    const auto& o = value.get_object();
    TokenSet t;
    t.access_token = json::text(o, "access_token");
    t.refresh_token = json::text(o, "refresh_token");
    t.id_token = json::text(o, "id_token");
    t.scope = json::text(o, "scope");
    const auto now = clock.now_ms();
    if (auto expires = json::integer_or(o, "expires_in", 0); expires > 0)
        t.expires_at_ms = now + expires * 1000;
    if (auto expires = json::integer_or(o, "refresh_token_expires_in", 0); expires > 0)
        t.refresh_expires_at_ms = now + expires * 1000;
    if (t.access_token.empty())
        return Error(ErrorKind::invalid_input, "auth.token_refused", {}, "no access_token");
    return t;
}

}  // namespace pitwall::auth
