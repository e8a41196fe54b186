#include "platform/auth/pkce.hpp"

#include "core/encoding.hpp"
#include "core/random.hpp"

namespace pitwall::auth {

namespace {

// RFC 7636 section 4.1: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" (66 characters).
constexpr std::string_view unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

bool is_unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

std::string s256(std::string_view verifier) {
    return encoding::base64url(encoding::sha256(verifier));
}

}  // namespace

Pkce make_pkce() {
    // Rejection sampling: 256 is not a multiple of 66, so bytes >= 198 (3 * 66) are dropped and the
    // rest map uniformly onto the alphabet.
    constexpr unsigned limit = 3 * unreserved.size();
    std::string verifier;
    verifier.reserve(pkce_verifier_default);
    while (verifier.size() < pkce_verifier_default) {
        for (unsigned char b : random::bytes(pkce_verifier_default)) {
            if (b >= limit) continue;
            verifier.push_back(unreserved[b % unreserved.size()]);
            if (verifier.size() == pkce_verifier_default) break;
        }
    }
    Pkce p;
    p.challenge = s256(verifier);
    p.verifier = std::move(verifier);
    return p;
}

bool is_valid_pkce_verifier(std::string_view verifier) {
    if (verifier.size() < pkce_verifier_min || verifier.size() > pkce_verifier_max) return false;
    for (char c : verifier)
        if (!is_unreserved(c)) return false;
    return true;
}

Result<std::string> pkce_challenge(std::string_view verifier) {
    if (!is_valid_pkce_verifier(verifier))
        return Error(
            ErrorKind::invalid_input, "pkce.invalid_verifier",
            {{"min", std::to_string(pkce_verifier_min)}, {"max", std::to_string(pkce_verifier_max)}});
    return s256(verifier);
}

bool verify_pkce(std::string_view verifier, std::string_view challenge) {
    if (!is_valid_pkce_verifier(verifier)) return false;
    return encoding::constant_time_equal(s256(verifier), challenge);
}

}  // namespace pitwall::auth
