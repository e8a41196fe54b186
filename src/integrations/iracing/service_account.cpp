#include "integrations/iracing/service_account.hpp"

#include <thread>

#include "core/log.hpp"
#include "core/random.hpp"
#include "platform/auth/secret_mask.hpp"
#include "platform/auth/token_cipher.hpp"
#include "platform/auth/token_request.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::integrations::iracing {
namespace {

constexpr std::string_view kName = "iracing";
constexpr std::string_view kLockKey = "pw:lock:refresh:service:iracing";

constexpr store::Statement kLoad{
    "service_tokens.load",
    "SELECT access_token, refresh_token, access_expires_at, refresh_expires_at, scope FROM service_tokens "
    "WHERE name = $1"};
constexpr store::Statement kSave{
    "service_tokens.save",
    "INSERT INTO service_tokens (name, access_token, refresh_token, access_expires_at, refresh_expires_at, "
    "scope, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET access_token = "
    "excluded.access_token, refresh_token = excluded.refresh_token, access_expires_at = "
    "excluded.access_expires_at, refresh_expires_at = excluded.refresh_expires_at, scope = excluded.scope, "
    "updated_at = excluded.updated_at"};

std::string aad(std::string_view which) {
    return "service_tokens/" + std::string(kName) + "/" + std::string(which);
}

}  // namespace

struct ServiceAccount::Stored {
    std::string access_token;
    std::string refresh_token;
    std::int64_t access_expires_at = 0;
    std::int64_t refresh_expires_at = 0;
    std::string scope;
};

ServiceAccount::ServiceAccount(const auth::HttpClient& http, store::Database& sql, store::Kv& kv,
                               const auth::TokenCipher& cipher, const Clock& clock,
                               ServiceAccountOptions options)
    : http_(http), sql_(sql), kv_(kv), cipher_(cipher), clock_(clock), options_(std::move(options)) {}

bool ServiceAccount::configured() const {
    return !options_.username.empty() && !options_.password.empty() && !options_.client_id.empty();
}

Result<std::optional<ServiceAccount::Stored>> ServiceAccount::load() const {
    auto rows = sql_.execute(kLoad, {std::string(kName)});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<Stored>();
    const auto& r = rows->first();
    auto access = cipher_.decrypt(r.text(0), aad("access"));
    if (!access) return access.error();
    Stored s{*access, {}, r.int64(2), r.is_null(3) ? 0 : r.int64(3), r.text(4)};
    if (!r.is_null(1)) {
        auto refresh = cipher_.decrypt(r.text(1), aad("refresh"));
        if (!refresh) return refresh.error();
        s.refresh_token = *refresh;
    }
    return std::optional<Stored>(std::move(s));
}

Status ServiceAccount::store(const Stored& s) const {
    auto access = cipher_.encrypt(s.access_token, aad("access"));
    if (!access) return access.error();
    store::Value refresh = store::Null{};
    if (!s.refresh_token.empty()) {
        auto encrypted = cipher_.encrypt(s.refresh_token, aad("refresh"));
        if (!encrypted) return encrypted.error();
        refresh = *encrypted;
    }
    auto saved = sql_.execute(
        kSave, {std::string(kName), *access, refresh, s.access_expires_at,
                s.refresh_expires_at > 0 ? store::Value(s.refresh_expires_at) : store::Value(store::Null{}),
                s.scope, clock_.now_ms()});
    if (!saved) return saved.error();
    return {};
}

Result<std::string> ServiceAccount::access_token() {
    return obtain(options_.refresh_margin, {});
}

Result<std::string> ServiceAccount::refresh_after_unauthorized(std::string_view rejected) {
    return obtain(options_.refresh_margin, rejected);
}

Result<bool> ServiceAccount::refresh_if_expiring(std::chrono::seconds margin) {
    auto before = load();
    if (!before) return before.error();
    if (*before && (*before)->access_expires_at > clock_.now_ms() + margin.count() * 1000) return false;
    auto token = obtain(margin, {});
    if (!token) return token.error();
    return true;
}

Result<std::string> ServiceAccount::obtain(std::chrono::seconds margin, std::string_view rejected) {
    if (!configured()) return Error(ErrorKind::unavailable, "iracing.not_configured");
    // Fast path without the lock: a stored token that is valid and is not the one just rejected.
    auto stored = load();
    if (!stored) return stored.error();
    if (*stored && (*stored)->access_token != rejected &&
        (*stored)->access_expires_at > clock_.now_ms() + margin.count() * 1000)
        return (*stored)->access_token;

    const std::string owner = random::token(16);
    const auto give_up = std::chrono::steady_clock::now() + options_.lock_wait;
    for (;;) {
        auto taken = kv_.set_if_absent(kLockKey, owner, std::chrono::seconds(30));
        if (!taken) return taken.error();
        if (*taken) {
            auto token = obtain_locked(margin, rejected);
            (void)kv_.compare_and_delete(kLockKey, owner);
            return token;
        }
        // Another node is refreshing: wait for its result instead of spending a second refresh.
        if (std::chrono::steady_clock::now() > give_up)
            return Error(ErrorKind::unavailable, "iracing.unavailable", {}, "service token lock held");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        auto again = load();
        if (again && *again && (*again)->access_token != rejected &&
            (*again)->access_expires_at > clock_.now_ms() + margin.count() * 1000)
            return (*again)->access_token;
    }
}

Result<std::string> ServiceAccount::obtain_locked(std::chrono::seconds margin, std::string_view rejected) {
    // Re-read under the lock: the previous holder may have just stored a new pair.
    auto stored = load();
    if (!stored) return stored.error();
    const auto now = clock_.now_ms();
    if (*stored && (*stored)->access_token != rejected &&
        (*stored)->access_expires_at > now + margin.count() * 1000)
        return (*stored)->access_token;

    const std::string masked_client = auth::mask_secret(options_.client_secret, options_.client_id);
    Result<auth::TokenSet> tokens = Error(ErrorKind::internal, "iracing.unavailable");
    bool refreshed = false;
    if (*stored && !(*stored)->refresh_token.empty() && (*stored)->refresh_expires_at > now + 5'000) {
        tokens = auth::request_tokens(http_, options_.token_url,
                                      {{"grant_type", "refresh_token"},
                                       {"client_id", options_.client_id},
                                       {"client_secret", masked_client},
                                       {"refresh_token", (*stored)->refresh_token}},
                                      clock_);
        refreshed = tokens.ok();
        // A refused refresh token (used elsewhere, expired) falls through to a full login; an outage
        // does not.
        if (!tokens && tokens.error().code != "auth.token_refused") return tokens.error();
    }
    if (!refreshed) {
        const auto hour = now / 3'600'000;
        const std::string counter = "pw:iracing:service_logins:" + std::to_string(hour);
        auto logins = kv_.incr(counter);
        if (!logins) return logins.error();
        if (*logins == 1) (void)kv_.expire(counter, std::chrono::hours(2));
        if (*logins > options_.max_logins_per_hour) {
            log::warn("iracing: service account login cap reached ({} this hour); not logging in again",
                      options_.max_logins_per_hour);
            return Error(ErrorKind::rate_limited, "iracing.login_limited");
        }
        tokens = auth::request_tokens(http_, options_.token_url,
                                      {{"grant_type", "password_limited"},
                                       {"client_id", options_.client_id},
                                       {"client_secret", masked_client},
                                       {"username", options_.username},
                                       {"password", auth::mask_secret(options_.password, options_.username)},
                                       {"scope", "iracing.auth"}},
                                      clock_);
        if (!tokens) {
            if (tokens.error().code == "auth.token_refused")
                return Error(ErrorKind::unauthorized, "iracing.login_refused", {}, tokens.error().detail);
            return tokens.error();
        }
    }
    // A 200 without the scope we need means a misspelled scope or an inactive account (reference §1.2).
    if (tokens->scope.find("iracing.auth") == std::string::npos)
        return Error(ErrorKind::unauthorized, "iracing.login_refused", {},
                     "scope missing from token response");
    Stored fresh{tokens->access_token, tokens->refresh_token, tokens->expires_at_ms,
                 tokens->refresh_expires_at_ms, tokens->scope};
    if (fresh.access_expires_at == 0) fresh.access_expires_at = now + 600'000;
    // Persist before use: the old refresh token is dead now.
    if (auto saved = store(fresh); !saved) return saved.error();
    log::info("iracing: service account {}", refreshed ? "token refreshed" : "logged in");
    return fresh.access_token;
}

}  // namespace pitwall::integrations::iracing
