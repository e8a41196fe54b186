// Message catalogs: locales/<locale>.json, nested objects flattened to dotted keys. Every
// user-visible string and every error message comes from here. Messages are ICU MessageFormat
// patterns with named arguments: `{name}`, `{n, number}`, `{count, plural, one {# lap} other {# laps}}`,
// `{role, select, owner {...} other {...}}`, `{when, date, short}`, `{when, time, short}`.
// Dates are shown in the viewer's time zone. ICU stays inside catalog.cpp.
#pragma once

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace pitwall::i18n {

inline constexpr std::string_view kDefaultTimeZone = "UTC";

// A point in time for `{name, date|time, style}`: milliseconds since the Unix epoch.
struct DateTime {
    std::int64_t epoch_ms = 0;
};

// One message argument: text, a number or a point in time. Built implicitly, so call sites read
// `{{"name", user.name}, {"count", laps}, {"when", DateTime{start_ms}}}`. An argument is adapted
// to how the pattern uses it: text that spells a number works for `plural`/`number` (error
// arguments are text), a number works for `select`, and an unusable value shows as `{name}`.
class Arg {
  public:
    using Value = std::variant<std::string, std::int64_t, double, DateTime>;

    Arg(std::string text) : value_(std::move(text)) {}
    Arg(std::string_view text) : value_(std::string(text)) {}
    Arg(const char* text) : value_(std::string(text ? text : "")) {}
    template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char> && !std::same_as<T, char8_t>) Arg(T number) {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
            if (number > static_cast<T>(std::numeric_limits<std::int64_t>::max())) {
                value_ = static_cast<double>(number);
                return;
            }
        }
        value_ = static_cast<std::int64_t>(number);
    }
    template <std::floating_point T>
    Arg(T number) : value_(static_cast<double>(number)) {}
    Arg(DateTime when) : value_(when) {}

    [[nodiscard]] const Value& value() const { return value_; }

  private:
    Value value_;
};

using Args = std::vector<std::pair<std::string, Arg>>;

struct CompiledMessage;  // catalog.cpp: a pattern compiled by ICU

// Who reads a message: the language and the IANA time zone dates are shown in.
struct Viewer {
    std::string locale = "en";
    std::string time_zone = std::string(kDefaultTimeZone);
};

class Catalog {
  public:
    // Loads every <locale>.json in `dir`; `fallback` must be among them. Every message is compiled
    // here; one ICU refuses is logged once, listed by broken(), and shown as written.
    [[nodiscard]] static Result<Catalog> load(const std::filesystem::path& dir, std::string fallback = "en");
    [[nodiscard]] static Result<Catalog> from_json(const std::map<std::string, std::string>& locale_to_json,
                                                   std::string fallback = "en");

    // The message for `key` in `locale` (falling back to the fallback locale, then to the key itself),
    // with dates in `time_zone` (an IANA name; unknown names mean UTC). Thread-safe.
    [[nodiscard]] std::string text(std::string_view locale, std::string_view key, const Args& args = {},
                                   std::string_view time_zone = kDefaultTimeZone) const;
    [[nodiscard]] std::string text(const Viewer& viewer, std::string_view key, const Args& args = {}) const {
        return text(viewer.locale, key, args, viewer.time_zone);
    }
    // The message of an error: key "error.<code>", its text arguments adapted as described at Arg.
    [[nodiscard]] std::string error_text(std::string_view locale, const Error& error,
                                         std::string_view time_zone = kDefaultTimeZone) const;
    [[nodiscard]] bool has(std::string_view locale, std::string_view key) const;
    // The pattern as written in the catalog, without falling back.
    [[nodiscard]] std::optional<std::string_view> pattern(std::string_view locale,
                                                          std::string_view key) const;
    // "<locale> <key>: <reason>" for every message ICU could not compile.
    [[nodiscard]] const std::vector<std::string>& broken() const { return broken_; }

    // Best supported locale for an Accept-Language header (q-values honoured), else the fallback.
    [[nodiscard]] std::string negotiate(std::string_view accept_language) const;
    [[nodiscard]] bool supports(std::string_view locale) const;
    [[nodiscard]] const std::vector<std::string>& locales() const { return locales_; }
    [[nodiscard]] std::vector<std::string> keys(std::string_view locale) const;
    [[nodiscard]] const std::string& fallback() const { return fallback_; }

  private:
    // Compiled messages are immutable and shared by copies of the catalog.
    std::map<std::string, std::map<std::string, std::shared_ptr<const CompiledMessage>, std::less<>>,
             std::less<>>
        messages_;
    std::vector<std::string> locales_;
    std::vector<std::string> broken_;
    std::string fallback_;
};

// Formats one pattern without a catalog (compiled on every call: for tools and tests). A pattern ICU
// refuses comes back as written; a missing argument shows as `{name}`.
[[nodiscard]] std::string format(std::string_view pattern, const Args& args, const Viewer& viewer = {});

// The names of every argument a pattern uses, at any depth (plural and select branches included),
// sorted and unique; nullopt when the pattern does not parse.
[[nodiscard]] std::optional<std::vector<std::string>> argument_names(std::string_view pattern);

// Locale-aware case mapping (Turkish: i <-> İ, ı <-> I).
[[nodiscard]] std::string upper(std::string_view locale, std::string_view text);
[[nodiscard]] std::string lower(std::string_view locale, std::string_view text);

}  // namespace pitwall::i18n
