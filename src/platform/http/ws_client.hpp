// A WebSocket client (ws:// and wss://) for the bot's two long-lived connections: the Discord
// gateway and the bridge to pitwall-server. Each client owns one I/O thread running Beast
// coroutines; callers see text frames and one close notification, never a Beast type.
//
// Threading: handlers run on the client's I/O thread, one at a time, in arrival order; keep them
// short and hand work off. send/close/abort are safe from any thread. Never destroy a client from
// inside its own handler (the destructor joins the I/O thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace pitwall::http {

struct WsClientOptions {
    std::size_t max_message_bytes = 1024 * 1024;  // a larger incoming message closes with 1009
    std::size_t send_queue_max = 4096;            // frames; send() refuses beyond it
    std::chrono::milliseconds connect_timeout{10000};
    std::string user_agent = "pitwall";
    std::string ca_file;  // wss: extra trust anchors (tests); the system store is always used
};

class WsClient {
  public:
    struct Handlers {
        std::function<void(std::string_view text)> on_text;
        // Called once when the connection ends: the peer's close code and reason, or code 1006
        // (abnormal closure, as browsers report it) when the socket dropped without a close frame.
        std::function<void(int code, std::string_view reason)> on_close;
    };

    // Connects and completes the WebSocket handshake before returning. Errors: ws.bad_url,
    // ws.connect_failed (DNS, TCP, TLS or handshake; the cause is in the error's detail).
    [[nodiscard]] static Result<std::unique_ptr<WsClient>> connect(std::string_view url, Handlers handlers,
                                                                   WsClientOptions options = {});

    virtual ~WsClient() = default;
    WsClient() = default;
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    // Queues a text frame; false when the connection is closed or the queue is full.
    virtual bool send(std::string text) = 0;
    // Sends a close frame with `code` and waits for the peer's (bounded), then on_close runs.
    virtual void close(int code, std::string_view reason = {}) = 0;
    // Drops the TCP connection without a close frame (what a crash or a dead network looks like).
    virtual void abort() = 0;
    [[nodiscard]] virtual bool is_open() const = 0;
};

}  // namespace pitwall::http
