#include "platform/auth/jwt.hpp"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "core/encoding.hpp"

namespace pitwall::auth {

namespace json = boost::json;

namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnFree {
    void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldFree {
    void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct EcdsaSigFree {
    void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using Params = std::unique_ptr<OSSL_PARAM, ParamFree>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

const unsigned char* bytes_of(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// base64url without padding and only in its canonical spelling (spare low bits zero), as RFC 7515
// requires: a token has exactly one text for its bytes.
std::optional<std::string> strict_base64url_decode(std::string_view text) {
    if (text.find('=') != std::string_view::npos) return std::nullopt;
    auto decoded = encoding::base64url_decode(text);
    if (!decoded || encoding::base64url(*decoded) != text) return std::nullopt;
    return decoded;
}

std::optional<json::object> parse_object(std::string_view text) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 16;
    json::value v = json::parse(text, ec, {}, opts);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

const json::string* string_member(const json::object& o, std::string_view name) {
    const json::value* v = o.if_contains(name);
    return v ? v->if_string() : nullptr;
}

enum class KeyType { rsa, ec_p256 };

Pkey rsa_public_key(std::string_view n, std::string_view e) {
    Bn bn_n(BN_bin2bn(bytes_of(n), static_cast<int>(n.size()), nullptr));
    Bn bn_e(BN_bin2bn(bytes_of(e), static_cast<int>(e.size()), nullptr));
    if (!bn_n || !bn_e) return nullptr;
    const int bits = BN_num_bits(bn_n.get());
    // Below 2048 bits is too weak to trust; above 8192 only costs verification time.
    if (bits < 2048 || bits > 8192 || BN_is_zero(bn_e.get()) || !BN_is_odd(bn_e.get()) ||
        BN_is_one(bn_e.get()))
        return nullptr;
    ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
        return nullptr;
    Params params(OSSL_PARAM_BLD_to_param(bld.get()));
    PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        return nullptr;
    return Pkey(raw);
}

Pkey ec_p256_public_key(std::string_view x, std::string_view y) {
    // RFC 7518 section 6.2.1.2: x and y are the full 32 bytes for P-256, never shortened.
    if (x.size() != 32 || y.size() != 32) return nullptr;
    std::string point = "\x04";  // SEC 1 uncompressed point
    point.append(x).append(y);
    char group[] = "prime256v1";
    ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
        return nullptr;
    Params params(OSSL_PARAM_BLD_to_param(bld.get()));
    PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        return nullptr;
    Pkey key(raw);
    // An off-curve point enables invalid-curve attacks; refuse it explicitly.
    PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
    return key;
}

struct VerificationKey {
    std::string kid;
    KeyType type;
    Pkey pkey;
};

}  // namespace

struct JwkSet::Impl {
    std::vector<VerificationKey> keys;
    std::size_t skipped = 0;
};

// Gives this file's verification code the keys without putting OpenSSL types in jwt.hpp.
struct JwkSetAccess {
    static const JwkSet::Impl& of(const JwkSet& set) {
        static const JwkSet::Impl empty;  // a moved-from set has no keys
        return set.impl_ ? *set.impl_ : empty;
    }
};

JwkSet::JwkSet() : impl_(std::make_unique<Impl>()) {}
JwkSet::JwkSet(JwkSet&&) noexcept = default;
JwkSet& JwkSet::operator=(JwkSet&&) noexcept = default;
JwkSet::~JwkSet() = default;

std::size_t JwkSet::size() const {
    return impl_ ? impl_->keys.size() : 0;
}
std::size_t JwkSet::skipped() const {
    return impl_ ? impl_->skipped : 0;
}
bool JwkSet::contains(std::string_view key_id) const {
    if (!impl_) return false;
    return std::any_of(impl_->keys.begin(), impl_->keys.end(),
                       [&](const VerificationKey& k) { return k.kid == key_id; });
}

namespace {

// One JWK, or nullopt when it is not a usable RS256/ES256 verification key.
std::optional<VerificationKey> parse_key(const json::value& v) {
    const json::object* o = v.if_object();
    if (o == nullptr) return std::nullopt;
    const json::string* kty = string_member(*o, "kty");
    if (kty == nullptr) return std::nullopt;

    std::string kid;
    if (const json::value* k = o->if_contains("kid")) {
        if (!k->is_string()) return std::nullopt;
        kid = std::string(k->as_string());
    }
    if (const json::value* use = o->if_contains("use"))
        if (!use->is_string() || use->as_string() != "sig") return std::nullopt;
    if (const json::value* ops = o->if_contains("key_ops")) {
        const json::array* a = ops->if_array();
        if (a == nullptr) return std::nullopt;
        if (std::none_of(a->begin(), a->end(), [](const json::value& op) { return op == "verify"; }))
            return std::nullopt;
    }
    const json::string* alg = nullptr;
    if (const json::value* a = o->if_contains("alg")) {
        alg = a->if_string();
        if (alg == nullptr) return std::nullopt;
    }

    auto member_bytes = [&](std::string_view name) -> std::optional<std::string> {
        const json::string* s = string_member(*o, name);
        if (s == nullptr || s->empty()) return std::nullopt;
        return strict_base64url_decode(*s);
    };

    VerificationKey key{std::move(kid), KeyType::rsa, nullptr};
    if (*kty == "RSA") {
        if (alg != nullptr && *alg != "RS256") return std::nullopt;
        auto n = member_bytes("n");
        auto e = member_bytes("e");
        if (!n || !e || e->size() > 8) return std::nullopt;
        key.pkey = rsa_public_key(*n, *e);
    } else if (*kty == "EC") {
        if (alg != nullptr && *alg != "ES256") return std::nullopt;
        const json::string* crv = string_member(*o, "crv");
        if (crv == nullptr || *crv != "P-256") return std::nullopt;
        auto x = member_bytes("x");
        auto y = member_bytes("y");
        if (!x || !y) return std::nullopt;
        key.type = KeyType::ec_p256;
        key.pkey = ec_p256_public_key(*x, *y);
    } else {
        return std::nullopt;
    }
    if (!key.pkey) return std::nullopt;
    return key;
}

}  // namespace

Result<JwkSet> JwkSet::parse(std::string_view text) {
    if (text.size() > max_document_bytes)
        return Error(ErrorKind::unavailable, "oidc.bad_jwks", {}, "JWK Set larger than the limit");
    auto doc = parse_object(text);
    if (!doc) return Error(ErrorKind::unavailable, "oidc.bad_jwks", {}, "JWK Set is not a JSON object");
    const json::value* keys = doc->if_contains("keys");
    if (keys == nullptr || !keys->is_array())
        return Error(ErrorKind::unavailable, "oidc.bad_jwks", {}, "JWK Set has no \"keys\" array");
    if (keys->as_array().size() > max_keys)
        return Error(ErrorKind::unavailable, "oidc.bad_jwks", {}, "JWK Set has too many keys");
    JwkSet set;
    for (const json::value& v : keys->as_array()) {
        if (auto key = parse_key(v))
            set.impl_->keys.push_back(std::move(*key));
        else
            ++set.impl_->skipped;
    }
    return set;
}

std::optional<JwsAlgorithm> parse_jws_algorithm(std::string_view name) {
    if (name == "RS256") return JwsAlgorithm::rs256;
    if (name == "ES256") return JwsAlgorithm::es256;
    return std::nullopt;
}

std::string_view to_string(JwsAlgorithm alg) {
    switch (alg) {
        case JwsAlgorithm::rs256:
            return "RS256";
        case JwsAlgorithm::es256:
            return "ES256";
    }
    return "";
}

namespace {

Error malformed(std::string detail) {
    return Error(ErrorKind::unauthorized, "oidc.malformed", {}, std::move(detail));
}

// JWS ES256 signatures are the raw 32-byte r and s; OpenSSL verifies the DER ECDSA-Sig-Value.
std::optional<std::string> es256_raw_to_der(std::string_view raw) {
    if (raw.size() != 64) return std::nullopt;
    EcdsaSig sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(bytes_of(raw), 32, nullptr);
    BIGNUM* s = BN_bin2bn(bytes_of(raw) + 32, 32, nullptr);
    if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return std::nullopt;
    }
    const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0) return std::nullopt;
    std::string der(static_cast<std::size_t>(len), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(sig.get(), &out) != len) return std::nullopt;
    return der;
}

bool verify_signature(EVP_PKEY* key, JwsAlgorithm alg, std::string_view signing_input,
                      std::string_view signature) {
    std::string der;
    if (alg == JwsAlgorithm::es256) {
        auto converted = es256_raw_to_der(signature);
        if (!converted) return false;
        der = std::move(*converted);
        signature = der;
    } else if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key))) {
        return false;  // RSASSA-PKCS1-v1_5 signatures are exactly the modulus length
    }
    MdCtx md(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by md
    if (!md || EVP_DigestVerifyInit(md.get(), &pctx, EVP_sha256(), nullptr, key) != 1) return false;
    if (alg == JwsAlgorithm::rs256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        return false;
    return EVP_DigestVerify(md.get(), bytes_of(signature), signature.size(), bytes_of(signing_input),
                            signing_input.size()) == 1;
}

}  // namespace

Result<VerifiedJws> verify_jws(std::string_view compact, const JwkSet& keys,
                               std::span<const JwsAlgorithm> allowed) {
    if (compact.size() > max_jws_bytes) return malformed("token larger than the limit");
    const auto dot1 = compact.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos)
        return malformed("not three dot-separated parts");
    const std::string_view header_b64 = compact.substr(0, dot1);
    const std::string_view payload_b64 = compact.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view signature_b64 = compact.substr(dot2 + 1);

    auto header_json = strict_base64url_decode(header_b64);
    if (!header_json || header_json->empty()) return malformed("header is not base64url");
    auto header = parse_object(*header_json);
    if (!header) return malformed("header is not a JSON object");

    // The algorithm is checked before anything else is looked at, so "none" and HS256 never reach a key.
    const json::string* alg_name = string_member(*header, "alg");
    if (alg_name == nullptr) return malformed("header has no alg");
    const auto alg = parse_jws_algorithm(*alg_name);
    if (!alg || std::find(allowed.begin(), allowed.end(), *alg) == allowed.end())
        return Error(ErrorKind::unauthorized, "oidc.unsupported_alg", {}, "alg not allowed");
    // RFC 7515 4.1.11: extensions we do not understand must not be ignored.
    if (header->contains("crit")) return malformed("header has crit");
    std::string kid;
    if (const json::value* k = header->if_contains("kid")) {
        if (!k->is_string()) return malformed("kid is not a string");
        kid = std::string(k->as_string());
    }

    auto payload = strict_base64url_decode(payload_b64);
    if (!payload || payload->empty()) return malformed("payload is not base64url");
    auto signature = signature_b64.empty() ? std::nullopt : strict_base64url_decode(signature_b64);
    if (!signature) return malformed("signature is not base64url");

    const KeyType wanted = *alg == JwsAlgorithm::rs256 ? KeyType::rsa : KeyType::ec_p256;
    const std::string_view signing_input = compact.substr(0, dot2);
    // Keys whose kid matches the header's (any key of the right type when the header has none); when the
    // header names a kid no key has, keys published without a kid are tried, since some providers omit it.
    const bool header_has_kid = header->contains("kid");
    bool candidate_found = false;
    for (int pass = 0; pass < 2 && !candidate_found; ++pass) {
        for (const auto& key : JwkSetAccess::of(keys).keys) {
            if (key.type != wanted) continue;
            if (pass == 0 && header_has_kid && key.kid != kid) continue;
            if (pass == 1 && (!header_has_kid || !key.kid.empty())) continue;
            candidate_found = true;
            if (verify_signature(key.pkey.get(), *alg, signing_input, *signature))
                return VerifiedJws{*alg, key.kid, std::move(*header_json), std::move(*payload)};
        }
    }
    if (!candidate_found)
        return Error(ErrorKind::unauthorized, "oidc.unknown_key", {},
                     "no " + std::string(to_string(*alg)) + " key with the token's kid");
    return Error(ErrorKind::unauthorized, "oidc.bad_signature", {}, "signature does not verify");
}

std::optional<std::string> IdToken::string_claim(std::string_view name) const {
    auto it = string_claims.find(name);
    if (it == string_claims.end()) return std::nullopt;
    return it->second;
}

std::optional<bool> IdToken::bool_claim(std::string_view name) const {
    auto it = bool_claims.find(name);
    if (it == bool_claims.end()) return std::nullopt;
    return it->second;
}

namespace {

// NumericDate (RFC 7519): seconds since the epoch, integer or not. Bounded so that conversions are safe.
std::optional<double> numeric_date(const json::object& claims, std::string_view name) {
    const json::value* v = claims.if_contains(name);
    if (v == nullptr) return std::nullopt;
    double seconds = 0;
    if (v->is_int64())
        seconds = static_cast<double>(v->as_int64());
    else if (v->is_uint64())
        seconds = static_cast<double>(v->as_uint64());
    else if (v->is_double())
        seconds = v->as_double();
    else
        return std::nullopt;
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e11) return std::nullopt;  // 1e11 s: year 5138
    return seconds;
}

SystemTime to_time(double seconds) {
    return SystemTime(
        std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(std::floor(seconds))));
}

}  // namespace

Result<IdToken> verify_id_token(std::string_view jwt, const JwkSet& keys, const IdTokenExpectations& expect,
                                const Clock& clock) {
    auto jws = verify_jws(jwt, keys, expect.algorithms);
    if (!jws) return std::move(jws).error();
    auto claims = parse_object(jws->payload);
    if (!claims) return malformed("payload is not a JSON object");

    IdToken token;
    token.key_id = jws->key_id;

    const json::string* iss = string_member(*claims, "iss");
    if (iss == nullptr) return malformed("iss missing");
    if (*iss != expect.issuer) return Error(ErrorKind::unauthorized, "oidc.wrong_issuer", {}, "iss differs");
    token.issuer = std::string(*iss);

    const json::value* aud = claims->if_contains("aud");
    if (aud == nullptr) return malformed("aud missing");
    if (aud->is_string()) {
        token.audiences.emplace_back(aud->as_string());
    } else if (aud->is_array() && !aud->as_array().empty()) {
        for (const json::value& a : aud->as_array()) {
            if (!a.is_string()) return malformed("aud has a non-string entry");
            token.audiences.emplace_back(a.as_string());
        }
    } else {
        return malformed("aud is neither a string nor an array of strings");
    }
    if (expect.client_id.empty() ||
        std::find(token.audiences.begin(), token.audiences.end(), expect.client_id) == token.audiences.end())
        return Error(ErrorKind::unauthorized, "oidc.wrong_audience", {}, "client id not in aud");
    if (const json::value* azp = claims->if_contains("azp"))
        if (!azp->is_string() || azp->as_string() != expect.client_id)
            return Error(ErrorKind::unauthorized, "oidc.wrong_audience", {}, "azp is another client");

    const double now = static_cast<double>(clock.now_ms()) / 1000.0;
    const double leeway = static_cast<double>(expect.leeway.count());
    auto exp = numeric_date(*claims, "exp");
    auto iat = numeric_date(*claims, "iat");
    if (!exp) return malformed("exp missing or not a NumericDate");
    if (!iat) return malformed("iat missing or not a NumericDate");
    if (*exp <= now - leeway) return Error(ErrorKind::unauthorized, "oidc.expired", {}, "exp has passed");
    if (*iat > now + leeway)
        return Error(ErrorKind::unauthorized, "oidc.not_yet_valid", {}, "iat in the future");
    if (claims->contains("nbf")) {
        auto nbf = numeric_date(*claims, "nbf");
        if (!nbf) return malformed("nbf is not a NumericDate");
        if (*nbf > now + leeway)
            return Error(ErrorKind::unauthorized, "oidc.not_yet_valid", {}, "nbf in the future");
    }
    token.expires_at = to_time(*exp);
    token.issued_at = to_time(*iat);

    if (expect.nonce) {
        const json::string* nonce = string_member(*claims, "nonce");
        if (nonce == nullptr || expect.nonce->empty() ||
            !encoding::constant_time_equal(*nonce, *expect.nonce))
            return Error(ErrorKind::unauthorized, "oidc.wrong_nonce", {}, "nonce missing or different");
    }

    const json::string* sub = string_member(*claims, "sub");
    if (sub == nullptr || sub->empty() || sub->size() > 255) return malformed("sub missing or too long");
    token.subject = std::string(*sub);

    for (const auto& [name, value] : *claims) {
        if (value.is_string())
            token.string_claims.emplace(std::string(name), std::string(value.as_string()));
        else if (value.is_bool())
            token.bool_claims.emplace(std::string(name), value.as_bool());
    }
    token.claims_json = std::move(jws->payload);
    return token;
}

}  // namespace pitwall::auth
