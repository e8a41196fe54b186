#include "server_process.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace pitwall::testing {
namespace {

using Clock = std::chrono::steady_clock;

// The test's environment minus PITWALL_* (hermetic), plus `extra`.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& extra) {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string entry(*e);
        auto eq = entry.find('=');
        if (eq == std::string::npos || entry.starts_with("PITWALL_")) continue;
        env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [k, v] : extra) env[k] = v;
    std::vector<std::string> out;
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

std::filesystem::path unique_temp_dir(std::string_view prefix) {
    auto dir =
        std::filesystem::temp_directory_path() / (std::string(prefix) + std::to_string(::getpid()) + "-" +
                                                  std::to_string(Clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir);
    return dir;
}

int exit_code_of(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

ServerProcess::ServerProcess(std::map<std::string, std::string> env, std::vector<std::string> args)
    : data_dir_(unique_temp_dir("pitwall-fn-")) {
    env.try_emplace("PITWALL_HTTP_LISTEN", "127.0.0.1:0");
    env.try_emplace("PITWALL_DATA_DIR", data_dir_.string());
    env.try_emplace("PITWALL_HTTP_IO_THREADS", "2");
    std::vector<std::string> argv{std::string(PITWALL_BIN_DIR) + "/pitwall-server"};
    argv.insert(argv.end(), args.begin(), args.end());
    child_ = std::make_unique<test_support::ChildProcess>(
        test_support::SpawnOptions{.argv = argv,
                                   .log = data_dir_ / "server.log",
                                   .working_dir = PITWALL_SOURCE_DIR,
                                   .environment = environment_with(env)});
    const std::regex running(R"(running at http://127\.0\.0\.1:(\d+))");
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline && child_->running()) {
        const std::string log = output();
        std::smatch m;
        if (std::regex_search(log, m, running)) {
            port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

ServerProcess::~ServerProcess() {
    child_.reset();  // kills the server if still running
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
}

std::string ServerProcess::output() const {
    return test_support::log_tail(data_dir_ / "server.log", 1 << 20);
}

ProcessResult ServerProcess::stop(int signal, std::chrono::milliseconds timeout) {
    const int status = child_->stop(signal, timeout);
    return {exit_code_of(status), output()};
}

ProcessResult run_binary(const std::string& binary, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env, std::chrono::milliseconds timeout) {
    const auto dir = unique_temp_dir("pitwall-run-");
    std::vector<std::string> argv{binary};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult result;
    {
        test_support::ChildProcess child({.argv = argv,
                                          .log = dir / "output.log",
                                          .working_dir = PITWALL_SOURCE_DIR,
                                          .environment = environment_with(env)});
        auto status = child.wait_for(timeout);
        result.exit_code =
            status ? exit_code_of(*status) : exit_code_of(child.stop(SIGKILL, std::chrono::seconds(5)));
    }
    result.output = test_support::log_tail(dir / "output.log", 1 << 20);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return result;
}

RawClient::RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

RawClient::~RawClient() {
    if (fd_ >= 0) ::close(fd_);
}

bool RawClient::send(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string RawClient::read_response(std::chrono::milliseconds timeout, bool head) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        auto end = buffer_.find("\r\n\r\n");
        if (end != std::string::npos) {
            std::string head_block = buffer_.substr(0, end + 4);
            std::size_t length = 0;
            if (auto cl = header_of(head_block, "Content-Length")) length = std::stoul(*cl);
            if (head || status_of(head_block) == 304 || status_of(head_block) == 204) length = 0;
            if (buffer_.size() >= end + 4 + length) {
                std::string response = buffer_.substr(0, end + 4 + length);
                buffer_.erase(0, end + 4 + length);
                return response;
            }
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return {};
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) return {};
        char buf[8192];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return {};
        buffer_.append(buf, static_cast<std::size_t>(n));
    }
}

bool RawClient::closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
        char buf[4096];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return true;
        buffer_.append(buf, static_cast<std::size_t>(n));
    }
}

std::string http_request(std::uint16_t port, const std::string& raw) {
    RawClient c(port);
    if (!c.connected() || !c.send(raw)) return {};
    return c.read_response(std::chrono::seconds(10), raw.starts_with("HEAD "));
}

int status_of(const std::string& response) {
    if (response.size() < 12 || !response.starts_with("HTTP/1.1 ")) return 0;
    return std::stoi(response.substr(9, 3));
}

std::string body_of(const std::string& response) {
    auto end = response.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : response.substr(end + 4);
}

std::optional<std::string> header_of(const std::string& response, const std::string& name) {
    std::string lower_response = response.substr(0, response.find("\r\n\r\n"));
    std::string lower_name = name;
    std::transform(lower_response.begin(), lower_response.end(), lower_response.begin(), ::tolower);
    std::transform(lower_name.begin(), lower_name.end(), lower_name.begin(), ::tolower);
    auto pos = lower_response.find("\r\n" + lower_name + ":");
    if (pos == std::string::npos) return std::nullopt;
    auto start = pos + 2 + name.size() + 1;
    auto end = response.find("\r\n", start);
    std::string value = response.substr(start, end - start);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    return value;
}

}  // namespace pitwall::testing
