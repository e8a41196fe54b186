#include "platform/auth/session.hpp"

#include <boost/json.hpp>

#include "core/encoding.hpp"
#include "core/random.hpp"
#include "platform/store/kv.hpp"

namespace pitwall::auth {
namespace {

constexpr std::size_t kIdBytes = 32;  // 256 bits of entropy

bool plausible_id(std::string_view id) {
    return id.size() == 43 &&
           id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
               std::string_view::npos;
}

}  // namespace

SessionStore::SessionStore(store::Kv& kv, const Clock& clock, std::chrono::seconds ttl)
    : kv_(kv), clock_(clock), ttl_(ttl) {}

std::string SessionStore::key_for(std::string_view id) {
    return "pw:session:" + encoding::hex(encoding::sha256(id));
}

Result<Session> SessionStore::create(std::int64_t user_id) {
    Session s{random::token(kIdBytes), user_id, random::token(kIdBytes), clock_.now_ms()};
    boost::json::object value{{"user_id", s.user_id}, {"csrf", s.csrf_token}, {"created_ms", s.created_ms}};
    if (auto stored = kv_.set(key_for(s.id), boost::json::serialize(value), ttl_); !stored)
        return stored.error();
    return s;
}

Result<std::optional<Session>> SessionStore::load(std::string_view id) {
    if (!plausible_id(id)) return std::optional<Session>();
    auto raw = kv_.get(key_for(id));
    if (!raw) return raw.error();
    if (!*raw) return std::optional<Session>();
    boost::system::error_code ec;
    auto value = boost::json::parse(**raw, ec);
    if (ec || !value.is_object()) return std::optional<Session>();
    const auto& o = value.get_object();
    const auto* user = o.if_contains("user_id");
    const auto* csrf = o.if_contains("csrf");
    const auto* created = o.if_contains("created_ms");
    if (!user || !user->is_int64() || !csrf || !csrf->is_string() || !created || !created->is_int64())
        return std::optional<Session>();
    return std::optional<Session>(
        Session{std::string(id), user->get_int64(), std::string(csrf->get_string()), created->get_int64()});
}

Status SessionStore::destroy(std::string_view id) {
    if (!plausible_id(id)) return {};
    auto removed = kv_.del(key_for(id));
    if (!removed) return removed.error();
    return {};
}

Result<Session> SessionStore::rotate(std::string_view old_id, std::int64_t user_id) {
    if (auto s = destroy(old_id); !s) return s.error();
    return create(user_id);
}

std::string set_cookie(std::string_view name, std::string_view value, const CookieOptions& options) {
    std::string out = std::string(name) + "=" + std::string(value) + "; Path=" + options.path +
                      "; HttpOnly; SameSite=" + options.same_site;
    if (options.secure) out += "; Secure";
    if (options.max_age.count() > 0) out += "; Max-Age=" + std::to_string(options.max_age.count());
    if (options.max_age.count() < 0) out += "; Max-Age=0";
    return out;
}

std::optional<std::string> read_cookie(std::string_view header, std::string_view name) {
    std::optional<std::string> found;
    while (!header.empty()) {
        auto semi = header.find(';');
        std::string_view pair = header.substr(0, semi);
        header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        auto eq = pair.find('=');
        if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
        if (found) return std::nullopt;  // ambiguous: a second cookie of the same name was injected
        found = std::string(pair.substr(eq + 1));
    }
    return found;
}

}  // namespace pitwall::auth
