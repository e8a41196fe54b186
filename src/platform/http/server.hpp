// The HTTP/1.1 + WebSocket server: one io_context run by N threads, a strand per connection,
// handlers on a separate worker pool (blocking work never runs on I/O threads), bounds on every
// input (header bytes, body bytes per route, read/idle timeouts, connection count, per-socket send
// queue) and staged shutdown: stop accepting, finish in-flight requests within the grace period,
// close WebSockets with 1001. Beast and Asio stay inside server.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.hpp"

namespace pitwall::http {

class Pipeline;
class WsHub;
struct WsEndpoint;

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;       // 0: any free port (tests)
    std::size_t io_threads = 0;      // 0: hardware concurrency
    std::size_t worker_threads = 0;  // 0: 2 x hardware concurrency
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_connections = 10000;
    std::chrono::seconds header_timeout{10};
    std::chrono::seconds body_timeout{30};
    std::chrono::seconds idle_timeout{60};
    std::chrono::seconds shutdown_grace{10};
    std::size_t ws_max_message_bytes = 64 * 1024;
    std::size_t ws_send_queue_max = 256;
    std::chrono::seconds ws_ping_interval{20};
};

class Server {
  public:
    Server(ServerOptions options, const Pipeline& pipeline, WsHub& hub);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // WebSocket endpoint: an upgrade request for `path` joins the hub. The same path should also be
    // a route (it declares the permission and answers non-upgrade requests).
    void add_websocket_path(std::string path);
    // WebSocket endpoint with its own sessions (e.g. /bridge). The path should also be a route.
    void add_websocket_endpoint(std::string path, WsEndpoint endpoint);

    // Binds and listens; the port is known afterwards.
    [[nodiscard]] Status listen();
    [[nodiscard]] std::uint16_t port() const;

    // Serves until stop() or SIGINT/SIGTERM, then drains and returns.
    void run();
    // Graceful stop; safe from any thread.
    void stop();

    // Called once the server listens and serves (e.g. to print the URL).
    void on_started(std::function<void()> callback);
    [[nodiscard]] std::size_t open_connections() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pitwall::http
