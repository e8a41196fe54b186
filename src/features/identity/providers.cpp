#include "features/identity/providers.hpp"

#include <thread>

#include <boost/json.hpp>
#include <boost/url.hpp>

#include "core/log.hpp"
#include "platform/auth/http_client.hpp"
#include "platform/auth/jwt.hpp"
#include "platform/auth/oidc_discovery.hpp"
#include "platform/auth/secret_mask.hpp"
#include "platform/auth/token_cipher.hpp"
#include "platform/store/kv.hpp"

namespace pitwall::identity {
namespace {

constexpr std::string_view kDiscordScopes = "identify guilds.members.read";
constexpr std::string_view kIracingScopes = "iracing.auth iracing.profile";
constexpr std::string_view kGarage61Scopes = "openid profile driving_data";

Result<boost::json::object> parse_object(std::string_view body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object())
        return Error(ErrorKind::unavailable, "auth.provider_unavailable", {}, "unparseable JSON");
    return std::move(v.get_object());
}

bool has_scope(std::string_view granted, std::string_view wanted) {
    while (!granted.empty()) {
        auto space = granted.find(' ');
        if (granted.substr(0, space) == wanted) return true;
        if (space == std::string_view::npos) break;
        granted.remove_prefix(space + 1);
    }
    return false;
}

std::string trim_slash(std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

}  // namespace

std::string_view provider_name(Provider p) {
    switch (p) {
        case Provider::discord:
            return "discord";
        case Provider::iracing:
            return "iracing";
        case Provider::garage61:
            return "garage61";
    }
    return "discord";
}

std::optional<Provider> parse_provider(std::string_view name) {
    for (Provider p : {Provider::discord, Provider::iracing, Provider::garage61})
        if (provider_name(p) == name) return p;
    return std::nullopt;
}

std::vector<std::string> provider_origins(const Config& config) {
    std::vector<std::string> origins;
    for (const std::string* url : {&config.discord.authorize_url, &config.iracing.authorize_url,
                                   &config.garage61.authorize_url, &config.garage61.issuer}) {
        auto parsed = boost::urls::parse_uri(*url);
        if (!parsed || parsed->host().empty()) continue;
        std::string origin =
            std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_host_and_port());
        if (std::find(origins.begin(), origins.end(), origin) == origins.end())
            origins.push_back(std::move(origin));
    }
    return origins;
}

Providers::Providers(const Config& config, Users& users, store::Kv& kv, const Clock& clock)
    : config_(config),
      users_(users),
      kv_(kv),
      clock_(clock),
      preauth_(kv, std::chrono::seconds(config.auth.preauth_ttl_s)),
      client_(std::make_unique<auth::HttpClient>(auth::HttpClientOptions{
          .connect_timeout = std::chrono::seconds(std::min<std::int64_t>(config.auth.provider_timeout_s, 5)),
          .total_timeout = std::chrono::seconds(config.auth.provider_timeout_s),
          .max_response_bytes = 1024 * 1024})) {
    if (!config.secrets.token_key.empty()) {
        std::vector<auth::TokenKey> previous;
        if (!config.secrets.token_key_previous.empty())
            previous.push_back({.id = "", .secret = config.secrets.token_key_previous});
        auto cipher = auth::TokenCipher::create({.id = "", .secret = config.secrets.token_key}, previous);
        if (cipher)
            cipher_ = std::make_unique<auth::TokenCipher>(std::move(*cipher));
        else
            log::error("secrets.token_key unusable ({}): account linking is disabled", cipher.error().code);
    }
}

Providers::~Providers() = default;

bool Providers::configured(Provider p) const {
    switch (p) {
        // The secret (and, for linking, the token key) is checked when the callback needs it: a
        // half-configured provider still shows the operator where the flow stops.
        case Provider::discord:
            return !config_.discord.client_id.empty();
        case Provider::iracing:
            return !config_.iracing.client_id.empty();
        case Provider::garage61:
            return !config_.garage61.client_id.empty();
    }
    return false;
}

std::string Providers::redirect_uri(Provider p) const {
    std::string base = config_.http.public_url.empty() ? "http://" + config_.http.listen
                                                       : trim_slash(config_.http.public_url);
    return base + "/auth/" + std::string(provider_name(p)) + "/callback";
}

Result<Redirect> Providers::begin(Provider p, std::string_view return_to, std::int64_t user_id) {
    if (!configured(p))
        return Error(ErrorKind::unavailable, "auth.provider_not_configured",
                     {{"provider", std::string(provider_name(p))}});
    auto begun = preauth_.begin(std::string(provider_name(p)), std::string(return_to), user_id);
    if (!begun) return begun.error();
    std::vector<std::pair<std::string, std::string>> params{{"response_type", "code"},
                                                            {"redirect_uri", redirect_uri(p)},
                                                            {"state", begun->pending.state},
                                                            {"code_challenge", begun->challenge},
                                                            {"code_challenge_method", "S256"}};
    std::string authorize_url;
    switch (p) {
        case Provider::discord:
            params.insert(params.begin(), {"client_id", config_.discord.client_id});
            params.emplace_back("scope", std::string(kDiscordScopes));
            authorize_url = config_.discord.authorize_url;
            break;
        case Provider::iracing:
            params.insert(params.begin(), {"client_id", config_.iracing.client_id});
            params.emplace_back("scope", std::string(kIracingScopes));
            authorize_url = config_.iracing.authorize_url;
            break;
        case Provider::garage61: {
            params.insert(params.begin(), {"client_id", config_.garage61.client_id});
            params.emplace_back("scope", std::string(kGarage61Scopes));
            params.emplace_back("nonce", begun->pending.nonce);
            auto metadata = garage61_metadata();
            authorize_url = metadata && !(*metadata)->authorization_endpoint.empty()
                                ? (*metadata)->authorization_endpoint
                                : config_.garage61.authorize_url;
            break;
        }
    }
    return Redirect{with_query(authorize_url, params), begun->binder};
}

Result<SignedIn> Providers::complete_sign_in(std::string_view code, std::string_view state,
                                             std::string_view binder) {
    auto pending = preauth_.finish("discord", state, binder);
    if (!pending) return pending.error();
    if (code.empty() || code.size() > 512) return Error(ErrorKind::invalid_input, "auth.bad_state");
    const auto& d = config_.discord;
    auto tokens = request_tokens(*client_, d.token_url,
                                 {{"grant_type", "authorization_code"},
                                  {"code", std::string(code)},
                                  {"redirect_uri", redirect_uri(Provider::discord)},
                                  {"code_verifier", pending->verifier},
                                  {"client_id", d.client_id},
                                  {"client_secret", d.client_secret}},
                                 clock_);
    if (!tokens) return tokens.error();

    auto me = get_json(*client_, trim_slash(d.api_base) + "/users/@me", tokens->access_token);
    if (!me) return me.error();
    if (!*me) return Error(ErrorKind::unavailable, "auth.provider_unavailable", {}, "users/@me 404");
    auto user = parse_object(**me);
    if (!user) return user.error();
    DiscordProfile profile{json_text(*user, "id"), json_text(*user, "username"),
                           json_text(*user, "global_name"), json_text(*user, "avatar")};
    if (profile.id.empty() || profile.id.size() > 32)
        return Error(ErrorKind::unavailable, "auth.provider_unavailable");

    GuildMembership membership;
    if (!d.guild_id.empty()) {
        auto member =
            get_json(*client_, trim_slash(d.api_base) + "/users/@me/guilds/" + d.guild_id + "/member",
                     tokens->access_token);
        if (!member) return member.error();
        if (*member) {
            auto m = parse_object(**member);
            if (!m) return m.error();
            membership.member = true;
            membership.nickname = json_text(*m, "nick");
            if (const auto* roles = m->if_contains("roles"); roles && roles->is_array())
                for (const auto& r : roles->get_array())
                    if (r.is_string()) membership.role_ids.emplace_back(r.get_string());
        }
    }
    auto id = users_.upsert_from_discord(profile, membership);
    if (!id) return id.error();
    return SignedIn{*id, pending->return_to};
}

Status Providers::complete_link(Provider p, std::string_view code, std::string_view state,
                                std::string_view binder, std::int64_t user_id) {
    auto pending = preauth_.finish(provider_name(p), state, binder);
    if (!pending) return pending.error();
    if (pending->user_id != user_id || user_id == 0) return Error(ErrorKind::invalid_input, "auth.bad_state");
    if (code.empty() || code.size() > 512) return Error(ErrorKind::invalid_input, "auth.bad_state");
    if (!can_link())
        return Error(ErrorKind::unavailable, "auth.provider_not_configured",
                     {{"provider", std::string(provider_name(p))}});
    return p == Provider::iracing ? link_iracing(*pending, code) : link_garage61(*pending, code);
}

Result<LinkedAccount> Providers::encrypt_tokens(std::int64_t user_id, std::string_view provider,
                                                const TokenSet& tokens, LinkedAccount account) const {
    auto access = cipher_->encrypt(tokens.access_token, aad(user_id, provider, "access"));
    if (!access) return access.error();
    account.access_token = std::move(*access);
    if (!tokens.refresh_token.empty()) {
        auto refresh = cipher_->encrypt(tokens.refresh_token, aad(user_id, provider, "refresh"));
        if (!refresh) return refresh.error();
        account.refresh_token = std::move(*refresh);
    }
    account.provider = std::string(provider);
    account.access_expires_at = tokens.expires_at_ms;
    account.refresh_expires_at = tokens.refresh_expires_at_ms;
    account.scope = tokens.scope;
    account.status = "active";
    account.last_sync_at = clock_.now_ms();
    return account;
}

Status Providers::link_iracing(const PendingAuthorization& pending, std::string_view code) {
    const auto& c = config_.iracing;
    std::vector<std::pair<std::string, std::string>> form{{"grant_type", "authorization_code"},
                                                          {"client_id", c.client_id},
                                                          {"code", std::string(code)},
                                                          {"redirect_uri", redirect_uri(Provider::iracing)},
                                                          {"code_verifier", pending.verifier}};
    // iRacing wants the client secret masked with the client id (reference iracing.md 1.5).
    if (!c.client_secret.empty())
        form.emplace_back("client_secret", auth::mask_secret(c.client_secret, c.client_id));
    auto tokens = request_tokens(*client_, c.token_url, form, clock_);
    if (!tokens) return tokens.error();
    if (!has_scope(tokens->scope, "iracing.auth"))
        return Error(ErrorKind::invalid_input, "auth.scope_missing");

    auto profile_body = get_json(*client_, c.profile_url, tokens->access_token);
    if (!profile_body) return profile_body.error();
    if (!*profile_body) return Error(ErrorKind::unavailable, "auth.provider_unavailable", {}, "profile 404");
    auto profile = parse_object(**profile_body);
    if (!profile) return profile.error();
    LinkedAccount account;
    account.subject = json_text(*profile, "iracing_cust_id");
    account.display_name = json_text(*profile, "iracing_name");
    if (account.subject.empty())
        return Error(ErrorKind::unavailable, "auth.provider_unavailable", {}, "no cust_id");
    auto encrypted = encrypt_tokens(pending.user_id, "iracing", *tokens, std::move(account));
    if (!encrypted) return encrypted.error();
    return users_.save_link(pending.user_id, *encrypted);
}

Result<std::shared_ptr<const auth::ProviderMetadata>> Providers::garage61_metadata() {
    {
        std::lock_guard lock(oidc_mutex_);
        if (garage61_metadata_) return garage61_metadata_;
    }
    const auto& c = config_.garage61;
    auth::ProviderMetadata fallback{c.issuer, c.authorize_url, c.token_url, c.userinfo_url, c.jwks_url, {}};
    auto response = client_->request({.method = "GET", .url = auth::discovery_url(c.issuer)});
    std::shared_ptr<const auth::ProviderMetadata> metadata;
    if (response && response->status == 200) {
        auto parsed = auth::parse_provider_metadata(response->body, c.issuer);
        if (!parsed) return parsed.error();  // a discovery document that lies about its issuer is refused
        metadata = std::make_shared<const auth::ProviderMetadata>(std::move(*parsed));
    } else if (!response) {
        return Error(ErrorKind::unavailable, "auth.provider_unavailable", {}, response.error().code);
    } else {
        metadata =
            std::make_shared<const auth::ProviderMetadata>(std::move(fallback));  // no discovery published
    }
    std::lock_guard lock(oidc_mutex_);
    garage61_metadata_ = metadata;
    return metadata;
}

Result<std::shared_ptr<const auth::JwkSet>> Providers::garage61_keys(bool refresh) {
    {
        std::lock_guard lock(oidc_mutex_);
        if (garage61_keys_ && !refresh) return garage61_keys_;
    }
    auto metadata = garage61_metadata();
    if (!metadata) return metadata.error();
    if ((*metadata)->jwks_uri.empty())
        return Error(ErrorKind::unavailable, "auth.provider_unavailable", {}, "no jwks_uri");
    auto response = client_->request({.method = "GET", .url = (*metadata)->jwks_uri});
    if (!response || response->status != 200)
        return Error(ErrorKind::unavailable, "auth.provider_unavailable", {}, "jwks fetch failed");
    auto keys = auth::JwkSet::parse(response->body);
    if (!keys) return keys.error();
    auto shared = std::make_shared<const auth::JwkSet>(std::move(*keys));
    std::lock_guard lock(oidc_mutex_);
    garage61_keys_ = shared;
    return shared;
}

Status Providers::link_garage61(const PendingAuthorization& pending, std::string_view code) {
    const auto& c = config_.garage61;
    auto metadata = garage61_metadata();
    if (!metadata) return metadata.error();
    auto tokens = request_tokens(*client_, (*metadata)->token_endpoint,
                                 {{"grant_type", "authorization_code"},
                                  {"code", std::string(code)},
                                  {"redirect_uri", redirect_uri(Provider::garage61)},
                                  {"code_verifier", pending.verifier},
                                  {"client_id", c.client_id},
                                  {"client_secret", c.client_secret}},
                                 clock_);
    if (!tokens) return tokens.error();
    if (tokens->id_token.empty()) return Error(ErrorKind::invalid_input, "oidc.malformed");

    const auth::IdTokenExpectations expect{
        .issuer = (*metadata)->issuer, .client_id = c.client_id, .nonce = pending.nonce};
    auto keys = garage61_keys(false);
    if (!keys) return keys.error();
    auto id_token = auth::verify_id_token(tokens->id_token, **keys, expect, clock_);
    if (!id_token && id_token.error().code == "oidc.unknown_key") {
        // Keys rotate: fetch the JWKS once more before refusing.
        keys = garage61_keys(true);
        if (!keys) return keys.error();
        id_token = auth::verify_id_token(tokens->id_token, **keys, expect, clock_);
    }
    if (!id_token) return id_token.error();

    // The slug, by the first step that has it: id_token claim, userinfo, then the API's /me.
    LinkedAccount account;
    if (auto slug = id_token->string_claim("slug"); slug && !slug->empty()) {
        account.slug = *slug;
        account.slug_source = "id_token";
    }
    if (account.slug.empty() && !(*metadata)->userinfo_endpoint.empty()) {
        auto info = get_json(*client_, (*metadata)->userinfo_endpoint, tokens->access_token);
        if (info && *info)
            if (auto o = parse_object(**info); o && !json_text(*o, "preferred_username").empty()) {
                account.slug = json_text(*o, "preferred_username");
                account.slug_source = "userinfo";
            }
    }
    auto me_body = get_json(*client_, trim_slash(c.api_base) + "/me", tokens->access_token);
    if (!me_body) return me_body.error();
    if (!*me_body) return Error(ErrorKind::unavailable, "auth.provider_unavailable", {}, "/me 404");
    auto me = parse_object(**me_body);
    if (!me) return me.error();
    account.subject = json_text(*me, "id");  // the stable subject; the slug may change
    if (account.subject.empty())
        return Error(ErrorKind::unavailable, "auth.provider_unavailable", {}, "/me without id");
    if (account.slug.empty() && !json_text(*me, "slug").empty()) {
        account.slug = json_text(*me, "slug");
        account.slug_source = "me";
    }
    account.display_name = (json_text(*me, "firstName") + " " + json_text(*me, "lastName"));
    if (account.display_name == " ") account.display_name = account.slug;
    auto encrypted = encrypt_tokens(pending.user_id, "garage61", *tokens, std::move(account));
    if (!encrypted) return encrypted.error();
    return users_.save_link(pending.user_id, *encrypted);
}

Status Providers::unlink(Provider p, std::int64_t user_id) {
    auto account = users_.link(user_id, provider_name(p));
    if (!account) return account.error();
    if (!*account) return {};
    if (p == Provider::iracing && cipher_ && !config_.iracing.revoke_url.empty()) {
        if (auto token = cipher_->decrypt((*account)->access_token, aad(user_id, "iracing", "access"));
            token) {
            auto revoked = client_->request({.method = "POST",
                                             .url = config_.iracing.revoke_url,
                                             .headers = {{"Authorization", "Bearer " + *token}}});
            if (!revoked || revoked->status >= 400)
                log::warn("iRacing revoke did not succeed; deleting the link anyway");
        }
    }
    return users_.delete_link(user_id, provider_name(p));
}

}  // namespace pitwall::identity

namespace pitwall::identity {

// The associated data binds each ciphertext to its row and purpose: it cannot be moved to another
// member, provider or token kind.
std::string Providers::aad(std::int64_t user_id, std::string_view provider, std::string_view which) {
    return "user:" + std::to_string(user_id) + ":" + std::string(provider) + ":" + std::string(which);
}

Result<std::string> Providers::access_token(Provider p, std::int64_t user_id, std::chrono::seconds margin) {
    if (!cipher_)
        return Error(ErrorKind::unavailable, "auth.provider_not_configured",
                     {{"provider", std::string(provider_name(p))}});
    const auto name = provider_name(p);
    const std::string lock = "pw:lock:refresh:" + std::string(name) + ":" + std::to_string(user_id);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(config_.auth.provider_timeout_s * 2);
    for (;;) {
        auto account = users_.link(user_id, name);
        if (!account) return account.error();
        if (!*account)
            return Error(ErrorKind::not_found, "auth.not_linked", {{"provider", std::string(name)}});
        if ((*account)->status == "expired")
            return Error(ErrorKind::unauthorized, "auth.link_expired", {{"provider", std::string(name)}});
        const auto now = clock_.now_ms();
        const bool fresh =
            (*account)->access_expires_at == 0 ||
            (*account)->access_expires_at > now + std::chrono::duration_cast<Millis>(margin).count();
        if (fresh) return cipher_->decrypt((*account)->access_token, aad(user_id, name, "access"));

        const std::string owner = std::to_string(user_id) + ":" + std::to_string(now) + ":" +
                                  std::to_string(reinterpret_cast<std::uintptr_t>(this));
        auto acquired =
            kv_.set_if_absent(lock, owner, std::chrono::seconds(config_.auth.provider_timeout_s * 2));
        if (!acquired) return acquired.error();
        if (*acquired) {
            auto token = refresh_locked(p, user_id, margin);
            (void)kv_.compare_and_delete(lock, owner);
            return token;
        }
        // Another caller (maybe on another node) is refreshing: wait for its result.
        if (std::chrono::steady_clock::now() > deadline)
            return Error(ErrorKind::unavailable, "auth.provider_unavailable");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

Result<std::string> Providers::refresh_locked(Provider p, std::int64_t user_id, std::chrono::seconds margin) {
    const auto name = provider_name(p);
    // Re-read under the lock: the previous holder may have refreshed a moment ago.
    auto account = users_.link(user_id, name);
    if (!account) return account.error();
    if (!*account) return Error(ErrorKind::not_found, "auth.not_linked", {{"provider", std::string(name)}});
    if ((*account)->access_expires_at > clock_.now_ms() + std::chrono::duration_cast<Millis>(margin).count())
        return cipher_->decrypt((*account)->access_token, aad(user_id, name, "access"));
    auto refresh = cipher_->decrypt((*account)->refresh_token, aad(user_id, name, "refresh"));
    if (!refresh) return refresh.error();

    std::vector<std::pair<std::string, std::string>> form{{"grant_type", "refresh_token"},
                                                          {"refresh_token", *refresh}};
    std::string token_url;
    if (p == Provider::iracing) {
        form.emplace_back("client_id", config_.iracing.client_id);
        if (!config_.iracing.client_secret.empty())
            form.emplace_back("client_secret",
                              auth::mask_secret(config_.iracing.client_secret, config_.iracing.client_id));
        token_url = config_.iracing.token_url;
    } else {
        auto metadata = garage61_metadata();
        if (!metadata) return metadata.error();
        form.emplace_back("client_id", config_.garage61.client_id);
        form.emplace_back("client_secret", config_.garage61.client_secret);
        token_url = (*metadata)->token_endpoint;
    }
    auto tokens = request_tokens(*client_, token_url, form, clock_);
    if (!tokens) {
        if (tokens.error().code == "auth.token_refused") {
            LinkedAccount expired = **account;
            expired.status = "expired";
            (void)users_.save_link(user_id, expired);
            return Error(ErrorKind::unauthorized, "auth.link_expired", {{"provider", std::string(name)}});
        }
        return tokens.error();
    }
    if (tokens->refresh_token.empty()) tokens->refresh_token = *refresh;  // a provider that does not rotate
    auto updated = encrypt_tokens(user_id, name, *tokens, **account);
    if (!updated) return updated.error();
    if (auto saved = users_.save_link(user_id, *updated); !saved) return saved.error();
    return tokens->access_token;
}

}  // namespace pitwall::identity
