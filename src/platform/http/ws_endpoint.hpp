// WebSocket endpoints other than the hub: a feature registers a path and a factory; every accepted
// upgrade gets its own session object that receives the peer's text frames and talks back through
// a WsChannel. The bridge (/bridge) is one. No Beast type appears here (server.cpp owns the socket).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "platform/http/message.hpp"
#include "platform/http/ws_hub.hpp"

namespace pitwall::http {

// The server's side of one accepted WebSocket. Thread-safe; every call is queued on the socket's strand.
class WsChannel : public WsPeer {
  public:
    // Queues a close frame after the frames already queued; the connection ends when the peer answers.
    virtual void close(int code, std::string_view reason) = 0;
    // Drops the connection at once (no close frame).
    virtual void abort() = 0;
    void send_text(std::string text) { send(std::make_shared<const std::string>(std::move(text))); }
};

class WsSession {
  public:
    virtual ~WsSession() = default;
    virtual void on_text(std::string_view text) = 0;
    // The connection is gone (either side closed it, or it was dropped). Called once.
    virtual void on_close() {}
};

struct WsEndpoint {
    // Called once the upgrade is accepted. Returning nullptr closes the socket with 1008.
    std::function<std::shared_ptr<WsSession>(std::shared_ptr<WsChannel> channel, const Request& upgrade)>
        open;
    // true: open, on_text and on_close run on the worker pool (they may use the stores), one at a time
    // per connection and in frame order; false: on the socket's strand (must not block).
    bool blocking = true;
    // Largest incoming message; larger ones close the socket with 1009. 0: websocket.max_message_bytes.
    std::size_t max_message_bytes = 0;
};

}  // namespace pitwall::http
