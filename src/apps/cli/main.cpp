// pitwall: the operator CLI. Talks to the stores directly; each subcommand is wiring around a
// feature or platform function.
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "apps/common/components.hpp"
#include "core/log.hpp"
#include "core/version.hpp"
#include "features/demo/seed.hpp"
#include "features/identity/users.hpp"
#include "platform/store/migrate.hpp"

using namespace pitwall;

namespace {

constexpr store::Statement kGrantRole{
    "cli.grant_role",
    "INSERT INTO users (discord_id, username, site_role, created_at, updated_at) VALUES ($1, $1, $2, $3, $3) "
    "ON CONFLICT (discord_id) DO UPDATE SET site_role = excluded.site_role, updated_at = "
    "excluded.updated_at"};
constexpr store::Statement kSqliteBackup{"cli.backup", "VACUUM INTO $1"};

int report(const i18n::Catalog* catalog, const Error& error) {
    std::fprintf(stderr, "pitwall: %s\n", apps::describe(catalog, error).c_str());
    return apps::kExitFailure;
}

int run_migrate(const Config& config, const i18n::Catalog* catalog, bool status_only) {
    auto db = apps::open_sql(config);
    if (!db) return report(catalog, db.error());
    auto files = store::load_migrations(config.sql.migrations_dir, (*db)->dialect());
    if (!files) return report(catalog, files.error());
    if (!status_only) {
        auto applied = store::migrate(**db, *files);
        if (!applied) return report(catalog, applied.error());
        std::printf("applied %d migration(s)\n", *applied);
    }
    auto status = store::migration_status(**db, *files);
    if (!status) return report(catalog, status.error());
    for (const auto& m : *status)
        std::printf("%04d %-32s %s%s\n", m.version, m.name.c_str(),
                    m.applied ? m.applied_at.c_str() : "pending", m.changed ? "  CHANGED" : "");
    return 0;
}

int run_doctor(const Config& config, const i18n::Catalog* catalog) {
    std::printf("pitwall %s\n\n[effective configuration]\n", pitwall::version);
    for (const auto& [key, value] : effective_config(config))
        std::printf("%-30s = %s\n", key.c_str(), value.c_str());
    std::printf("\n[checks]\n");
    int failures = 0;
    auto check = [&](const char* name, const Status& status) {
        std::printf("%-30s %s\n", name,
                    status ? "ok" : ("FAIL: " + apps::describe(catalog, status.error())).c_str());
        if (!status) ++failures;
    };
    auto db = apps::open_sql(config);
    if (db) {
        check("sql", (*db)->ping());
        auto files = store::load_migrations(config.sql.migrations_dir, (*db)->dialect());
        Status migrations_ok;
        if (!files)
            migrations_ok = files.error();
        else if (auto st = store::migration_status(**db, *files); !st)
            migrations_ok = st.error();
        else
            for (const auto& m : *st)
                if (!m.applied || m.changed)
                    migrations_ok =
                        Error(ErrorKind::internal, m.changed ? "migrate.changed" : "migrate.pending",
                              {{"version", std::to_string(m.version)}, {"name", m.name}});
        check("migrations", migrations_ok);
    } else {
        check("sql", db.error());
    }
    auto kv = apps::open_kv(config, SystemClock::instance());
    check("kv", kv ? (*kv)->ping() : Status(kv.error()));
    check("locales",
          catalog ? Status()
                  : Status(Error(ErrorKind::internal, "i18n.bad_catalog", {{"locale", config.locales_dir}})));
    std::error_code ec;
    check("static_dir", std::filesystem::is_directory(config.http.static_dir, ec)
                            ? Status()
                            : Status(Error(ErrorKind::internal, "config.missing_dir",
                                           {{"key", "http.static_dir"}, {"path", config.http.static_dir}})));
    return failures ? apps::kExitFailure : 0;
}

int run_user_grant(const Config& config, const i18n::Catalog* catalog, const std::string& discord_id,
                   const std::string& role) {
    auto db = apps::open_sql(config);
    if (!db) return report(catalog, db.error());
    identity::Users users(**db, SystemClock::instance());
    if (auto s = users.grant(discord_id, *auth::parse_role(role)); !s) return report(catalog, s.error());
    std::printf("%s is now %s\n", discord_id.c_str(), role.c_str());
    return 0;
}

int run_demo_seed(const Config& config, const i18n::Catalog* catalog) {
    auto db = apps::open_sql(config);
    if (!db) return report(catalog, db.error());
    auto seeded = demo::seed_if_empty(**db, SystemClock::instance());
    if (!seeded) return report(catalog, seeded.error());
    std::printf(*seeded ? "seeded %d members\n" : "the database already has members; nothing seeded\n",
                *seeded);
    return 0;
}

int run_backup(const Config& config, const i18n::Catalog* catalog, const std::string& target) {
    if (config.sql.engine != "sqlite") {
        std::fprintf(stderr,
                     "pitwall: backup covers the embedded SQLite store; use pg_dump for PostgreSQL\n");
        return apps::kExitFailure;
    }
    auto db = apps::open_sql(config);
    if (!db) return report(catalog, db.error());
    auto result = (*db)->execute(kSqliteBackup, {target});
    if (!result) return report(catalog, result.error());
    std::printf("backup written to %s\n", target.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"pitwall: operator commands for a Pitwall installation"};
    cli.require_subcommand(1);
    std::optional<std::string> config_path;
    cli.add_option("--config", config_path, "TOML configuration file (default: built-in defaults)");
    cli.set_version_flag("--version", std::string("pitwall ") + pitwall::version);

    auto* migrate = cli.add_subcommand("migrate", "Apply pending database migrations");
    bool status_only = false;
    migrate->add_flag("--status", status_only, "Only show which migrations are applied");

    auto* doctor =
        cli.add_subcommand("doctor", "Print the effective configuration (secrets masked) and check stores");

    auto* user = cli.add_subcommand("user", "Manage members");
    user->require_subcommand(1);
    auto* grant = user->add_subcommand("grant", "Give a member a site role (creates the member if new)");
    std::string discord_id, role;
    grant->add_option("discord-id", discord_id, "Discord user id")->required();
    grant->add_option("role", role, "owner, admin, member or guest")
        ->required()
        ->check(CLI::IsMember({"owner", "admin", "member", "guest"}));

    auto* demo_cmd = cli.add_subcommand("demo", "Demo data");
    demo_cmd->require_subcommand(1);
    auto* seed = demo_cmd->add_subcommand("seed", "Seed the demo team into an empty database");

    auto* backup = cli.add_subcommand("backup", "Write a consistent copy of the SQLite database");
    std::string target;
    backup->add_option("file", target, "Destination file (must not exist)")->required();

    CLI11_PARSE(cli, argc, argv);

    auto config = apps::load_config_or_report(config_path);
    if (!config) return apps::kExitConfig;
    log::setup(config->log.level == "info" ? "warn" : config->log.level, config->log.format);
    auto catalog = apps::load_catalog_or_report(*config);
    const i18n::Catalog* messages = catalog ? &*catalog : nullptr;

    if (*migrate) return run_migrate(*config, messages, status_only);
    if (*doctor) return run_doctor(*config, messages);
    if (*grant) return run_user_grant(*config, messages, discord_id, role);
    if (*seed) return run_demo_seed(*config, messages);
    if (*backup) return run_backup(*config, messages, target);
    return 0;
}
