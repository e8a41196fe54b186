// Numbered migrations per dialect: migrations/<dialect>/NNNN_name.sql, each applied in its own
// transaction and recorded with a SHA-256 checksum. An applied migration whose file changed stops
// start-up (the schema on disk no longer matches what the code was written against).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::store {

struct MigrationFile {
    int version = 0;
    std::string name;      // "init" for 0001_init.sql
    std::string checksum;  // hex SHA-256 of the file's bytes
    std::string sql;
};

struct MigrationStatus {
    int version = 0;
    std::string name;
    bool applied = false;
    std::string applied_at;  // ISO-8601 UTC, empty when pending
    bool changed = false;    // applied, but the file's checksum differs now
};

// Reads migrations/<dialect>/ (sorted by number; a gap or a duplicate number is an error).
[[nodiscard]] Result<std::vector<MigrationFile>> load_migrations(const std::filesystem::path& root,
                                                                 Dialect dialect);
[[nodiscard]] Result<std::vector<MigrationStatus>> migration_status(Database& db,
                                                                    const std::vector<MigrationFile>& files);
// Applies pending migrations in order; refuses (error "migrate.changed") when an applied one changed.
// Returns how many were applied.
[[nodiscard]] Result<int> migrate(Database& db, const std::vector<MigrationFile>& files);

}  // namespace pitwall::store
