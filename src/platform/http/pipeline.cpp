#include "platform/http/pipeline.hpp"

#include <chrono>

#include <boost/json.hpp>

#include "core/log.hpp"
#include "core/random.hpp"
#include "platform/http/metrics.hpp"
#include "platform/i18n/catalog.hpp"

namespace pitwall::http {

int status_for(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::invalid_input:
            return 400;
        case ErrorKind::unauthorized:
            return 401;
        case ErrorKind::forbidden:
            return 403;
        case ErrorKind::not_found:
            return 404;
        case ErrorKind::conflict:
            return 409;
        case ErrorKind::too_large:
            return 413;
        case ErrorKind::rate_limited:
            return 429;
        case ErrorKind::unavailable:
            return 503;
        case ErrorKind::internal:
            return 500;
    }
    return 500;
}

Response error_response(const Request& request, const Error& error) {
    std::string message = request.catalog ? request.catalog->error_text(request.locale, error) : error.code;
    boost::json::object envelope{{"error", boost::json::object{{"code", error.code}, {"message", message}}}};
    auto response = Response::json(status_for(error.kind), boost::json::serialize(envelope));
    response.headers.set("Cache-Control", "no-store");
    return response;
}

Response error_response(const Request& request, int status, std::string code) {
    Error error(ErrorKind::internal, std::move(code));
    auto response = error_response(request, error);
    response.status = status;
    return response;
}

Pipeline::Pipeline(const Router& router, Metrics& metrics, const i18n::Catalog& catalog,
                   PipelineOptions options)
    : router_(router), metrics_(metrics), catalog_(catalog), options_(std::move(options)) {
    std::string form_action = "'self'";
    for (const auto& origin : options_.form_action_origins) form_action += " " + origin;
    content_security_policy_ =
        "default-src 'self'; img-src 'self' data: https://cdn.discordapp.com; style-src 'self'; script-src "
        "'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action " +
        form_action + "; frame-ancestors 'none'";
}

void Pipeline::use(Middleware middleware) {
    middleware_.push_back(std::move(middleware));
}

Plan Pipeline::plan(Method method, std::string_view target) const {
    Plan plan;
    std::string_view path = target.substr(0, target.find('?'));
    plan.match = router_.match(method, path);
    plan.max_body_bytes = options_.default_max_body_bytes;
    if (plan.match.route) {
        if (plan.match.route->max_body_bytes) plan.max_body_bytes = plan.match.route->max_body_bytes;
        plan.execution = plan.match.route->execution;
    }
    return plan;
}

bool Pipeline::prepare(Request& request) const {
    request.catalog = &catalog_;
    std::string_view target = request.target;
    auto question = target.find('?');
    std::string_view raw_path = target.substr(0, question);
    request.query = question == std::string_view::npos ? "" : std::string(target.substr(question + 1));
    if (options_.trust_proxy) {
        if (auto proto = request.headers.get("X-Forwarded-Proto")) request.secure = *proto == "https";
        if (auto forwarded = request.headers.get("X-Forwarded-For")) {
            std::string_view first = forwarded->substr(0, forwarded->find(','));
            while (!first.empty() && first.front() == ' ') first.remove_prefix(1);
            if (!first.empty() && first.size() <= 64) request.remote_address = std::string(first);
        }
    }
    auto decoded = percent_decode(raw_path);
    if (!raw_path.starts_with('/') || !decoded) return false;
    request.path = std::move(*decoded);
    return true;
}

Response Pipeline::run(Request& request, const Next& last) const {
    const auto started = std::chrono::steady_clock::now();
    request.request_id = random::hex(8);
    request.catalog = &catalog_;

    Response response;
    try {
        // locale: a user setting (identity) and a cookie come first once sessions exist.
        auto accept = request.headers.get("Accept-Language");
        request.locale = catalog_.negotiate(accept.value_or(""));

        // Routes that run on the I/O strand (health, metrics) skip the added middleware: it may touch
        // the stores (sessions), which must never happen on an I/O thread.
        const std::size_t chain = request.immediate ? 0 : middleware_.size();
        std::size_t index = 0;
        Next next = [&](Request& r) -> Response {
            if (index < chain) return middleware_[index++](r, next);
            return last(r);
        };
        response = next(request);
    } catch (const Failure& failure) {
        response = error_response(request, failure.error());
    } catch (const std::exception& e) {
        log::error("request {} {} failed: {}", request.request_id, request.route, e.what());
        response = error_response(request, Error(ErrorKind::internal, "http.internal"));
    }

    // Security headers on every response, errors included.
    auto& h = response.headers;
    if (!h.has("Content-Security-Policy")) h.set("Content-Security-Policy", content_security_policy_);
    h.set("X-Content-Type-Options", "nosniff");
    h.set("Referrer-Policy", "strict-origin-when-cross-origin");
    h.set("X-Frame-Options", "DENY");
    h.set("Cross-Origin-Opener-Policy", "same-origin");
    if (request.secure) h.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    h.set("X-Request-Id", request.request_id);
    if (response.status >= 400) h.set("Content-Language", request.locale);

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics_.observe_request(request.route, method_name(request.method), response.status, seconds);
    if (options_.access_log) {
        log::event(
            response.status >= 500 ? log::Level::error : log::Level::info, "http",
            {{"id", request.request_id},
             {"method", std::string(method_name(request.method))},
             {"path", request.path.empty() ? request.target.substr(0, 256) : request.path.substr(0, 256)},
             {"route", request.route},
             {"status", std::to_string(response.status)},
             {"bytes", std::to_string(response.body.size())},
             {"ms", std::to_string(seconds * 1000.0)},
             {"remote", request.remote_address}});
    }
    return response;
}

Response Pipeline::handle(Request& request, const Plan& plan) const {
    if (plan.match.route) {
        // Known before the chain runs, so middleware (permissions, CSRF) can see what was matched.
        request.route = plan.match.route->pattern;
        request.permission = plan.match.route->permission;
        request.immediate = plan.execution == Execution::immediate;
        request.params = plan.match.params;
    }
    return run(request, [&](Request& r) -> Response {
        switch (plan.match.outcome) {
            case MatchOutcome::found:
                break;
            case MatchOutcome::bad_path:
                return error_response(r, 400, "http.bad_request");
            case MatchOutcome::not_found:
                return error_response(r, 404, "http.not_found");
            case MatchOutcome::method_not_allowed: {
                auto response = error_response(r, 405, "http.method_not_allowed");
                std::string allow;
                for (Method m : plan.match.allowed)
                    allow += (allow.empty() ? "" : ", ") + std::string(method_name(m));
                response.headers.set("Allow", allow);
                return response;
            }
        }
        return plan.match.route->handler(r);
    });
}

Response Pipeline::reject(Request& request, int status, std::string code) const {
    return run(request, [&](Request& r) { return error_response(r, status, code); });
}

}  // namespace pitwall::http
