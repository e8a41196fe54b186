// Message catalogs: locales/<locale>.json, nested objects flattened to dotted keys. Every
// user-visible string and every error message comes from here. Messages use the MessageFormat
// argument syntax `{name}`; see docs/ARCHITECTURE.md for what the formatter supports.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace pitwall::i18n {

using Args = std::vector<std::pair<std::string, std::string>>;

class Catalog {
  public:
    // Loads every <locale>.json in `dir`; `fallback` must be among them.
    [[nodiscard]] static Result<Catalog> load(const std::filesystem::path& dir, std::string fallback = "en");
    [[nodiscard]] static Result<Catalog> from_json(const std::map<std::string, std::string>& locale_to_json,
                                                   std::string fallback = "en");

    // The message for `key` in `locale` (falling back to the fallback locale, then to the key itself).
    [[nodiscard]] std::string text(std::string_view locale, std::string_view key,
                                   const Args& args = {}) const;
    // The message of an error: key "error.<code>".
    [[nodiscard]] std::string error_text(std::string_view locale, const Error& error) const;
    [[nodiscard]] bool has(std::string_view locale, std::string_view key) const;

    // Best supported locale for an Accept-Language header (q-values honoured), else the fallback.
    [[nodiscard]] std::string negotiate(std::string_view accept_language) const;
    [[nodiscard]] bool supports(std::string_view locale) const;
    [[nodiscard]] const std::vector<std::string>& locales() const { return locales_; }
    [[nodiscard]] std::vector<std::string> keys(std::string_view locale) const;
    [[nodiscard]] const std::string& fallback() const { return fallback_; }

  private:
    std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> messages_;
    std::vector<std::string> locales_;
    std::string fallback_;
};

// Replaces {name} arguments; `{{`/`}}` are not special. Unknown arguments are left as written.
[[nodiscard]] std::string format(std::string_view pattern, const Args& args);

}  // namespace pitwall::i18n
