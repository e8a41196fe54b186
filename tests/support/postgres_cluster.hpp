// A throw-away PostgreSQL 15 cluster: initdb in a temp dir, postgres on 127.0.0.1 with a free port,
// fsync off. Runs as the "postgres" user when the tests run as root (the server refuses root).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "process.hpp"
#include "temp_dir.hpp"

namespace pitwall::test_support {

class PostgresCluster {
  public:
    PostgresCluster();   // initdb, start, create database "pitwall"; throws std::runtime_error
    ~PostgresCluster();  // immediate shutdown, then the directory goes
    PostgresCluster(const PostgresCluster&) = delete;
    PostgresCluster& operator=(const PostgresCluster&) = delete;

    [[nodiscard]] int port() const { return port_; }
    // postgresql://postgres@127.0.0.1:PORT/<database>
    [[nodiscard]] std::string url(std::string_view database = "pitwall") const;

    // A new empty schema with a unique name, for one test (far cheaper than a database); returns the
    // name. schema_url() gives a URL whose connections work in it (search_path).
    std::string create_schema();
    [[nodiscard]] std::string schema_url(const std::string& schema) const;
    void drop_schema(const std::string& schema);
    // Runs SQL as the superuser (throws on failure); returns the first value of the first row, if any.
    std::string execute(const std::string& sql, std::string_view database = "postgres");

  private:
    TempDir dir_{"pitwall-pg"};
    int port_ = 0;
    int schemas_created_ = 0;
    std::unique_ptr<ChildProcess> server_;
};

}  // namespace pitwall::test_support
