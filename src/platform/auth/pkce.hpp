// PKCE (RFC 7636) for the authorization-code flows we start as a client (iRacing, Garage61).
// Only S256 is produced: iRacing defaults to "plain" when the method is left out, so callers always
// send `method` along with `challenge`.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace pitwall::auth {

struct Pkce {
    std::string verifier;   // kept server-side (in the login state), sent only to the token endpoint
    std::string challenge;  // base64url_nopad(SHA-256(verifier)), sent in the authorization request
    std::string method = "S256";
};

inline constexpr std::size_t pkce_verifier_min = 43;
inline constexpr std::size_t pkce_verifier_max = 128;
inline constexpr std::size_t pkce_verifier_default = 64;

// A fresh verifier of 64 characters from the unreserved alphabet [A-Za-z0-9-._~], drawn from the
// OpenSSL CSPRNG without modulo bias, and its S256 challenge.
Pkce make_pkce();

// 43..128 characters, all from the unreserved alphabet.
bool is_valid_pkce_verifier(std::string_view verifier);

// The S256 challenge of a verifier; error pkce.invalid_verifier when the verifier breaks the RFC rules.
Result<std::string> pkce_challenge(std::string_view verifier);

// True when the verifier is valid and its S256 challenge equals `challenge` (constant-time compare).
// The authorization server's side of the check; our fakes and tests use it.
bool verify_pkce(std::string_view verifier, std::string_view challenge);

}  // namespace pitwall::auth
