#include "redis_server.hpp"

#include <csignal>
#include <stdexcept>
#include <thread>

#include <hiredis/hiredis.h>

namespace pitwall::test_support {

namespace {

constexpr const char* program = "redis-server";

// One command on a short-lived connection; the reply as text, or nullopt when Redis does not answer.
// An error reply (e.g. NOAUTH) counts as an answer: the server is up.
std::optional<std::string> ask(int port, const char* command) {
    const timeval timeout{1, 0};
    redisContext* context = redisConnectWithTimeout("127.0.0.1", port, timeout);
    std::optional<std::string> answer;
    if (context && context->err == 0) {
        redisSetTimeout(context, timeout);
        if (auto* reply = static_cast<redisReply*>(redisCommand(context, command))) {
            if (reply->str) answer = std::string(reply->str, reply->len);
            freeReplyObject(reply);
        }
    }
    if (context) redisFree(context);
    return answer;
}

}  // namespace

RedisServer::RedisServer(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {
    // The kernel's free port can be taken before redis binds it: try a few.
    for (int attempt = 1;; ++attempt) {
        try {
            start_on(free_tcp_port());
            return;
        } catch (const std::runtime_error&) {
            if (attempt == 3) throw;
        }
    }
}

RedisServer::~RedisServer() {
    stop();
}

std::string RedisServer::url(int db) const {
    return "redis://127.0.0.1:" + std::to_string(port_) + (db ? "/" + std::to_string(db) : "");
}

void RedisServer::flush_all() {
    if (ask(port_, "FLUSHALL") != "OK")
        throw std::runtime_error("redis FLUSHALL failed on port " + std::to_string(port_));
}

void RedisServer::stop() {
    if (process_) process_->stop(SIGTERM, std::chrono::seconds(5));
    process_.reset();
}

void RedisServer::start() {
    start_on(port_);
}

void RedisServer::start_on(int port) {
    port_ = port;
    const auto log = dir_.path() / "redis.log";
    std::vector<std::string> argv = {
        program, "--port", std::to_string(port), "--bind",      "127.0.0.1", "--save", "", "--appendonly",
        "no",    "--dir",  dir_.path().string(), "--daemonize", "no"};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    process_ = std::make_unique<ChildProcess>(SpawnOptions{.argv = std::move(argv), .log = log});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!process_->running()) break;
        if (ask(port, "PING")) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    process_.reset();
    throw std::runtime_error(std::string(program) + " did not answer PING on port " + std::to_string(port) +
                             ":\n" + log_tail(log));
}

}  // namespace pitwall::test_support
