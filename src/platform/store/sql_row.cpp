// Row accessors: a column is read in the type the caller asks for, converting between the engines'
// representations (SQLite may hand back an integer where PostgreSQL hands back numeric text).
#include <charconv>
#include <string>

#include "platform/store/sql.hpp"

namespace pitwall::store {

namespace {

template <typename Number>
Number parse_number(std::string_view text) {
    Number out{};
    std::from_chars(text.data(), text.data() + text.size(), out);
    return out;
}

std::string format_double(double value) {
    char buffer[64];
    return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

}  // namespace

std::int64_t Row::int64(std::size_t i) const {
    const Value& value = values_.at(i);
    if (const auto* v = std::get_if<std::int64_t>(&value)) return *v;
    if (const auto* v = std::get_if<double>(&value)) return static_cast<std::int64_t>(*v);
    if (const auto* v = std::get_if<std::string>(&value)) return parse_number<std::int64_t>(*v);
    return 0;
}

double Row::real(std::size_t i) const {
    const Value& value = values_.at(i);
    if (const auto* v = std::get_if<double>(&value)) return *v;
    if (const auto* v = std::get_if<std::int64_t>(&value)) return static_cast<double>(*v);
    if (const auto* v = std::get_if<std::string>(&value)) return parse_number<double>(*v);
    return 0;
}

std::string Row::text(std::size_t i) const {
    const Value& value = values_.at(i);
    if (const auto* v = std::get_if<std::string>(&value)) return *v;
    if (const auto* v = std::get_if<std::int64_t>(&value)) return std::to_string(*v);
    if (const auto* v = std::get_if<double>(&value)) return format_double(*v);
    if (const auto* v = std::get_if<Blob>(&value)) return v->bytes;
    return {};
}

std::string Row::blob(std::size_t i) const {
    return text(i);
}

std::optional<std::int64_t> Row::opt_int64(std::size_t i) const {
    if (is_null(i)) return std::nullopt;
    return int64(i);
}

std::optional<std::string> Row::opt_text(std::size_t i) const {
    if (is_null(i)) return std::nullopt;
    return text(i);
}

}  // namespace pitwall::store
