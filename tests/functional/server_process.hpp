// Runs the real pitwall-server binary for functional tests: port 0, a temp data dir, the repo as
// working directory; the port is read from the line the server prints once it listens.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "support/process.hpp"

namespace pitwall::testing {

struct ProcessResult {
    int exit_code = -1;  // -1: killed by a signal
    std::string output;  // stdout + stderr
};

class ServerProcess {
  public:
    // Extra PITWALL_* variables on top of the defaults (listen on 127.0.0.1:0, temp data dir).
    explicit ServerProcess(std::map<std::string, std::string> env = {}, std::vector<std::string> args = {});
    ~ServerProcess();

    [[nodiscard]] bool started() const { return port_ != 0; }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string output() const;

    // Sends `signal` and waits for exit (killing after `timeout`).
    ProcessResult stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(20));

  private:
    std::filesystem::path data_dir_;
    std::unique_ptr<test_support::ChildProcess> child_;
    std::uint16_t port_ = 0;
};

// Runs a binary to completion (bounded), capturing its output.
ProcessResult run_binary(const std::string& binary, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A raw TCP connection to 127.0.0.1:port for hand-written requests.
class RawClient {
  public:
    explicit RawClient(std::uint16_t port);
    ~RawClient();
    [[nodiscard]] bool connected() const { return fd_ >= 0; }
    bool send(std::string_view bytes);
    // Reads one HTTP response (headers + Content-Length body, unless it answers a HEAD); empty on
    // close/timeout.
    std::string read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                              bool head = false);
    // True when the server closed the connection within `timeout`.
    bool closed_within(std::chrono::milliseconds timeout);

  private:
    int fd_ = -1;
    std::string buffer_;
};

// One request on a fresh connection; returns the raw response.
std::string http_request(std::uint16_t port, const std::string& raw);
int status_of(const std::string& response);
std::string body_of(const std::string& response);
std::optional<std::string> header_of(const std::string& response, const std::string& name);

}  // namespace pitwall::testing
