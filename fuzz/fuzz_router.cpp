// Fuzzes request routing: arbitrary method + target strings against a Router holding a table like the
// server's (literals, {id:int}, {slug:slug}, {name}, {path*}), plus percent_decode and query_param.
//
// Input: "<METHOD>\n<target>" where target is path[?query]; without a newline the whole input is a GET
// target. Nothing may crash, and what the router and the decoder promise (router.hpp, message.hpp) must
// hold for every input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "platform/http/message.hpp"
#include "platform/http/router.hpp"

namespace {

using pitwall::http::Match;
using pitwall::http::MatchOutcome;
using pitwall::http::Method;
using pitwall::http::Request;
using pitwall::http::Response;
using pitwall::http::Route;
using pitwall::http::Router;

const Router& router() {
    static const Router* table = [] {
        auto* r = new Router();
        auto add = [r](Method method, std::string pattern) {
            r->must_add(Route{.method = method,
                              .pattern = std::move(pattern),
                              .permission = std::string(pitwall::http::kPublic),
                              .handler = [](Request&) { return Response::empty(204); }});
        };
        add(Method::get, "/");
        add(Method::get, "/healthz");
        add(Method::get, "/readyz");
        add(Method::get, "/metrics");
        add(Method::get, "/ws");
        add(Method::get, "/static/{path*}");
        add(Method::get, "/api/members");
        add(Method::post, "/api/members");
        add(Method::get, "/api/members/me");
        add(Method::get, "/api/members/{id:int}");
        add(Method::put, "/api/members/{id:int}");
        add(Method::patch, "/api/members/{id:int}");
        add(Method::delete_, "/api/members/{id:int}");
        add(Method::get, "/api/members/{id:int}/avatar");
        add(Method::get, "/api/teams/new");
        add(Method::get, "/api/teams/{slug:slug}");
        add(Method::get, "/api/teams/{slug:slug}/members/{id:int}");
        add(Method::post, "/api/cron/{job:slug}");
        add(Method::get, "/api/files/{path*}");
        add(Method::put, "/api/files/{path*}");
        add(Method::get, "/u/{id:int}");
        add(Method::get, "/u/{name}");
        add(Method::get, "/u/{name}/{path*}");
        add(Method::options, "/api/{path*}");
        return r;
    }();
    return *table;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_slug(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '_';
    });
}

void check_match(const Match& match, Method method, std::string_view path) {
    switch (match.outcome) {
        case MatchOutcome::found: {
            PITWALL_FUZZ_CHECK(match.route != nullptr);
            PITWALL_FUZZ_CHECK(match.route->method == method ||
                               (method == Method::head && match.route->method == Method::get));
            for (const auto& [name, value] : match.params) {
                if (name == "id") PITWALL_FUZZ_CHECK(all_digits(value) && value.size() <= 19);
                if (name == "slug" || name == "job") PITWALL_FUZZ_CHECK(is_slug(value));
                if (name == "name") PITWALL_FUZZ_CHECK(!value.empty());
                // Decoded values carry no NUL: percent_decode refuses an encoded one, and a raw one
                // can only come from the input itself.
                if (path.find('\0') == std::string_view::npos)
                    PITWALL_FUZZ_CHECK(value.find('\0') == std::string::npos);
            }
            Request request;
            request.params = match.params;
            (void)request.int_param("id");
            (void)request.param("path");
            break;
        }
        case MatchOutcome::method_not_allowed:
            PITWALL_FUZZ_CHECK(match.route == nullptr);
            PITWALL_FUZZ_CHECK(!match.allowed.empty());
            PITWALL_FUZZ_CHECK(std::find(match.allowed.begin(), match.allowed.end(), method) ==
                               match.allowed.end());
            break;
        case MatchOutcome::bad_path:
        case MatchOutcome::not_found:
            PITWALL_FUZZ_CHECK(match.route == nullptr);
            break;
    }
    if (!path.starts_with('/')) PITWALL_FUZZ_CHECK(match.outcome == MatchOutcome::bad_path);
}

void check_decode(std::string_view text) {
    for (bool plus_is_space : {false, true}) {
        auto decoded = pitwall::http::percent_decode(text, plus_is_space);
        if (!decoded) continue;
        PITWALL_FUZZ_CHECK(decoded->size() <= text.size());
        if (text.find('\0') == std::string_view::npos)
            PITWALL_FUZZ_CHECK(decoded->find('\0') == std::string::npos);
        if (plus_is_space)
            PITWALL_FUZZ_CHECK(decoded->find('+') == std::string::npos ||
                               text.find('%') != std::string_view::npos);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string_view method_text = "GET";
    std::string_view target = input;
    if (auto newline = input.find('\n'); newline != std::string_view::npos) {
        method_text = input.substr(0, newline);
        target = input.substr(newline + 1);
    }
    auto question = target.find('?');
    std::string_view path = target.substr(0, question);
    std::string_view query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

    Method method = pitwall::http::parse_method(method_text);
    check_match(router().match(method, path), method, path);
    if (method != Method::get) check_match(router().match(Method::get, path), Method::get, path);

    check_decode(target);
    check_decode(query);

    Request request;
    request.method = method;
    request.target = std::string(target);
    request.query = std::string(query);
    for (std::string_view name : {"page", "q", "sort", ""}) {
        auto value = request.query_param(name);
        if (value) PITWALL_FUZZ_CHECK(value->size() <= query.size());
    }
    // A name the query itself holds, so that the found-and-decoded path is reached often.
    auto first = query.substr(0, std::min(query.find('='), query.find('&')));
    if (auto name = pitwall::http::percent_decode(first, true)) (void)request.query_param(*name);
    return 0;
}
