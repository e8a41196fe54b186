#include "platform/auth/jwt.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/encoding.hpp"

namespace pitwall::auth {
namespace {

namespace json = boost::json;
using encoding::base64url;

// A test-only signer: real keys generated with OpenSSL, tokens signed the way a provider signs them.
class TestKey {
  public:
    static TestKey rsa(std::string kid, unsigned bits = 2048) {
        return TestKey(EVP_RSA_gen(bits), std::move(kid), false);
    }
    static TestKey ec(std::string kid) { return TestKey(EVP_EC_gen("P-256"), std::move(kid), true); }

    TestKey(TestKey&& o) noexcept : key_(o.key_), kid_(std::move(o.kid_)), ec_(o.ec_) { o.key_ = nullptr; }
    ~TestKey() { EVP_PKEY_free(key_); }

    const std::string& kid() const { return kid_; }
    bool is_ec() const { return ec_; }

    // The public JWK, as a provider publishes it.
    json::object jwk() const {
        json::object o;
        if (!kid_.empty()) o["kid"] = kid_;
        o["use"] = "sig";
        if (ec_) {
            o["kty"] = "EC";
            o["crv"] = "P-256";
            o["alg"] = "ES256";
            o["x"] = base64url(bn_param(OSSL_PKEY_PARAM_EC_PUB_X, 32));
            o["y"] = base64url(bn_param(OSSL_PKEY_PARAM_EC_PUB_Y, 32));
        } else {
            o["kty"] = "RSA";
            o["alg"] = "RS256";
            o["n"] = base64url(bn_param(OSSL_PKEY_PARAM_RSA_N, 0));
            o["e"] = base64url(bn_param(OSSL_PKEY_PARAM_RSA_E, 0));
        }
        return o;
    }

    std::string public_pem() const {
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(bio, key_);
        char* data = nullptr;
        const long len = BIO_get_mem_data(bio, &data);
        std::string pem(data, static_cast<std::size_t>(len));
        BIO_free(bio);
        return pem;
    }

    // The JWS signature over `input`: RSASSA-PKCS1-v1_5 SHA-256, or ECDSA P-256 SHA-256 as raw r||s
    // (or DER when `der` is set, which a JWS verifier must refuse).
    std::string sign(std::string_view input, bool der = false) const {
        EVP_MD_CTX* md = EVP_MD_CTX_new();
        std::size_t len = 0;
        EXPECT_EQ(EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key_), 1);
        EXPECT_EQ(EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                                 input.size()),
                  1);
        std::string sig(len, '\0');
        EXPECT_EQ(EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                                 reinterpret_cast<const unsigned char*>(input.data()), input.size()),
                  1);
        sig.resize(len);
        EVP_MD_CTX_free(md);
        if (!ec_ || der) return sig;
        const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
        ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
        std::string raw(64, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(parsed), reinterpret_cast<unsigned char*>(raw.data()), 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(parsed), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
        ECDSA_SIG_free(parsed);
        return raw;
    }

  private:
    TestKey(EVP_PKEY* key, std::string kid, bool ec) : key_(key), kid_(std::move(kid)), ec_(ec) {}

    std::string bn_param(const char* name, int pad) const {
        BIGNUM* bn = nullptr;
        EXPECT_EQ(EVP_PKEY_get_bn_param(key_, name, &bn), 1);
        const int len = pad > 0 ? pad : BN_num_bytes(bn);
        std::string out(static_cast<std::size_t>(len), '\0');
        BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), len);
        BN_free(bn);
        return out;
    }

    EVP_PKEY* key_;
    std::string kid_;
    bool ec_;
};

constexpr std::int64_t now_s = 1'700'000'000;  // ManualClock's default start
const std::string issuer = "https://garage61.net";
const std::string client_id = "pitwall-client";
const std::string nonce = "n-0S6_WzA2Mj";

// RSA key generation is slow in a debug build: one set of keys for the whole suite.
struct Keys {
    TestKey rsa1 = TestKey::rsa("rsa1");
    TestKey rsa2 = TestKey::rsa("rsa2");
    TestKey ec1 = TestKey::ec("ec1");
    TestKey ec2 = TestKey::ec("ec2");
};
const Keys& keys() {
    static const Keys k;
    return k;
}

JwkSet jwks_of(std::initializer_list<const TestKey*> ks) {
    json::array arr;
    for (const TestKey* k : ks) arr.push_back(k->jwk());
    auto set = JwkSet::parse(json::serialize(json::object{{"keys", arr}}));
    EXPECT_TRUE(set.ok());
    return std::move(set).value();
}

const JwkSet& provider_keys() {
    static const JwkSet set = jwks_of({&keys().rsa1, &keys().ec1});
    return set;
}

json::object good_claims() {
    return {{"iss", issuer},    {"sub", "g61-user-1"}, {"aud", client_id},           {"exp", now_s + 300},
            {"iat", now_s - 5}, {"nonce", nonce},      {"email", "ada@example.com"}, {"email_verified", true},
            {"name", "Ada"}};
}

json::object header_for(const TestKey& k) {
    json::object h{{"alg", k.is_ec() ? "ES256" : "RS256"}, {"typ", "JWT"}};
    if (!k.kid().empty()) h["kid"] = k.kid();
    return h;
}

std::string sign_raw(std::string_view header_text, std::string_view payload_text, const TestKey& k) {
    std::string input = base64url(header_text) + "." + base64url(payload_text);
    return input + "." + base64url(k.sign(input));
}

std::string sign(const json::object& claims, const TestKey& k) {
    return sign_raw(json::serialize(header_for(k)), json::serialize(claims), k);
}

std::string sign_with_header(const json::object& header, const json::object& claims, const TestKey& k) {
    return sign_raw(json::serialize(header), json::serialize(claims), k);
}

IdTokenExpectations expectations() {
    IdTokenExpectations e;
    e.issuer = issuer;
    e.client_id = client_id;
    e.nonce = nonce;
    return e;
}

std::string verify_code(std::string_view jwt, const IdTokenExpectations& e = expectations(),
                        const JwkSet& set = provider_keys()) {
    ManualClock clock;
    auto r = verify_id_token(jwt, set, e, clock);
    return r.ok() ? "ok" : r.error().code;
}

std::string with_claim(const char* name, json::value v) {
    auto c = good_claims();
    c[name] = std::move(v);
    return sign(c, keys().rsa1);
}

std::string without_claim(const char* name) {
    auto c = good_claims();
    c.erase(name);
    return sign(c, keys().rsa1);
}

// --- success --------------------------------------------------------------------------------------

TEST(IdToken, VerifiesAnRs256Token) {
    ManualClock clock;
    auto token = verify_id_token(sign(good_claims(), keys().rsa1), provider_keys(), expectations(), clock);
    ASSERT_TRUE(token.ok()) << token.error().code << " " << token.error().detail;
    EXPECT_EQ(token->subject, "g61-user-1");
    EXPECT_EQ(token->issuer, issuer);
    EXPECT_EQ(token->audiences, std::vector<std::string>{client_id});
    EXPECT_EQ(token->key_id, "rsa1");
    EXPECT_EQ(token->expires_at, SystemTime(std::chrono::seconds(now_s + 300)));
    EXPECT_EQ(token->issued_at, SystemTime(std::chrono::seconds(now_s - 5)));
    EXPECT_EQ(token->string_claim("email"), "ada@example.com");
    EXPECT_EQ(token->string_claim("name"), "Ada");
    EXPECT_EQ(token->bool_claim("email_verified"), true);
    EXPECT_EQ(token->string_claim("email_verified"), std::nullopt);
    EXPECT_EQ(token->string_claim("missing"), std::nullopt);
    EXPECT_EQ(json::parse(token->claims_json).at("exp").as_int64(), now_s + 300);
}

TEST(IdToken, VerifiesAnEs256Token) {
    ManualClock clock;
    auto token = verify_id_token(sign(good_claims(), keys().ec1), provider_keys(), expectations(), clock);
    ASSERT_TRUE(token.ok()) << token.error().code << " " << token.error().detail;
    EXPECT_EQ(token->key_id, "ec1");
    EXPECT_EQ(token->subject, "g61-user-1");
}

TEST(IdToken, AcceptsAnAudienceArrayAndFractionalDates) {
    EXPECT_EQ(verify_code(with_claim("aud", json::array{"other", client_id})), "ok");
    auto c = good_claims();
    c["aud"] = json::array{"other", client_id};
    c["azp"] = client_id;
    c["exp"] = static_cast<double>(now_s) + 10.5;
    c["iat"] = static_cast<double>(now_s) - 0.25;
    EXPECT_EQ(verify_code(sign(c, keys().rsa1)), "ok");
}

TEST(IdToken, TriesKeysPublishedWithoutAKid) {
    // The provider's JWK Set has no kids, its tokens do.
    auto r = keys().rsa1.jwk();
    r.erase("kid");
    auto e = keys().ec1.jwk();
    e.erase("kid");
    auto set = JwkSet::parse(json::serialize(json::object{{"keys", json::array{r, e}}}));
    ASSERT_TRUE(set.ok());
    EXPECT_EQ(verify_code(sign(good_claims(), keys().rsa1), expectations(), *set), "ok");
    EXPECT_EQ(verify_code(sign(good_claims(), keys().ec1), expectations(), *set), "ok");
    EXPECT_EQ(verify_code(sign(good_claims(), keys().rsa2), expectations(), *set), "oidc.bad_signature");
}

TEST(IdToken, UsesTheOnlyMatchingKeyWhenTheHeaderHasNoKid) {
    auto anonymous = TestKey::ec("");
    auto set = jwks_of({&keys().rsa1, &anonymous});
    EXPECT_EQ(verify_code(sign(good_claims(), anonymous), expectations(), set), "ok");
    // No kid and several candidate keys: each is tried.
    auto set2 = jwks_of({&keys().ec1, &anonymous});
    auto h = header_for(anonymous);
    EXPECT_EQ(verify_code(sign_with_header(h, good_claims(), anonymous), expectations(), set2), "ok");
}

// --- signature and key failures -------------------------------------------------------------------

TEST(IdToken, RefusesATamperedPayload) {
    const std::string jwt = sign(good_claims(), keys().rsa1);
    const auto dot1 = jwt.find('.');
    const auto dot2 = jwt.find('.', dot1 + 1);
    auto evil = good_claims();
    evil["sub"] = "admin";
    const std::string forged = jwt.substr(0, dot1 + 1) + base64url(json::serialize(evil)) + jwt.substr(dot2);
    EXPECT_EQ(verify_code(forged), "oidc.bad_signature");

    const std::string jwt_ec = sign(good_claims(), keys().ec1);
    const auto e1 = jwt_ec.find('.');
    const auto e2 = jwt_ec.find('.', e1 + 1);
    EXPECT_EQ(verify_code(jwt_ec.substr(0, e1 + 1) + base64url(json::serialize(evil)) + jwt_ec.substr(e2)),
              "oidc.bad_signature");
}

TEST(IdToken, RefusesATamperedSignature) {
    for (const TestKey* k : {&keys().rsa1, &keys().ec1}) {
        const std::string jwt = sign(good_claims(), *k);
        const auto dot2 = jwt.rfind('.');
        std::string sig = *encoding::base64url_decode(jwt.substr(dot2 + 1));
        sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x40);
        EXPECT_EQ(verify_code(jwt.substr(0, dot2 + 1) + base64url(sig)), "oidc.bad_signature");
        // Truncated signature.
        EXPECT_EQ(verify_code(jwt.substr(0, dot2 + 1) + base64url(sig.substr(1))), "oidc.bad_signature");
    }
}

TEST(IdToken, RefusesATokenSignedByAnotherKey) {
    // rsa2 signs, but the header names rsa1, which the provider published.
    auto h = header_for(keys().rsa1);
    EXPECT_EQ(verify_code(sign_with_header(h, good_claims(), keys().rsa2)), "oidc.bad_signature");
    auto he = header_for(keys().ec1);
    EXPECT_EQ(verify_code(sign_with_header(he, good_claims(), keys().ec2)), "oidc.bad_signature");
}

TEST(IdToken, RefusesADerEncodedEs256Signature) {
    const std::string input =
        base64url(json::serialize(header_for(keys().ec1))) + "." + base64url(json::serialize(good_claims()));
    EXPECT_EQ(verify_code(input + "." + base64url(keys().ec1.sign(input, true))), "oidc.bad_signature");
    EXPECT_EQ(verify_code(input + "." + base64url(std::string(64, '\0'))), "oidc.bad_signature");
    EXPECT_EQ(verify_code(input + "." + base64url(std::string(64, '\xff'))), "oidc.bad_signature");
}

TEST(IdToken, ReportsAnUnknownKidSoTheCallerCanRefetch) {
    // ec2 / rsa2 are not in the provider's set (yet): a rotation the cache has not seen.
    EXPECT_EQ(verify_code(sign(good_claims(), keys().rsa2)), "oidc.unknown_key");
    EXPECT_EQ(verify_code(sign(good_claims(), keys().ec2)), "oidc.unknown_key");
    EXPECT_EQ(verify_code(sign(good_claims(), keys().rsa1), expectations(), JwkSet()), "oidc.unknown_key");
    // The kid exists, but for an EC key while the token says RS256.
    auto h = header_for(keys().rsa1);
    h["kid"] = "ec1";
    EXPECT_EQ(verify_code(sign_with_header(h, good_claims(), keys().rsa1)), "oidc.unknown_key");
    // After re-fetching the JWK Set the same token verifies.
    auto refreshed = jwks_of({&keys().rsa1, &keys().rsa2, &keys().ec1});
    EXPECT_TRUE(refreshed.contains("rsa2"));
    EXPECT_EQ(verify_code(sign(good_claims(), keys().rsa2), expectations(), refreshed), "ok");
}

// --- algorithm attacks ----------------------------------------------------------------------------

TEST(IdToken, RefusesAlgNone) {
    const std::string payload = base64url(json::serialize(good_claims()));
    for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
        const std::string header = base64url(json::serialize(json::object{{"alg", alg}, {"typ", "JWT"}}));
        EXPECT_EQ(verify_code(header + "." + payload + "."), "oidc.unsupported_alg") << alg;
        EXPECT_EQ(verify_code(header + "." + payload + "." + base64url("sig")), "oidc.unsupported_alg")
            << alg;
    }
}

TEST(IdToken, RefusesHs256SignedWithThePublicKey) {
    // The classic confusion attack: HMAC keyed with the RSA public key, which the attacker knows.
    const auto& k = keys().rsa1;
    for (const std::string& secret :
         {k.public_pem(), json::serialize(k.jwk()),
          *encoding::base64url_decode(std::string(k.jwk().at("n").as_string()))}) {
        for (const char* alg : {"HS256", "HS384", "HS512"}) {
            const std::string input =
                base64url(json::serialize(json::object{{"alg", alg}, {"kid", "rsa1"}})) + "." +
                base64url(json::serialize(good_claims()));
            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned int mac_len = 0;
            HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
            const std::string jwt =
                input + "." + base64url(std::string(reinterpret_cast<char*>(mac), mac_len));
            EXPECT_EQ(verify_code(jwt), "oidc.unsupported_alg") << alg;
        }
    }
}

TEST(IdToken, RefusesOtherAlgorithmsAndHonoursTheAllowList) {
    for (const char* alg : {"RS384", "RS512", "PS256", "ES384", "ES512", "EdDSA", "rs256", "RS256 ", ""}) {
        auto h = header_for(keys().rsa1);
        h["alg"] = alg;
        EXPECT_EQ(verify_code(sign_with_header(h, good_claims(), keys().rsa1)), "oidc.unsupported_alg")
            << alg;
    }
    auto only_rs = expectations();
    only_rs.algorithms = {JwsAlgorithm::rs256};
    EXPECT_EQ(verify_code(sign(good_claims(), keys().ec1), only_rs), "oidc.unsupported_alg");
    EXPECT_EQ(verify_code(sign(good_claims(), keys().rsa1), only_rs), "ok");
    auto nothing = expectations();
    nothing.algorithms.clear();
    EXPECT_EQ(verify_code(sign(good_claims(), keys().rsa1), nothing), "oidc.unsupported_alg");
}

// --- claims ---------------------------------------------------------------------------------------

TEST(IdToken, ChecksExpiryWithLeeway) {
    EXPECT_EQ(verify_code(with_claim("exp", now_s - 30)), "ok");  // within the 60 s leeway
    EXPECT_EQ(verify_code(with_claim("exp", now_s - 60)), "oidc.expired");
    EXPECT_EQ(verify_code(with_claim("exp", now_s - 86400)), "oidc.expired");
    auto strict = expectations();
    strict.leeway = std::chrono::seconds(0);
    EXPECT_EQ(verify_code(with_claim("exp", now_s), strict), "oidc.expired");
    EXPECT_EQ(verify_code(with_claim("exp", now_s + 1), strict), "ok");

    // Time moves: the same token expires later.
    const std::string jwt = sign(good_claims(), keys().rsa1);
    ManualClock clock;
    EXPECT_TRUE(verify_id_token(jwt, provider_keys(), expectations(), clock).ok());
    clock.advance(std::chrono::seconds(300 + 60));
    EXPECT_EQ(verify_id_token(jwt, provider_keys(), expectations(), clock).error().code, "oidc.expired");
}

TEST(IdToken, RefusesIssuedInTheFuture) {
    EXPECT_EQ(verify_code(with_claim("iat", now_s + 30)), "ok");
    EXPECT_EQ(verify_code(with_claim("iat", now_s + 61)), "oidc.not_yet_valid");
    EXPECT_EQ(verify_code(with_claim("nbf", now_s + 61)), "oidc.not_yet_valid");
    EXPECT_EQ(verify_code(with_claim("nbf", now_s - 10)), "ok");
}

TEST(IdToken, ChecksTheAudience) {
    EXPECT_EQ(verify_code(with_claim("aud", "someone-else")), "oidc.wrong_audience");
    EXPECT_EQ(verify_code(with_claim("aud", json::array{"a", "b"})), "oidc.wrong_audience");
    EXPECT_EQ(verify_code(with_claim("aud", "PITWALL-CLIENT")), "oidc.wrong_audience");
    EXPECT_EQ(verify_code(with_claim("azp", "someone-else")), "oidc.wrong_audience");
    EXPECT_EQ(verify_code(with_claim("aud", json::array{})), "oidc.malformed");
    EXPECT_EQ(verify_code(with_claim("aud", json::array{client_id, 5})), "oidc.malformed");
    EXPECT_EQ(verify_code(with_claim("aud", 5)), "oidc.malformed");
    EXPECT_EQ(verify_code(without_claim("aud")), "oidc.malformed");
}

TEST(IdToken, ChecksTheIssuerExactly) {
    EXPECT_EQ(verify_code(with_claim("iss", "https://evil.example")), "oidc.wrong_issuer");
    EXPECT_EQ(verify_code(with_claim("iss", json::string(issuer + "/"))), "oidc.wrong_issuer");
    EXPECT_EQ(verify_code(with_claim("iss", "https://GARAGE61.net")), "oidc.wrong_issuer");
    EXPECT_EQ(verify_code(without_claim("iss")), "oidc.malformed");
    EXPECT_EQ(verify_code(with_claim("iss", 1)), "oidc.malformed");
}

TEST(IdToken, ChecksTheNonce) {
    EXPECT_EQ(verify_code(with_claim("nonce", "another")), "oidc.wrong_nonce");
    EXPECT_EQ(verify_code(with_claim("nonce", 12)), "oidc.wrong_nonce");
    EXPECT_EQ(verify_code(without_claim("nonce")), "oidc.wrong_nonce");
    // A refresh-grant id_token: no nonce expected, none checked.
    auto refresh = expectations();
    refresh.nonce.reset();
    EXPECT_EQ(verify_code(without_claim("nonce"), refresh), "ok");
    // An empty expected nonce is a caller bug and never matches, not even an empty claim.
    auto empty = expectations();
    empty.nonce = "";
    EXPECT_EQ(verify_code(with_claim("nonce", ""), empty), "oidc.wrong_nonce");
}

TEST(IdToken, RequiresSubjectAndDates) {
    EXPECT_EQ(verify_code(without_claim("sub")), "oidc.malformed");
    EXPECT_EQ(verify_code(with_claim("sub", "")), "oidc.malformed");
    EXPECT_EQ(verify_code(with_claim("sub", json::string(std::string(256, 'x')))), "oidc.malformed");
    EXPECT_EQ(verify_code(with_claim("sub", 42)), "oidc.malformed");
    EXPECT_EQ(verify_code(without_claim("exp")), "oidc.malformed");
    EXPECT_EQ(verify_code(without_claim("iat")), "oidc.malformed");
    EXPECT_EQ(verify_code(with_claim("exp", "1700000300")), "oidc.malformed");
    EXPECT_EQ(verify_code(with_claim("exp", -1)), "oidc.malformed");
    EXPECT_EQ(verify_code(with_claim("exp", 1e300)), "oidc.malformed");
    EXPECT_EQ(verify_code(with_claim("nbf", "soon")), "oidc.malformed");
}

// --- malformed input ------------------------------------------------------------------------------

TEST(IdToken, RefusesMalformedStructure) {
    const std::string jwt = sign(good_claims(), keys().rsa1);
    const auto dot1 = jwt.find('.');
    const auto dot2 = jwt.find('.', dot1 + 1);
    const std::string h = jwt.substr(0, dot1), p = jwt.substr(dot1 + 1, dot2 - dot1 - 1),
                      s = jwt.substr(dot2 + 1);
    for (const std::string& bad :
         {std::string(), std::string("."), std::string(".."), std::string("..."), h, h + "." + p,
          h + "." + p + "." + s + ".", h + "." + p + "." + s + "." + s, "." + p + "." + s, h + ".." + s,
          h + "." + p + ".",
          // base64url errors: padding, the standard alphabet, stray characters
          h + "=." + p + "." + s, h + "." + p + "=." + s, h + "." + p + "." + s + "=",
          h + "." + p + "." + s + "==", h + " ." + p + "." + s, h + "." + p + "." + s + "\n",
          h + "." + p.substr(0, 10) + "+" + p.substr(11) + "." + s,
          h + "." + p.substr(0, 10) + "/" + p.substr(11) + "." + s,
          h + "." + p + "." + s.substr(0, s.size() - 1) + "!",
          h + "." + p.substr(0, p.size() - p.size() % 4) + "A." + s,  // impossible length
          std::string("\0", 1) + jwt}) {
        const std::string code = verify_code(bad);
        EXPECT_TRUE(code == "oidc.malformed") << code << " for [" << bad.substr(0, 60) << "]";
    }
}

TEST(IdToken, RefusesNonCanonicalBase64) {
    // Same bytes, different text: the spare low bits of the last character set.
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const std::string jwt = sign(good_claims(), keys().rsa1);
    const auto dot1 = jwt.find('.');
    std::string header = jwt.substr(0, dot1);
    ASSERT_NE(header.size() % 4, 0u) << "header needs spare bits for this test";
    header.back() = alphabet[alphabet.find(header.back()) ^ 1];
    EXPECT_EQ(verify_code(header + jwt.substr(dot1)), "oidc.malformed");
}

TEST(IdToken, RefusesBadHeadersAndPayloads) {
    const auto& k = keys().rsa1;
    EXPECT_EQ(verify_code(sign_raw("not json", json::serialize(good_claims()), k)), "oidc.malformed");
    EXPECT_EQ(verify_code(sign_raw("[\"RS256\"]", json::serialize(good_claims()), k)), "oidc.malformed");
    EXPECT_EQ(verify_code(sign_raw(R"({"kid":"rsa1"})", json::serialize(good_claims()), k)),
              "oidc.malformed");
    EXPECT_EQ(verify_code(sign_raw(R"({"alg":"RS256","kid":7})", json::serialize(good_claims()), k)),
              "oidc.malformed");
    EXPECT_EQ(verify_code(sign_raw(R"({"alg":"RS256","kid":"rsa1","crit":["exp"]})",
                                   json::serialize(good_claims()), k)),
              "oidc.malformed");
    EXPECT_EQ(verify_code(sign_raw(json::serialize(header_for(k)), "[1,2]", k)), "oidc.malformed");
    EXPECT_EQ(verify_code(sign_raw(json::serialize(header_for(k)), "not json", k)), "oidc.malformed");
    EXPECT_EQ(verify_code(sign_raw(json::serialize(header_for(k)), "{\"sub\":\"\xff\"}", k)),
              "oidc.malformed");
    const std::string deep = "{\"a\":" + std::string(200, '[') + std::string(200, ']') + "}";
    EXPECT_EQ(verify_code(sign_raw(json::serialize(header_for(k)), deep, k)), "oidc.malformed");
}

TEST(IdToken, RefusesHugeInput) {
    auto c = good_claims();
    c["padding"] = std::string(12000, 'p');  // ~16 KiB once base64url-encoded and signed
    const std::string big = sign(c, keys().rsa1);
    ASSERT_GT(big.size(), max_jws_bytes);
    EXPECT_EQ(verify_code(big), "oidc.malformed");
    EXPECT_EQ(verify_code(std::string(10 * 1024 * 1024, 'a')), "oidc.malformed");
    c["padding"] = std::string(8000, 'p');
    const std::string fits = sign(c, keys().rsa1);
    ASSERT_LT(fits.size(), max_jws_bytes);
    EXPECT_EQ(verify_code(fits), "ok");
}

TEST(IdToken, ErrorsCarryNoTokenOrClaims) {
    const std::string jwt = sign(good_claims(), keys().rsa2);  // unknown key
    for (const std::string& t :
         {jwt, with_claim("aud", "x"), with_claim("nonce", "leak-me"), std::string("a.b.c")}) {
        ManualClock clock;
        auto r = verify_id_token(t, provider_keys(), expectations(), clock);
        ASSERT_FALSE(r.ok());
        EXPECT_TRUE(r.error().args.empty()) << r.error().code;
        EXPECT_EQ(r.error().detail.find(t.substr(0, 20)), std::string::npos);
        EXPECT_EQ(r.error().detail.find("leak-me"), std::string::npos);
        EXPECT_EQ(r.error().detail.find("ada@example.com"), std::string::npos);
        EXPECT_EQ(r.error().kind, ErrorKind::unauthorized);
    }
}

// --- JWK Set --------------------------------------------------------------------------------------

TEST(JwkSet, SkipsKeysItCannotVerifyWith) {
    json::array arr;
    arr.push_back(keys().rsa1.jwk());
    arr.push_back(keys().ec1.jwk());
    auto enc = keys().rsa2.jwk();
    enc["use"] = "enc";
    arr.push_back(enc);
    auto ops = keys().rsa2.jwk();
    ops.erase("use");
    ops["key_ops"] = json::array{"encrypt"};
    arr.push_back(ops);
    auto rs512 = keys().rsa2.jwk();
    rs512["alg"] = "RS512";
    arr.push_back(rs512);
    auto p384 = keys().ec2.jwk();
    p384["crv"] = "P-384";
    arr.push_back(p384);
    arr.push_back(json::object{{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}});
    arr.push_back(json::object{
        {"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}});
    auto bad_n = keys().rsa2.jwk();
    bad_n["n"] = "not+base64/url=";
    arr.push_back(bad_n);
    auto short_x = keys().ec2.jwk();
    short_x["x"] = base64url(std::string(31, '\1'));
    arr.push_back(short_x);
    auto off_curve = keys().ec2.jwk();
    off_curve["kid"] = "off-curve";
    off_curve["y"] = base64url(std::string(32, '\1'));
    arr.push_back(off_curve);
    auto weak = TestKey::rsa("weak", 1024);
    arr.push_back(weak.jwk());
    arr.push_back("not an object");
    auto kid_number = keys().rsa2.jwk();
    kid_number["kid"] = 5;
    arr.push_back(kid_number);

    auto set = JwkSet::parse(json::serialize(json::object{{"keys", arr}}));
    ASSERT_TRUE(set.ok());
    EXPECT_EQ(set->size(), 2u);
    EXPECT_EQ(set->skipped(), arr.size() - 2);
    EXPECT_TRUE(set->contains("rsa1"));
    EXPECT_TRUE(set->contains("ec1"));
    EXPECT_FALSE(set->contains("off-curve"));
    EXPECT_FALSE(set->contains("weak"));
    EXPECT_FALSE(set->contains("rsa2"));

    auto w = sign(good_claims(), weak);
    EXPECT_EQ(verify_code(w, expectations(), *set), "oidc.unknown_key");
}

TEST(JwkSet, AcceptsKeysWithoutOptionalMembers) {
    auto r = keys().rsa1.jwk();
    r.erase("use");
    r.erase("alg");
    auto e = keys().ec1.jwk();
    e.erase("use");
    e.erase("alg");
    e["key_ops"] = json::array{"verify"};
    auto set = JwkSet::parse(json::serialize(json::object{{"keys", json::array{r, e}}, {"extra", 1}}));
    ASSERT_TRUE(set.ok());
    EXPECT_EQ(set->size(), 2u);
    EXPECT_EQ(verify_code(sign(good_claims(), keys().ec1), expectations(), *set), "ok");
}

TEST(JwkSet, RefusesDocumentsThatAreNotAKeySet) {
    for (const std::string& doc :
         {std::string(), std::string("null"), std::string("[]"), std::string("{}"),
          std::string(R"({"keys":{}})"), std::string(R"({"keys":"x"})"), std::string("{\"keys\":["),
          std::string(JwkSet::max_document_bytes + 1, ' ')}) {
        auto r = JwkSet::parse(doc);
        ASSERT_FALSE(r.ok()) << doc.substr(0, 30);
        EXPECT_EQ(r.error().code, "oidc.bad_jwks");
        EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
    }
    json::array many;
    for (std::size_t i = 0; i <= JwkSet::max_keys; ++i) many.push_back(json::object{{"kty", "oct"}});
    EXPECT_FALSE(JwkSet::parse(json::serialize(json::object{{"keys", many}})).ok());
    auto empty = JwkSet::parse(R"({"keys":[]})");
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty->size(), 0u);
}

TEST(JwsAlgorithm, ParsesOnlyTheAllowList) {
    EXPECT_EQ(parse_jws_algorithm("RS256"), JwsAlgorithm::rs256);
    EXPECT_EQ(parse_jws_algorithm("ES256"), JwsAlgorithm::es256);
    EXPECT_EQ(parse_jws_algorithm("none"), std::nullopt);
    EXPECT_EQ(parse_jws_algorithm("HS256"), std::nullopt);
    EXPECT_EQ(to_string(JwsAlgorithm::es256), "ES256");
}

}  // namespace
}  // namespace pitwall::auth
