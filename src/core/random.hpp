// Randomness from the OS CSPRNG (OpenSSL RAND_bytes) for ids, tokens and nonces.
#pragma once

#include <cstddef>
#include <string>

namespace pitwall::random {

// n random bytes; aborts the process only if the CSPRNG itself fails (never on input).
std::string bytes(std::size_t n);
// A URL-safe random token carrying n bytes of entropy (base64url, no padding).
std::string token(std::size_t n = 32);
// Lower-case hex of n random bytes.
std::string hex(std::size_t n = 16);

}  // namespace pitwall::random
