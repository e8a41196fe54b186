#include "apps/common/components.hpp"

#include <cstdio>
#include <filesystem>

namespace pitwall::apps {
namespace {

// The catalog used before the configuration is known (its locales_dir is the default).
const i18n::Catalog* bootstrap_catalog() {
    static const std::optional<i18n::Catalog> catalog = []() -> std::optional<i18n::Catalog> {
        auto loaded = i18n::Catalog::load(Config{}.locales_dir);
        if (!loaded) return std::nullopt;
        return std::move(*loaded);
    }();
    return catalog ? &*catalog : nullptr;
}

std::filesystem::path in_data_dir(const Config& config, const std::string& file) {
    std::filesystem::path p(file);
    return p.is_absolute() ? p : std::filesystem::path(config.data_dir) / p;
}

}  // namespace

std::string describe(const i18n::Catalog* catalog, const Error& error) {
    if (catalog && catalog->has("en", "error." + error.code)) return catalog->error_text("en", error);
    std::string text = error.code;
    for (const auto& [k, v] : error.args) text += " " + k + "=" + v;
    return text;
}

std::optional<Config> load_config_or_report(const std::optional<std::string>& path) {
    auto config = load_config({.file_path = path, .environment = pitwall_environment()});
    if (!config) {
        std::fprintf(stderr, "pitwall: configuration: %s\n",
                     describe(bootstrap_catalog(), config.error()).c_str());
        return std::nullopt;
    }
    return std::move(*config);
}

std::optional<i18n::Catalog> load_catalog_or_report(const Config& config) {
    auto catalog = i18n::Catalog::load(config.locales_dir);
    if (!catalog) {
        std::fprintf(stderr, "pitwall: cannot load message catalogs from %s: %s\n",
                     config.locales_dir.c_str(), catalog.error().detail.c_str());
        return std::nullopt;
    }
    return std::move(*catalog);
}

Result<std::unique_ptr<store::Database>> open_sql(const Config& config) {
    if (config.sql.engine == "postgres")
        return store::open_postgres(
            {.url = config.sql.postgres_url, .pool_size = static_cast<int>(config.sql.pool_size)});
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec)
        return Error(ErrorKind::unavailable, "store.data_dir",
                     {{"path", config.data_dir}, {"reason", ec.message()}});
    return store::open_sqlite({.path = in_data_dir(config, config.sql.sqlite_file).string(),
                               .busy_timeout_ms = static_cast<int>(config.sql.busy_timeout_ms),
                               .readers = static_cast<int>(config.sql.readers)});
}

Result<std::unique_ptr<store::Kv>> open_kv(const Config& config, const Clock& clock) {
    if (config.kv.engine == "redis")
        return store::open_redis_kv(
            {.url = config.kv.redis_url, .pool_size = static_cast<int>(config.kv.pool_size)}, clock);
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec)
        return Error(ErrorKind::unavailable, "store.data_dir",
                     {{"path", config.data_dir}, {"reason", ec.message()}});
    return store::open_embedded_kv({.path = in_data_dir(config, config.kv.embedded_file).string(),
                                    .busy_timeout_ms = static_cast<int>(config.sql.busy_timeout_ms)},
                                   clock);
}

}  // namespace pitwall::apps
