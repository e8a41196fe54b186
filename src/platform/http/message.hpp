// HTTP messages as Pitwall sees them: plain value types with no Beast/Asio type inside, so that
// routes, middleware and features are written and tested without sockets. server.cpp converts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pitwall::i18n {
class Catalog;
}

namespace pitwall::http {

enum class Method { get, head, post, put, patch, delete_, options, other };

[[nodiscard]] std::string_view method_name(Method m);
[[nodiscard]] Method parse_method(std::string_view name);

// Header fields in arrival order; names compare case-insensitively.
class Headers {
  public:
    [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
    [[nodiscard]] bool has(std::string_view name) const { return get(name).has_value(); }
    void set(std::string_view name, std::string_view value);  // replaces every field of that name
    void add(std::string_view name, std::string_view value);  // appends (e.g. Set-Cookie)
    void remove(std::string_view name);
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

  private:
    std::vector<std::pair<std::string, std::string>> fields_;
};

// Who is asking: filled by the identity middleware from the session cookie.
struct Principal {
    std::int64_t user_id = 0;  // 0: not signed in
    std::string role;          // "guest", "member", "admin", "owner"; empty when not signed in
    std::string display_name;
    std::string csrf_token;  // the session's, or the anonymous visitor's double-submit token
    std::string session_id;

    [[nodiscard]] bool signed_in() const { return user_id != 0; }
};

struct Request {
    Method method = Method::get;
    std::string target;  // as received: path + query
    std::string path;    // percent-decoded path
    std::string query;   // raw query string, without '?'
    Headers headers;
    std::string body;
    std::string remote_address;
    bool secure = false;  // TLS here, or at a trusted proxy (X-Forwarded-Proto)

    // Filled by the server and its middleware.
    std::string request_id;
    std::string locale = "en";
    std::string time_zone = "UTC";  // the viewer's: member setting, else the pw_tz cookie, else UTC
    const i18n::Catalog* catalog = nullptr;
    std::string route;       // the matched pattern, "" when none matched
    bool immediate = false;  // the route runs on the I/O strand (see Execution)
    std::string permission;  // what the matched route declared
    std::vector<std::pair<std::string, std::string>> params;  // path parameters by name
    Principal principal;

    [[nodiscard]] std::string_view param(std::string_view name) const;
    [[nodiscard]] std::int64_t int_param(std::string_view name) const;  // validated by the router
    [[nodiscard]] std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
    int status = 200;
    Headers headers;
    std::string body;

    static Response json(int status, std::string body);
    static Response text(int status, std::string body,
                         std::string_view content_type = "text/plain; charset=utf-8");
    static Response html(int status, std::string body);
    static Response redirect(std::string_view location, int status = 302);
    static Response empty(int status);
};

// The value of `name` in an application/x-www-form-urlencoded string (a query or a form body).
[[nodiscard]] std::optional<std::string> form_field(std::string_view urlencoded, std::string_view name);

// Percent-decodes a path or query component; nullopt on a malformed escape or an encoded NUL.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

// The reason phrase of a status code (for logs and the error envelope).
[[nodiscard]] std::string_view status_reason(int status);

}  // namespace pitwall::http
