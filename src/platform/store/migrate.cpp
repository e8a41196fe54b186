// Numbered migrations. Each one runs in the same transaction as its bookkeeping row, so a migration
// is either fully applied and recorded or not at all; a transaction-scoped advisory lock (PostgreSQL)
// or the single writer (SQLite) keeps two nodes migrating at once from applying one twice.
#include "platform/store/migrate.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>

#include "core/clock.hpp"
#include "core/encoding.hpp"

namespace pitwall::store {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view create_bookkeeping =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)";
constexpr Statement select_applied{
    "migrate.select_applied", "SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version"};
constexpr Statement select_checksum{"migrate.select_checksum",
                                    "SELECT checksum FROM schema_migrations WHERE version = $1"};
// Serializes migrators until the end of the transaction. SQLite needs no lock: write() already holds
// the only writer. The key is an arbitrary constant that names "Pitwall migrations".
constexpr Statement lock_migrations{"migrate.lock", "SELECT 1", "SELECT pg_advisory_xact_lock(7415746)"};
constexpr Statement insert_applied{
    "migrate.insert_applied",
    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)"};

std::string four_digits(int version) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%04d", version);
    return buffer;
}

Error bad_file(const std::string& file, const std::string& reason) {
    return Error(ErrorKind::internal, "migrate.bad_file", {{"file", file}, {"reason", file + ": " + reason}},
                 file + ": " + reason);
}

Error changed(const MigrationFile& file) {
    return Error(ErrorKind::internal, "migrate.changed",
                 {{"version", four_digits(file.version)}, {"name", file.name}},
                 "migration " + four_digits(file.version) + "_" + file.name +
                     " was applied with another checksum; add a new migration instead of editing it");
}

// "0001_init.sql" -> {1, "init"}; nullopt unless NNNN_name.sql with name in [a-z0-9_].
std::optional<std::pair<int, std::string>> parse_file_name(std::string_view file) {
    constexpr std::string_view suffix = ".sql";
    if (file.size() < 4 + 1 + 1 + suffix.size() || !file.ends_with(suffix) || file[4] != '_')
        return std::nullopt;
    int version = 0;
    for (char c : file.substr(0, 4)) {
        if (c < '0' || c > '9') return std::nullopt;
        version = version * 10 + (c - '0');
    }
    const std::string_view name = file.substr(5, file.size() - 5 - suffix.size());
    const bool valid = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (version == 0 || !valid) return std::nullopt;
    return std::pair{version, std::string(name)};
}

std::string iso8601_utc(std::int64_t epoch_ms) {
    const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buffer;
}

struct Applied {
    std::string checksum;
    std::int64_t applied_at = 0;
};

Result<std::map<int, Applied>> read_applied(Database& db) {
    // Under the lock: two PostgreSQL sessions racing on CREATE TABLE IF NOT EXISTS can both try to create it.
    auto created = db.write([](Connection& c) -> Status {
        if (auto locked = c.execute(lock_migrations); !locked) return std::move(locked).error();
        return c.execute_script(create_bookkeeping);
    });
    if (!created) return std::move(created).error();
    auto rows = db.execute(select_applied);
    if (!rows) return std::move(rows).error();
    std::map<int, Applied> applied;
    for (const auto& row : rows->rows)
        applied[static_cast<int>(row.int64(0))] = Applied{row.text(1), row.int64(2)};
    return applied;
}

}  // namespace

Result<std::vector<MigrationFile>> load_migrations(const fs::path& root, Dialect dialect) {
    const fs::path directory = root / (dialect == Dialect::sqlite ? "sqlite" : "postgres");
    std::error_code error;
    if (!fs::is_directory(directory, error)) return bad_file(directory.string(), "not a directory");

    std::vector<MigrationFile> files;
    for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
        const std::string file_name = it->path().filename().string();
        if (it->path().extension() != ".sql") continue;
        auto parsed = parse_file_name(file_name);
        if (!parsed)
            return bad_file(file_name, "expected NNNN_name.sql (name in a-z, 0-9, _), NNNN from 0001");
        std::ifstream in(it->path(), std::ios::binary);
        std::string sql{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (!in.good() && !in.eof()) return bad_file(file_name, "cannot read");
        std::string checksum = encoding::hex(encoding::sha256(sql));
        files.push_back(
            MigrationFile{parsed->first, std::move(parsed->second), std::move(checksum), std::move(sql)});
    }
    if (error) return bad_file(directory.string(), error.message());

    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
    for (std::size_t i = 0; i < files.size(); ++i) {
        const int expected = static_cast<int>(i) + 1;
        if (files[i].version == expected) continue;
        const auto file = four_digits(files[i].version) + "_" + files[i].name + ".sql";
        if (i > 0 && files[i].version == files[i - 1].version)
            return bad_file(file, "duplicate migration number");
        return bad_file(file, "gap in migration numbers: " + four_digits(expected) + " is missing");
    }
    return files;
}

Result<std::vector<MigrationStatus>> migration_status(Database& db, const std::vector<MigrationFile>& files) {
    auto applied = read_applied(db);
    if (!applied) return std::move(applied).error();
    std::vector<MigrationStatus> out;
    out.reserve(files.size());
    for (const auto& file : files) {
        MigrationStatus status{file.version, file.name};
        if (auto it = applied->find(file.version); it != applied->end()) {
            status.applied = true;
            status.applied_at = iso8601_utc(it->second.applied_at);
            status.changed = it->second.checksum != file.checksum;
        }
        out.push_back(std::move(status));
    }
    return out;
}

Result<int> migrate(Database& db, const std::vector<MigrationFile>& files) {
    auto statuses = migration_status(db, files);
    if (!statuses) return std::move(statuses).error();
    for (std::size_t i = 0; i < files.size(); ++i)
        if ((*statuses)[i].changed) return changed(files[i]);

    int applied = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
        if ((*statuses)[i].applied) continue;
        const MigrationFile& file = files[i];
        bool ran = false;
        auto status = db.write([&](Connection& c) -> Status {
            if (auto locked = c.execute(lock_migrations); !locked) return std::move(locked).error();
            // Another node may have applied it since the status was read.
            auto existing = c.execute(select_checksum, {std::int64_t{file.version}});
            if (!existing) return std::move(existing).error();
            if (!existing->empty()) {
                if (existing->first().text(0) != file.checksum) return changed(file);
                return {};
            }
            if (auto done = c.execute_script(file.sql); !done) return done;
            auto recorded = c.execute(insert_applied, {std::int64_t{file.version}, file.name, file.checksum,
                                                       SystemClock::instance().now_ms()});
            if (!recorded) return std::move(recorded).error();
            ran = true;
            return {};
        });
        if (!status) {
            const Error& error = status.error();
            if (error.code == "migrate.changed") return error;
            return Error(error.kind, "migrate.failed",
                         {{"version", four_digits(file.version)}, {"name", file.name}},
                         "migration " + four_digits(file.version) + "_" + file.name + ": " + error.detail);
        }
        if (ran) ++applied;
    }
    return applied;
}

}  // namespace pitwall::store
