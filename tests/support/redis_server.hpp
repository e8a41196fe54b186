// A throw-away redis-server on 127.0.0.1 (random free port, no persistence), stopped when destroyed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "process.hpp"
#include "temp_dir.hpp"

namespace pitwall::test_support {

class RedisServer {
  public:
    // Starts and waits until PING answers; throws std::runtime_error. `extra_args` go to redis-server
    // (e.g. {"--requirepass", "secret"}).
    explicit RedisServer(std::vector<std::string> extra_args = {});
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string url(int db = 0) const;
    void flush_all();  // FLUSHALL: a clean slate for the next test

    // For outage tests: stop, then start again on the same port.
    void stop();
    void start();

  private:
    void start_on(int port);

    std::vector<std::string> extra_args_;
    TempDir dir_{"pitwall-redis"};
    int port_ = 0;
    std::unique_ptr<ChildProcess> process_;
};

}  // namespace pitwall::test_support
