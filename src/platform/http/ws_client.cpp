// Beast's websocket client over plain TCP or TLS, one I/O thread per client. Like server.cpp this
// is one of the few translation units that include Beast; the header shows none of it.
#include "platform/http/ws_client.hpp"

#include <atomic>
#include <deque>
#include <future>
#include <optional>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>

#include "core/log.hpp"

namespace pitwall::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

struct Target {
    bool tls = false;
    std::string host;
    std::string port;
    std::string resource;  // path + query
};

Result<Target> parse_target(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return Error(ErrorKind::invalid_input, "ws.bad_url", {}, std::string(url));
    Target t;
    const auto scheme = parsed->scheme();
    if (scheme == "wss")
        t.tls = true;
    else if (scheme != "ws")
        return Error(ErrorKind::invalid_input, "ws.bad_url", {}, std::string(url));
    t.host = std::string(parsed->host_address());
    if (t.host.empty()) return Error(ErrorKind::invalid_input, "ws.bad_url", {}, std::string(url));
    t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
    t.resource = std::string(parsed->encoded_path());
    if (t.resource.empty()) t.resource = "/";
    if (parsed->has_query()) t.resource += "?" + std::string(parsed->encoded_query());
    return t;
}

template <class Stream>
class Client final : public WsClient {
  public:
    Client(Handlers handlers, WsClientOptions options, std::optional<ssl::context> tls)
        : handlers_(std::move(handlers)),
          options_(std::move(options)),
          tls_(std::move(tls)),
          work_(net::make_work_guard(ioc_)),
          ws_(make_stream()) {
        thread_ = std::thread([this] { ioc_.run(); });
    }

    ~Client() override {
        quiet_ = true;  // the owner is going away: no on_close into it
        abort();
        work_.reset();
        // The read loop ends once the socket is closed; give it a bounded moment, then stop.
        if (finished_.valid()) finished_.wait_for(std::chrono::seconds(2));
        ioc_.stop();
        if (thread_.joinable()) thread_.join();
    }

    Status start(const Target& target) {
        std::promise<Status> connected;
        auto result = connected.get_future();
        net::co_spawn(ioc_, handshake(target, std::move(connected)), net::detached);
        Status status = result.get();
        if (!status.ok()) return status;
        open_ = true;
        std::promise<void> done;
        finished_ = done.get_future();
        net::co_spawn(ioc_, read_loop(std::move(done)), net::detached);
        return Status{};
    }

    bool send(std::string text) override {
        if (!open_) return false;
        if (queued_.fetch_add(1) >= options_.send_queue_max) {
            queued_.fetch_sub(1);
            return false;
        }
        net::post(ioc_, [this, text = std::move(text)]() mutable {
            queue_.push_back(std::move(text));
            if (!writing_) {
                writing_ = true;
                net::co_spawn(ioc_, write_loop(), net::detached);
            }
        });
        return true;
    }

    void close(int code, std::string_view reason) override {
        net::post(ioc_, [this, code, reason = std::string(reason)] {
            if (!open_ || closing_) return;
            closing_ = true;
            net::co_spawn(
                ioc_,
                [this, code, reason]() -> net::awaitable<void> {
                    websocket::close_reason why(static_cast<websocket::close_code>(code), reason);
                    auto [ec] = co_await ws_.async_close(why, use_tuple);
                    if (ec) drop();
                },
                net::detached);
        });
    }

    void abort() override {
        net::post(ioc_, [this] { drop(); });
    }

    [[nodiscard]] bool is_open() const override { return open_; }

  private:
    Stream make_stream() {
        if constexpr (std::is_same_v<Stream, websocket::stream<beast::tcp_stream>>)
            return Stream(net::make_strand(ioc_));
        else
            return Stream(net::make_strand(ioc_), *tls_);
    }

    void drop() {
        boost::system::error_code ec;
        beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
        beast::get_lowest_layer(ws_).socket().close(ec);
    }

    net::awaitable<void> handshake(Target target, std::promise<Status> connected) {
        auto fail = [&](std::string_view step, const boost::system::error_code& ec) {
            connected.set_value(Error(ErrorKind::unavailable, "ws.connect_failed", {},
                                      std::string(step) + ": " + ec.message()));
        };
        tcp::resolver resolver(ioc_);
        auto [resolve_ec, endpoints] = co_await resolver.async_resolve(target.host, target.port, use_tuple);
        if (resolve_ec) co_return fail("resolve", resolve_ec);
        auto& lowest = beast::get_lowest_layer(ws_);
        lowest.expires_after(options_.connect_timeout);
        auto [connect_ec, endpoint] = co_await lowest.async_connect(endpoints, use_tuple);
        (void)endpoint;
        if (connect_ec) co_return fail("connect", connect_ec);
        if constexpr (!std::is_same_v<Stream, websocket::stream<beast::tcp_stream>>) {
            auto& tls_stream = ws_.next_layer();
            if (!SSL_set_tlsext_host_name(tls_stream.native_handle(), target.host.c_str()))
                co_return fail("tls", boost::system::error_code(static_cast<int>(::ERR_get_error()),
                                                                net::error::get_ssl_category()));
            tls_stream.set_verify_callback(ssl::host_name_verification(target.host));
            auto [tls_ec] = co_await tls_stream.async_handshake(ssl::stream_base::client, use_tuple);
            if (tls_ec) co_return fail("tls", tls_ec);
        }
        lowest.expires_never();  // the websocket stream keeps its own timeouts from here
        auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
        timeouts.handshake_timeout = options_.connect_timeout;
        ws_.set_option(timeouts);
        ws_.read_message_max(options_.max_message_bytes);
        ws_.set_option(
            websocket::stream_base::decorator([agent = options_.user_agent](websocket::request_type& req) {
                req.set(beast::http::field::user_agent, agent);
            }));
        std::string host_header = target.host + ":" + target.port;
        auto [ws_ec] = co_await ws_.async_handshake(host_header, target.resource, use_tuple);
        if (ws_ec) co_return fail("handshake", ws_ec);
        ws_.text(true);
        connected.set_value(Status{});
    }

    net::awaitable<void> read_loop(std::promise<void> done) {
        beast::flat_buffer buffer;
        for (;;) {
            auto [ec, n] = co_await ws_.async_read(buffer, use_tuple);
            (void)n;
            if (ec) break;
            if (ws_.got_text() && handlers_.on_text && !quiet_) {
                const auto data = buffer.cdata();
                handlers_.on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
            }
            buffer.consume(buffer.size());
        }
        open_ = false;
        const auto& why = ws_.reason();
        const int code = why.code != websocket::close_code::none ? static_cast<int>(why.code) : 1006;
        const std::string reason(why.reason.data(), why.reason.size());
        drop();
        if (handlers_.on_close && !quiet_) handlers_.on_close(code, reason);
        done.set_value();
    }

    net::awaitable<void> write_loop() {
        while (!queue_.empty()) {
            std::string frame = std::move(queue_.front());
            queue_.pop_front();
            auto [ec, n] = co_await ws_.async_write(net::buffer(frame), use_tuple);
            (void)n;
            queued_.fetch_sub(1);
            if (ec) {
                queued_.fetch_sub(queue_.size());
                queue_.clear();
                break;
            }
        }
        writing_ = false;
    }

    Handlers handlers_;
    WsClientOptions options_;
    net::io_context ioc_{1};
    std::optional<ssl::context> tls_;
    net::executor_work_guard<net::io_context::executor_type> work_;
    Stream ws_;
    std::thread thread_;
    std::future<void> finished_;
    std::deque<std::string> queue_;  // I/O thread only
    bool writing_ = false;           // I/O thread only
    bool closing_ = false;           // I/O thread only
    std::atomic<std::size_t> queued_{0};
    std::atomic<bool> open_{false};
    std::atomic<bool> quiet_{false};
};

}  // namespace

Result<std::unique_ptr<WsClient>> WsClient::connect(std::string_view url, Handlers handlers,
                                                    WsClientOptions options) {
    auto target = parse_target(url);
    if (!target) return target.error();
    if (!target->tls) {
        auto client = std::make_unique<Client<websocket::stream<beast::tcp_stream>>>(
            std::move(handlers), std::move(options), std::nullopt);
        if (auto started = client->start(*target); !started.ok()) return started.error();
        return std::unique_ptr<WsClient>(std::move(client));
    }
    ssl::context tls(ssl::context::tls_client);
    tls.set_default_verify_paths();
    tls.set_verify_mode(ssl::verify_peer);
    if (!options.ca_file.empty()) {
        boost::system::error_code ec;
        tls.load_verify_file(options.ca_file, ec);
        if (ec) return Error(ErrorKind::unavailable, "ws.connect_failed", {}, "ca_file: " + ec.message());
    }
    auto client = std::make_unique<Client<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>>(
        std::move(handlers), std::move(options), std::move(tls));
    if (auto started = client->start(*target); !started.ok()) return started.error();
    return std::unique_ptr<WsClient>(std::move(client));
}

}  // namespace pitwall::http
