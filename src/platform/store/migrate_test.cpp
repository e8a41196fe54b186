#include "platform/store/migrate.hpp"

#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "platform/store/sql_test_fixture.hpp"

namespace pitwall::store {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, std::string_view text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

class MigrateTest : public DatabaseTest {
  protected:
    void add(const std::string& file, std::string_view sql) { write_file(dialect_dir() / file, sql); }
    std::vector<MigrationFile> load() { return must(load_migrations(root_, dialect())); }
    fs::path dialect_dir() const { return root_ / (dialect() == Dialect::sqlite ? "sqlite" : "postgres"); }
    bool table_exists(std::string_view table) {
        const std::string sql = "SELECT COUNT(*) FROM " + std::string(table);
        return db_->execute(Statement{sql, sql}).ok();
    }

    fs::path root_ = dir_.path() / "migrations";
};

TEST_P(MigrateTest, RepositoryMigrationsApplyOnceAndBuildTheSchema) {
    const auto files = must(load_migrations(fs::path(PITWALL_SOURCE_DIR) / "migrations", dialect()));
    ASSERT_FALSE(files.empty());
    EXPECT_EQ(files[0].version, 1);
    EXPECT_EQ(files[0].name, "init");
    EXPECT_EQ(files[0].checksum.size(), 64u);
    EXPECT_EQ(must(migrate(*db_, files)), static_cast<int>(files.size()));
    EXPECT_EQ(must(migrate(*db_, files)), 0);

    constexpr Statement insert_user{
        "test.insert_user",
        "INSERT INTO users (discord_id, username, created_at, updated_at) VALUES ($1, $2, $3, $3) "
        "RETURNING id, site_role, locale, time_zone, global_name"};
    const Row user =
        must(db_->execute(insert_user, {std::string("1001"), std::string("ana"), std::int64_t{1}})).first();
    EXPECT_GT(user.int64(0), 0);
    EXPECT_EQ(user.text(1), "guest");
    EXPECT_EQ(user.text(2), "en");
    EXPECT_EQ(user.text(3), "UTC");
    EXPECT_TRUE(user.is_null(4));
    const auto duplicate =
        db_->execute(insert_user, {std::string("1001"), std::string("bob"), std::int64_t{1}});
    ASSERT_FALSE(duplicate.ok());
    EXPECT_EQ(duplicate.error().code, "store.constraint");

    constexpr Statement set_role{"test.set_role", "UPDATE users SET site_role = $1 WHERE id = $2"};
    EXPECT_EQ(must(db_->execute(set_role, {std::string("admin"), user.int64(0)})).affected, 1);
    const auto bad_role = db_->execute(set_role, {std::string("superuser"), user.int64(0)});
    ASSERT_FALSE(bad_role.ok());
    EXPECT_EQ(bad_role.error().code, "store.constraint");

    constexpr Statement insert_audit{"test.insert_audit",
                                     "INSERT INTO audit_log (actor_user_id, action, target, after_json, "
                                     "created_at) VALUES ($1, $2, $3, $4, $5)"};
    must(db_->execute(insert_audit, {user.int64(0), std::string("user.role"), std::string("user:1"),
                                     std::string(R"({"role":"admin"})"), std::int64_t{2}}));
    must(db_->execute(insert_audit, {Null{}, std::string("system.start"), Null{}, Null{}, std::int64_t{3}}));
    const auto orphan =
        db_->execute(insert_audit, {std::int64_t{999}, std::string("x"), Null{}, Null{}, std::int64_t{4}});
    ASSERT_FALSE(orphan.ok());
    EXPECT_EQ(orphan.error().code, "store.constraint");

    constexpr Statement insert_setting{"test.insert_setting",
                                       "INSERT INTO settings (key, value) VALUES ($1, $2)"};
    must(db_->execute(insert_setting, {std::string("team.name"), std::string("Pitwall")}));
    EXPECT_FALSE(db_->execute(insert_setting, {std::string("team.name"), std::string("Other")}).ok());
}

TEST_P(MigrateTest, StatusShowsAppliedAndPending) {
    add("0001_first.sql", "CREATE TABLE first_table (id INTEGER PRIMARY KEY);");
    EXPECT_EQ(must(migrate(*db_, load())), 1);
    add("0002_second.sql", "CREATE TABLE second_table (id INTEGER PRIMARY KEY);");
    const auto files = load();

    const auto before = must(migration_status(*db_, files));
    ASSERT_EQ(before.size(), 2u);
    EXPECT_EQ(before[0].version, 1);
    EXPECT_EQ(before[0].name, "first");
    EXPECT_TRUE(before[0].applied);
    EXPECT_FALSE(before[0].changed);
    EXPECT_THAT(before[0].applied_at,
                ::testing::MatchesRegex(R"(20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z)"));
    EXPECT_EQ(before[1].name, "second");
    EXPECT_FALSE(before[1].applied);
    EXPECT_EQ(before[1].applied_at, "");

    EXPECT_FALSE(table_exists("second_table"));
    EXPECT_EQ(must(migrate(*db_, files)), 1);
    EXPECT_TRUE(table_exists("second_table"));
    const auto after = must(migration_status(*db_, files));
    EXPECT_TRUE(after[1].applied);
}

TEST_P(MigrateTest, ChangedMigrationIsRefused) {
    add("0001_first.sql", "CREATE TABLE first_table (id INTEGER PRIMARY KEY);");
    EXPECT_EQ(must(migrate(*db_, load())), 1);
    add("0001_first.sql", "CREATE TABLE first_table (id INTEGER PRIMARY KEY, extra TEXT);");
    add("0002_second.sql", "CREATE TABLE second_table (id INTEGER PRIMARY KEY);");
    const auto files = load();

    const auto result = migrate(*db_, files);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "migrate.changed");
    EXPECT_EQ(result.error().arg("version"), "0001");
    EXPECT_EQ(result.error().arg("name"), "first");
    EXPECT_FALSE(table_exists("second_table"));  // nothing after the changed one ran
    EXPECT_TRUE(must(migration_status(*db_, files))[0].changed);
}

TEST_P(MigrateTest, FailingMigrationLeavesNothingBehind) {
    add("0001_first.sql", "CREATE TABLE first_table (id INTEGER PRIMARY KEY);");
    add("0002_second.sql",
        "CREATE TABLE second_table (id INTEGER PRIMARY KEY);\nINSERT INTO nowhere VALUES (1);");
    const auto result = migrate(*db_, load());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "migrate.failed");
    EXPECT_EQ(result.error().arg("version"), "0002");
    EXPECT_TRUE(table_exists("first_table"));
    EXPECT_FALSE(table_exists("second_table"));
    const auto status = must(migration_status(*db_, load()));
    EXPECT_TRUE(status[0].applied);
    EXPECT_FALSE(status[1].applied);

    add("0002_second.sql", "CREATE TABLE second_table (id INTEGER PRIMARY KEY);");
    EXPECT_EQ(must(migrate(*db_, load())), 1);
    EXPECT_TRUE(table_exists("second_table"));
}

TEST_P(MigrateTest, ConcurrentMigratorsApplyEachMigrationOnce) {
    for (int i = 1; i <= 5; ++i) {
        const std::string table = "table_" + std::to_string(i);
        add("000" + std::to_string(i) + "_" + table + ".sql",
            "CREATE TABLE " + table + " (id INTEGER PRIMARY KEY);");
    }
    const auto files = load();
    std::vector<std::unique_ptr<Database>> handles;
    for (int i = 0; i < 4; ++i) handles.push_back(open());
    std::vector<Result<int>> results(handles.size(), Error());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < handles.size(); ++i)
        threads.emplace_back([&, i] { results[i] = migrate(*handles[i], files); });
    for (auto& thread : threads) thread.join();

    int applied = 0;
    for (const auto& result : results) {
        ASSERT_TRUE(result.ok()) << describe(result.error());
        applied += *result;
    }
    EXPECT_EQ(applied, 5);
}

INSTANTIATE_TEST_SUITE_P(Engines, MigrateTest, ::testing::Values(Dialect::sqlite, Dialect::postgres),
                         dialect_name);

class MigrationFilesTest : public ::testing::Test {
  protected:
    void add(const std::string& file) { write_file(dir_.path() / "sqlite" / file, "SELECT 1;"); }
    Result<std::vector<MigrationFile>> load() { return load_migrations(dir_.path(), Dialect::sqlite); }
    void expect_bad_file(std::string_view why) {
        const auto files = load();
        ASSERT_FALSE(files.ok()) << why;
        EXPECT_EQ(files.error().code, "migrate.bad_file") << why;
    }
    test_support::TempDir dir_{"pitwall-migrations"};
};

TEST_F(MigrationFilesTest, LoadsInOrderWithChecksums) {
    add("0002_second.sql");
    add("0001_first_one.sql");
    write_file(dir_.path() / "sqlite" / "README.md", "not a migration");
    const auto files = must(load());
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].version, 1);
    EXPECT_EQ(files[0].name, "first_one");
    EXPECT_EQ(files[1].name, "second");
    EXPECT_EQ(files[0].sql, "SELECT 1;");
    // sha256("SELECT 1;")
    EXPECT_EQ(files[0].checksum, "17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a");
}

TEST_F(MigrationFilesTest, RefusesAGap) {
    add("0001_first.sql");
    add("0003_third.sql");
    expect_bad_file("gap");
}

TEST_F(MigrationFilesTest, RefusesADuplicateNumber) {
    add("0001_first.sql");
    add("0001_other.sql");
    expect_bad_file("duplicate");
}

TEST_F(MigrationFilesTest, RefusesBadNames) {
    for (const char* name :
         {"1_short.sql", "0001-dash.sql", "0001_Upper.sql", "0000_zero.sql", "0001_.sql"}) {
        fs::remove_all(dir_.path() / "sqlite");
        add(name);
        expect_bad_file(name);
    }
}

TEST_F(MigrationFilesTest, RefusesAMissingDirectory) {
    expect_bad_file("no sqlite directory");
}

}  // namespace
}  // namespace pitwall::store
