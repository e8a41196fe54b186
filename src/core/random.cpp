#include "core/random.hpp"

#include <cstdlib>

#include <openssl/rand.h>

#include "core/encoding.hpp"

namespace pitwall::random {

std::string bytes(std::size_t n) {
    std::string out(n, '\0');
    if (n != 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        std::abort();  // no entropy means no safe tokens: not a recoverable condition
    }
    return out;
}

std::string token(std::size_t n) {
    return encoding::base64url(bytes(n));
}

std::string hex(std::size_t n) {
    return encoding::hex(bytes(n));
}

}  // namespace pitwall::random
