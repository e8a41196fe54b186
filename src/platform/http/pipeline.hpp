// What happens to a request between the socket and the handler, without the socket: route
// planning (before the body is read, so the body limit is the route's), then the middleware chain
//   request id -> access log + metrics -> security headers -> locale -> error mapping -> [added] -> router
// The server (server.cpp) owns I/O; everything here is testable with plain values.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "platform/http/message.hpp"
#include "platform/http/router.hpp"

namespace pitwall::i18n {
class Catalog;
}

namespace pitwall::http {

class Metrics;

using Next = std::function<Response(Request&)>;
using Middleware = std::function<Response(Request&, const Next&)>;

// Handlers throw Failure to end a request with an expected error (mapped to the JSON envelope).
class Failure : public std::exception {
  public:
    explicit Failure(Error error) : error_(std::move(error)) {}
    [[nodiscard]] const Error& error() const { return error_; }
    [[nodiscard]] const char* what() const noexcept override { return error_.code.c_str(); }

  private:
    Error error_;
};

[[nodiscard]] int status_for(ErrorKind kind);
// {"error":{"code":..., "message": <localized>}} with the status of the error's kind.
[[nodiscard]] Response error_response(const Request& request, const Error& error);
[[nodiscard]] Response error_response(const Request& request, int status, std::string code);

struct PipelineOptions {
    std::size_t default_max_body_bytes = 1024 * 1024;
    bool access_log = true;
    bool trust_proxy = false;  // honour X-Forwarded-For / X-Forwarded-Proto
    // Origins a form may lead to besides 'self': sign-in and linking forms answer with a redirect to
    // the OAuth provider, and browsers apply the CSP form-action directive to that redirect.
    std::vector<std::string> form_action_origins;
};

struct Plan {
    Match match;
    std::size_t max_body_bytes = 0;
    Execution execution = Execution::immediate;
};

class Pipeline {
  public:
    Pipeline(const Router& router, Metrics& metrics, const i18n::Catalog& catalog, PipelineOptions options);

    // Inserted just before the router, in call order (sessions, CSRF...). Not run for routes with
    // Execution::immediate, which must stay free of store access.
    void use(Middleware middleware);

    // Route lookup from the request line alone.
    [[nodiscard]] Plan plan(Method method, std::string_view target) const;
    // Fills path/query/remote/secure from the target and headers; false when the target is malformed.
    [[nodiscard]] bool prepare(Request& request) const;
    // Runs the chain and the handler. Never throws.
    [[nodiscard]] Response handle(Request& request, const Plan& plan) const;
    // A failure found by the server itself (400, 408, 413, 431), passed through the same chain
    // minus the router, so it gets a request id, security headers, a log line and a metric.
    [[nodiscard]] Response reject(Request& request, int status, std::string code) const;

    [[nodiscard]] const i18n::Catalog& catalog() const { return catalog_; }

  private:
    [[nodiscard]] Response run(Request& request, const Next& last) const;

    const Router& router_;
    Metrics& metrics_;
    const i18n::Catalog& catalog_;
    PipelineOptions options_;
    std::string content_security_policy_;
    std::vector<Middleware> middleware_;
};

}  // namespace pitwall::http
