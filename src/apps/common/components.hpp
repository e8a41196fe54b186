// Wiring shared by the server and the operator CLI: read the configuration, print configuration
// errors as one localized line (exit code 2), open the stores the configuration names.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::apps {

inline constexpr int kExitConfig = 2;
inline constexpr int kExitFailure = 1;

// Loads the configuration from --config (if any) and PITWALL_* variables. On error prints one line
// ("pitwall: configuration: <key>: <reason>") and returns nullopt.
std::optional<Config> load_config_or_report(const std::optional<std::string>& path);

// The catalog from config.locales_dir; nullopt (after reporting) if it cannot be loaded.
std::optional<i18n::Catalog> load_catalog_or_report(const Config& config);

// One line describing an error, in English (operator output).
std::string describe(const i18n::Catalog* catalog, const Error& error);

struct Stores {
    std::unique_ptr<store::Database> sql;
    std::unique_ptr<store::Kv> kv;
};

Result<std::unique_ptr<store::Database>> open_sql(const Config& config);
Result<std::unique_ptr<store::Kv>> open_kv(const Config& config, const Clock& clock);

}  // namespace pitwall::apps
