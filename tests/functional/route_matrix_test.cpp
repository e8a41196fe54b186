// Every route of the real server, called as every role: allowed where its declared permission says
// so, refused (401 or 403) everywhere else; and no route without a known permission.
#include <regex>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "platform/auth/permissions.hpp"
#include "server_process.hpp"

namespace pitwall::testing {
namespace {

struct RouteRow {
    std::string method, pattern, permission;
};

std::vector<RouteRow> route_table() {
    const auto result = run_binary(std::string(PITWALL_BIN_DIR) + "/pitwall-server", {"--print-routes"},
                                   {{"PITWALL_DEMO", "true"},
                                    {"PITWALL_LOG_LEVEL", "warn"},
                                    {"PITWALL_DATA_DIR", (std::filesystem::temp_directory_path() /
                                                          ("pitwall-routes-" + std::to_string(::getpid())))
                                                             .string()}});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    std::vector<RouteRow> rows;
    std::istringstream lines(result.output);
    for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with("{")) continue;
        auto o = boost::json::parse(line).as_object();
        rows.push_back({std::string(o["method"].as_string()), std::string(o["pattern"].as_string()),
                        std::string(o["permission"].as_string())});
    }
    return rows;
}

// A concrete path for a pattern: typed parameters get a value of their type.
std::string sample_path(const std::string& pattern) {
    std::string out = std::regex_replace(pattern, std::regex(R"(\{[a-z_]+:int\})"), "1");
    out = std::regex_replace(out, std::regex(R"(\{[a-z_]+:slug\})"), "iracing");
    out = std::regex_replace(out, std::regex(R"(\{[a-z_]+\*\})"), "css/pitwall.css");
    return std::regex_replace(out, std::regex(R"(\{[a-z_]+\})"), "x");
}

std::string cookie_from(const std::string& response, const std::string& name) {
    std::smatch m;
    std::regex re("Set-Cookie: " + name + "=([^;]*);", std::regex::icase);
    return std::regex_search(response, m, re) ? m[1].str() : "";
}

std::string csrf_in_page(const std::string& html) {
    std::smatch m;
    return std::regex_search(html, m, std::regex(R"re(name="_csrf" value="([^"]+)")re")) ? m[1].str() : "";
}

struct Visitor {
    std::string cookies;
    std::string csrf;
};

// Anonymous: the double-submit token from the sign-in page. A role: demo sign-in, then the session's
// token from a page.
Visitor visitor(std::uint16_t port, const std::string& role) {
    auto page = http_request(port, "GET /sign-in HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    Visitor v{"pw_csrf=" + cookie_from(page, "pw_csrf"), csrf_in_page(page)};
    if (role.empty()) return v;
    const std::string body = "role=" + role + "&_csrf=" + v.csrf;
    auto signed_in =
        http_request(port, "POST /auth/demo HTTP/1.1\r\nHost: t\r\nCookie: " + v.cookies +
                               "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    EXPECT_EQ(status_of(signed_in), 303) << signed_in;
    v.cookies = "pw_session=" + cookie_from(signed_in, "pw_session");
    auto profile = http_request(
        port, "GET /profile HTTP/1.1\r\nHost: t\r\nCookie: " + v.cookies + "\r\nConnection: close\r\n\r\n");
    v.csrf = csrf_in_page(profile);
    EXPECT_FALSE(v.csrf.empty()) << profile.substr(0, 400);
    return v;
}

TEST(RouteMatrix, EveryRouteAllowsExactlyTheRolesItDeclares) {
    auto routes = route_table();
    ASSERT_GT(routes.size(), 20u);
    for (const auto& r : routes)
        EXPECT_TRUE(auth::is_known_permission(r.permission))
            << r.method << " " << r.pattern << ": " << r.permission;
    // Sign-out ends the visitor's session: call it last.
    std::stable_partition(routes.begin(), routes.end(),
                          [](const RouteRow& r) { return r.pattern != "/sign-out"; });

    ServerProcess server(
        std::map<std::string, std::string>{{"PITWALL_DEMO", "true"}, {"PITWALL_LOG_ACCESS_LOG", "false"}});
    ASSERT_TRUE(server.started()) << server.output();

    const std::vector<std::pair<std::string, std::optional<auth::Role>>> roles = {
        {"", std::nullopt},
        {"guest", auth::Role::guest},
        {"member", auth::Role::member},
        {"admin", auth::Role::admin},
        {"owner", auth::Role::owner}};
    int checked = 0;
    for (const auto& [role_name, role] : roles) {
        const Visitor v = visitor(server.port(), role_name);
        for (const auto& r : routes) {
            // upgrade-only; the sign-in above; the cron trigger authenticates by its bearer secret, not by
            // session (tests/functional/sync_test.cpp)
            if (r.pattern == "/ws" || r.pattern == "/auth/demo" || r.pattern.starts_with("/api/cron/"))
                continue;
            const bool changes = r.method != "GET" && r.method != "HEAD";
            std::string request = r.method + " " + sample_path(r.pattern) +
                                  " HTTP/1.1\r\nHost: t\r\nAccept: application/json\r\n";
            if (!v.cookies.empty()) request += "Cookie: " + v.cookies + "\r\n";
            if (changes) request += "X-CSRF-Token: " + v.csrf + "\r\nContent-Length: 0\r\n";
            request += "Connection: close\r\n\r\n";
            const int status = status_of(http_request(server.port(), request));
            const std::string what = (role_name.empty() ? "anonymous" : role_name) + ": " + r.method + " " +
                                     r.pattern + " (" + r.permission + ") -> " + std::to_string(status);
            ASSERT_NE(status, 0) << what;
            EXPECT_NE(status, 500) << what;  // 503 is fine: a provider not configured here
            if (auth::allows(role, r.permission)) {
                EXPECT_TRUE(status != 401 && status != 403) << what;
            } else {
                EXPECT_TRUE(status == (role ? 403 : 401)) << what;
            }
            ++checked;
        }
    }
    EXPECT_GT(checked, 100);
}

TEST(RouteMatrix, DemoSignInExistsOnlyInDemoModeOnLoopback) {
    const auto without_demo = run_binary(
        std::string(PITWALL_BIN_DIR) + "/pitwall-server", {"--print-routes"},
        {{"PITWALL_LOG_LEVEL", "warn"},
         {"PITWALL_DATA_DIR",
          (std::filesystem::temp_directory_path() / ("pitwall-nodemo-" + std::to_string(::getpid())))
              .string()}});
    EXPECT_EQ(without_demo.output.find("/auth/demo"), std::string::npos);
    const auto public_interface = run_binary(
        std::string(PITWALL_BIN_DIR) + "/pitwall-server", {"--print-routes"},
        {{"PITWALL_DEMO", "true"},
         {"PITWALL_HTTP_LISTEN", "0.0.0.0:0"},
         {"PITWALL_LOG_LEVEL", "warn"},
         {"PITWALL_DATA_DIR",
          (std::filesystem::temp_directory_path() / ("pitwall-pubdemo-" + std::to_string(::getpid())))
              .string()}});
    EXPECT_EQ(public_interface.exit_code, 0) << public_interface.output;
    EXPECT_EQ(public_interface.output.find("/auth/demo"), std::string::npos);

    ServerProcess server;  // demo off
    ASSERT_TRUE(server.started());
    auto sign_in =
        http_request(server.port(), "GET /sign-in HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(sign_in), 200);
    EXPECT_EQ(sign_in.find("/auth/demo"), std::string::npos);
    auto post = http_request(
        server.port(),
        "POST /auth/demo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nConnection: close\r\n\r\nrole=owner");
    EXPECT_EQ(status_of(post), 404);
}

}  // namespace
}  // namespace pitwall::testing

namespace pitwall::testing {
namespace {

// The shipped example configuration names the real providers with placeholder client ids: the login
// routes redirect there with state and PKCE, and a forged callback is refused without a session.
TEST(ExampleConfig, LoginRedirectsToTheProviderAndForgedCallbacksAreRefused) {
    ServerProcess server(std::map<std::string, std::string>{}, {"--config", "config/pitwall.example.toml"});
    ASSERT_TRUE(server.started()) << server.output();
    auto login = http_request(server.port(),
                              "GET /auth/discord/login HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(login), 302) << login;
    const auto location = header_of(login, "Location").value_or("");
    EXPECT_TRUE(location.starts_with("https://discord.com/oauth2/authorize?")) << location;
    for (const char* part : {"client_id=your-discord-client-id", "state=", "code_challenge=",
                             "code_challenge_method=S256", "response_type=code", "scope=identify"})
        EXPECT_NE(location.find(part), std::string::npos) << part << " in " << location;
    EXPECT_NE(login.find("Set-Cookie: pw_oauth="), std::string::npos);

    for (const char* provider : {"discord", "iracing", "garage61"}) {
        auto forged = http_request(server.port(), std::string("GET /auth/") + provider +
                                                      "/callback?code=x&state=forged HTTP/1.1\r\nHost: t\r\n"
                                                      "Accept-Language: tr\r\nConnection: close\r\n\r\n");
        EXPECT_EQ(status_of(forged), 400) << provider;
        EXPECT_NE(forged.find("Bu giriş bağlantısı geçersiz"), std::string::npos) << provider;
        EXPECT_EQ(forged.find("pw_session="), std::string::npos) << provider;
    }
}

}  // namespace
}  // namespace pitwall::testing
