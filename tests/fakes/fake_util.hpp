// Small helpers shared by the fakes (internal).
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "platform/http/message.hpp"
#include "team_data.hpp"

namespace pitwall::fakes::util {

std::uint64_t mix(std::uint64_t a, std::uint64_t b);
std::string hex(std::uint64_t v, int digits);

// A deterministic opaque token: prefix + 40 hex characters from (seed, counter).
std::string token(std::string_view prefix, std::uint64_t seed, std::uint64_t counter);

http::Response json(int status, const boost::json::value& body);

// The token of "Authorization: Bearer <token>" (scheme case-insensitive); nullopt when absent or another
// scheme.
std::optional<std::string> bearer(const http::Request& request);

template <class T>
std::optional<T> parse_number(std::string_view text) {
    T v{};
    if (text.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}
std::optional<double> parse_double(std::string_view text);

// "a,b,,c" -> {"a","b","c"} (empty items dropped, spaces trimmed).
std::vector<std::string> split_list(std::string_view text);

bool parse_bool(std::string_view text);  // true, 1, yes (case-insensitive)

// A JSON body as an object; nullopt when it is not one (an empty body is an empty object).
std::optional<boost::json::object> body_object(const http::Request& request);

// GET /_control/team: the members with their ids, slugs and tokens (shared by both fakes).
boost::json::value team_json(const FakeTeam& team);

}  // namespace pitwall::fakes::util
