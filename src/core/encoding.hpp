// Byte encodings shared by tokens, ETags and signatures.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pitwall::encoding {

std::string hex(std::string_view bytes);
std::string base64url(std::string_view bytes);  // RFC 4648 section 5, no padding
std::optional<std::string> base64url_decode(std::string_view text);
std::string sha256(std::string_view data);  // raw 32 bytes
// HMAC-SHA256 (RFC 2104) of `data` under `key`; raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);
// Constant-time comparison for secrets (length is not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace pitwall::encoding
