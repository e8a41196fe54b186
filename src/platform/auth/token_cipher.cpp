#include "platform/auth/token_cipher.hpp"

#include <array>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "core/encoding.hpp"
#include "core/random.hpp"

namespace pitwall::auth {

namespace {

constexpr std::string_view version_tag = "v1";
constexpr std::size_t key_bytes = 32;
constexpr std::size_t nonce_bytes = 12;
constexpr std::size_t tag_bytes = 16;
constexpr std::size_t max_key_id = 32;
constexpr std::string_view hkdf_salt = "pitwall/token-cipher";

using AesKey = std::array<unsigned char, key_bytes>;

struct CipherCtx {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
    CipherCtx() = default;
    CipherCtx(const CipherCtx&) = delete;
    CipherCtx& operator=(const CipherCtx&) = delete;
};

bool hkdf_sha256(std::string_view ikm, std::string_view info, unsigned char* out, std::size_t out_len) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    if (kdf == nullptr) return false;
    EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (kctx == nullptr) return false;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()), ikm.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(hkdf_salt.data()),
                                          hkdf_salt.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
        OSSL_PARAM_construct_end(),
    };
    const bool ok = EVP_KDF_derive(kctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(kctx);
    return ok;
}

bool is_key_id_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool is_valid_key_id(std::string_view id) {
    if (id.empty() || id.size() > max_key_id) return false;
    for (char c : id)
        if (!is_key_id_char(c)) return false;
    return true;
}

// base64url without padding, and only the canonical spelling (unused low bits zero): two different
// strings never decode to the same bytes.
std::optional<std::string> strict_base64url_decode(std::string_view text) {
    if (text.find('=') != std::string_view::npos) return std::nullopt;
    auto decoded = encoding::base64url_decode(text);
    if (!decoded || encoding::base64url(*decoded) != text) return std::nullopt;
    return decoded;
}

struct Parsed {
    std::string_view version;
    std::string_view key_id;
    std::string_view body;
};

std::optional<Parsed> split(std::string_view text) {
    const auto first = text.find('.');
    if (first == std::string_view::npos) return std::nullopt;
    const auto second = text.find('.', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    Parsed p{text.substr(0, first), text.substr(first + 1, second - first - 1), text.substr(second + 1)};
    if (p.body.find('.') != std::string_view::npos) return std::nullopt;
    if (p.version.empty() || p.version.size() > 8 || !is_valid_key_id(p.key_id)) return std::nullopt;
    return p;
}

std::string aad_for(std::string_view key_id, std::string_view associated_data) {
    std::string aad;
    aad.reserve(version_tag.size() + key_id.size() + 2 + associated_data.size());
    aad.append(version_tag).append(".").append(key_id).append(".").append(associated_data);
    return aad;
}

const unsigned char* bytes_of(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

struct TokenCipher::Impl {
    struct Key {
        std::string id;
        AesKey bytes{};
    };
    std::vector<Key> keys;  // keys[0] is the current key

    ~Impl() {
        for (auto& k : keys) OPENSSL_cleanse(k.bytes.data(), k.bytes.size());
    }

    const Key* find(std::string_view id) const {
        for (const auto& k : keys)
            if (k.id == id) return &k;
        return nullptr;
    }
};

TokenCipher::TokenCipher(std::unique_ptr<const Impl> impl) : impl_(std::move(impl)) {}
TokenCipher::TokenCipher(TokenCipher&&) noexcept = default;
TokenCipher& TokenCipher::operator=(TokenCipher&&) noexcept = default;
TokenCipher::~TokenCipher() = default;

std::string TokenCipher::derive_key_id(std::string_view secret) {
    std::array<unsigned char, 6> id{};
    if (!hkdf_sha256(secret, "v1 key id", id.data(), id.size())) std::abort();  // OpenSSL without HKDF
    return encoding::base64url(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

Result<TokenCipher> TokenCipher::create(const TokenKey& current, const std::vector<TokenKey>& previous) {
    auto impl = std::make_unique<Impl>();
    std::vector<const TokenKey*> all{&current};
    for (const auto& k : previous) all.push_back(&k);
    impl->keys.reserve(all.size());  // no reallocation: a moved array would leave an uncleansed copy
    for (std::size_t i = 0; i < all.size(); ++i) {
        const TokenKey& k = *all[i];
        const std::string which = i == 0 ? "current" : "previous";
        if (k.secret.size() < min_secret_bytes)
            return Error(ErrorKind::invalid_input, "token_cipher.bad_key", {},
                         which + " key is shorter than " + std::to_string(min_secret_bytes) + " bytes");
        std::string id = k.id.empty() ? derive_key_id(k.secret) : k.id;
        if (!is_valid_key_id(id))
            return Error(ErrorKind::invalid_input, "token_cipher.bad_key", {},
                         which + " key id must be 1-32 characters of [A-Za-z0-9_-]");
        if (impl->find(id) != nullptr)
            return Error(ErrorKind::invalid_input, "token_cipher.bad_key", {}, "duplicate key id " + id);
        Impl::Key& key = impl->keys.emplace_back();
        key.id = std::move(id);
        if (!hkdf_sha256(k.secret, "v1 aes-256-gcm", key.bytes.data(), key.bytes.size()))
            return Error(ErrorKind::internal, "token_cipher.failed", {}, "HKDF-SHA256 unavailable");
    }
    return TokenCipher(std::move(impl));
}

const std::string& TokenCipher::current_key_id() const {
    return impl_->keys.front().id;
}

Result<std::string> TokenCipher::encrypt(std::string_view plaintext, std::string_view associated_data) const {
    if (plaintext.size() > max_plaintext_bytes)
        return Error(ErrorKind::invalid_input, "token_cipher.too_large",
                     {{"max", std::to_string(max_plaintext_bytes)}});
    const Impl::Key& key = impl_->keys.front();
    const std::string aad = aad_for(key.id, associated_data);
    const std::string nonce = random::bytes(nonce_bytes);

    std::string sealed(nonce_bytes + plaintext.size() + tag_bytes, '\0');
    std::memcpy(sealed.data(), nonce.data(), nonce_bytes);
    auto* out = reinterpret_cast<unsigned char*>(sealed.data());

    CipherCtx c;
    int len = 0;
    // Empty spans still need a valid pointer for EVP; "" provides one.
    const unsigned char* in = plaintext.empty() ? bytes_of("") : bytes_of(plaintext);
    const bool ok =
        c.ctx != nullptr && EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_bytes), nullptr) == 1 &&
        EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, key.bytes.data(), out) == 1 &&
        EVP_EncryptUpdate(c.ctx, nullptr, &len, bytes_of(aad), static_cast<int>(aad.size())) == 1 &&
        EVP_EncryptUpdate(c.ctx, out + nonce_bytes, &len, in, static_cast<int>(plaintext.size())) == 1 &&
        static_cast<std::size_t>(len) == plaintext.size() &&
        EVP_EncryptFinal_ex(c.ctx, out + nonce_bytes + len, &len) == 1 && len == 0 &&
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_bytes),
                            out + nonce_bytes + plaintext.size()) == 1;
    if (!ok) return Error(ErrorKind::internal, "token_cipher.failed", {}, "AES-256-GCM encryption failed");

    std::string text(version_tag);
    text.append(".").append(key.id).append(".").append(encoding::base64url(sealed));
    return text;
}

Result<std::string> TokenCipher::decrypt(std::string_view ciphertext,
                                         std::string_view associated_data) const {
    // The longest valid ciphertext: header plus the base64url of the largest sealed message.
    constexpr std::size_t max_text = 64 + (nonce_bytes + max_plaintext_bytes + tag_bytes) * 4 / 3 + 4;
    if (ciphertext.size() > max_text)
        return Error(ErrorKind::internal, "token_cipher.malformed", {}, "ciphertext too long");
    auto parts = split(ciphertext);
    if (!parts || parts->version != version_tag)
        return Error(ErrorKind::internal, "token_cipher.malformed", {}, "not a v1 token ciphertext");
    const Impl::Key* key = impl_->find(parts->key_id);
    if (key == nullptr)
        return Error(ErrorKind::internal, "token_cipher.unknown_key",
                     {{"key_id", std::string(parts->key_id)}});
    auto sealed = strict_base64url_decode(parts->body);
    if (!sealed || sealed->size() < nonce_bytes + tag_bytes)
        return Error(ErrorKind::internal, "token_cipher.malformed", {}, "bad ciphertext body");

    const std::size_t text_len = sealed->size() - nonce_bytes - tag_bytes;
    const auto* in = reinterpret_cast<const unsigned char*>(sealed->data());
    const std::string aad = aad_for(key->id, associated_data);
    std::string plaintext(text_len, '\0');
    auto* out = text_len == 0 ? nullptr : reinterpret_cast<unsigned char*>(plaintext.data());
    unsigned char scratch[16];
    if (out == nullptr) out = scratch;  // EVP wants a valid pointer even for no output

    CipherCtx c;
    int len = 0;
    std::array<unsigned char, tag_bytes> tag{};
    std::memcpy(tag.data(), in + nonce_bytes + text_len, tag_bytes);
    const bool ok =
        c.ctx != nullptr && EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_bytes), nullptr) == 1 &&
        EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, key->bytes.data(), in) == 1 &&
        EVP_DecryptUpdate(c.ctx, nullptr, &len, bytes_of(aad), static_cast<int>(aad.size())) == 1 &&
        EVP_DecryptUpdate(c.ctx, out, &len, in + nonce_bytes, static_cast<int>(text_len)) == 1 &&
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_bytes), tag.data()) == 1 &&
        EVP_DecryptFinal_ex(c.ctx, out + len, &len) == 1;
    if (!ok) {
        OPENSSL_cleanse(plaintext.data(), plaintext.size());
        return Error(ErrorKind::internal, "token_cipher.auth_failed", {}, "key id " + key->id);
    }
    return plaintext;
}

bool TokenCipher::needs_rotation(std::string_view ciphertext) const {
    auto parts = split(ciphertext);
    if (!parts) return false;
    return parts->version == version_tag && parts->key_id != current_key_id();
}

}  // namespace pitwall::auth
