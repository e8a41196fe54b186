// Functional tests: the real pitwall-server binary on port 0, driven over real sockets.
#include <fstream>
#include <future>
#include <signal.h>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

#include "server_process.hpp"

namespace pitwall::testing {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

class ServerTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        server_ = new ServerProcess(std::map<std::string, std::string>{{"PITWALL_HTTP_HEADER_TIMEOUT_S", "2"},
                                                                       {"PITWALL_DEMO", "true"}});
        ASSERT_TRUE(server_->started()) << server_->output();
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static std::uint16_t port() { return server_->port(); }
    static std::string get(const std::string& target, const std::string& extra_headers = "") {
        return http_request(port(), "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers +
                                        "Connection: close\r\n\r\n");
    }
    static ServerProcess* server_;
};
ServerProcess* ServerTest::server_ = nullptr;

TEST_F(ServerTest, HealthAndReadiness) {
    auto health = get("/healthz");
    EXPECT_EQ(status_of(health), 200) << health;
    EXPECT_EQ(body_of(health), R"({"status":"ok"})");
    EXPECT_EQ(header_of(health, "X-Request-Id")->size(), 16u);
    EXPECT_EQ(header_of(health, "X-Content-Type-Options"), "nosniff");

    auto ready = get("/readyz");
    EXPECT_EQ(status_of(ready), 200) << ready;
    EXPECT_NE(body_of(ready).find(R"("sql":"sqlite")"), std::string::npos);
    EXPECT_NE(body_of(ready).find(R"("kv":"embedded")"), std::string::npos);
}

TEST_F(ServerTest, HomePageFollowsAcceptLanguage) {
    auto tr = get("/", "Accept-Language: tr-TR,tr;q=0.9\r\n");
    EXPECT_EQ(status_of(tr), 200) << tr;
    EXPECT_NE(tr.find("<html lang=\"tr\">"), std::string::npos);
    EXPECT_NE(tr.find("56 üye"), std::string::npos) << "demo team seeded (60, of whom 4 guests)";
    auto en = get("/");
    EXPECT_NE(en.find("<html lang=\"en\">"), std::string::npos);
}

TEST_F(ServerTest, OversizedHeadersGet431) {
    auto response = get("/healthz", "X-Big: " + std::string(20 * 1024, 'a') + "\r\n");
    EXPECT_EQ(status_of(response), 431) << response.substr(0, 200);
    EXPECT_NE(body_of(response).find(R"("code":"http.header_too_large")"), std::string::npos);
}

TEST_F(ServerTest, OversizedBodyGets413BeforeItIsRead) {
    RawClient c(port());
    ASSERT_TRUE(c.send("POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n\r\n"));
    auto response = c.read_response(5s);  // answered without sending the 5 MB
    EXPECT_EQ(status_of(response), 413) << response;
    EXPECT_NE(body_of(response).find("http.body_too_large"), std::string::npos);
    EXPECT_TRUE(c.closed_within(5s));
}

TEST_F(ServerTest, OversizedChunkedBodyGets413) {
    RawClient c(port());
    ASSERT_TRUE(c.send("POST /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
    std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
    for (int i = 0; i < 17; ++i)
        if (!c.send(chunk)) break;  // the server may close once the limit is passed
    auto response = c.read_response(5s);
    EXPECT_EQ(status_of(response), 413) << response.substr(0, 300);
}

TEST_F(ServerTest, MalformedRequestsGet400) {
    for (std::string raw :
         {"GARBAGE\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n",
          "GET /healthz HTTP/1.1\r\nContent-Length: -4\r\n\r\n", "BREW /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
          "GET relative HTTP/1.1\r\nHost: t\r\n\r\n"}) {
        auto response = http_request(port(), raw);
        EXPECT_EQ(status_of(response), 400) << raw << "\n" << response;
        EXPECT_NE(body_of(response).find("\"error\""), std::string::npos);
    }
}

TEST_F(ServerTest, SlowlorisIsCutOffAndDoesNotDelayOthers) {
    RawClient slow(port());
    ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\nHost: t\r\n"));
    const auto started = std::chrono::steady_clock::now();
    std::atomic<bool> stop{false};
    std::thread trickle([&] {
        while (!stop && slow.send("X-Slow: 1\r\n")) std::this_thread::sleep_for(100ms);
    });
    // A normal request is answered promptly while the slow one trickles.
    const auto t0 = std::chrono::steady_clock::now();
    auto normal = get("/healthz");
    const auto normal_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    EXPECT_EQ(status_of(normal), 200);
    EXPECT_LT(normal_ms.count(), 1000);
    // The header timeout (2 s here) closes the trickling connection although it keeps sending.
    EXPECT_TRUE(slow.closed_within(6s));
    const auto lasted = std::chrono::steady_clock::now() - started;
    stop = true;
    trickle.join();
    EXPECT_LT(lasted, 6s);
}

TEST_F(ServerTest, KeepAliveServesSeveralRequests) {
    RawClient c(port());
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
        EXPECT_EQ(status_of(c.read_response()), 200) << i;
    }
    // Pipelined: two requests in one write.
    ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n"));
    EXPECT_EQ(status_of(c.read_response()), 200);
    EXPECT_EQ(status_of(c.read_response()), 404);
}

TEST_F(ServerTest, NotFoundMethodNotAllowedAndHead) {
    auto missing = get("/no/such/page", "Accept-Language: tr\r\n");
    EXPECT_EQ(status_of(missing), 404);
    EXPECT_NE(body_of(missing).find("Burada bir şey yok"), std::string::npos) << missing;

    auto wrong = http_request(port(), "DELETE /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(wrong), 405);
    EXPECT_EQ(header_of(wrong, "Allow"), "GET, HEAD");

    auto head = http_request(port(), "HEAD /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(head), 200);
    EXPECT_EQ(header_of(head, "Content-Length"), "15");
    EXPECT_TRUE(body_of(head).empty());
}

TEST_F(ServerTest, StaticFilesWithEtagAndNoTraversal) {
    auto css = get("/static/css/pitwall.css");
    ASSERT_EQ(status_of(css), 200);
    EXPECT_EQ(header_of(css, "Content-Type"), "text/css; charset=utf-8");
    auto etag = header_of(css, "ETag");
    ASSERT_TRUE(etag.has_value());
    EXPECT_EQ(status_of(get("/static/css/pitwall.css", "If-None-Match: " + *etag + "\r\n")), 304);
    for (std::string bad :
         {"/static/../CMakeLists.txt", "/static/%2e%2e/CMakeLists.txt", "/static/css/..%2f..%2fMakefile",
          "/static/%2e%2e%2f%2e%2e%2fMakefile", "/static/..%5c..%5cMakefile"}) {
        auto r = get(bad);
        EXPECT_TRUE(status_of(r) == 404 || status_of(r) == 400) << bad << " -> " << status_of(r);
        EXPECT_EQ(r.find("cmake_minimum_required"), std::string::npos);
    }
}

TEST_F(ServerTest, MetricsInPrometheusFormat) {
    (void)get("/healthz");
    auto metrics = get("/metrics");
    ASSERT_EQ(status_of(metrics), 200);
    auto body = body_of(metrics);
    EXPECT_NE(body.find(R"(pitwall_http_requests_total{route="/healthz",method="GET",status="200"})"),
              std::string::npos);
    EXPECT_NE(body.find("pitwall_http_request_duration_seconds_bucket"), std::string::npos);
    EXPECT_NE(body.find("pitwall_websocket_connections"), std::string::npos);
    EXPECT_NE(body.find("pitwall_sql_statements_total"), std::string::npos);
    EXPECT_NE(body.find("pitwall_kv_reads_total"), std::string::npos);
}

websocket::stream<net::ip::tcp::socket> open_ws(net::io_context& ioc, std::uint16_t port,
                                                std::string path = "/ws") {
    websocket::stream<net::ip::tcp::socket> ws(ioc);
    ws.next_layer().connect({net::ip::make_address("127.0.0.1"), port});
    ws.handshake("127.0.0.1", path);
    return ws;
}

std::string read_text(websocket::stream<net::ip::tcp::socket>& ws) {
    beast::flat_buffer buffer;
    ws.read(buffer);
    return beast::buffers_to_string(buffer.data());
}

TEST_F(ServerTest, WebSocketSubscribePingAndErrors) {
    net::io_context ioc;
    auto ws = open_ws(ioc, port());
    ws.write(net::buffer(std::string(R"({"op":"subscribe","topic":"event:1"})")));
    EXPECT_EQ(read_text(ws), R"({"type":"subscribed","topic":"event:1"})");
    ws.write(net::buffer(std::string(R"({"op":"ping"})")));
    EXPECT_EQ(read_text(ws), R"({"type":"pong"})");
    ws.write(net::buffer(std::string("{nonsense")));
    EXPECT_NE(read_text(ws).find(R"("code":"ws.bad_frame")"), std::string::npos);

    auto metrics = body_of(get("/metrics"));
    EXPECT_NE(metrics.find("pitwall_websocket_connections 1"), std::string::npos);
    ws.close(websocket::close_code::normal);

    auto plain = get("/ws");
    EXPECT_EQ(status_of(plain), 426);
}

TEST_F(ServerTest, OversizedWebSocketMessageClosesTheSocket) {
    net::io_context ioc;
    auto ws = open_ws(ioc, port());
    beast::error_code ec;
    ws.write(net::buffer(std::string(200 * 1024, 'x')), ec);  // the server may cut us off mid-frame
    beast::flat_buffer buffer;
    if (!ec) ws.read(buffer, ec);
    // Beast answers with close code 1009 and drops the connection; the unread remainder of our
    // frame may turn the close into a reset, so either outcome ends the socket.
    ASSERT_TRUE(ec) << "the socket must not stay open";
    if (ec == websocket::error::closed) {
        EXPECT_EQ(ws.reason().code, websocket::close_code::too_big);
    }
    EXPECT_EQ(status_of(get("/healthz")), 200);  // and the server carries on
}

// A client that sends but never reads: its replies pile up first in the kernel buffers, then in the
// server's per-socket queue (capped at 4 frames here), and the server disconnects it rather than
// buffering without bound.
TEST(ServerWebSocket, SlowConsumerIsDisconnected) {
    ServerProcess server(std::map<std::string, std::string>{{"PITWALL_WEBSOCKET_SEND_QUEUE_MAX", "4"}});
    ASSERT_TRUE(server.started()) << server.output();
    net::io_context ioc;
    websocket::stream<net::ip::tcp::socket> ws(ioc);
    ws.next_layer().open(net::ip::tcp::v4());
    ws.next_layer().set_option(net::socket_base::receive_buffer_size(4096));
    ws.next_layer().connect({net::ip::make_address("127.0.0.1"), server.port()});
    ws.handshake("127.0.0.1", "/ws");

    const std::string ping = R"({"op":"ping"})";
    beast::error_code ec;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    int sent = 0;
    while (!ec && sent < 2'000'000 && std::chrono::steady_clock::now() < deadline) {
        ws.write(net::buffer(ping), ec);
        ++sent;
    }
    EXPECT_TRUE(ec) << "still connected after " << sent << " unread replies";
    // The server is unharmed and no longer counts the socket.
    const auto metrics =
        body_of(http_request(server.port(), "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    EXPECT_NE(metrics.find("pitwall_websocket_connections 0"), std::string::npos) << metrics.substr(0, 300);
    EXPECT_NE(server.output().find("send queue full"), std::string::npos);
}

TEST(ServerLifecycle, GracefulShutdownFinishesInFlightAndClosesWebSockets) {
    ServerProcess server;
    ASSERT_TRUE(server.started()) << server.output();

    RawClient in_flight(server.port());
    ASSERT_TRUE(in_flight.send("POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345"));
    RawClient idle(server.port());
    ASSERT_TRUE(idle.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_EQ(status_of(idle.read_response()), 200);

    net::io_context ioc;
    auto ws = open_ws(ioc, server.port());
    std::this_thread::sleep_for(200ms);  // the request line reached the server

    // SIGTERM while a request is mid-body.
    auto result_future = std::async(std::launch::async, [&] { return server.stop(SIGTERM, 20s); });
    std::this_thread::sleep_for(300ms);

    // The WebSocket is closed with 1001 (going away).
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws.read(buffer, ec);
    EXPECT_TRUE(ec == websocket::error::closed) << ec.message();
    EXPECT_EQ(ws.reason().code, websocket::close_code::going_away);
    // The idle keep-alive connection is closed.
    EXPECT_TRUE(idle.closed_within(5s));
    // The in-flight request completes, then its connection closes.
    ASSERT_TRUE(in_flight.send("67890"));
    auto response = in_flight.read_response(5s);
    EXPECT_EQ(status_of(response), 405) << response;
    EXPECT_EQ(header_of(response, "Connection"), "close");

    auto result = result_future.get();
    EXPECT_EQ(result.exit_code, 0) << result.output;
    // New connections are refused once the process is gone.
    RawClient late(server.port());
    EXPECT_FALSE(late.connected());
}

TEST(ServerConfig, BadConfigurationExitsWithCode2AndNamesTheKey) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("pitwall-badcfg-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "bad.toml";
    std::ofstream(file) << "[http]\nlisten = \"127.0.0.1:0\"\nmax_body_byte = 10\n";
    const std::string binary = std::string(PITWALL_BIN_DIR) + "/pitwall-server";

    auto unknown = run_binary(binary, {"--config", file.string()}, {});
    EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
    EXPECT_NE(unknown.output.find("http.max_body_byte"), std::string::npos) << unknown.output;
    EXPECT_NE(unknown.output.find("unknown key"), std::string::npos) << unknown.output;

    auto range = run_binary(binary, {}, {{"PITWALL_HTTP_MAX_HEADER_BYTES", "5"}});
    EXPECT_EQ(range.exit_code, 2);
    EXPECT_NE(range.output.find("http.max_header_bytes: 5 is out of range"), std::string::npos)
        << range.output;

    auto type = run_binary(binary, {}, {{"PITWALL_DEMO", "maybe"}});
    EXPECT_EQ(type.exit_code, 2);
    EXPECT_NE(type.output.find("demo: expected a value of type boolean"), std::string::npos) << type.output;

    auto version = run_binary(binary, {"--version"}, {});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_NE(version.output.find("pitwall-server "), std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST(Cli, DoctorMasksSecretsAndChecksStores) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("pitwall-doctor-" + std::to_string(::getpid()));
    const std::string cli = std::string(PITWALL_BIN_DIR) + "/pitwall";
    std::map<std::string, std::string> env{{"PITWALL_DATA_DIR", dir.string()},
                                           {"PITWALL_SECRETS_CRON_SECRET", "very-secret-cron-value"}};
    auto migrate = run_binary(cli, {"migrate"}, env);
    EXPECT_EQ(migrate.exit_code, 0) << migrate.output;
    EXPECT_NE(migrate.output.find("0001 init"), std::string::npos) << migrate.output;

    auto doctor = run_binary(cli, {"doctor"}, env);
    EXPECT_EQ(doctor.exit_code, 0) << doctor.output;
    EXPECT_EQ(doctor.output.find("very-secret-cron-value"), std::string::npos);
    EXPECT_NE(doctor.output.find("secrets.cron_secret"), std::string::npos);
    EXPECT_NE(doctor.output.find("****"), std::string::npos);
    EXPECT_NE(doctor.output.find("sql "), std::string::npos);

    auto grant = run_binary(cli, {"user", "grant", "123456789", "owner"}, env);
    EXPECT_EQ(grant.exit_code, 0) << grant.output;
    auto bad_role = run_binary(cli, {"user", "grant", "123", "emperor"}, env);
    EXPECT_NE(bad_role.exit_code, 0);

    auto help = run_binary(cli, {"--help"}, {});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.output.find("migrate"), std::string::npos);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pitwall::testing
