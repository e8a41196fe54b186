// The PostgreSQL engine on libpq: a bounded pool of connections opened on demand, each with its own
// prepared statements. Parameters travel as text (bytea in binary), results come back as text and are
// converted by column type.
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include <libpq-fe.h>

#include "platform/store/errors.hpp"
#include "platform/store/sql.hpp"
#include "platform/store/sql_counters.hpp"

namespace pitwall::store {

namespace {

// Type OIDs from the server's pg_type.h, which libpq-dev does not ship.
constexpr Oid bool_oid = 16;
constexpr Oid bytea_oid = 17;
constexpr Oid int8_oid = 20;
constexpr Oid int2_oid = 21;
constexpr Oid int4_oid = 23;
constexpr Oid oid_oid = 26;
constexpr Oid float4_oid = 700;
constexpr Oid float8_oid = 701;
constexpr Oid numeric_oid = 1700;

struct ConnectionCloser {
    void operator()(PGconn* connection) const { PQfinish(connection); }
};
struct ResultCloser {
    void operator()(PGresult* result) const { PQclear(result); }
};
using ConnectionHandle = std::unique_ptr<PGconn, ConnectionCloser>;
using ResultHandle = std::unique_ptr<PGresult, ResultCloser>;

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// Classifies a failure by SQLSTATE. The detail carries the server's primary message only: DETAIL
// lines and data-exception messages quote the offending values.
Error engine_error(PGconn* connection, const PGresult* result, std::string_view what) {
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string_view sqlstate = state ? state : "";
    std::string detail(what);
    if (sqlstate.starts_with("22")) {
        detail += ": data exception";
    } else {
        const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
        detail += ": " + trimmed(primary ? primary : PQerrorMessage(connection));
    }
    if (!sqlstate.empty()) detail += " (SQLSTATE " + std::string(sqlstate) + ")";
    // Class 08 is "connection exception", except 08P01 (protocol violation: a bad parameter count).
    const bool connection_lost =
        (sqlstate.starts_with("08") && sqlstate != "08P01") || sqlstate.starts_with("57P");
    if (PQstatus(connection) != CONNECTION_OK || connection_lost) return unavailable(std::move(detail));
    if (sqlstate.starts_with("23")) return constraint_violation(std::move(detail));
    return query_failed(std::move(detail));
}

template <typename Number>
Number parse_number(const char* text, int length) {
    Number out{};
    std::from_chars(text, text + length, out);
    return out;
}

Value column_value(const PGresult* result, int row, int column) {
    if (PQgetisnull(result, row, column)) return Null{};
    const char* text = PQgetvalue(result, row, column);
    const int length = PQgetlength(result, row, column);
    switch (PQftype(result, column)) {
        case int2_oid:
        case int4_oid:
        case int8_oid:
        case oid_oid:
            return parse_number<std::int64_t>(text, length);
        case float4_oid:
        case float8_oid:
        case numeric_oid:
            return parse_number<double>(text, length);
        case bool_oid:
            return std::int64_t{text[0] == 't' ? 1 : 0};
        case bytea_oid: {
            std::size_t size = 0;
            unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &size);
            if (!bytes) throw std::bad_alloc();
            Blob blob{std::string(reinterpret_cast<const char*>(bytes), size)};
            PQfreemem(bytes);
            return blob;
        }
        default:
            return std::string(text, static_cast<std::size_t>(length));
    }
}

class PostgresConnection final : public Connection {
  public:
    PostgresConnection(ConnectionHandle connection, SqlCounters& counters)
        : connection_(std::move(connection)), counters_(counters) {}

    Result<ResultSet> execute(const Statement& statement, std::span<const Value> params) override {
        ++counters_.statements;
        auto result = run_statement(statement, params);
        if (!result) ++counters_.errors;
        return result;
    }

    Status execute_script(std::string_view sql) override {
        ResultHandle result(PQexec(connection_.get(), std::string(sql).c_str()));
        return check(result.get(), "script");
    }

    [[nodiscard]] Dialect dialect() const override { return Dialect::postgres; }

    // Runs parameterless SQL (transaction control). Returns the command tag, e.g. "COMMIT".
    Result<std::string> run(const char* sql) {
        ResultHandle result(PQexec(connection_.get(), sql));
        if (auto status = check(result.get(), sql); !status) return std::move(status).error();
        return std::string(PQcmdStatus(result.get()));
    }

    // Fit to go back to the pool: connected and outside any transaction.
    [[nodiscard]] bool reusable() const {
        return PQstatus(connection_.get()) == CONNECTION_OK &&
               PQtransactionStatus(connection_.get()) == PQTRANS_IDLE;
    }
    [[nodiscard]] bool in_transaction() const {
        const auto status = PQtransactionStatus(connection_.get());
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
    }

  private:
    Status check(const PGresult* result, std::string_view what) {
        const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
        ++counters_.errors;
        return engine_error(connection_.get(), result, what);
    }

    Status prepare(const Statement& statement) {
        const std::string_view sql = statement.text(Dialect::postgres);
        if (auto it = prepared_.find(statement.name); it != prepared_.end()) {
            if (it->second != sql)
                return query_failed(std::string(statement.name) + ": name reused for different SQL");
            return {};
        }
        std::string name(statement.name);
        // No parameter types: the server infers them from the statement, as it would for literals.
        ResultHandle result(PQprepare(connection_.get(), name.c_str(), std::string(sql).c_str(), 0, nullptr));
        const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
        if (status != PGRES_COMMAND_OK) return engine_error(connection_.get(), result.get(), statement.name);
        prepared_.emplace(std::move(name), std::string(sql));
        return {};
    }

    Result<ResultSet> run_statement(const Statement& statement, std::span<const Value> params) {
        if (auto prepared = prepare(statement); !prepared) return std::move(prepared).error();

        const auto count = params.size();
        std::vector<std::string> texts(count);  // owns the text form of numbers
        std::vector<const char*> values(count, nullptr);
        std::vector<int> lengths(count, 0);
        std::vector<int> formats(count, 0);
        for (std::size_t i = 0; i < count; ++i) {
            std::visit(
                [&](const auto& value) {
                    using T = std::decay_t<decltype(value)>;
                    if constexpr (std::is_same_v<T, std::int64_t>) {
                        texts[i] = std::to_string(value);
                    } else if constexpr (std::is_same_v<T, double>) {
                        char buffer[64];
                        texts[i].assign(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
                    } else if constexpr (std::is_same_v<T, std::string>) {
                        values[i] = value.c_str();
                    } else if constexpr (std::is_same_v<T, Blob>) {
                        // Binary format: bytea's wire form is the bytes themselves, NULs included.
                        values[i] = value.bytes.data();
                        lengths[i] = static_cast<int>(value.bytes.size());
                        formats[i] = 1;
                    }
                },
                params[i]);
            if (!texts[i].empty()) values[i] = texts[i].c_str();
        }

        const std::string name(statement.name);
        ResultHandle result(PQexecPrepared(connection_.get(), name.c_str(), static_cast<int>(count),
                                           values.data(), lengths.data(), formats.data(), 0));
        const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
            return engine_error(connection_.get(), result.get(), statement.name);

        ResultSet out;
        const int columns = PQnfields(result.get());
        const int rows = PQntuples(result.get());
        for (int c = 0; c < columns; ++c) out.columns.emplace_back(PQfname(result.get(), c));
        out.rows.reserve(static_cast<std::size_t>(rows));
        for (int r = 0; r < rows; ++r) {
            std::vector<Value> row;
            row.reserve(static_cast<std::size_t>(columns));
            for (int c = 0; c < columns; ++c) row.push_back(column_value(result.get(), r, c));
            out.rows.emplace_back(std::move(row));
        }
        const std::string_view tuples = PQcmdTuples(result.get());
        std::from_chars(tuples.data(), tuples.data() + tuples.size(), out.affected);
        return out;
    }

    ConnectionHandle connection_;
    SqlCounters& counters_;
    std::unordered_map<std::string, std::string, NameHash, std::equal_to<>> prepared_;  // name -> SQL
};

// Runs `work` between `begin` and COMMIT; ROLLBACK when it fails or throws.
Status run_transaction(PostgresConnection& connection, const char* begin,
                       const std::function<Status(Connection&)>& work) {
    if (auto started = connection.run(begin); !started) return std::move(started).error();
    Status result;
    try {
        result = work(connection);
    } catch (...) {
        if (connection.in_transaction()) (void)connection.run("ROLLBACK");
        throw;
    }
    if (result) {
        // After a failed statement PostgreSQL answers COMMIT with ROLLBACK: the work did not land.
        auto committed = connection.run("COMMIT");
        if (!committed)
            result = std::move(committed).error();
        else if (*committed != "COMMIT")
            result = query_failed("transaction aborted by an earlier failed statement; rolled back");
    }
    if (!result && connection.in_transaction()) (void)connection.run("ROLLBACK");
    return result;
}

class PostgresDatabase final : public Database {
  public:
    explicit PostgresDatabase(PostgresOptions options) : options_(std::move(options)) {}

    static Result<std::unique_ptr<Database>> open(const PostgresOptions& options) {
        if (options.pool_size < 1) return unavailable("PostgreSQL pool_size must be at least 1");
        auto database = std::make_unique<PostgresDatabase>(options);
        // One connection up front, so a wrong URL or password stops start-up instead of the first request.
        auto first = database->connect();
        if (!first) return std::move(first).error();
        database->idle_.push_back(std::move(*first));
        database->open_ = 1;
        return std::unique_ptr<Database>(std::move(database));
    }

    Status write(const std::function<Status(Connection&)>& work) override {
        auto lease = acquire();
        if (!lease) return std::move(lease).error();
        auto status = run_transaction(*lease->connection, "BEGIN", work);
        if (status) ++counters_.transactions;
        return status;
    }

    Status read(const std::function<Status(Connection&)>& work) override {
        auto lease = acquire();
        if (!lease) return std::move(lease).error();
        // One snapshot for every statement of `work`, and no write slips through.
        return run_transaction(*lease->connection, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", work);
    }

    Result<ResultSet> execute(const Statement& statement, std::span<const Value> params) override {
        auto lease = acquire();
        if (!lease) return std::move(lease).error();
        return lease->connection->execute(statement, params);
    }

    [[nodiscard]] Dialect dialect() const override { return Dialect::postgres; }

    Status ping() override {
        auto lease = acquire();
        if (!lease) return std::move(lease).error();
        auto result = lease->connection->run("SELECT 1");
        if (!result) return std::move(result).error();
        return {};
    }

    [[nodiscard]] SqlStats stats() const override { return counters_.snapshot(); }

  private:
    // A connection on loan; back to the pool when destroyed, or closed when it broke.
    struct Lease {
        PostgresDatabase* owner;
        std::unique_ptr<PostgresConnection> connection;

        Lease(PostgresDatabase* o, std::unique_ptr<PostgresConnection> c)
            : owner(o), connection(std::move(c)) {}
        Lease(Lease&& other) noexcept = default;
        ~Lease() {
            if (connection) owner->release(std::move(connection));
        }
    };

    Result<std::unique_ptr<PostgresConnection>> connect() {
        const std::string timeout = std::to_string(options_.connect_timeout_s);
        // Later keywords override what the URL says, so our timeout and encoding always apply.
        const char* keywords[] = {"dbname", "connect_timeout", "client_encoding", nullptr};
        const char* values[] = {options_.url.c_str(), timeout.c_str(), "UTF8", nullptr};
        ConnectionHandle connection(PQconnectdbParams(keywords, values, 1));
        if (!connection) throw std::bad_alloc();
        if (PQstatus(connection.get()) != CONNECTION_OK) {
            ++counters_.errors;
            return unavailable("cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(connection.get())));
        }
        // Notices ("relation already exists, skipping") are not errors; keep them off stderr.
        PQsetNoticeProcessor(
            connection.get(), [](void*, const char*) {}, nullptr);
        return std::make_unique<PostgresConnection>(std::move(connection), counters_);
    }

    Result<Lease> acquire() {
        std::unique_lock lock(mutex_);
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.acquire_timeout_ms);
        while (idle_.empty() && open_ >= options_.pool_size) {
            if (connection_free_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
                open_ >= options_.pool_size) {
                ++counters_.errors;
                return unavailable("no PostgreSQL connection free within " +
                                   std::to_string(options_.acquire_timeout_ms) + " ms");
            }
        }
        if (!idle_.empty()) {
            auto connection = std::move(idle_.back());
            idle_.pop_back();
            return Lease(this, std::move(connection));
        }
        ++open_;  // reserve the slot, then connect without holding the lock
        lock.unlock();
        auto connection = connect();
        if (!connection) {
            discard_slot();
            return std::move(connection).error();
        }
        return Lease(this, std::move(*connection));
    }

    void release(std::unique_ptr<PostgresConnection> connection) {
        if (!connection->reusable()) {
            connection.reset();
            discard_slot();
            return;
        }
        {
            std::lock_guard lock(mutex_);
            idle_.push_back(std::move(connection));
        }
        connection_free_.notify_one();
    }

    void discard_slot() {
        {
            std::lock_guard lock(mutex_);
            --open_;
        }
        connection_free_.notify_one();
    }

    PostgresOptions options_;
    SqlCounters counters_;
    std::mutex mutex_;
    std::condition_variable connection_free_;
    std::vector<std::unique_ptr<PostgresConnection>> idle_;
    int open_ = 0;  // idle plus leased
};

}  // namespace

Result<std::unique_ptr<Database>> open_postgres(const PostgresOptions& options) {
    return PostgresDatabase::open(options);
}

}  // namespace pitwall::store
