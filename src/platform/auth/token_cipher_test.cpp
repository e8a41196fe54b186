#include "platform/auth/token_cipher.hpp"

#include <set>

#include <gtest/gtest.h>

#include "core/encoding.hpp"

namespace pitwall::auth {
namespace {

const std::string key_a = "pitwall test key: 0123456789abcdef0123456789abcdef";
const std::string key_b = "another test key, also long enough: 0123456789abcdef";
constexpr std::string_view aad = "user:42:iracing:access";

TokenCipher cipher(const TokenKey& current, const std::vector<TokenKey>& previous = {}) {
    auto c = TokenCipher::create(current, previous);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().detail);
    return std::move(c).value();
}

std::string error_code(const Result<std::string>& r) {
    return r.ok() ? "ok" : r.error().code;
}

// Made with Python's `cryptography` package, not OpenSSL through our code: HKDF-SHA256(key text,
// salt "pitwall/token-cipher", info "v1 aes-256-gcm"), key id from info "v1 key id", nonce 00..0b,
// AES-256-GCM over "eyJhbGciOi.access-token.value" with AAD "v1.<kid>.user:42:iracing:access".
// If this test fails, rows written by earlier builds can no longer be read.
TEST(TokenCipher, DecryptsAVectorMadeElsewhere) {
    EXPECT_EQ(TokenCipher::derive_key_id(key_a), "QABPI0dE");
    auto c = cipher({"", key_a});
    EXPECT_EQ(c.current_key_id(), "QABPI0dE");
    auto plain = c.decrypt(
        "v1.QABPI0dE.AAECAwQFBgcICQoLP1kslk-907DTanwcuENaj9IaGVJLZIbB4WaD2ejNgjgmjsNhPpbWfPPnePC-", aad);
    ASSERT_TRUE(plain.ok()) << plain.error().code;
    EXPECT_EQ(*plain, "eyJhbGciOi.access-token.value");

    auto named = cipher({"k2024", key_a});
    auto plain2 = named.decrypt(
        "v1.k2024.AAECAwQFBgcICQoLP1kslk-907DTanwcuENaj9IaGVJLZIbB4WaD2ejzwxn93QTuchWhCByLfZdX", aad);
    ASSERT_TRUE(plain2.ok()) << plain2.error().code;
    EXPECT_EQ(*plain2, "eyJhbGciOi.access-token.value");
}

TEST(TokenCipher, RoundTripsWithAFreshNonceEachTime) {
    auto c = cipher({"k1", key_a});
    for (const std::string& plain : {std::string(), std::string("x"), std::string("refresh-token-value"),
                                     std::string("\0\xff\x01binary", 9), std::string(65536, 'z')}) {
        auto sealed = c.encrypt(plain, aad);
        ASSERT_TRUE(sealed.ok());
        EXPECT_TRUE(sealed->starts_with("v1.k1.")) << *sealed;
        EXPECT_EQ(sealed->find('='), std::string::npos);
        auto opened = c.decrypt(*sealed, aad);
        ASSERT_TRUE(opened.ok()) << opened.error().code;
        EXPECT_EQ(*opened, plain);
    }
    auto again1 = c.encrypt("same", aad);
    auto again2 = c.encrypt("same", aad);
    EXPECT_NE(*again1, *again2);  // random nonce: equal tokens are not recognisable in the table
}

TEST(TokenCipher, RefusesPlaintextAboveTheLimit) {
    auto c = cipher({"k1", key_a});
    auto r = c.encrypt(std::string(TokenCipher::max_plaintext_bytes + 1, 'a'), aad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "token_cipher.too_large");
}

TEST(TokenCipher, DetectsTamperingWithEveryByteOfTheBody) {
    auto c = cipher({"k1", key_a});
    const std::string sealed = *c.encrypt("access-token", aad);
    const std::string prefix = "v1.k1.";
    const std::string raw = *encoding::base64url_decode(sealed.substr(prefix.size()));
    ASSERT_EQ(raw.size(), 12u + 12u + 16u);  // nonce | ciphertext | tag
    for (std::size_t i = 0; i < raw.size(); ++i) {
        std::string bad = raw;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        EXPECT_EQ(error_code(c.decrypt(prefix + encoding::base64url(bad), aad)), "token_cipher.auth_failed")
            << "byte " << i;
    }
    // Truncated tag, dropped tag, appended byte.
    EXPECT_EQ(error_code(c.decrypt(prefix + encoding::base64url(raw.substr(0, raw.size() - 1)), aad)),
              "token_cipher.auth_failed");
    EXPECT_EQ(error_code(c.decrypt(prefix + encoding::base64url(raw + "x"), aad)),
              "token_cipher.auth_failed");
    EXPECT_EQ(error_code(c.decrypt(prefix + encoding::base64url(raw.substr(0, 27)), aad)),
              "token_cipher.malformed");  // shorter than nonce + tag
}

TEST(TokenCipher, DetectsTamperingWithTheHeader) {
    auto c = cipher({"k1", key_a}, {{"k0", key_a}});  // same key under another id: only the header differs
    const std::string sealed = *c.encrypt("access-token", aad);
    const std::string body = sealed.substr(std::string("v1.k1.").size());
    EXPECT_EQ(error_code(c.decrypt("v1.k0." + body, aad)), "token_cipher.auth_failed");
    EXPECT_EQ(error_code(c.decrypt("v2.k1." + body, aad)), "token_cipher.malformed");
    EXPECT_EQ(error_code(c.decrypt("V1.k1." + body, aad)), "token_cipher.malformed");
    EXPECT_EQ(error_code(c.decrypt("v1.k9." + body, aad)), "token_cipher.unknown_key");
    EXPECT_EQ(c.decrypt("v1.k9." + body, aad).error().arg("key_id"), "k9");
}

TEST(TokenCipher, BindsTheAssociatedData) {
    auto c = cipher({"k1", key_a});
    const std::string sealed = *c.encrypt("access-token", "user:42:iracing:access");
    EXPECT_EQ(error_code(c.decrypt(sealed, "user:43:iracing:access")), "token_cipher.auth_failed");
    EXPECT_EQ(error_code(c.decrypt(sealed, "user:42:iracing:refresh")), "token_cipher.auth_failed");
    EXPECT_EQ(error_code(c.decrypt(sealed, "")), "token_cipher.auth_failed");
    EXPECT_TRUE(c.decrypt(sealed, "user:42:iracing:access").ok());
}

TEST(TokenCipher, RefusesGarbage) {
    auto c = cipher({"k1", key_a});
    const std::string body = c.encrypt("t", aad)->substr(6);
    for (const std::string& text :
         {std::string(), std::string("v1"), std::string("v1."), std::string("v1.k1"), std::string("v1.k1."),
          std::string("v1..") + body, std::string("plain token"), "v1.k1." + body + ".extra",
          "v1.k1." + body + "=", "v1.k1." + body + "==", "v1.k1.*" + body.substr(1), "v1.k1." + body + "\n",
          "v1.k 1." + body, "v1." + std::string(33, 'k') + "." + body, std::string(1 << 20, 'v'),
          std::string("v1.k1.\0abc", 10)}) {
        auto r = c.decrypt(text, aad);
        ASSERT_FALSE(r.ok()) << text.substr(0, 40);
        EXPECT_EQ(r.error().code, "token_cipher.malformed") << text.substr(0, 40);
        EXPECT_EQ(r.error().kind, ErrorKind::internal);
        EXPECT_FALSE(c.needs_rotation(text));
    }
}

TEST(TokenCipher, RefusesANonCanonicalBase64Body) {
    auto c = cipher({"k1", key_a});
    const std::string sealed =
        *c.encrypt("tok", aad);  // 31 bytes: the last base64 character carries 2 spare bits
    std::string body = sealed.substr(6);
    ASSERT_EQ(body.size() % 4, 2u);
    // Flip a spare low bit of the last character: same bytes, different text.
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const auto v = alphabet.find(body.back());
    body.back() = alphabet[v ^ 1];
    EXPECT_EQ(error_code(c.decrypt("v1.k1." + body, aad)), "token_cipher.malformed");
}

TEST(TokenCipher, OldKeysStillDecryptAndRotationIsDetected) {
    auto old_cipher = cipher({"k1", key_a});
    const std::string old_row = *old_cipher.encrypt("refresh-1", aad);
    EXPECT_FALSE(old_cipher.needs_rotation(old_row));

    auto rotated = cipher({"k2", key_b}, {{"k1", key_a}});
    EXPECT_EQ(rotated.current_key_id(), "k2");
    EXPECT_TRUE(rotated.needs_rotation(old_row));
    auto plain = rotated.decrypt(old_row, aad);
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(*plain, "refresh-1");

    const std::string new_row = *rotated.encrypt(*plain, aad);
    EXPECT_TRUE(new_row.starts_with("v1.k2."));
    EXPECT_FALSE(rotated.needs_rotation(new_row));
    EXPECT_EQ(*rotated.decrypt(new_row, aad), "refresh-1");

    // The old key alone cannot read what the new key wrote.
    EXPECT_EQ(error_code(old_cipher.decrypt(new_row, aad)), "token_cipher.unknown_key");
    // Once the old key is dropped its rows are unreadable (and reported as such, not as tampering).
    auto only_new = cipher({"k2", key_b});
    EXPECT_EQ(error_code(only_new.decrypt(old_row, aad)), "token_cipher.unknown_key");
}

TEST(TokenCipher, AWrongKeyUnderTheSameIdFailsAuthentication) {
    auto a = cipher({"k1", key_a});
    auto b = cipher({"k1", key_b});
    EXPECT_EQ(error_code(b.decrypt(*a.encrypt("tok", aad), aad)), "token_cipher.auth_failed");
}

TEST(TokenCipher, ValidatesTheKeyring) {
    auto short_key = TokenCipher::create({"k1", std::string(31, 'a')});
    ASSERT_FALSE(short_key.ok());
    EXPECT_EQ(short_key.error().code, "token_cipher.bad_key");
    EXPECT_TRUE(short_key.error().args.empty());  // nothing about the key leaves in args
    EXPECT_EQ(short_key.error().detail.find(std::string(31, 'a')), std::string::npos);

    EXPECT_FALSE(TokenCipher::create({"k1", key_a}, {{"k2", "short"}}).ok());
    EXPECT_FALSE(TokenCipher::create({"bad.id", key_a}).ok());
    EXPECT_FALSE(TokenCipher::create({"bad id", key_a}).ok());
    EXPECT_FALSE(TokenCipher::create({std::string(33, 'k'), key_a}).ok());
    EXPECT_FALSE(TokenCipher::create({"k1", key_a}, {{"k1", key_b}}).ok());  // duplicate id
    EXPECT_FALSE(TokenCipher::create({"", key_a}, {{"", key_a}}).ok());      // same derived id
    EXPECT_TRUE(TokenCipher::create({"", key_a}, {{"", key_b}}).ok());
    EXPECT_NE(TokenCipher::derive_key_id(key_a), TokenCipher::derive_key_id(key_b));
    EXPECT_EQ(TokenCipher::derive_key_id(key_a).size(), 8u);
}

TEST(TokenCipher, ErrorsCarryNoSecrets) {
    auto c = cipher({"k1", key_a});
    const std::string sealed = *c.encrypt("super-secret-refresh-token", aad);
    std::string tampered = sealed;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    for (const auto& r : {c.decrypt(tampered, aad), c.decrypt(sealed, "other"), c.decrypt("garbage", aad)}) {
        ASSERT_FALSE(r.ok());
        for (const auto& [name, value] : r.error().args) {
            EXPECT_EQ(value.find("super-secret"), std::string::npos);
            EXPECT_EQ(value.find(key_a), std::string::npos);
        }
        EXPECT_EQ(r.error().detail.find(sealed), std::string::npos);
        EXPECT_EQ(r.error().detail.find(key_a), std::string::npos);
    }
}

}  // namespace
}  // namespace pitwall::auth
