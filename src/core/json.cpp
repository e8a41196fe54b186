#include "core/json.hpp"

#include <charconv>
#include <cmath>

#include <boost/json.hpp>

namespace pitwall::json {

std::string text(const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (!v) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64()) return std::to_string(v->get_int64());
    if (v->is_uint64()) return std::to_string(v->get_uint64());
    return {};
}

std::optional<std::int64_t> integer(const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) {
        if (v->get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
        return static_cast<std::int64_t>(v->get_uint64());
    }
    if (v->is_double()) {
        const double d = v->get_double();
        if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) > 9.0e15) return std::nullopt;
        return static_cast<std::int64_t>(d);
    }
    if (v->is_string()) {
        const auto s = v->get_string();
        std::int64_t out = 0;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
        return out;
    }
    return std::nullopt;
}

std::int64_t integer_or(const boost::json::object& o, std::string_view name, std::int64_t fallback) {
    return integer(o, name).value_or(fallback);
}

std::optional<double> number(const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (!v) return std::nullopt;
    if (v->is_double()) return std::isfinite(v->get_double()) ? std::optional(v->get_double()) : std::nullopt;
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    return std::nullopt;
}

bool boolean_or(const boost::json::object& o, std::string_view name, bool fallback) {
    const auto* v = o.if_contains(name);
    return v && v->is_bool() ? v->get_bool() : fallback;
}

const boost::json::object* object(const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    return v && v->is_object() ? &v->get_object() : nullptr;
}

const boost::json::array* array(const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    return v && v->is_array() ? &v->get_array() : nullptr;
}

Result<boost::json::value> parse(std::string_view text, std::string code, ErrorKind kind) {
    boost::system::error_code ec;
    auto value = boost::json::parse(text, ec);
    if (ec) return Error(kind, std::move(code), {}, "not JSON: " + ec.message());
    return value;
}

}  // namespace pitwall::json
