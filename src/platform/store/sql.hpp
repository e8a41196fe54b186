// The relational store: one interface, two engines (SQLite embedded, PostgreSQL 15).
//
// SQL lives in named Statements (constants next to the code that uses them), prepared once per
// connection and executed with bound parameters only. Placeholders are written $1, $2, ... for both
// dialects; a Statement may carry a PostgreSQL-specific text where the dialects differ.
// No sqlite3/libpq type appears here: features see only this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace pitwall::store {

enum class Dialect { sqlite, postgres };

struct Statement {
    std::string_view name;      // unique, used as the prepared-statement name
    std::string_view sql;       // portable text with $N placeholders
    std::string_view postgres;  // optional PostgreSQL-only text (empty: use sql)

    [[nodiscard]] std::string_view text(Dialect d) const {
        return d == Dialect::postgres && !postgres.empty() ? postgres : sql;
    }
};

struct Blob {
    std::string bytes;
    bool operator==(const Blob&) const = default;
};
struct Null {
    bool operator==(const Null&) const = default;
};

// A bound parameter or a column value.
using Value = std::variant<Null, std::int64_t, double, std::string, Blob>;

class Row {
  public:
    explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
    [[nodiscard]] std::size_t size() const { return values_.size(); }
    [[nodiscard]] bool is_null(std::size_t i) const { return std::holds_alternative<Null>(values_.at(i)); }
    [[nodiscard]] std::int64_t int64(std::size_t i) const;  // 0 for NULL
    [[nodiscard]] double real(std::size_t i) const;         // 0 for NULL
    [[nodiscard]] std::string text(std::size_t i) const;    // "" for NULL
    [[nodiscard]] std::string blob(std::size_t i) const;    // bytes of a BLOB/BYTEA (or text)
    [[nodiscard]] std::optional<std::int64_t> opt_int64(std::size_t i) const;
    [[nodiscard]] std::optional<std::string> opt_text(std::size_t i) const;
    [[nodiscard]] const Value& at(std::size_t i) const { return values_.at(i); }

  private:
    std::vector<Value> values_;
};

struct ResultSet {
    std::vector<std::string> columns;
    std::vector<Row> rows;
    std::int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE

    [[nodiscard]] bool empty() const { return rows.empty(); }
    [[nodiscard]] const Row& first() const { return rows.front(); }
};

using Params = std::initializer_list<Value>;

// One connection, used by one thread at a time (leased from the Database).
class Connection {
  public:
    virtual ~Connection() = default;
    [[nodiscard]] virtual Result<ResultSet> execute(const Statement& statement,
                                                    std::span<const Value> params) = 0;
    [[nodiscard]] Result<ResultSet> execute(const Statement& statement, Params params = {}) {
        return execute(statement, std::span<const Value>(params.begin(), params.size()));
    }
    // Runs a script of several statements without parameters (migrations only).
    [[nodiscard]] virtual Status execute_script(std::string_view sql) = 0;
    [[nodiscard]] virtual Dialect dialect() const = 0;
};

struct SqlStats {
    std::uint64_t statements = 0;
    std::uint64_t transactions = 0;
    std::uint64_t errors = 0;
};

class Database {
  public:
    virtual ~Database() = default;

    // Runs `work` inside one transaction on the writer (SQLite: the single writer connection;
    // PostgreSQL: a pooled connection). Committed when `work` returns ok, rolled back otherwise
    // (also when it throws), so a failure never leaves a partial write.
    // Return the error of a failed statement: PostgreSQL cannot continue a transaction after one.
    // SQLite serializes writers; PostgreSQL runs READ COMMITTED, so a read-modify-write there needs
    // a single UPDATE or SELECT ... FOR UPDATE (in Statement::postgres).
    // `work` must use the Connection it is given: calling back into this Database would wait for itself.
    [[nodiscard]] virtual Status write(const std::function<Status(Connection&)>& work) = 0;
    // Runs `work` on a reader connection in one read-only transaction (one consistent snapshot).
    [[nodiscard]] virtual Status read(const std::function<Status(Connection&)>& work) = 0;

    // One statement, auto-committed (reads go to a reader, writes to the writer).
    [[nodiscard]] virtual Result<ResultSet> execute(const Statement& statement,
                                                    std::span<const Value> params) = 0;
    [[nodiscard]] Result<ResultSet> execute(const Statement& statement, Params params = {}) {
        return execute(statement, std::span<const Value>(params.begin(), params.size()));
    }

    [[nodiscard]] virtual Dialect dialect() const = 0;
    [[nodiscard]] virtual Status ping() = 0;  // for /readyz and `pitwall doctor`
    [[nodiscard]] virtual SqlStats stats() const = 0;
};

struct SqliteOptions {
    std::string path;            // file path; ":memory:" is refused (readers would not share it)
    int busy_timeout_ms = 5000;  // also the longest wait for the writer or a free reader
    int readers = 4;
};
struct PostgresOptions {
    std::string url;  // libpq connection URI
    int pool_size = 4;
    int connect_timeout_s = 5;
    int acquire_timeout_ms = 5000;  // longest wait for a free pooled connection
};

[[nodiscard]] Result<std::unique_ptr<Database>> open_sqlite(const SqliteOptions& options);
[[nodiscard]] Result<std::unique_ptr<Database>> open_postgres(const PostgresOptions& options);

}  // namespace pitwall::store
