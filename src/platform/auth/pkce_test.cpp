#include "platform/auth/pkce.hpp"

#include <set>

#include <gtest/gtest.h>

namespace pitwall::auth {
namespace {

// RFC 7636 appendix B.
constexpr std::string_view rfc_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view rfc_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

TEST(Pkce, MatchesTheRfc7636AppendixBVector) {
    auto challenge = pkce_challenge(rfc_verifier);
    ASSERT_TRUE(challenge.ok());
    EXPECT_EQ(*challenge, rfc_challenge);
    EXPECT_TRUE(verify_pkce(rfc_verifier, rfc_challenge));
}

TEST(Pkce, MakesVerifiersFromTheUnreservedAlphabet) {
    std::set<std::string> seen;
    std::set<char> chars;
    for (int i = 0; i < 200; ++i) {
        Pkce p = make_pkce();
        EXPECT_EQ(p.method, "S256");
        EXPECT_EQ(p.verifier.size(), 64u);
        EXPECT_TRUE(is_valid_pkce_verifier(p.verifier)) << p.verifier;
        EXPECT_EQ(p.challenge.size(), 43u);  // 32 bytes, base64url without padding
        EXPECT_EQ(p.challenge.find('='), std::string::npos);
        EXPECT_EQ(*pkce_challenge(p.verifier), p.challenge);
        EXPECT_TRUE(verify_pkce(p.verifier, p.challenge));
        seen.insert(p.verifier);
        chars.insert(p.verifier.begin(), p.verifier.end());
    }
    EXPECT_EQ(seen.size(), 200u);
    // 12,800 draws from 66 symbols: every symbol shows up (a miss has probability ~ 66 * e^-194).
    EXPECT_EQ(chars.size(), 66u);
}

TEST(Pkce, ValidatesVerifierLengthAndAlphabet) {
    EXPECT_FALSE(is_valid_pkce_verifier(std::string(42, 'a')));
    EXPECT_TRUE(is_valid_pkce_verifier(std::string(43, 'a')));
    EXPECT_TRUE(is_valid_pkce_verifier(std::string(128, '~')));
    EXPECT_FALSE(is_valid_pkce_verifier(std::string(129, 'a')));
    EXPECT_FALSE(is_valid_pkce_verifier(std::string(42, 'a') + "+"));
    EXPECT_FALSE(is_valid_pkce_verifier(std::string(42, 'a') + "="));
    EXPECT_FALSE(is_valid_pkce_verifier(std::string(42, 'a') + " "));
    EXPECT_FALSE(is_valid_pkce_verifier(std::string(42, 'a') + "\xc3"));
    EXPECT_TRUE(is_valid_pkce_verifier("abcdefghijklmnopqrstuvwxyz-._~ABCDEFGHIJKLM0123"));

    auto bad = pkce_challenge("short");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, "pkce.invalid_verifier");
    EXPECT_EQ(bad.error().kind, ErrorKind::invalid_input);
}

TEST(Pkce, RefusesAWrongVerifierOrChallenge) {
    EXPECT_FALSE(verify_pkce("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", rfc_challenge));
    EXPECT_FALSE(verify_pkce(rfc_verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
    EXPECT_FALSE(verify_pkce(rfc_verifier, ""));
    // "plain" is never accepted: the verifier itself is not its own challenge.
    EXPECT_FALSE(verify_pkce(rfc_verifier, rfc_verifier));
    EXPECT_FALSE(verify_pkce("short", "short"));
}

}  // namespace
}  // namespace pitwall::auth
