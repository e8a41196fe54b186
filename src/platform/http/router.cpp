#include "platform/http/router.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace pitwall::http {
namespace {

enum class ParamType { any, integer, slug };

constexpr std::size_t kMethods = 8;
constexpr std::size_t kMaxSegments = 64;

std::size_t method_index(Method m) {
    return static_cast<std::size_t>(m);
}

bool valid_for(ParamType type, std::string_view value) {
    if (value.empty()) return false;
    switch (type) {
        case ParamType::any:
            return true;
        case ParamType::integer:
            return value.size() <= 19 &&
                   std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
        case ParamType::slug:
            return std::all_of(value.begin(), value.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_';
            });
    }
    return false;
}

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> segments;
    if (path.starts_with('/')) path.remove_prefix(1);
    while (true) {
        auto slash = path.find('/');
        segments.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return segments;
}

bool valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

}  // namespace

struct Router::Node {
    std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
    struct Param {
        std::string name;
        ParamType type;
        std::unique_ptr<Node> next;
    };
    std::vector<Param> params;
    std::string rest_name;  // non-empty: a {name*} route ends here
    std::array<const Route*, kMethods> rest_routes{};
    std::array<const Route*, kMethods> routes{};

    static bool any(const std::array<const Route*, kMethods>& a) {
        return std::any_of(a.begin(), a.end(), [](const Route* r) { return r != nullptr; });
    }
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

Status Router::add(Route route) {
    auto invalid = [&](std::string_view why) {
        return Error(ErrorKind::internal, "route.invalid",
                     {{"pattern", route.pattern}, {"reason", std::string(why)}});
    };
    if (route.permission.empty()) return invalid("no permission declared");
    if (!route.handler) return invalid("no handler");
    if (!route.pattern.starts_with('/')) return invalid("pattern must start with '/'");
    if (route.method == Method::other) return invalid("unsupported method");

    Node* node = root_.get();
    auto segments = split_path(route.pattern);
    bool is_rest = false;
    std::string rest_name;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        std::string_view seg = segments[i];
        if (seg.starts_with('{')) {
            if (!seg.ends_with('}')) return invalid("unclosed parameter");
            std::string_view inner = seg.substr(1, seg.size() - 2);
            if (inner.ends_with('*')) {
                if (i + 1 != segments.size()) return invalid("{name*} must be last");
                rest_name = std::string(inner.substr(0, inner.size() - 1));
                if (!valid_name(rest_name)) return invalid("bad parameter name");
                is_rest = true;
                break;
            }
            auto colon = inner.find(':');
            std::string name(inner.substr(0, colon));
            std::string_view type_text = colon == std::string_view::npos ? "" : inner.substr(colon + 1);
            if (!valid_name(name)) return invalid("bad parameter name");
            ParamType type;
            if (type_text.empty())
                type = ParamType::any;
            else if (type_text == "int")
                type = ParamType::integer;
            else if (type_text == "slug")
                type = ParamType::slug;
            else
                return invalid("unknown parameter type");
            auto it = std::find_if(node->params.begin(), node->params.end(),
                                   [&](const Node::Param& p) { return p.name == name && p.type == type; });
            if (it == node->params.end()) {
                node->params.push_back({name, type, std::make_unique<Node>()});
                it = std::prev(node->params.end());
            }
            node = it->next.get();
        } else {
            if (seg.find_first_of("{}") != std::string_view::npos) return invalid("braces inside a literal");
            auto& next = node->literals[std::string(seg)];
            if (!next) next = std::make_unique<Node>();
            node = next.get();
        }
    }

    auto owned = std::make_unique<Route>(std::move(route));
    const Route* r = owned.get();
    auto& slot = is_rest ? node->rest_routes[method_index(r->method)] : node->routes[method_index(r->method)];
    if (slot) return invalid("duplicate route");
    if (is_rest) {
        if (!node->rest_name.empty() && node->rest_name != rest_name)
            return invalid("conflicting wildcard name");
        node->rest_name = rest_name;
    }
    slot = r;
    routes_.push_back(std::move(owned));
    return {};
}

void Router::must_add(Route route) {
    std::string pattern = route.pattern;
    if (auto s = add(std::move(route)); !s)
        throw std::logic_error("route " + pattern + ": " + s.error().arg("reason"));
}

Match Router::match(Method method, std::string_view path) const {
    Match result;
    if (!path.starts_with('/')) {
        result.outcome = MatchOutcome::bad_path;
        return result;
    }
    auto raw = split_path(path);
    if (raw.size() > kMaxSegments) return result;
    std::vector<std::string> segments;
    segments.reserve(raw.size());
    for (auto seg : raw) {
        auto decoded = percent_decode(seg);
        if (!decoded) {
            result.outcome = MatchOutcome::bad_path;
            return result;
        }
        segments.push_back(std::move(*decoded));
    }

    // Depth-first: literals, then typed parameters, then the rest-wildcard. The first node that has a
    // route for the method wins; a node with routes for other methods only is remembered for 405.
    const std::array<const Route*, kMethods>* other_methods = nullptr;
    std::vector<std::pair<std::string, std::string>> params;

    auto pick = [&](const std::array<const Route*, kMethods>& routes) -> const Route* {
        if (const Route* r = routes[method_index(method)]) return r;
        if (method == Method::head && routes[method_index(Method::get)])
            return routes[method_index(Method::get)];
        if (!other_methods && Node::any(routes)) other_methods = &routes;
        return nullptr;
    };

    std::function<const Route*(const Node&, std::size_t)> walk = [&](const Node& node,
                                                                     std::size_t i) -> const Route* {
        if (i == segments.size()) {
            if (const Route* r = pick(node.routes)) return r;
        } else {
            if (auto it = node.literals.find(segments[i]); it != node.literals.end())
                if (const Route* r = walk(*it->second, i + 1)) return r;
            for (const auto& p : node.params) {
                if (!valid_for(p.type, segments[i])) continue;
                params.emplace_back(p.name, segments[i]);
                if (const Route* r = walk(*p.next, i + 1)) return r;
                params.pop_back();
            }
        }
        if (!node.rest_name.empty()) {
            if (const Route* r = pick(node.rest_routes)) {
                std::string rest;
                for (std::size_t k = i; k < segments.size(); ++k) rest += (k == i ? "" : "/") + segments[k];
                params.emplace_back(node.rest_name, std::move(rest));
                return r;
            }
        }
        return nullptr;
    };

    if (const Route* r = walk(*root_, 0)) {
        result.outcome = MatchOutcome::found;
        result.route = r;
        result.params = std::move(params);
        return result;
    }
    if (other_methods) {
        result.outcome = MatchOutcome::method_not_allowed;
        for (std::size_t m = 0; m < kMethods; ++m)
            if ((*other_methods)[m]) result.allowed.push_back(static_cast<Method>(m));
        if ((*other_methods)[method_index(Method::get)] && !(*other_methods)[method_index(Method::head)])
            result.allowed.push_back(Method::head);
    }
    return result;
}

}  // namespace pitwall::http
