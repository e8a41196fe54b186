// Shared by the SQL and migration tests: the same suite runs against a fresh SQLite file and a fresh
// PostgreSQL schema (one per test, on the executable's throw-away cluster).
#pragma once

#include <ostream>
#include <source_location>
#include <stdexcept>

#include <gtest/gtest.h>

#include "platform/store/sql.hpp"
#include "support/servers.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::store {

inline void PrintTo(const Blob& blob, std::ostream* out) {
    *out << "Blob(" << ::testing::PrintToString(blob.bytes) << ")";
}
inline void PrintTo(const Null&, std::ostream* out) {
    *out << "NULL";
}
inline void PrintTo(Dialect dialect, std::ostream* out) {
    *out << (dialect == Dialect::sqlite ? "sqlite" : "postgres");
}

inline std::string describe(const Error& error) {
    return error.code + " (" + error.detail + ")";
}

// Unwraps a result; a failure throws, and GoogleTest reports the error with the caller's line.
template <typename T>
T must(Result<T> result, std::source_location where = std::source_location::current()) {
    if (!result)
        throw std::runtime_error(std::string(where.file_name()) + ":" + std::to_string(where.line()) + ": " +
                                 describe(result.error()));
    return std::move(result).value();
}
inline void must(Status status, std::source_location where = std::source_location::current()) {
    if (!status)
        throw std::runtime_error(std::string(where.file_name()) + ":" + std::to_string(where.line()) + ": " +
                                 describe(status.error()));
}

inline std::string dialect_name(const ::testing::TestParamInfo<Dialect>& info) {
    return ::testing::PrintToString(info.param);
}

class DatabaseFixture : public ::testing::Test {
  protected:
    explicit DatabaseFixture(Dialect dialect) : dialect_(dialect) {}

    void SetUp() override { db_ = open(); }

    void TearDown() override {
        db_.reset();
        if (!postgres_schema_.empty()) test_support::shared_postgres().drop_schema(postgres_schema_);
    }

    [[nodiscard]] Dialect dialect() const { return dialect_; }

    // A handle on this test's database. `wait_ms` bounds the wait for a connection (SQLite: the busy
    // timeout), `connections` is the reader count (SQLite) or pool size (PostgreSQL).
    std::unique_ptr<Database> open(int wait_ms = 5000, int connections = 4) {
        if (dialect() == Dialect::sqlite)
            return must(open_sqlite({(dir_.path() / "test.db").string(), wait_ms, connections}));
        auto& cluster = test_support::shared_postgres();
        if (postgres_schema_.empty()) postgres_schema_ = cluster.create_schema();
        return must(open_postgres({cluster.schema_url(postgres_schema_), connections, 5, wait_ms}));
    }

    // Runs a script in the dialect of the test.
    void script(std::string_view sqlite, std::string_view postgres) {
        must(db_->write([&](Connection& c) {
            return c.execute_script(dialect() == Dialect::sqlite ? sqlite : postgres);
        }));
    }
    void script(std::string_view portable) { script(portable, portable); }

    Dialect dialect_;
    test_support::TempDir dir_{"pitwall-sql"};
    std::string postgres_schema_;
    std::unique_ptr<Database> db_;
};

// The same suite on every engine: INSTANTIATE_TEST_SUITE_P(..., ::testing::Values(Dialect::sqlite, ...)).
class DatabaseTest : public DatabaseFixture, public ::testing::WithParamInterface<Dialect> {
  protected:
    DatabaseTest() : DatabaseFixture(GetParam()) {}
};

}  // namespace pitwall::store
