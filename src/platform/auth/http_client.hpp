// The one outbound HTTP client (OAuth token calls, iRacing, Garage61, Discord REST), on libcurl.
//
// It is BLOCKING: request() returns when the transfer has finished or failed. Never call it on an I/O
// thread (the HTTP server's io_context, the bridge, the gateway); run it on the worker pool, like SQLite
// calls. Every transfer is bounded: connect timeout, total timeout, response body and header sizes.
//
// TLS certificate and host name verification are always on; there is no option to turn them off.
// Only http and https are spoken, also across redirects, which are not followed unless asked (at most 3).
// Proxies come from the usual environment variables (https_proxy, no_proxy); loopback never goes
// through a proxy.
//
// One HttpClient serves many threads: it keeps a small pool of curl handles, each with its own idle
// connections (reused by the next request that takes the handle), and shares the DNS cache and TLS
// sessions between them. curl does not support sharing one connection pool between concurrent threads,
// which is why connections are per handle.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace pitwall::auth {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct ClientRequest {
    std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE, HEAD (upper case)
    std::string url;             // absolute http:// or https:// URL
    HttpHeaders headers;         // sent as given; no CR, LF or NUL allowed
    std::string body;            // sent for every method but GET and HEAD when not empty (always for POST)
};

struct ClientResponse {
    int status = 0;
    HttpHeaders headers;  // names lower-cased, in arrival order, of the final response only
    std::string body;

    // The first header with this name (case-insensitive), if any.
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

struct HttpClientOptions {
    std::chrono::milliseconds connect_timeout{5'000};
    std::chrono::milliseconds total_timeout{20'000};  // the whole transfer, redirects included
    std::size_t max_response_bytes = 8 * 1024 * 1024;
    std::size_t max_header_bytes = 64 * 1024;
    bool follow_redirects = false;
    int max_redirects = 3;   // clamped to 0..3
    std::string user_agent;  // empty: "pitwall/<version>"
    std::string ca_file;     // trust anchors in PEM instead of the system store (test peers); empty: system
    std::size_t max_idle_handles = 8;  // handles (and their connections) kept between requests
};

class HttpClient {
  public:
    explicit HttpClient(HttpClientOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Any HTTP status is a response, not an error. Errors (kind unavailable unless noted):
    //   http_client.timeout      connect or total timeout passed
    //   http_client.unreachable  name not resolved, connection refused
    //   http_client.too_large    body above max_response_bytes or headers above max_header_bytes
    //   http_client.tls          handshake or certificate verification failed
    //   http_client.failed       anything else (connection reset, too many redirects, ...)
    //   http_client.bad_request  (invalid_input) bad method, URL scheme or header characters
    // Error args carry the host only; never the URL (it may hold a token in its query), headers or body.
    [[nodiscard]] Result<ClientResponse> request(const ClientRequest& request) const;

    [[nodiscard]] const HttpClientOptions& options() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// RFC 3986 percent-encoding: everything but ALPHA / DIGIT / "-" / "." / "_" / "~" becomes %XX (upper
// case hex), so "+", "/" and "=" in iRacing's masked secrets arrive intact.
std::string url_encode(std::string_view text);

// application/x-www-form-urlencoded body: name=value pairs joined with "&", both sides url_encode()d
// (a space becomes %20, which every form decoder reads as a space).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace pitwall::auth
