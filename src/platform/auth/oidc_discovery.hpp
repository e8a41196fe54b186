// OpenID Provider metadata (OpenID Connect Discovery 1.0, section 3): what a caller fetched from
// discovery_url(issuer) with HttpClient, parsed and validated. Fetching, caching and refreshing are
// the caller's; this is pure parsing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "platform/auth/jwt.hpp"

namespace pitwall::auth {

inline constexpr std::size_t max_discovery_bytes = 64 * 1024;

struct ProviderMetadata {
    std::string issuer;
    std::string authorization_endpoint;
    std::string token_endpoint;
    std::string userinfo_endpoint;  // empty when the provider publishes none
    std::string jwks_uri;
    std::vector<std::string> id_token_signing_alg_values_supported;
    std::vector<std::string> code_challenge_methods_supported;  // empty when not published

    // The provider's id_token algorithms we can verify (RS256, ES256), for IdTokenExpectations.
    [[nodiscard]] std::vector<JwsAlgorithm> verifiable_algorithms() const;
};

// "<issuer>/.well-known/openid-configuration", with one trailing slash of the issuer dropped first
// (Discovery section 4.1).
std::string discovery_url(std::string_view issuer);

// Validates the document against the configured issuer:
// - "issuer" equals `expected_issuer` exactly (Discovery 4.3; no slash or case normalisation), else
//   oidc.issuer_mismatch;
// - issuer, authorization_endpoint, token_endpoint and jwks_uri are present, userinfo_endpoint optional;
//   each is an absolute URL with a host, no user info and no fragment (the issuer also no query), using
//   https — or http for a loopback host (127.0.0.0/8, ::1, localhost) so local test peers work;
// - id_token_signing_alg_values_supported is an array of strings naming RS256 or ES256;
// else oidc.bad_discovery with the offending field in args. Unknown members are ignored.
Result<ProviderMetadata> parse_provider_metadata(std::string_view json, std::string_view expected_issuer);

}  // namespace pitwall::auth
