#include "core/log.hpp"

#include <atomic>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace pitwall::log {
namespace {

std::atomic<Format> g_format{Format::text};

std::shared_ptr<spdlog::logger>& logger() {
    static std::shared_ptr<spdlog::logger> instance = [] {
        auto l =
            std::make_shared<spdlog::logger>("pitwall", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
        l->set_level(spdlog::level::info);
        l->flush_on(spdlog::level::info);
        return l;
    }();
    return instance;
}

spdlog::level::level_enum to_spdlog(Level level) {
    switch (level) {
        case Level::trace:
            return spdlog::level::trace;
        case Level::debug:
            return spdlog::level::debug;
        case Level::info:
            return spdlog::level::info;
        case Level::warn:
            return spdlog::level::warn;
        case Level::error:
            return spdlog::level::err;
        case Level::off:
            return spdlog::level::off;
    }
    return spdlog::level::info;
}

}  // namespace

void setup(std::string_view level, std::string_view format) {
    auto& l = logger();
    l->set_level(spdlog::level::from_str(std::string(level)));
    g_format = format == "json" ? Format::json : Format::text;
    if (g_format == Format::json) {
        // One JSON object per line; the message part is already JSON (see write/event).
        l->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
    } else {
        l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    }
}

bool enabled(Level level) {
    return logger()->should_log(to_spdlog(level));
}

void write(Level level, std::string_view message) {
    if (g_format == Format::json) {
        logger()->log(to_spdlog(level), "\"msg\":\"{}\"", json_escape(message));
    } else {
        logger()->log(to_spdlog(level), "{}", message);
    }
}

void event(Level level, std::string_view name,
           const std::vector<std::pair<std::string_view, std::string>>& fields) {
    if (!enabled(level)) return;
    std::string line;
    if (g_format == Format::json) {
        line = fmt::format("\"event\":\"{}\"", json_escape(name));
        for (const auto& [k, v] : fields)
            line += fmt::format(",\"{}\":\"{}\"", json_escape(k), json_escape(v));
    } else {
        line = std::string(name);
        for (const auto& [k, v] : fields) {
            bool quote = v.empty() || v.find_first_of(" \"=") != std::string::npos;
            line += fmt::format(" {}={}", k, quote ? "\"" + json_escape(v) + "\"" : v);
        }
    }
    logger()->log(to_spdlog(level), "{}", line);
}

std::string json_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20)
                    out += fmt::format("\\u{:04x}", c);
                else
                    out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace pitwall::log
