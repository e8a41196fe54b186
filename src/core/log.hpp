// Logging: one process-wide logger (spdlog behind this header), text for humans or JSON lines for
// log shippers. Secrets are never passed here; values that might be secret go through mask().
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace pitwall::log {

enum class Level { trace, debug, info, warn, error, off };
enum class Format { text, json };

void setup(std::string_view level, std::string_view format);
[[nodiscard]] bool enabled(Level level);
void write(Level level, std::string_view message);
// A structured event: JSON object in json format, `event k=v ...` in text format.
void event(Level level, std::string_view name,
           const std::vector<std::pair<std::string_view, std::string>>& fields);

template <typename... Args>
void trace(fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::trace)) write(Level::trace, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::debug)) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::info)) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::warn)) write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::error)) write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

// Escapes a string for a JSON string literal (without the quotes).
std::string json_escape(std::string_view text);

}  // namespace pitwall::log
