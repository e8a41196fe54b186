// Tolerant readers for JSON from other systems (providers, iRacing, Garage61, Discord). Upstream
// schemas drift every season, so a missing field or a field of an unexpected type reads as "absent"
// instead of failing the whole answer; callers decide which fields they cannot do without.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "core/result.hpp"

namespace pitwall::json {

// Strings as they are; integers as decimal text (ids arrive as either); anything else: empty.
[[nodiscard]] std::string text(const boost::json::object& o, std::string_view name);
// Integers, and doubles without a fraction, and decimal strings ("926270"); otherwise nullopt.
[[nodiscard]] std::optional<std::int64_t> integer(const boost::json::object& o, std::string_view name);
[[nodiscard]] std::int64_t integer_or(const boost::json::object& o, std::string_view name,
                                      std::int64_t fallback);
[[nodiscard]] std::optional<double> number(const boost::json::object& o, std::string_view name);
[[nodiscard]] bool boolean_or(const boost::json::object& o, std::string_view name, bool fallback);
[[nodiscard]] const boost::json::object* object(const boost::json::object& o, std::string_view name);
[[nodiscard]] const boost::json::array* array(const boost::json::object& o, std::string_view name);

// Parses `text`; error `code` (kind invalid_input unless given) when it is not JSON.
[[nodiscard]] Result<boost::json::value> parse(std::string_view text, std::string code,
                                               ErrorKind kind = ErrorKind::invalid_input);

}  // namespace pitwall::json
