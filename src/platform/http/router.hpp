// Method + path-pattern routing with typed parameters.
//
// Patterns are '/'-separated segments: a literal, `{name}` (any one segment), `{name:int}` (an
// unsigned 64-bit integer), `{name:slug}` ([A-Za-z0-9_-]+) or, last, `{name*}` (the rest of the path,
// possibly empty). Literals win over parameters, parameters over the rest-wildcard. Each segment is
// percent-decoded after splitting, so an encoded '/' never crosses a segment boundary.
// Every route declares the permission it needs; add() refuses a route without one.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "platform/http/message.hpp"

namespace pitwall::http {

using Handler = std::function<Response(Request&)>;

// Where a handler runs: `blocking` on the worker pool (SQL, files, upstream calls), `immediate` on
// the connection's I/O strand (only for handlers that never block: health, metrics, static cache).
enum class Execution { blocking, immediate };

// The permission of routes anyone may call, signed in or not.
inline constexpr std::string_view kPublic = "public";

struct Route {
    Method method = Method::get;
    std::string pattern;
    std::string permission;  // required; kPublic or a permission name
    Handler handler;
    std::size_t max_body_bytes = 0;  // 0: the server's default (http.max_body_bytes)
    Execution execution = Execution::blocking;
};

enum class MatchOutcome { found, not_found, method_not_allowed, bad_path };

struct Match {
    MatchOutcome outcome = MatchOutcome::not_found;
    const Route* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
    std::vector<Method> allowed;  // for method_not_allowed (HEAD included where GET exists)
};

class Router {
  public:
    Router();
    ~Router();
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    // Refuses a malformed pattern, a missing permission or a duplicate method+pattern.
    [[nodiscard]] Status add(Route route);
    // Adds or throws std::logic_error: for the wiring code, where a bad route is a programmer error.
    void must_add(Route route);

    // `path` is the raw (still percent-encoded) path, without the query.
    [[nodiscard]] Match match(Method method, std::string_view path) const;
    [[nodiscard]] const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

  private:
    struct Node;
    std::unique_ptr<Node> root_;
    std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace pitwall::http
