#include "platform/auth/oidc_discovery.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace pitwall::auth {

namespace json = boost::json;
namespace urls = boost::urls;

namespace {

Error bad(std::string_view field, std::string detail) {
    return Error(ErrorKind::unavailable, "oidc.bad_discovery", {{"field", std::string(field)}},
                 std::move(detail));
}

bool is_loopback(const urls::url_view& u) {
    switch (u.host_type()) {
        case urls::host_type::ipv4:
            return u.host_ipv4_address().to_bytes()[0] == 127;
        case urls::host_type::ipv6:
            return u.host_ipv6_address().is_loopback();
        case urls::host_type::name: {
            std::string host = u.host();
            for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return host == "localhost";
        }
        default:
            return false;
    }
}

// Empty when the URL is acceptable, else why not.
std::string check_url(std::string_view text, bool allow_query) {
    auto parsed = urls::parse_absolute_uri(text);
    if (!parsed) return "not an absolute URL";
    const urls::url_view& u = *parsed;
    const bool https = u.scheme_id() == urls::scheme::https;
    const bool http = u.scheme_id() == urls::scheme::http;
    if (!https && !http) return "scheme is not http(s)";
    if (!u.has_authority() || u.encoded_host().empty()) return "no host";
    if (u.has_userinfo()) return "has user info";
    if (u.has_fragment()) return "has a fragment";
    if (!allow_query && u.has_query()) return "has a query";
    if (http && !is_loopback(u)) return "plain http to a non-loopback host";
    return {};
}

}  // namespace

std::vector<JwsAlgorithm> ProviderMetadata::verifiable_algorithms() const {
    std::vector<JwsAlgorithm> out;
    for (const auto& name : id_token_signing_alg_values_supported)
        if (auto alg = parse_jws_algorithm(name); alg && std::find(out.begin(), out.end(), *alg) == out.end())
            out.push_back(*alg);
    return out;
}

std::string discovery_url(std::string_view issuer) {
    if (issuer.ends_with('/')) issuer.remove_suffix(1);
    return std::string(issuer) + "/.well-known/openid-configuration";
}

Result<ProviderMetadata> parse_provider_metadata(std::string_view text, std::string_view expected_issuer) {
    if (text.size() > max_discovery_bytes) return bad("document", "larger than the limit");
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 16;
    json::value doc = json::parse(text, ec, {}, opts);
    if (ec || !doc.is_object()) return bad("document", "not a JSON object");
    const json::object& o = doc.as_object();

    ProviderMetadata m;
    // A URL member: required ones must be present; every present one must be a valid URL.
    auto url_member = [&](std::string_view name, std::string& out, bool required,
                          bool allow_query) -> Status {
        const json::value* v = o.if_contains(name);
        if (v == nullptr) {
            if (required) return bad(name, "missing");
            return {};
        }
        if (!v->is_string()) return bad(name, "not a string");
        const std::string why = check_url(v->as_string(), allow_query);
        if (!why.empty()) return bad(name, why);
        out = std::string(v->as_string());
        return {};
    };
    auto string_array = [&](std::string_view name, std::vector<std::string>& out) -> Status {
        const json::value* v = o.if_contains(name);
        if (v == nullptr) return {};
        if (!v->is_array()) return bad(name, "not an array");
        for (const json::value& item : v->as_array()) {
            if (!item.is_string()) return bad(name, "has a non-string entry");
            out.emplace_back(item.as_string());
        }
        return {};
    };

    const json::value* iss = o.if_contains("issuer");
    if (iss == nullptr || !iss->is_string()) return bad("issuer", "missing or not a string");
    if (iss->as_string() != expected_issuer)
        return Error(
            ErrorKind::unavailable, "oidc.issuer_mismatch", {{"issuer", std::string(expected_issuer)}},
            "document names issuer " + std::string(std::string_view(iss->as_string()).substr(0, 200)));
    if (auto s = url_member("issuer", m.issuer, true, false); !s) return std::move(s).error();
    if (auto s = url_member("authorization_endpoint", m.authorization_endpoint, true, true); !s)
        return std::move(s).error();
    if (auto s = url_member("token_endpoint", m.token_endpoint, true, true); !s) return std::move(s).error();
    if (auto s = url_member("jwks_uri", m.jwks_uri, true, true); !s) return std::move(s).error();
    if (auto s = url_member("userinfo_endpoint", m.userinfo_endpoint, false, true); !s)
        return std::move(s).error();

    if (!o.contains("id_token_signing_alg_values_supported"))
        return bad("id_token_signing_alg_values_supported", "missing");
    if (auto s =
            string_array("id_token_signing_alg_values_supported", m.id_token_signing_alg_values_supported);
        !s)
        return std::move(s).error();
    if (m.verifiable_algorithms().empty())
        return bad("id_token_signing_alg_values_supported", "names neither RS256 nor ES256");
    if (auto s = string_array("code_challenge_methods_supported", m.code_challenge_methods_supported); !s)
        return std::move(s).error();
    return m;
}

}  // namespace pitwall::auth
