// A tiny loopback HTTP/1.1 server for the HTTP client tests: a listening POSIX socket on 127.0.0.1
// port 0, one thread per connection, keep-alive, canned answers from a handler. Test-only.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace pitwall::auth::testing {

struct ReceivedRequest {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;

    [[nodiscard]] std::optional<std::string> header(const std::string& lower_name) const;
};

class TestHttpServer {
  public:
    // Returns the raw response bytes, or nullopt to never answer (the connection stays open, silent,
    // until the server stops).
    using Handler = std::function<std::optional<std::string>(const ReceivedRequest&)>;

    // `greeting`, when set, is written as soon as a connection is accepted, before any request is read
    // (a peer that does not speak what the client expects, e.g. plain text to a TLS client).
    explicit TestHttpServer(Handler handler, std::string greeting = {});
    ~TestHttpServer();
    TestHttpServer(const TestHttpServer&) = delete;
    TestHttpServer& operator=(const TestHttpServer&) = delete;

    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string url(const std::string& path = "/") const;
    [[nodiscard]] std::vector<ReceivedRequest> requests() const;
    [[nodiscard]] int connections() const { return connections_.load(); }

    // A complete response with Content-Length.
    static std::string response(int status, const std::string& reason, const std::string& body,
                                const std::vector<std::pair<std::string, std::string>>& headers = {});

  private:
    void accept_loop();
    void serve(int fd);

    Handler handler_;
    std::string greeting_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> connections_{0};
    mutable std::mutex mutex_;
    std::vector<ReceivedRequest> requests_;
    std::vector<std::thread> workers_;
    std::thread acceptor_;
};

// A loopback port with nothing listening (bound, then closed).
int unused_port();

}  // namespace pitwall::auth::testing
