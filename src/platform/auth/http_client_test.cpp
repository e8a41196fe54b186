#include "platform/auth/http_client.hpp"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "core/version.hpp"
#include "platform/auth/secret_mask.hpp"
#include "test_http_server.hpp"

namespace pitwall::auth {
namespace {

using testing::ReceivedRequest;
using testing::TestHttpServer;
using Clock = std::chrono::steady_clock;

std::string code_of(const Result<ClientResponse>& r) {
    return r.ok() ? "ok" : r.error().code;
}

TEST(FormEncode, PercentEncodesEverythingButUnreserved) {
    EXPECT_EQ(url_encode(""), "");
    EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
    EXPECT_EQ(url_encode("a b+c/d=e&f?g#h%i"), "a%20b%2Bc%2Fd%3De%26f%3Fg%23h%25i");
    EXPECT_EQ(url_encode(std::string_view("\xc3\xa9\x00\xff!", 5)), "%C3%A9%00%FF%21");
    EXPECT_EQ(url_encode("http://127.0.0.1:8080/cb?x=1"), "http%3A%2F%2F127.0.0.1%3A8080%2Fcb%3Fx%3D1");
    EXPECT_EQ(form_encode({}), "");
    EXPECT_EQ(
        form_encode({{"grant_type", "authorization_code"}, {"client_secret", "+e1Y/Tb=="}, {"a b", ""}}),
        "grant_type=authorization_code&client_secret=%2Be1Y%2FTb%3D%3D&a%20b=");
}

TEST(HttpClient, RoundTripsStatusHeadersAndBody) {
    TestHttpServer server([](const ReceivedRequest&) {
        return TestHttpServer::response(201, "Created", "{\"ok\":true}",
                                        {{"Content-Type", "application/json"},
                                         {"X-Request-ID", "req-42"},
                                         {"Set-Cookie", "a=1"},
                                         {"set-cookie", "b=2"},
                                         {"X-Padded", "  spaced value \t"}});
    });
    HttpClient client;
    auto r = client.request({"GET",
                             server.url("/data/member/info?cust_id=1&x=%2B"),
                             {{"Authorization", "Bearer tok"}, {"X-Empty", ""}},
                             ""});
    ASSERT_TRUE(r.ok()) << r.error().code << " " << r.error().detail;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->body, "{\"ok\":true}");
    EXPECT_EQ(r->header("x-request-id"), "req-42");
    EXPECT_EQ(r->header("X-Request-Id"), "req-42");
    EXPECT_EQ(r->header("x-padded"), "spaced value");
    EXPECT_EQ(r->header("missing"), std::nullopt);
    int cookies = 0;
    for (const auto& [name, value] : r->headers) {
        EXPECT_EQ(name, [&] {
            std::string l = name;
            for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return l;
        }());
        if (name == "set-cookie") ++cookies;
    }
    EXPECT_EQ(cookies, 2);

    auto seen = server.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "GET");
    EXPECT_EQ(seen[0].target, "/data/member/info?cust_id=1&x=%2B");
    EXPECT_EQ(seen[0].header("authorization"), "Bearer tok");
    EXPECT_EQ(seen[0].header("x-empty"), "");
    EXPECT_EQ(seen[0].header("user-agent"), std::string("pitwall/") + pitwall::version);
    EXPECT_EQ(seen[0].body, "");
}

TEST(HttpClient, PostsAFormBodyByteExact) {
    TestHttpServer server([](const ReceivedRequest&) { return TestHttpServer::response(200, "OK", "{}"); });
    HttpClient client;
    const std::string masked = mask_secret("MyC1ientS3cret", "myclientid");  // has + / =
    const std::string body =
        form_encode({{"grant_type", "authorization_code"},
                     {"client_id", "myclientid"},
                     {"client_secret", masked},
                     {"code", "0b0b-11c2"},
                     {"redirect_uri", "http://127.0.0.1:8080/auth/iracing/callback?a=1&b=2"},
                     {"code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}});
    EXPECT_NE(body.find("client_secret=%2Be1YWJZ%2FTbLhtq3v5GAb420dhmHPlqFgaHuf1Tqlqgo%3D&"),
              std::string::npos);
    auto r = client.request(
        {"POST",
         server.url("/oauth2/token"),
         {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
         body});
    ASSERT_TRUE(r.ok()) << r.error().detail;
    auto seen = server.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].body, body);
    EXPECT_EQ(seen[0].header("content-length"), std::to_string(body.size()));
    EXPECT_EQ(seen[0].header("content-type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(seen[0].header("expect"), std::nullopt);

    // A body beyond curl's 1 KiB "Expect: 100-continue" threshold, binary, arrives intact too.
    std::string big(200'000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 % 251);
    ASSERT_TRUE(client.request({"POST", server.url("/upload"), {}, big}).ok());
    EXPECT_EQ(server.requests().back().body, big);
    // An empty POST still says Content-Length: 0.
    ASSERT_TRUE(client.request({"POST", server.url("/empty"), {}, ""}).ok());
    EXPECT_EQ(server.requests().back().header("content-length"), "0");
}

TEST(HttpClient, SendsOtherMethods) {
    TestHttpServer server([](const ReceivedRequest& req) {
        return TestHttpServer::response(200, "OK", req.method == "HEAD" ? "" : req.method + ":" + req.body);
    });
    HttpClient client;
    for (const std::string method : {"PUT", "PATCH", "DELETE"}) {
        auto r =
            client.request({method, server.url("/channels/1"), {{"Content-Type", "application/json"}}, "{}"});
        ASSERT_TRUE(r.ok()) << method;
        EXPECT_EQ(r->body, method + ":{}");
        EXPECT_EQ(server.requests().back().method, method);
    }
    auto del = client.request({"DELETE", server.url("/x"), {}, ""});
    ASSERT_TRUE(del.ok());
    EXPECT_EQ(del->body, "DELETE:");
    auto head = client.request({"HEAD", server.url("/x"), {}, ""});
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(server.requests().back().method, "HEAD");
}

TEST(HttpClient, TimesOutWhenTheServerNeverAnswers) {
    TestHttpServer server([](const ReceivedRequest&) -> std::optional<std::string> { return std::nullopt; });
    HttpClientOptions options;
    options.total_timeout = std::chrono::milliseconds(300);
    HttpClient client(options);
    const auto start = Clock::now();
    auto r = client.request({"GET", server.url("/slow"), {}, ""});
    const auto elapsed = Clock::now() - start;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "http_client.timeout");
    EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
    EXPECT_EQ(r.error().arg("host"), "127.0.0.1");
    EXPECT_GE(elapsed, std::chrono::milliseconds(250));
    EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(HttpClient, RefusesAnOversizedBody) {
    const std::string big(2 * 1024 * 1024, 'x');
    TestHttpServer server([&](const ReceivedRequest& req) -> std::optional<std::string> {
        if (req.target == "/declared") return TestHttpServer::response(200, "OK", big);
        if (req.target == "/exact") return TestHttpServer::response(200, "OK", std::string(1024 * 1024, 'y'));
        if (req.target == "/headers")
            return TestHttpServer::response(200, "OK", "", {{"X-Big", std::string(80 * 1024, 'h')}});
        // No Content-Length: the size is only known by counting.
        return "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + big;
    });
    HttpClientOptions options;
    options.max_response_bytes = 1024 * 1024;
    HttpClient client(options);
    for (const char* path : {"/declared", "/streamed", "/headers"}) {
        auto r = client.request({"GET", server.url(path), {}, ""});
        EXPECT_EQ(code_of(r), "http_client.too_large") << path;
    }
    auto exact = client.request({"GET", server.url("/exact"), {}, ""});
    ASSERT_TRUE(exact.ok()) << exact.error().detail;
    EXPECT_EQ(exact->body.size(), 1024u * 1024u);
}

TEST(HttpClient, ReportsARefusedConnectionAsUnreachable) {
    HttpClient client;
    const int port = testing::unused_port();
    auto r = client.request({"GET", "http://127.0.0.1:" + std::to_string(port) + "/", {}, ""});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "http_client.unreachable");
    EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
}

TEST(HttpClient, ReportsATlsFailure) {
    // A plain-HTTP peer cannot complete a TLS handshake: it answers the ClientHello with plain text.
    TestHttpServer server(
        [](const ReceivedRequest&) { return TestHttpServer::response(400, "Bad Request", ""); },
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    HttpClientOptions options;
    options.total_timeout = std::chrono::seconds(5);
    HttpClient client(options);
    auto r = client.request({"GET", "https://127.0.0.1:" + std::to_string(server.port()) + "/", {}, ""});
    EXPECT_EQ(code_of(r), "http_client.tls");
}

TEST(HttpClient, DoesNotFollowRedirectsByDefault) {
    TestHttpServer server([](const ReceivedRequest& req) {
        if (req.target == "/start")
            return TestHttpServer::response(302, "Found", "", {{"Location", "/next"}});
        if (req.target == "/loop") return TestHttpServer::response(302, "Found", "", {{"Location", "/loop"}});
        if (req.target == "/ftp")
            return TestHttpServer::response(302, "Found", "", {{"Location", "ftp://127.0.0.1/file"}});
        return TestHttpServer::response(200, "OK", "arrived", {{"X-Final", "yes"}});
    });
    HttpClient plain;
    auto r = plain.request({"GET", server.url("/start"), {}, ""});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 302);
    EXPECT_EQ(r->header("location"), "/next");
    EXPECT_EQ(server.requests().size(), 1u);

    HttpClientOptions options;
    options.follow_redirects = true;
    options.max_redirects = 10;  // clamped to 3
    HttpClient following(options);
    EXPECT_EQ(following.options().max_redirects, 3);
    auto followed = following.request({"GET", server.url("/start"), {}, ""});
    ASSERT_TRUE(followed.ok());
    EXPECT_EQ(followed->status, 200);
    EXPECT_EQ(followed->body, "arrived");
    EXPECT_EQ(followed->header("x-final"), "yes");
    EXPECT_EQ(followed->header("location"), std::nullopt);  // only the final response's headers

    const auto before = server.requests().size();
    EXPECT_EQ(code_of(following.request({"GET", server.url("/loop"), {}, ""})), "http_client.failed");
    EXPECT_EQ(server.requests().size() - before, 4u);  // the first request and 3 redirects
    EXPECT_NE(code_of(following.request({"GET", server.url("/ftp"), {}, ""})), "ok");
}

TEST(HttpClient, RefusesBadRequestsBeforeSending) {
    TestHttpServer server([](const ReceivedRequest&) { return TestHttpServer::response(200, "OK", ""); });
    HttpClient client;
    EXPECT_EQ(code_of(client.request({"TRACE", server.url(), {}, ""})), "http_client.bad_request");
    EXPECT_EQ(code_of(client.request({"get", server.url(), {}, ""})), "http_client.bad_request");
    EXPECT_EQ(code_of(client.request({"GET", "ftp://127.0.0.1/", {}, ""})), "http_client.bad_request");
    EXPECT_EQ(code_of(client.request({"GET", "file:///etc/passwd", {}, ""})), "http_client.bad_request");
    EXPECT_EQ(code_of(client.request({"GET", "/relative", {}, ""})), "http_client.bad_request");
    EXPECT_EQ(code_of(client.request({"GET", "", {}, ""})), "http_client.bad_request");
    EXPECT_EQ(code_of(client.request({"GET", server.url(), {{"X-A", "v\r\nX-Injected: 1"}}, ""})),
              "http_client.bad_request");
    EXPECT_EQ(code_of(client.request({"GET", server.url(), {{"Bad Name", "v"}}, ""})),
              "http_client.bad_request");
    EXPECT_EQ(code_of(client.request({"GET", server.url(), {{"", "v"}}, ""})), "http_client.bad_request");
    EXPECT_TRUE(server.requests().empty());
}

TEST(HttpClient, ReusesConnections) {
    TestHttpServer server([](const ReceivedRequest&) { return TestHttpServer::response(200, "OK", "hi"); });
    HttpClient client;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.request({"GET", server.url("/a"), {}, ""}).ok());
    EXPECT_EQ(server.connections(), 1);
    EXPECT_EQ(server.requests().size(), 5u);
}

TEST(HttpClient, ServesManyThreadsAtOnce) {
    TestHttpServer server(
        [](const ReceivedRequest& req) { return TestHttpServer::response(200, "OK", req.target); });
    HttpClient client;
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) {
                const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
                auto r = client.request({"GET", server.url(path), {}, ""});
                if (r.ok() && r->body == path) ++good;
            }
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(good.load(), 80);
    EXPECT_LE(server.connections(), 8);  // handles are pooled, so connections are too
}

}  // namespace
}  // namespace pitwall::auth
