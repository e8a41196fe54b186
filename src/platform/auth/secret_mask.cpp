#include "platform/auth/secret_mask.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/encoding.hpp"

namespace pitwall::auth {

namespace {

bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string normalize_identifier(std::string_view id) {
    while (!id.empty() && is_ascii_space(id.front())) id.remove_prefix(1);
    while (!id.empty() && is_ascii_space(id.back())) id.remove_suffix(1);
    std::string out(id);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string base64_standard(std::string_view bytes) {
    // EVP_EncodeBlock writes 4 * ceil(n / 3) characters plus a terminating NUL.
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

}  // namespace

std::string mask_secret(std::string_view secret, std::string_view identifier) {
    std::string input(secret);
    input += normalize_identifier(identifier);
    std::string digest = encoding::sha256(input);
    OPENSSL_cleanse(input.data(), input.size());  // the concatenation holds the clear secret
    std::string masked = base64_standard(digest);
    OPENSSL_cleanse(digest.data(), digest.size());
    return masked;
}

}  // namespace pitwall::auth
