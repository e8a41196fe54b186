// Beast/Asio live in this file only (and asio_impl.cpp). Patterns follow Beast's
// example/advanced/server-flex-awaitable: coroutines on a strand per connection, errors as values
// through as_tuple, tcp_stream timeouts on every read and write.
#include "platform/http/server.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "core/log.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/http/ws_endpoint.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/i18n/catalog.hpp"

namespace pitwall::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Something the shutdown sequence must tell to finish.
class Drainable {
  public:
    virtual ~Drainable() = default;
    virtual void drain() = 0;
};

Request to_request(const bhttp::request_header<>& header, const tcp::endpoint& remote) {
    Request r;
    r.method = parse_method(std::string_view(header.method_string().data(), header.method_string().size()));
    r.target = std::string(header.target());
    for (const auto& field : header)
        r.headers.add(std::string_view(field.name_string().data(), field.name_string().size()),
                      std::string_view(field.value().data(), field.value().size()));
    r.remote_address = remote.address().to_string();
    return r;
}

bhttp::response<bhttp::string_body> to_beast(Response&& response, bool head, bool keep_alive) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(response.status), 11};
    for (const auto& [name, value] : response.headers.fields()) out.insert(name, value);
    out.keep_alive(keep_alive);
    const bool bodiless = response.status == 204 || response.status == 304 || response.status < 200;
    if (head) {
        out.content_length(response.body.size());  // what GET would send; no body follows
    } else if (!bodiless) {
        out.body() = std::move(response.body);
        out.prepare_payload();
    }
    return out;
}

}  // namespace

struct Server::Impl {
    Impl(ServerOptions o, const Pipeline& p, WsHub& h)
        : options(std::move(o)),
          pipeline(p),
          hub(h),
          io_threads(options.io_threads ? options.io_threads
                                        : std::max(1u, std::thread::hardware_concurrency())),
          ioc(static_cast<int>(io_threads)),
          workers(options.worker_threads ? options.worker_threads
                                         : 2 * std::max(1u, std::thread::hardware_concurrency())),
          acceptor(net::make_strand(ioc)),
          signals(ioc, SIGINT, SIGTERM) {}

    ServerOptions options;
    const Pipeline& pipeline;
    WsHub& hub;
    std::size_t io_threads;
    net::io_context ioc;
    net::thread_pool workers;
    tcp::acceptor acceptor;
    net::signal_set signals;
    std::vector<std::string> ws_paths;
    std::map<std::string, WsEndpoint, std::less<>> ws_endpoints;
    std::function<void()> started;

    std::atomic<bool> stopping{false};
    std::atomic<std::size_t> connections{0};
    std::mutex drain_mutex;
    std::list<std::weak_ptr<Drainable>> drainables;

    class HttpConnection;
    class WsConnection;

    std::list<std::weak_ptr<Drainable>>::iterator track(const std::shared_ptr<Drainable>& d) {
        std::lock_guard lock(drain_mutex);
        return drainables.insert(drainables.end(), d);
    }
    void untrack(std::list<std::weak_ptr<Drainable>>::iterator it) {
        std::lock_guard lock(drain_mutex);
        drainables.erase(it);
    }

    net::awaitable<void> accept_loop();
    net::awaitable<void> serve_http(tcp::socket socket);
    net::awaitable<void> serve_websocket(beast::tcp_stream stream, bhttp::request<bhttp::string_body> upgrade,
                                         std::string locale, Request request, const WsEndpoint* endpoint);
    net::awaitable<void> drain_then_stop();
    void begin_shutdown();

    static void log_exception(std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log::error("connection task failed: {}", ex.what());
        }
    }
};

// ---------------------------------------------------------------------------------------------
// HTTP connections
// ---------------------------------------------------------------------------------------------

class Server::Impl::HttpConnection : public Drainable, public std::enable_shared_from_this<HttpConnection> {
  public:
    explicit HttpConnection(tcp::socket socket) : stream(std::move(socket)) {}

    void drain() override {
        net::post(stream.get_executor(), [self = shared_from_this()] {
            self->draining = true;
            if (self->idle) self->stream.cancel();  // waiting for the next request: stop now
        });
    }

    beast::tcp_stream stream;
    bool idle = true;       // strand-only
    bool draining = false;  // strand-only
};

net::awaitable<void> Server::Impl::serve_http(tcp::socket socket) {
    struct Count {
        std::atomic<std::size_t>& n;
        ~Count() { --n; }
    } count{connections};

    boost::system::error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    auto conn = std::make_shared<HttpConnection>(std::move(socket));
    auto tracked = track(conn);
    struct Untrack {
        Impl* impl;
        std::list<std::weak_ptr<Drainable>>::iterator it;
        void release() {
            if (impl) impl->untrack(it);
            impl = nullptr;
        }
        ~Untrack() { release(); }
    } untrack{this, tracked};

    auto& stream = conn->stream;
    beast::flat_buffer buffer;

    for (;;) {
        // Idle wait for the first byte of the next request, then a bounded time for the whole header:
        // a client trickling bytes (slowloris) is cut off after header_timeout whatever it sends.
        if (buffer.size() == 0) {
            conn->idle = true;
            if (conn->draining || stopping) break;
            stream.expires_after(options.idle_timeout);
            auto [read_ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
            conn->idle = false;
            if (read_ec) break;  // closed, idle timeout or drained
            buffer.commit(n);
        }
        conn->idle = false;

        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
        parser.body_limit(boost::none);  // the route's limit is applied once the route is known
        stream.expires_after(options.header_timeout);
        auto [header_ec, header_bytes] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
        (void)header_bytes;

        auto reject_and_close = [&](int status, std::string code) -> net::awaitable<void> {
            Request request;
            request.remote_address = remote.address().to_string();
            if (parser.is_header_done()) request = to_request(parser.get().base(), remote);
            auto response = pipeline.reject(request, status, std::move(code));
            auto out = to_beast(std::move(response), false, false);
            stream.expires_after(options.body_timeout);
            co_await bhttp::async_write(stream, out, use_tuple);
            stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        };

        if (header_ec) {
            if (header_ec == bhttp::error::header_limit)
                co_await reject_and_close(431, "http.header_too_large");
            else if (header_ec == beast::error::timeout || header_ec == net::error::operation_aborted ||
                     header_ec == bhttp::error::end_of_stream || header_ec == net::error::eof ||
                     header_ec == net::error::connection_reset)
                ;  // the peer went away or was too slow: nothing to answer
            else
                co_await reject_and_close(400, "http.bad_request");
            break;
        }

        Request request = to_request(parser.get().base(), remote);
        if (request.method == Method::other || !pipeline.prepare(request)) {
            co_await reject_and_close(400, "http.bad_request");
            break;
        }
        const Plan plan = pipeline.plan(request.method, request.target);

        const auto endpoint = ws_endpoints.find(request.path);
        if (websocket::is_upgrade(parser.get()) &&
            (endpoint != ws_endpoints.end() ||
             std::find(ws_paths.begin(), ws_paths.end(), request.path) != ws_paths.end())) {
            if (stopping) break;
            // The socket speaks the locale negotiated for the upgrade request.
            auto accept = request.headers.get("Accept-Language");
            std::string locale = pipeline.catalog().negotiate(accept.value_or(""));
            untrack.release();  // the WebSocket connection tracks itself
            co_await serve_websocket(std::move(stream), parser.release(), std::move(locale),
                                     std::move(request),
                                     endpoint != ws_endpoints.end() ? &endpoint->second : nullptr);
            co_return;
        }

        const auto content_length = parser.content_length();
        if (content_length && *content_length > plan.max_body_bytes) {
            co_await reject_and_close(413, "http.body_too_large");
            break;
        }
        if (!parser.is_done()) {
            if (auto expect = request.headers.get("Expect"); expect && *expect == "100-continue") {
                bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
                stream.expires_after(options.body_timeout);
                auto [cont_ec, cont_n] = co_await bhttp::async_write(stream, cont, use_tuple);
                (void)cont_n;
                if (cont_ec) break;
            }
            parser.body_limit(plan.max_body_bytes);
            stream.expires_after(options.body_timeout);
            auto [body_ec, body_bytes] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
            (void)body_bytes;
            if (body_ec) {
                if (body_ec == bhttp::error::body_limit)
                    co_await reject_and_close(413, "http.body_too_large");
                else if (body_ec != beast::error::timeout && body_ec != net::error::operation_aborted &&
                         body_ec != bhttp::error::partial_message && body_ec != bhttp::error::end_of_stream)
                    co_await reject_and_close(400, "http.bad_request");
                break;
            }
        }
        request.body = std::move(parser.get().body());
        const bool keep_alive = parser.get().keep_alive();

        Response response;
        if (plan.execution == Execution::immediate) {
            response = pipeline.handle(request, plan);
        } else {
            // Off the I/O threads; resumes on this connection's strand.
            response = co_await net::co_spawn(
                workers, [&]() -> net::awaitable<Response> { co_return pipeline.handle(request, plan); },
                net::use_awaitable);
        }

        const bool keep = keep_alive && !stopping && !conn->draining;
        auto out = to_beast(std::move(response), request.method == Method::head, keep);
        stream.expires_after(options.body_timeout);
        auto [write_ec, written] = co_await bhttp::async_write(stream, out, use_tuple);
        (void)written;
        if (write_ec || !keep) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.socket().close(ec);
}

// ---------------------------------------------------------------------------------------------
// WebSocket connections
// ---------------------------------------------------------------------------------------------

class Server::Impl::WsConnection : public WsChannel,
                                   public Drainable,
                                   public std::enable_shared_from_this<WsConnection> {
  public:
    WsConnection(beast::tcp_stream stream, std::size_t queue_max, std::string locale)
        : ws(std::move(stream)), wake(ws.get_executor()), queue_max_(queue_max), locale_(std::move(locale)) {
        wake.expires_at(std::chrono::steady_clock::time_point::max());
    }

    void send(std::shared_ptr<const std::string> frame) override {
        net::post(ws.get_executor(), [self = shared_from_this(), frame = std::move(frame)]() mutable {
            if (self->closed) return;
            if (self->queue.size() >= self->queue_max_) {
                // A slow consumer is cut off; its memory never grows past the bound.
                log::warn("websocket send queue full ({} frames): disconnecting", self->queue.size());
                self->drop();
                return;
            }
            self->queue.push_back(std::move(frame));
            self->wake.cancel();
        });
    }

    void drain() override { close(static_cast<int>(websocket::close_code::going_away), {}); }

    void close(int code, std::string_view reason) override {
        net::post(ws.get_executor(), [self = shared_from_this(), code, reason = std::string(reason)] {
            if (self->close_requested) return;
            self->close_requested = true;
            self->close_reason = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
            self->wake.cancel();
        });
    }

    void abort() override {
        net::post(ws.get_executor(), [self = shared_from_this()] { self->drop(); });
    }

    [[nodiscard]] const std::string& locale() const override { return locale_; }

    void drop() {
        closed = true;
        boost::system::error_code ec;
        beast::get_lowest_layer(ws).socket().close(ec);
        wake.cancel();
    }

    net::awaitable<void> writer() {
        auto self = shared_from_this();
        while (!closed) {
            if (close_requested && queue.empty()) {
                auto [ec] = co_await ws.async_close(close_reason, use_tuple);
                (void)ec;
                break;
            }
            if (queue.empty()) {
                wake.expires_at(std::chrono::steady_clock::time_point::max());
                co_await wake.async_wait(use_tuple);
                continue;
            }
            auto frame = queue.front();
            ws.text(true);
            auto [ec, n] = co_await ws.async_write(net::buffer(*frame), use_tuple);
            (void)n;
            if (ec) break;
            queue.pop_front();
        }
        closed = true;
        queue.clear();
    }

    websocket::stream<beast::tcp_stream> ws;
    net::steady_timer wake;
    std::deque<std::shared_ptr<const std::string>> queue;
    bool closed = false;
    bool close_requested = false;
    websocket::close_reason close_reason{websocket::close_code::going_away};

  private:
    std::size_t queue_max_;
    std::string locale_;
};

net::awaitable<void> Server::Impl::serve_websocket(beast::tcp_stream stream,
                                                   bhttp::request<bhttp::string_body> upgrade,
                                                   std::string locale, Request request,
                                                   const WsEndpoint* endpoint) {
    stream.expires_never();  // the websocket stream has its own timeouts
    auto conn =
        std::make_shared<WsConnection>(std::move(stream), options.ws_send_queue_max, std::move(locale));
    auto& ws = conn->ws;
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options.header_timeout;
    timeouts.idle_timeout = options.ws_ping_interval * 2;  // a ping after half of it, closed if no pong
    timeouts.keep_alive_pings = true;
    ws.set_option(timeouts);
    ws.read_message_max(endpoint && endpoint->max_message_bytes ? endpoint->max_message_bytes
                                                                : options.ws_max_message_bytes);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(bhttp::field::server, "pitwall"); }));

    auto [accept_ec] = co_await ws.async_accept(upgrade, use_tuple);
    if (accept_ec) co_return;

    auto tracked = track(conn);
    net::co_spawn(ws.get_executor(), conn->writer(), [](std::exception_ptr e) { log_exception(e); });

    // A feature endpoint's session, or the hub. Session calls run on the worker pool when the
    // endpoint blocks (stores), one at a time per connection and in frame order.
    std::shared_ptr<WsSession> session;
    auto run_session = [&](auto&& call) -> net::awaitable<bool> {
        auto guarded = [&]() -> bool {
            try {
                call();
                return true;
            } catch (const std::exception& e) {
                log::error("websocket session {} failed: {}", request.path, e.what());
                return false;
            }
        };
        if (!endpoint->blocking) co_return guarded();
        co_return co_await net::co_spawn(
            workers, [&]() -> net::awaitable<bool> { co_return guarded(); }, net::use_awaitable);
    };
    if (endpoint) {
        const bool opened = co_await run_session([&] { session = endpoint->open(conn, request); });
        if (!opened || !session) conn->close(static_cast<int>(websocket::close_code::policy_error), {});
    } else {
        hub.attach(conn);
    }

    beast::flat_buffer buffer;
    while (!conn->closed) {
        auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
        (void)n;
        if (ec) break;  // closed by peer, too large (1009 sent by Beast), timeout, or aborted
        if (!ws.got_text()) {
            buffer.consume(buffer.size());
            continue;
        }
        std::string_view text(static_cast<const char*>(buffer.data().data()), buffer.size());
        if (endpoint) {
            if (session && !co_await run_session([&] { session->on_text(text); })) conn->drop();
        } else {
            conn->send(std::make_shared<const std::string>(hub.handle_client_frame(conn.get(), text)));
        }
        buffer.consume(buffer.size());
    }
    if (endpoint) {
        if (session) co_await run_session([&] { session->on_close(); });
    } else {
        hub.detach(conn.get());
    }
    untrack(tracked);
    conn->closed = true;
    conn->wake.cancel();
}

// ---------------------------------------------------------------------------------------------
// Accepting and stopping
// ---------------------------------------------------------------------------------------------

net::awaitable<void> Server::Impl::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(ioc), use_tuple);
        if (ec) {
            if (stopping || ec == net::error::operation_aborted) co_return;
            log::warn("accept failed: {}", ec.message());
            // Out of descriptors or similar: back off briefly instead of spinning.
            net::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
            co_await pause.async_wait(use_tuple);
            continue;
        }
        if (connections >= options.max_connections) {
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        ++connections;
        auto executor = socket.get_executor();
        net::co_spawn(executor, serve_http(std::move(socket)),
                      [](std::exception_ptr e) { log_exception(e); });
    }
}

void Server::Impl::begin_shutdown() {
    if (stopping.exchange(true)) return;
    log::info("shutting down: draining {} connection(s), grace {}s", connections.load(),
              options.shutdown_grace.count());
    net::post(acceptor.get_executor(), [this] {
        boost::system::error_code ec;
        acceptor.close(ec);
    });
    std::vector<std::shared_ptr<Drainable>> live;
    {
        std::lock_guard lock(drain_mutex);
        for (auto& weak : drainables)
            if (auto d = weak.lock()) live.push_back(std::move(d));
    }
    for (auto& d : live) d->drain();
    signals.cancel();
    net::co_spawn(ioc, drain_then_stop(), [](std::exception_ptr e) { log_exception(e); });
}

net::awaitable<void> Server::Impl::drain_then_stop() {
    const auto deadline = std::chrono::steady_clock::now() + options.shutdown_grace;
    net::steady_timer tick(ioc);
    while (connections > 0 && std::chrono::steady_clock::now() < deadline) {
        tick.expires_after(std::chrono::milliseconds(10));
        co_await tick.async_wait(use_tuple);
    }
    if (connections > 0) log::warn("shutdown grace over: closing {} connection(s)", connections.load());
    ioc.stop();
}

Server::Server(ServerOptions options, const Pipeline& pipeline, WsHub& hub)
    : impl_(std::make_unique<Impl>(std::move(options), pipeline, hub)) {}

Server::~Server() = default;

void Server::add_websocket_path(std::string path) {
    impl_->ws_paths.push_back(std::move(path));
}

void Server::add_websocket_endpoint(std::string path, WsEndpoint endpoint) {
    impl_->ws_endpoints.insert_or_assign(std::move(path), std::move(endpoint));
}

void Server::on_started(std::function<void()> callback) {
    impl_->started = std::move(callback);
}

Status Server::listen() {
    boost::system::error_code ec;
    auto address = net::ip::make_address(impl_->options.host, ec);
    if (ec)
        return Error(ErrorKind::invalid_input, "config.bad_listen",
                     {{"key", "http.listen"}, {"value", impl_->options.host}});
    tcp::endpoint endpoint(address, impl_->options.port);
    auto& acceptor = impl_->acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        return Error(ErrorKind::unavailable, "http.listen_failed",
                     {{"address", impl_->options.host + ":" + std::to_string(impl_->options.port)},
                      {"reason", ec.message()}});
    return {};
}

std::uint16_t Server::port() const {
    boost::system::error_code ec;
    auto endpoint = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : endpoint.port();
}

std::size_t Server::open_connections() const {
    return impl_->connections.load();
}

void Server::run() {
    auto& impl = *impl_;
    impl.signals.async_wait([&impl](const boost::system::error_code& ec, int) {
        if (!ec) impl.begin_shutdown();
    });
    net::co_spawn(impl.acceptor.get_executor(), impl.accept_loop(),
                  [](std::exception_ptr e) { Impl::log_exception(e); });
    if (impl.started) net::post(impl.ioc, impl.started);

    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < impl.io_threads; ++i) threads.emplace_back([&impl] { impl.ioc.run(); });
    impl.ioc.run();
    for (auto& t : threads) t.join();
    impl.workers.join();
}

void Server::stop() {
    net::post(impl_->ioc, [impl = impl_.get()] { impl->begin_shutdown(); });
}

}  // namespace pitwall::http
