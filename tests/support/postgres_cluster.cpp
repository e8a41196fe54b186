#include "postgres_cluster.hpp"

#include <csignal>
#include <filesystem>
#include <pwd.h>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include <libpq-fe.h>

namespace pitwall::test_support {

namespace {

const std::filesystem::path bin_dir = "/usr/lib/postgresql/15/bin";
constexpr const char* service_user = "postgres";

std::string conninfo(int port, std::string_view database) {
    return "host=127.0.0.1 port=" + std::to_string(port) +
           " user=postgres connect_timeout=5 dbname=" + std::string(database);
}

// The data directory must belong to the user the server runs as.
void hand_over(const std::filesystem::path& dir) {
    if (geteuid() != 0) return;
    const passwd* user = getpwnam(service_user);
    if (!user) throw std::runtime_error("no '" + std::string(service_user) + "' user to run PostgreSQL as");
    if (chown(dir.c_str(), user->pw_uid, user->pw_gid) != 0)
        throw std::runtime_error("cannot chown " + dir.string() + " to " + service_user);
}

}  // namespace

PostgresCluster::PostgresCluster() {
    for (const char* tool : {"initdb", "postgres"})
        if (!std::filesystem::exists(bin_dir / tool))
            throw std::runtime_error((bin_dir / tool).string() + " is missing: install postgresql-15");
    hand_over(dir_.path());
    const auto data = dir_.path() / "data";
    const auto log = dir_.path() / "server.log";
    run_checked(SpawnOptions{
        .argv = {(bin_dir / "initdb").string(), "-D", data.string(), "-U", "postgres", "-A", "trust", "-E",
                 "UTF8", "--no-locale", "--no-sync"},
        .log = dir_.path() / "initdb.log",
        .working_dir = dir_.path(),
        .run_as = service_user,
    });

    // The kernel's free port can be taken before the server binds it: try a few.
    for (int attempt = 1; !server_; ++attempt) {
        port_ = free_tcp_port();
        server_ = std::make_unique<ChildProcess>(SpawnOptions{
            .argv = {(bin_dir / "postgres").string(), "-D", data.string(), "-p", std::to_string(port_), "-c",
                     "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir_.path().string(),
                     "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
                     "max_connections=200"},
            .log = log,
            .working_dir = dir_.path(),
            .run_as = service_user,
            .parent_death_signal = SIGQUIT,  // immediate shutdown
        });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (server_->running() && PQping(conninfo(port_, "postgres").c_str()) != PQPING_OK &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (server_->running() && PQping(conninfo(port_, "postgres").c_str()) == PQPING_OK) break;
        server_->stop(SIGQUIT, std::chrono::seconds(5));
        server_.reset();
        if (attempt == 3) throw std::runtime_error("PostgreSQL did not start:\n" + log_tail(log));
    }
    execute("CREATE DATABASE pitwall");
}

PostgresCluster::~PostgresCluster() {
    // SIGQUIT is what `pg_ctl stop -m immediate` sends: no checkpoint, the directory is thrown away.
    if (server_) server_->stop(SIGQUIT, std::chrono::seconds(10));
}

std::string PostgresCluster::url(std::string_view database) const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + std::string(database);
}

std::string PostgresCluster::create_schema() {
    const std::string name = "test_" + std::to_string(++schemas_created_);
    execute("CREATE SCHEMA " + name, "pitwall");
    return name;
}

std::string PostgresCluster::schema_url(const std::string& schema) const {
    return url() + "?options=-csearch_path%3D" + schema;
}

void PostgresCluster::drop_schema(const std::string& schema) {
    execute("DROP SCHEMA " + schema + " CASCADE", "pitwall");
}

std::string PostgresCluster::execute(const std::string& sql, std::string_view database) {
    PGconn* connection = PQconnectdb(conninfo(port_, database).c_str());
    PQsetNoticeProcessor(
        connection, [](void*, const char*) {}, nullptr);  // "drop cascades to ..."
    std::string error;
    std::string value;
    if (PQstatus(connection) != CONNECTION_OK) {
        error = PQerrorMessage(connection);
    } else {
        PGresult* result = PQexec(connection, sql.c_str());
        const auto status = PQresultStatus(result);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
            error = PQresultErrorMessage(result);
        else if (PQntuples(result) > 0 && PQnfields(result) > 0)
            value = PQgetvalue(result, 0, 0);
        PQclear(result);
    }
    PQfinish(connection);
    if (!error.empty()) throw std::runtime_error("PostgreSQL: " + sql + ": " + error);
    return value;
}

}  // namespace pitwall::test_support
