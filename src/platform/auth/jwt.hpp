// JWS compact serialization (RFC 7515) and OpenID Connect id_token verification (OIDC Core 3.1.3.7),
// for Garage61's OpenID Connect login. Only RS256 and ES256 are accepted: "none" and the HMAC
// algorithms are refused outright, so a public key can never be used as an HMAC secret.
//
// Keys come from the provider's JWK Set (jwks_uri). Each failure has its own error code so a caller can
// react: on oidc.unknown_key it re-fetches the JWK Set once (keys rotate) and verifies again; that
// re-fetch is the caller's job and must be rate-limited there, since anyone can send a made-up kid.
// Errors never carry the token or any claim value in args or detail.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace pitwall::auth {

enum class JwsAlgorithm { rs256, es256 };

std::optional<JwsAlgorithm> parse_jws_algorithm(std::string_view name);  // "RS256", "ES256" only
std::string_view to_string(JwsAlgorithm alg);

inline constexpr JwsAlgorithm all_jws_algorithms[] = {JwsAlgorithm::rs256, JwsAlgorithm::es256};

// The usable signature keys of a JWK Set (RFC 7517): RSA keys of 2048..8192 bits (n, e) and EC P-256
// keys (x, y, checked to be on the curve). Keys that cannot be used for RS256/ES256 verification are
// skipped and counted, not errors: a provider may publish encryption keys or other curves next to its
// signing keys. A key's "use" (must be "sig" when present), "key_ops" (must contain "verify" when
// present) and "alg" (must be RS256/ES256 matching its type when present) are respected.
// Immutable after parse(); safe to share between threads.
class JwkSet {
  public:
    static constexpr std::size_t max_document_bytes = 256 * 1024;
    static constexpr std::size_t max_keys = 64;

    // Errors: oidc.bad_jwks (not JSON, no "keys" array, too large, too many keys).
    static Result<JwkSet> parse(std::string_view json);

    JwkSet();  // no keys: every verification fails with oidc.unknown_key
    JwkSet(JwkSet&&) noexcept;
    JwkSet& operator=(JwkSet&&) noexcept;
    ~JwkSet();

    [[nodiscard]] std::size_t size() const;     // usable keys
    [[nodiscard]] std::size_t skipped() const;  // keys in the document that were ignored
    [[nodiscard]] bool contains(std::string_view key_id) const;

  private:
    friend struct JwkSetAccess;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct VerifiedJws {
    JwsAlgorithm algorithm = JwsAlgorithm::rs256;
    std::string key_id;       // kid of the key that verified the signature (may be empty)
    std::string header_json;  // the protected header, decoded
    std::string payload;      // the payload, decoded (JSON text for a JWT)
};

// Size limit of a compact JWS; anything larger is oidc.malformed before any parsing.
inline constexpr std::size_t max_jws_bytes = 16 * 1024;

// Parses and verifies a compact JWS: three base64url parts (no padding, canonical spelling only), a JSON
// object header with an allowed "alg" and no "crit", and a signature by a key from `keys` that matches
// the header's "kid" (or any key of the right type when the header has no kid).
// Errors: oidc.malformed, oidc.unsupported_alg, oidc.unknown_key, oidc.bad_signature.
Result<VerifiedJws> verify_jws(std::string_view compact, const JwkSet& keys,
                               std::span<const JwsAlgorithm> allowed = all_jws_algorithms);

struct IdTokenExpectations {
    std::string issuer;     // compared exactly (no trailing-slash or case folding)
    std::string client_id;  // must be in "aud"; must equal "azp" when present
    // The nonce sent in the authorization request. nullopt only for id_tokens from a refresh grant,
    // which OIDC lets omit it; an empty string never matches.
    std::optional<std::string> nonce;
    std::chrono::seconds leeway{60};  // clock skew allowed on exp, iat and nbf
    // Intersected with RS256/ES256; pass the provider's id_token_signing_alg_values_supported here.
    std::vector<JwsAlgorithm> algorithms{JwsAlgorithm::rs256, JwsAlgorithm::es256};
};

struct IdToken {
    std::string subject;  // "sub": the stable user id at the provider
    std::string issuer;
    std::vector<std::string> audiences;
    std::string key_id;
    SystemTime expires_at;
    SystemTime issued_at;
    std::string claims_json;  // the verified payload, for claims not covered below

    // Top-level claims of the given type ("email", "name", "preferred_username", "email_verified").
    [[nodiscard]] std::optional<std::string> string_claim(std::string_view name) const;
    [[nodiscard]] std::optional<bool> bool_claim(std::string_view name) const;

    std::map<std::string, std::string, std::less<>> string_claims;
    std::map<std::string, bool, std::less<>> bool_claims;
};

// verify_jws, then the claims: "iss" equals the issuer, "aud" (string or array) contains the client id,
// "azp" (if present) equals it, "exp" > now - leeway, "iat" <= now + leeway, "nbf" (if present)
// <= now + leeway, "nonce" equals the expected one, "sub" is a non-empty string of at most 255 bytes.
// Errors: those of verify_jws, plus oidc.wrong_issuer, oidc.wrong_audience, oidc.expired,
// oidc.not_yet_valid, oidc.wrong_nonce, and oidc.malformed for missing or ill-typed claims.
Result<IdToken> verify_id_token(std::string_view jwt, const JwkSet& keys, const IdTokenExpectations& expect,
                                const Clock& clock);

}  // namespace pitwall::auth
