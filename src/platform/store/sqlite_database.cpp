// The SQLite engine: one writer connection behind a mutex (SQLite allows one writer at a time, so
// queueing in-process is cheaper than spinning on SQLITE_BUSY) and a pool of read-only connections
// that run beside it thanks to WAL.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <sqlite3.h>

#include "platform/store/errors.hpp"
#include "platform/store/sql.hpp"
#include "platform/store/sql_counters.hpp"

namespace pitwall::store {

namespace {

struct DatabaseCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using DatabaseHandle = std::unique_ptr<sqlite3, DatabaseCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

Error engine_error(int code, std::string detail) {
    switch (code & 0xff) {
        case SQLITE_CONSTRAINT:
            return constraint_violation(std::move(detail));
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return unavailable(std::move(detail));
        default:
            return query_failed(std::move(detail));
    }
}

Value column_value(sqlite3_stmt* statement, int column) {
    switch (sqlite3_column_type(statement, column)) {
        case SQLITE_INTEGER:
            return std::int64_t{sqlite3_column_int64(statement, column)};
        case SQLITE_FLOAT:
            return sqlite3_column_double(statement, column);
        case SQLITE_TEXT: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
            return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, column)));
        }
        case SQLITE_BLOB: {
            const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement, column));
            const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, column));
            return Blob{size == 0 ? std::string() : std::string(bytes, size)};
        }
        default:
            return Null{};
    }
}

class SqliteConnection final : public Connection {
  public:
    SqliteConnection(DatabaseHandle db, SqlCounters& counters) : db_(std::move(db)), counters_(counters) {}

    static Result<std::unique_ptr<SqliteConnection>> open(const SqliteOptions& options, bool writer,
                                                          SqlCounters& counters) {
        const int flags = (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) |
                          SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
        sqlite3* raw = nullptr;
        const int code = sqlite3_open_v2(options.path.c_str(), &raw, flags, nullptr);
        DatabaseHandle db(raw);
        if (code != SQLITE_OK)
            return unavailable("cannot open SQLite file " + options.path + ": " +
                               (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(code)));
        sqlite3_busy_timeout(raw, options.busy_timeout_ms);
        auto connection = std::make_unique<SqliteConnection>(std::move(db), counters);
        if (writer) {
            // WAL lets the readers run while the writer commits; NORMAL is durable across application
            // crashes in WAL mode and loses at most the last commits on power loss.
            if (auto status = connection->run("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !status)
                return unavailable("cannot set up SQLite file " + options.path + ": " +
                                   status.error().detail);
            if (connection->journal_mode() != "wal")
                return unavailable("SQLite file " + options.path + " refuses WAL mode");
        }
        if (auto status = connection->run("PRAGMA foreign_keys=ON;"); !status)
            return std::move(status).error();
        return connection;
    }

    Result<ResultSet> execute(const Statement& statement, std::span<const Value> params) override {
        ++counters_.statements;
        auto result = run_statement(statement, params);
        if (!result) ++counters_.errors;
        return result;
    }

    Status execute_script(std::string_view sql) override { return run(std::string(sql).c_str()); }

    [[nodiscard]] Dialect dialect() const override { return Dialect::sqlite; }

    // Runs parameterless SQL (transaction control, pragmas, scripts).
    Status run(const char* sql) {
        char* message = nullptr;
        const int code = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message);
        if (code == SQLITE_OK) return {};
        ++counters_.errors;
        std::string detail = message ? message : sqlite3_errstr(code);
        sqlite3_free(message);
        return engine_error(code, std::move(detail));
    }

    [[nodiscard]] bool in_transaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

    // A statement's handle, prepared on first use and kept for the life of the connection.
    Result<sqlite3_stmt*> prepare(const Statement& statement) {
        if (auto it = cache_.find(statement.name); it != cache_.end()) {
            if (it->second.sql != statement.sql)
                return query_failed(std::string(statement.name) + ": name reused for different SQL");
            return it->second.handle.get();
        }
        sqlite3_stmt* raw = nullptr;
        const char* tail = nullptr;
        const int code =
            sqlite3_prepare_v3(db_.get(), statement.sql.data(), static_cast<int>(statement.sql.size()),
                               SQLITE_PREPARE_PERSISTENT, &raw, &tail);
        StatementHandle handle(raw);
        if (code != SQLITE_OK) return statement_error(statement, code);
        if (!handle) return query_failed(std::string(statement.name) + ": empty statement");
        const std::string_view rest(tail, statement.sql.data() + statement.sql.size() - tail);
        if (rest.find_first_not_of(" \t\r\n") != std::string_view::npos)
            return query_failed(std::string(statement.name) + ": more than one statement");
        cache_.emplace(std::string(statement.name), Cached{std::string(statement.sql), std::move(handle)});
        return raw;
    }

  private:
    struct Cached {
        std::string sql;
        StatementHandle handle;
    };

    Error statement_error(const Statement& statement, int code) {
        return engine_error(code, std::string(statement.name) + ": " + sqlite3_errmsg(db_.get()));
    }

    std::string journal_mode() {
        std::string mode;
        sqlite3_exec(
            db_.get(), "PRAGMA journal_mode;",
            [](void* out, int, char** values, char**) {
                *static_cast<std::string*>(out) = values[0] ? values[0] : "";
                return 0;
            },
            &mode, nullptr);
        return mode;
    }

    Result<ResultSet> run_statement(const Statement& statement, std::span<const Value> params) {
        auto prepared = prepare(statement);
        if (!prepared) return std::move(prepared).error();
        sqlite3_stmt* handle = *prepared;
        // Leaves the cached statement clean for the next use, whatever happens below.
        struct Reset {
            sqlite3_stmt* handle;
            ~Reset() {
                sqlite3_reset(handle);
                sqlite3_clear_bindings(handle);
            }
        } reset{handle};

        if (auto bound = bind(statement, handle, params); !bound) return std::move(bound).error();

        ResultSet out;
        const int columns = sqlite3_column_count(handle);
        for (int c = 0; c < columns; ++c) out.columns.emplace_back(sqlite3_column_name(handle, c));
        int code;
        while ((code = sqlite3_step(handle)) == SQLITE_ROW) {
            std::vector<Value> values;
            values.reserve(static_cast<std::size_t>(columns));
            for (int c = 0; c < columns; ++c) values.push_back(column_value(handle, c));
            out.rows.emplace_back(std::move(values));
        }
        if (code != SQLITE_DONE) return statement_error(statement, code);
        if (!sqlite3_stmt_readonly(handle)) out.affected = sqlite3_changes64(db_.get());
        return out;
    }

    // SQLite sees "$1" as a named parameter whose index follows first appearance, so "$2 ... $1"
    // must be bound by name, not by position.
    Status bind(const Statement& statement, sqlite3_stmt* handle, std::span<const Value> params) {
        if (sqlite3_bind_parameter_count(handle) != static_cast<int>(params.size()))
            return query_failed(std::string(statement.name) + ": expects " +
                                std::to_string(sqlite3_bind_parameter_count(handle)) + " parameters, got " +
                                std::to_string(params.size()));
        for (std::size_t i = 0; i < params.size(); ++i) {
            const std::string placeholder = "$" + std::to_string(i + 1);
            const int index = sqlite3_bind_parameter_index(handle, placeholder.c_str());
            if (index == 0)
                return query_failed(std::string(statement.name) + ": placeholder " + placeholder +
                                    " not found");
            // SQLITE_STATIC: the caller's values outlive the statement's execution, and Reset clears them.
            const int code = std::visit(
                [&](const auto& value) {
                    using T = std::decay_t<decltype(value)>;
                    if constexpr (std::is_same_v<T, Null>) return sqlite3_bind_null(handle, index);
                    if constexpr (std::is_same_v<T, std::int64_t>)
                        return sqlite3_bind_int64(handle, index, value);
                    if constexpr (std::is_same_v<T, double>) return sqlite3_bind_double(handle, index, value);
                    if constexpr (std::is_same_v<T, std::string>)
                        return sqlite3_bind_text64(handle, index, value.data(), value.size(), SQLITE_STATIC,
                                                   SQLITE_UTF8);
                    if constexpr (std::is_same_v<T, Blob>)
                        return sqlite3_bind_blob64(handle, index, value.bytes.data(), value.bytes.size(),
                                                   SQLITE_STATIC);
                },
                params[i]);
            if (code != SQLITE_OK) return statement_error(statement, code);
        }
        return {};
    }

    DatabaseHandle db_;
    SqlCounters& counters_;
    std::unordered_map<std::string, Cached, NameHash, std::equal_to<>> cache_;  // by Statement::name
};

// Runs `work` between `begin` and COMMIT; ROLLBACK when it fails or throws.
Status run_transaction(SqliteConnection& connection, const char* begin,
                       const std::function<Status(Connection&)>& work) {
    if (auto status = connection.run(begin); !status) return status;
    Status result;
    try {
        result = work(connection);
    } catch (...) {
        if (connection.in_transaction()) (void)connection.run("ROLLBACK");
        throw;
    }
    if (result) result = connection.run("COMMIT");
    // Some failures (I/O, a full disk) end the transaction by themselves.
    if (!result && connection.in_transaction()) (void)connection.run("ROLLBACK");
    return result;
}

// Connections handed out one caller at a time; a caller waits at most `wait` for one.
class ConnectionPool {
  public:
    ConnectionPool(std::string role, std::chrono::milliseconds wait, SqlCounters& counters)
        : role_(std::move(role)), wait_(wait), counters_(counters) {}

    // A connection on loan; goes back to the pool when destroyed.
    class Lease {
      public:
        Lease(ConnectionPool* pool, std::unique_ptr<SqliteConnection> connection)
            : pool_(pool), connection_(std::move(connection)) {}
        Lease(Lease&& other) noexcept = default;
        ~Lease() {
            if (connection_) pool_->give_back(std::move(connection_));
        }
        SqliteConnection& operator*() const { return *connection_; }
        SqliteConnection* operator->() const { return connection_.get(); }

      private:
        ConnectionPool* pool_;
        std::unique_ptr<SqliteConnection> connection_;
    };

    void add(std::unique_ptr<SqliteConnection> connection) { idle_.push_back(std::move(connection)); }

    Result<Lease> acquire() {
        std::unique_lock lock(mutex_);
        if (!free_.wait_for(lock, wait_, [&] { return !idle_.empty(); })) {
            ++counters_.errors;
            return unavailable("no SQLite " + role_ + " connection free within " +
                               std::to_string(wait_.count()) + " ms");
        }
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(connection));
    }

  private:
    void give_back(std::unique_ptr<SqliteConnection> connection) {
        {
            std::lock_guard lock(mutex_);
            idle_.push_back(std::move(connection));
        }
        free_.notify_one();
    }

    std::string role_;
    std::chrono::milliseconds wait_;
    SqlCounters& counters_;
    std::mutex mutex_;
    std::condition_variable free_;
    std::vector<std::unique_ptr<SqliteConnection>> idle_;
};

class SqliteDatabase final : public Database {
  public:
    explicit SqliteDatabase(std::chrono::milliseconds wait)
        : writer_("writer", wait, counters_), readers_("reader", wait, counters_) {}

    static Result<std::unique_ptr<Database>> open(const SqliteOptions& options) {
        if (options.path.empty() || options.path == ":memory:" || options.path.starts_with("file:"))
            return unavailable("SQLite needs a file path, got '" + options.path + "'");
        if (options.readers < 1) return unavailable("SQLite needs at least one reader connection");
        auto database = std::make_unique<SqliteDatabase>(std::chrono::milliseconds(options.busy_timeout_ms));
        // The writer first: it creates the file and switches it to WAL before any reader opens it.
        auto writer = SqliteConnection::open(options, true, database->counters_);
        if (!writer) return std::move(writer).error();
        database->writer_.add(std::move(*writer));
        for (int i = 0; i < options.readers; ++i) {
            auto reader = SqliteConnection::open(options, false, database->counters_);
            if (!reader) return std::move(reader).error();
            database->readers_.add(std::move(*reader));
        }
        return std::unique_ptr<Database>(std::move(database));
    }

    Status write(const std::function<Status(Connection&)>& work) override {
        auto writer = writer_.acquire();
        if (!writer) return std::move(writer).error();
        // IMMEDIATE takes the write lock up front, so a transaction never fails half-way on upgrade.
        auto status = run_transaction(**writer, "BEGIN IMMEDIATE", work);
        if (status) ++counters_.transactions;
        return status;
    }

    Status read(const std::function<Status(Connection&)>& work) override {
        auto reader = readers_.acquire();
        if (!reader) return std::move(reader).error();
        // One read transaction: every statement of `work` sees the same snapshot.
        return run_transaction(**reader, "BEGIN", work);
    }

    Result<ResultSet> execute(const Statement& statement, std::span<const Value> params) override {
        {
            auto reader = readers_.acquire();
            if (!reader) return std::move(reader).error();
            auto prepared = (*reader)->prepare(statement);
            if (!prepared) {
                ++counters_.errors;
                return std::move(prepared).error();
            }
            if (sqlite3_stmt_readonly(*prepared)) return (*reader)->execute(statement, params);
        }
        auto writer = writer_.acquire();
        if (!writer) return std::move(writer).error();
        return (*writer)->execute(statement, params);
    }

    [[nodiscard]] Dialect dialect() const override { return Dialect::sqlite; }

    Status ping() override {
        auto reader = readers_.acquire();
        if (!reader) return std::move(reader).error();
        return (*reader)->run("SELECT 1");
    }

    [[nodiscard]] SqlStats stats() const override { return counters_.snapshot(); }

  private:
    SqlCounters counters_;   // outlives the connections, which count into it
    ConnectionPool writer_;  // exactly one connection: SQLite has one writer at a time
    ConnectionPool readers_;
};

}  // namespace

Result<std::unique_ptr<Database>> open_sqlite(const SqliteOptions& options) {
    return SqliteDatabase::open(options);
}

}  // namespace pitwall::store
