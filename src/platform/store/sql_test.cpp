#include <atomic>
#include <latch>
#include <limits>
#include <thread>

#include <gtest/gtest.h>

#include "platform/store/sql_test_fixture.hpp"

namespace pitwall::store {
namespace {

using SqlTest = DatabaseTest;

constexpr std::string_view create_values_sqlite =
    "CREATE TABLE vals (id INTEGER PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, s TEXT, b BLOB)";
constexpr std::string_view create_values_postgres =
    "CREATE TABLE vals (id INTEGER PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, s TEXT, b BYTEA)";
constexpr Statement insert_values{"test.insert_values",
                                  "INSERT INTO vals (id, i, r, s, b) VALUES ($1, $2, $3, $4, $5)"};
constexpr Statement select_values{"test.select_values", "SELECT id, i, r, s, b FROM vals ORDER BY id"};
constexpr Statement insert_id{"test.insert_id", "INSERT INTO vals (id) VALUES ($1)"};
constexpr Statement count_values{"test.count_values", "SELECT COUNT(*) FROM vals"};

class SqlValuesTest : public SqlTest {
  protected:
    void SetUp() override {
        SqlTest::SetUp();
        script(create_values_sqlite, create_values_postgres);
    }
    std::int64_t count(Database& db) { return must(db.execute(count_values)).first().int64(0); }
    std::int64_t count() { return count(*db_); }
};

TEST_P(SqlValuesTest, RoundTripsEveryValueType) {
    const std::string bytes("\0\xff\x01pit\0wall\xfe", 12);
    const std::int64_t big = std::numeric_limits<std::int64_t>::max();
    const std::int64_t small = std::numeric_limits<std::int64_t>::min();
    const std::string text = "Ğüş – 日本 'quoted' \"double\" \\ $1";
    must(db_->execute(insert_values, {std::int64_t{1}, big, 0.1, text, Blob{bytes}}));
    must(db_->execute(insert_values, {std::int64_t{2}, small, -1.5e300, std::string(), Blob{}}));
    must(db_->execute(insert_values, {std::int64_t{3}, Null{}, Null{}, Null{}, Null{}}));

    const auto result = must(db_->execute(select_values));
    ASSERT_EQ(result.rows.size(), 3u);
    EXPECT_EQ(result.columns, (std::vector<std::string>{"id", "i", "r", "s", "b"}));

    const Row& first = result.rows[0];
    EXPECT_EQ(first.at(0), Value(std::int64_t{1}));
    EXPECT_EQ(first.at(1), Value(big));
    EXPECT_EQ(first.at(2), Value(0.1));
    EXPECT_EQ(first.at(3), Value(text));
    EXPECT_EQ(first.at(4), Value(Blob{bytes}));
    EXPECT_EQ(first.blob(4).size(), 12u);

    const Row& second = result.rows[1];
    EXPECT_EQ(second.at(1), Value(small));
    EXPECT_EQ(second.real(2), -1.5e300);
    EXPECT_EQ(second.at(3), Value(std::string()));
    EXPECT_EQ(second.at(4), Value(Blob{}));

    const Row& nulls = result.rows[2];
    for (std::size_t column = 1; column < 5; ++column) EXPECT_TRUE(nulls.is_null(column)) << column;
    EXPECT_EQ(nulls.int64(1), 0);
    EXPECT_EQ(nulls.opt_int64(1), std::nullopt);
    EXPECT_EQ(nulls.opt_text(3), std::nullopt);
    EXPECT_EQ(first.opt_text(3), text);
}

TEST_P(SqlValuesTest, BindsPlaceholdersByNumberNotPosition) {
    constexpr Statement insert_reordered{"test.insert_reordered",
                                         "INSERT INTO vals (id, s, i) VALUES ($3, $2, $1)"};
    must(db_->execute(insert_reordered, {std::int64_t{42}, std::string("forty-two"), std::int64_t{7}}));
    must(db_->execute(insert_reordered, {std::int64_t{43}, std::string("forty-three"), std::int64_t{8}}));

    const auto rows = must(db_->execute(select_values)).rows;
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].int64(0), 7);
    EXPECT_EQ(rows[0].int64(1), 42);
    EXPECT_EQ(rows[0].text(3), "forty-two");
    EXPECT_EQ(rows[1].int64(0), 8);
    EXPECT_EQ(rows[1].text(3), "forty-three");

    constexpr Statement repeated{"test.repeated", "SELECT COUNT(*) FROM vals WHERE id = $1 OR i = $1"};
    EXPECT_EQ(must(db_->execute(repeated, {std::int64_t{7}})).first().int64(0), 1);
    EXPECT_EQ(must(db_->execute(repeated, {std::int64_t{43}})).first().int64(0), 1);
}

TEST_P(SqlValuesTest, WrongParameterCountIsAnError) {
    auto result = db_->execute(insert_id, {std::int64_t{1}, std::int64_t{2}});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "store.query_failed");
    EXPECT_EQ(count(), 0);
}

TEST_P(SqlValuesTest, ReportsAffectedRows) {
    for (std::int64_t id = 1; id <= 3; ++id) EXPECT_EQ(must(db_->execute(insert_id, {id})).affected, 1);
    constexpr Statement update_all{"test.update_all", "UPDATE vals SET s = $1"};
    EXPECT_EQ(must(db_->execute(update_all, {std::string("x")})).affected, 3);
    constexpr Statement delete_one{"test.delete_one", "DELETE FROM vals WHERE id = $1"};
    EXPECT_EQ(must(db_->execute(delete_one, {std::int64_t{2}})).affected, 1);
    EXPECT_EQ(must(db_->execute(delete_one, {std::int64_t{2}})).affected, 0);
}

TEST_P(SqlValuesTest, WriteRollsBackWhenWorkFails) {
    const Status status = db_->write([&](Connection& c) -> Status {
        must(c.execute(insert_id, {std::int64_t{1}}));
        must(c.execute(insert_id, {std::int64_t{2}}));
        return Error(ErrorKind::conflict, "test.refused");
    });
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, "test.refused");
    EXPECT_EQ(count(), 0);
}

TEST_P(SqlValuesTest, WriteRollsBackAndRethrowsWhenWorkThrows) {
    EXPECT_THROW((void)db_->write([&](Connection& c) -> Status {
        must(c.execute(insert_id, {std::int64_t{1}}));
        throw std::runtime_error("boom");
    }),
                 std::runtime_error);
    EXPECT_EQ(count(), 0);
    // The writer is free again and outside any transaction.
    must(db_->write([&](Connection& c) -> Status {
        return c.execute(insert_id, {std::int64_t{1}}).ok() ? Status() : Error();
    }));
    EXPECT_EQ(count(), 1);
}

TEST_P(SqlValuesTest, WriteCommitsEveryStatement) {
    must(db_->write([&](Connection& c) -> Status {
        for (std::int64_t id = 1; id <= 5; ++id) must(c.execute(insert_id, {id}));
        return {};
    }));
    EXPECT_EQ(count(), 5);
    EXPECT_EQ(count(*open()), 5);  // durable, visible to another handle
}

TEST_P(SqlValuesTest, FailedStatementInsideWriteRollsBackTheWhole) {
    const Status status = db_->write([&](Connection& c) -> Status {
        must(c.execute(insert_id, {std::int64_t{1}}));
        auto duplicate = c.execute(insert_id, {std::int64_t{1}});
        if (!duplicate) return std::move(duplicate).error();
        return {};
    });
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, "store.constraint");
    EXPECT_EQ(count(), 0);
}

TEST_P(SqlValuesTest, ReadRefusesWrites) {
    const Status status = db_->read([&](Connection& c) -> Status {
        auto inserted = c.execute(insert_id, {std::int64_t{1}});
        if (!inserted) return std::move(inserted).error();
        return {};
    });
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, "store.query_failed");
    EXPECT_EQ(count(), 0);
}

TEST_P(SqlValuesTest, ReadersDoNotSeeUncommittedWork) {
    std::latch inserted(1);
    std::latch looked(1);
    std::thread writer([&] {
        (void)db_->write([&](Connection& c) -> Status {
            auto result = c.execute(insert_id, {std::int64_t{1}});
            inserted.count_down();
            looked.wait();
            return result ? Status() : Status(std::move(result).error());
        });
    });
    inserted.wait();
    auto during = db_->execute(count_values);
    looked.count_down();
    writer.join();

    ASSERT_TRUE(during.ok()) << describe(during.error());
    EXPECT_EQ(during->first().int64(0), 0);
    EXPECT_EQ(count(), 1);
}

TEST_P(SqlValuesTest, ReadSeesOneSnapshot) {
    std::int64_t before = -1;
    std::int64_t after = -1;
    must(db_->read([&](Connection& c) -> Status {
        before = must(c.execute(count_values)).first().int64(0);
        // Committed by another thread while this read is open.
        std::thread([&] { must(db_->execute(insert_id, {std::int64_t{1}})); }).join();
        after = must(c.execute(count_values)).first().int64(0);
        return {};
    }));
    EXPECT_EQ(before, 0);
    EXPECT_EQ(after, 0);
    EXPECT_EQ(count(), 1);  // a new read sees the commit
}

TEST_P(SqlValuesTest, ConcurrentWritersAllLand) {
    script(
        "CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO counter VALUES (1, "
        "0)");
    constexpr Statement bump{"test.bump", "UPDATE counter SET n = n + 1 WHERE id = 1"};
    constexpr Statement read_counter{"test.read_counter", "SELECT n FROM counter WHERE id = 1"};
    constexpr int threads = 8;
    constexpr int rounds = 50;
    std::atomic<int> failures = 0;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
            for (int r = 0; r < rounds; ++r) {
                const Status status = db_->write([&](Connection& c) -> Status {
                    auto bumped = c.execute(bump);
                    if (!bumped) return std::move(bumped).error();
                    auto row = c.execute(insert_id, {std::int64_t{t * rounds + r + 1}});
                    if (!row) return std::move(row).error();
                    return {};
                });
                if (!status) ++failures;
            }
        });
    for (auto& worker : workers) worker.join();
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(must(db_->execute(read_counter)).first().int64(0), threads * rounds);
    EXPECT_EQ(count(), threads * rounds);
}

TEST_P(SqlValuesTest, BusyStoreTimesOutAsUnavailable) {
    db_ = open(100, 1);
    std::latch holding(1);
    std::latch release(1);
    std::thread holder([&] {
        (void)db_->write([&](Connection&) -> Status {
            holding.count_down();
            release.wait();
            return {};
        });
    });
    holding.wait();
    const Status blocked = db_->write([](Connection&) -> Status { return {}; });
    release.count_down();
    holder.join();
    ASSERT_FALSE(blocked.ok());
    EXPECT_EQ(blocked.error().code, "store.unavailable");
    EXPECT_EQ(blocked.error().kind, ErrorKind::unavailable);
    must(db_->write([](Connection&) -> Status { return {}; }));
}

TEST_P(SqlValuesTest, QueryFailureNamesTheStatementNotTheValues) {
    constexpr Statement broken{"test.broken_query", "SELECT nope FROM missing_table WHERE x = $1"};
    auto result = db_->execute(broken, {std::string("secret-value-123")});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "store.query_failed");
    EXPECT_EQ(result.error().kind, ErrorKind::internal);
    EXPECT_NE(result.error().detail.find("test.broken_query"), std::string::npos) << result.error().detail;
    EXPECT_EQ(result.error().detail.find("secret"), std::string::npos) << result.error().detail;
}

TEST_P(SqlValuesTest, ReusingANameForOtherSqlIsRefused) {
    must(db_->execute(count_values));
    constexpr Statement impostor{"test.count_values", "SELECT 1"};
    auto result = db_->execute(impostor);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "store.query_failed");
}

TEST_P(SqlValuesTest, CountsStatementsTransactionsAndErrors) {
    const SqlStats before = db_->stats();
    must(db_->execute(insert_id, {std::int64_t{1}}));
    must(db_->write([&](Connection& c) -> Status {
        return c.execute(insert_id, {std::int64_t{2}}).ok() ? Status() : Error();
    }));
    (void)db_->execute(insert_id, {std::int64_t{1}});
    const SqlStats after = db_->stats();
    EXPECT_EQ(after.statements - before.statements, 3u);
    EXPECT_EQ(after.transactions - before.transactions, 1u);
    EXPECT_EQ(after.errors - before.errors, 1u);
    must(db_->ping());
}

TEST_P(SqlTest, ConstraintViolationsAreConflicts) {
    script(
        "CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
        "CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents (id))");
    constexpr Statement insert_parent{"test.insert_parent", "INSERT INTO parents (id, name) VALUES ($1, $2)"};
    constexpr Statement insert_child{"test.insert_child",
                                     "INSERT INTO children (id, parent_id) VALUES ($1, $2)"};
    must(db_->execute(insert_parent, {std::int64_t{1}, std::string("a")}));

    const auto expect_constraint = [](const Result<ResultSet>& result, std::string_view what) {
        ASSERT_FALSE(result.ok()) << what;
        EXPECT_EQ(result.error().code, "store.constraint") << what << ": " << describe(result.error());
        EXPECT_EQ(result.error().kind, ErrorKind::conflict) << what;
    };
    expect_constraint(db_->execute(insert_parent, {std::int64_t{1}, std::string("b")}), "primary key");
    expect_constraint(db_->execute(insert_parent, {std::int64_t{2}, std::string("a")}), "unique");
    expect_constraint(db_->execute(insert_parent, {std::int64_t{3}, Null{}}), "not null");
    expect_constraint(db_->execute(insert_child, {std::int64_t{1}, std::int64_t{99}}), "foreign key");
    must(db_->execute(insert_child, {std::int64_t{1}, std::int64_t{1}}));
}

TEST_P(SqlTest, UnreachableDatabaseIsUnavailable) {
    Result<std::unique_ptr<Database>> db = Error();
    if (dialect() == Dialect::sqlite) {
        db = open_sqlite({(dir_.path() / "missing-dir" / "test.db").string()});
    } else {
        const int port = test_support::free_tcp_port();
        db = open_postgres({"postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/pitwall", 1, 2});
    }
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.error().code, "store.unavailable");
    EXPECT_EQ(db.error().kind, ErrorKind::unavailable);
}

INSTANTIATE_TEST_SUITE_P(Engines, SqlTest, ::testing::Values(Dialect::sqlite, Dialect::postgres),
                         dialect_name);
INSTANTIATE_TEST_SUITE_P(Engines, SqlValuesTest, ::testing::Values(Dialect::sqlite, Dialect::postgres),
                         dialect_name);

TEST(SqliteTest, RefusesInMemoryDatabases) {
    auto db = open_sqlite({":memory:"});
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.error().code, "store.unavailable");
}

TEST(SqliteTest, UsesWriteAheadLogAndForeignKeys) {
    test_support::TempDir dir("pitwall-sql");
    auto db = must(open_sqlite({(dir.path() / "test.db").string()}));
    constexpr Statement journal{"test.journal", "PRAGMA journal_mode"};
    constexpr Statement foreign_keys{"test.foreign_keys", "PRAGMA foreign_keys"};
    EXPECT_EQ(must(db->execute(journal)).first().text(0), "wal");
    EXPECT_EQ(must(db->execute(foreign_keys)).first().int64(0), 1);
}

TEST_P(SqlTest, UsesThePostgresTextOnPostgres) {
    constexpr Statement which{"test.which", "SELECT 'portable'", "SELECT 'postgres'"};
    EXPECT_EQ(must(db_->execute(which)).first().text(0),
              dialect() == Dialect::sqlite ? "portable" : "postgres");
}

class PostgresTest : public DatabaseFixture {
  protected:
    PostgresTest() : DatabaseFixture(Dialect::postgres) {}
};

TEST_F(PostgresTest, ConvertsColumnsByType) {
    constexpr Statement typed{
        "test.typed",
        "SELECT true, false, CAST(7 AS SMALLINT), CAST(2.5 AS NUMERIC), CAST(0.5 AS REAL), "
        "CAST('2024-01-02' AS DATE)"};
    const Row row = must(db_->execute(typed)).first();
    EXPECT_EQ(row.at(0), Value(std::int64_t{1}));
    EXPECT_EQ(row.at(1), Value(std::int64_t{0}));
    EXPECT_EQ(row.at(2), Value(std::int64_t{7}));
    EXPECT_EQ(row.at(3), Value(2.5));
    EXPECT_EQ(row.at(4), Value(0.5));
    EXPECT_EQ(row.at(5), Value(std::string("2024-01-02")));
}

TEST_F(PostgresTest, BrokenConnectionIsReplaced) {
    db_ = open(5000, 1);
    constexpr Statement backend_pid{"test.backend_pid", "SELECT pg_backend_pid()"};
    const std::string pid = std::to_string(must(db_->execute(backend_pid)).first().int64(0));
    auto& cluster = test_support::shared_postgres();
    cluster.execute("SELECT pg_terminate_backend(" + pid + ")");
    for (int i = 0;
         i < 500 && cluster.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = " + pid) != "0"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));

    auto failed = db_->execute(backend_pid);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code, "store.unavailable") << describe(failed.error());
    EXPECT_NE(std::to_string(must(db_->execute(backend_pid)).first().int64(0)), pid);
}

TEST_F(PostgresTest, DataExceptionsDoNotEchoValues) {
    constexpr Statement cast{"test.cast", "SELECT CAST($1 AS BIGINT)"};
    auto result = db_->execute(cast, {std::string("secret-42x")});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "store.query_failed");
    EXPECT_NE(result.error().detail.find("test.cast"), std::string::npos) << result.error().detail;
    EXPECT_EQ(result.error().detail.find("secret"), std::string::npos) << result.error().detail;
}

TEST_F(PostgresTest, IgnoredFailureInsideWriteIsNotReportedAsCommitted) {
    script("CREATE TABLE items (id INTEGER PRIMARY KEY)");
    constexpr Statement insert_item{"test.insert_item", "INSERT INTO items (id) VALUES ($1)"};
    const Status status = db_->write([&](Connection& c) -> Status {
        must(c.execute(insert_item, {std::int64_t{1}}));
        (void)c.execute(insert_item, {std::int64_t{1}});  // fails; PostgreSQL aborts the transaction
        return {};
    });
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, "store.query_failed");
    constexpr Statement count_items{"test.count_items", "SELECT COUNT(*) FROM items"};
    EXPECT_EQ(must(db_->execute(count_items)).first().int64(0), 0);
}

}  // namespace
}  // namespace pitwall::store
