// iRacing's secret masking (reference/iracing.md section 1.5): every /token call sends
// client_secret = mask_secret(secret, client_id), and the password-limited grant also sends
// password = mask_secret(password, username).
#pragma once

#include <string>
#include <string_view>

namespace pitwall::auth {

// Base64 (standard alphabet, with padding) of SHA-256 over the UTF-8 bytes of
// secret + lowercase(trim(identifier)). The secret is used byte for byte.
//
// trim removes ASCII whitespace (space, \t, \n, \v, \f, \r) and lowercase maps only A-Z, independent of
// the process locale (a Turkish locale must not turn "I" into a dotless i). iRacing's reference clients
// lower-case with Unicode rules; identifiers are client ids and e-mail addresses, which are ASCII in
// practice, and a non-ASCII letter would be left as it is here.
//
// The result contains '+', '/' and '=': form-encode it (http_client.hpp form_encode) before sending.
std::string mask_secret(std::string_view secret, std::string_view identifier);

}  // namespace pitwall::auth
