// Child processes for the throw-away servers the integration tests run against.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace pitwall::test_support {

struct SpawnOptions {
    std::vector<std::string> argv;      // argv[0]: the program, looked up on PATH when relative
    std::filesystem::path log;          // receives stdout and stderr (appended)
    std::filesystem::path working_dir;  // empty: inherit
    std::optional<std::string> run_as;  // drop to this user first (only when running as root)
    int parent_death_signal = 9;        // sent to the child if the test process dies first
    // The child's whole environment as NAME=value entries; nullopt: inherit the test's.
    std::optional<std::vector<std::string>> environment;
};

// A running child. Killed (SIGKILL) and reaped when destroyed if still running.
class ChildProcess {
  public:
    explicit ChildProcess(const SpawnOptions& options);  // throws std::runtime_error
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    [[nodiscard]] bool running();
    // Sends `signal`, waits up to `grace`, then SIGKILL. Returns the wait status.
    int stop(int signal, std::chrono::milliseconds grace);
    int wait();  // blocks; returns the wait status
    // Waits up to `timeout`; nullopt while still running.
    std::optional<int> wait_for(std::chrono::milliseconds timeout);
    [[nodiscard]] pid_t pid() const { return pid_; }

  private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// Runs to completion; throws std::runtime_error (with the log's tail) unless it exits with 0.
void run_checked(const SpawnOptions& options);

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
int free_tcp_port();

// The end of a log file, for error messages.
std::string log_tail(const std::filesystem::path& log, std::size_t bytes = 4000);

}  // namespace pitwall::test_support
