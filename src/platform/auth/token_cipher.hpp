// Encryption at rest for OAuth tokens (iRacing, Garage61, Discord refresh tokens): AES-256-GCM with a
// fresh random 96-bit nonce per message and a key id in every ciphertext, so keys can rotate while old
// rows stay readable.
//
// Ciphertext format (ASCII, safe in a TEXT column):
//     v1.<key id>.<base64url_nopad(nonce[12] | ciphertext | tag[16])>
// The GCM associated data is "v1.<key id>." followed by the caller's associated data, so the header
// cannot be edited and a ciphertext cannot be moved to another row: callers pass what identifies the
// row and the field, e.g. "user:42:iracing:access".
//
// Key derivation: the configured key text (secrets.token_key, at least 32 bytes) is not used as the
// AES key directly; the 32-byte key is HKDF-SHA256(ikm = key text, salt = "pitwall/token-cipher",
// info = "v1 aes-256-gcm"). A key id left empty is derived the same way (info = "v1 key id", 6 bytes,
// base64url: 8 characters), so a deployment only configures key texts. Changing either derivation makes
// every stored token unreadable; token_cipher_test.cpp pins both with a vector made outside OpenSSL.
//
// A TokenCipher is immutable after create() and safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace pitwall::auth {

struct TokenKey {
    std::string id;      // 1..32 of [A-Za-z0-9_-]; empty: derived from the secret (derive_key_id)
    std::string secret;  // the key text from configuration; at least 32 bytes
};

class TokenCipher {
  public:
    static constexpr std::size_t min_secret_bytes = 32;
    static constexpr std::size_t max_plaintext_bytes = 64 * 1024;

    // `current` encrypts and decrypts; `previous` keys only decrypt (rows written before a rotation).
    // Errors: token_cipher.bad_key (short secret, invalid or duplicate id).
    static Result<TokenCipher> create(const TokenKey& current, const std::vector<TokenKey>& previous = {});

    // The id an empty TokenKey::id gets.
    static std::string derive_key_id(std::string_view secret);

    TokenCipher(TokenCipher&&) noexcept;
    TokenCipher& operator=(TokenCipher&&) noexcept;
    ~TokenCipher();

    // Errors: token_cipher.too_large (plaintext above max_plaintext_bytes), token_cipher.failed.
    [[nodiscard]] Result<std::string> encrypt(std::string_view plaintext,
                                              std::string_view associated_data) const;

    // Errors: token_cipher.malformed (not our format), token_cipher.unknown_key (key id not in the
    // keyring), token_cipher.auth_failed (tampered, wrong key, or other associated data).
    [[nodiscard]] Result<std::string> decrypt(std::string_view ciphertext,
                                              std::string_view associated_data) const;

    // True when the ciphertext is in our format but was written under another key id than the current
    // one: decrypt and encrypt again. False for anything decrypt() would call malformed.
    [[nodiscard]] bool needs_rotation(std::string_view ciphertext) const;

    [[nodiscard]] const std::string& current_key_id() const;

  private:
    struct Impl;
    explicit TokenCipher(std::unique_ptr<const Impl> impl);
    std::unique_ptr<const Impl> impl_;
};

}  // namespace pitwall::auth
