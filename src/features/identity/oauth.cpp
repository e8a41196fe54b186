#include "features/identity/oauth.hpp"

#include <boost/json.hpp>
#include <boost/url.hpp>

#include "core/encoding.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "platform/auth/http_client.hpp"
#include "platform/auth/pkce.hpp"
#include "platform/store/kv.hpp"

namespace pitwall::identity {
namespace {

std::string key_for(std::string_view state) {
    return "pw:oauth:" + encoding::hex(encoding::sha256(state));
}

Error bad_state() {
    return Error(ErrorKind::invalid_input, "auth.bad_state");
}

Error provider_unavailable(std::string_view host_detail) {
    return Error(ErrorKind::unavailable, "auth.provider_unavailable", {}, std::string(host_detail));
}

}  // namespace

Result<Begun> PreAuthStore::begin(std::string provider, std::string return_to, std::int64_t user_id) {
    auto pkce = auth::make_pkce();
    Begun b;
    b.pending = {std::move(provider), random::token(32),           pkce.verifier,
                 random::token(24),   safe_return_path(return_to), user_id};
    b.challenge = pkce.challenge;
    b.binder = random::token(32);
    boost::json::object record{
        {"provider", b.pending.provider}, {"verifier", b.pending.verifier},
        {"nonce", b.pending.nonce},       {"return_to", b.pending.return_to},
        {"user_id", b.pending.user_id},   {"binder", encoding::hex(encoding::sha256(b.binder))}};
    if (auto s = kv_.set(key_for(b.pending.state), boost::json::serialize(record), ttl_); !s)
        return s.error();
    return b;
}

Result<PendingAuthorization> PreAuthStore::finish(std::string_view provider, std::string_view state,
                                                  std::string_view binder_cookie) {
    if (state.empty() || state.size() > 128 || binder_cookie.empty()) return bad_state();
    const std::string key = key_for(state);
    auto raw = kv_.get(key);
    if (!raw) return raw.error();
    if (!*raw) return bad_state();
    // Single use: whoever deletes it first owns it; a concurrent replay finds nothing.
    auto removed = kv_.del(key);
    if (!removed) return removed.error();
    if (!*removed) return bad_state();

    boost::system::error_code ec;
    auto value = boost::json::parse(**raw, ec);
    if (ec || !value.is_object()) return bad_state();
    const auto& o = value.get_object();
    if (json_text(o, "provider") != provider) return bad_state();
    if (!encoding::constant_time_equal(json_text(o, "binder"),
                                       encoding::hex(encoding::sha256(binder_cookie))))
        return bad_state();
    return PendingAuthorization{std::string(provider),     std::string(state),
                                json_text(o, "verifier"),  json_text(o, "nonce"),
                                json_text(o, "return_to"), json::integer_or(o, "user_id", 0)};
}

std::string with_query(std::string_view base,
                       const std::vector<std::pair<std::string, std::string>>& params) {
    auto parsed = boost::urls::parse_uri(base);
    if (!parsed)
        return std::string(base) + (base.find('?') == std::string_view::npos ? "?" : "&") +
               auth::form_encode(params);
    boost::urls::url url(*parsed);
    for (const auto& [k, v] : params) url.params().append({k, v});
    return std::string(url.buffer());
}

Result<std::optional<std::string>> get_json(const auth::HttpClient& client, std::string_view url,
                                            std::string_view bearer) {
    auto response = client.request(
        {.method = "GET",
         .url = std::string(url),
         .headers = {{"Authorization", "Bearer " + std::string(bearer)}, {"Accept", "application/json"}}});
    if (!response) return provider_unavailable(response.error().code);
    if (response->status == 404) return std::optional<std::string>();
    if (response->status >= 500 || response->status == 429)
        return provider_unavailable("status " + std::to_string(response->status));
    if (response->status >= 400) return Error(ErrorKind::invalid_input, "auth.token_refused");
    return std::optional<std::string>(std::move(response->body));
}

std::string safe_return_path(std::string_view requested) {
    if (requested.empty() || requested.size() > 512 || requested.front() != '/' ||
        requested.starts_with("//") || requested.find('\\') != std::string_view::npos ||
        requested.find_first_of("\r\n\t") != std::string_view::npos)
        return "/";
    return std::string(requested);
}

}  // namespace pitwall::identity

namespace pitwall::identity {

std::string json_text(const boost::json::object& o, std::string_view name) {
    return json::text(o, name);
}

}  // namespace pitwall::identity
