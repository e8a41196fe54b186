#include "features/identity/access.hpp"

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "platform/auth/permissions.hpp"
#include "platform/auth/session.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/sql.hpp"
#include "platform/web/page.hpp"

namespace pitwall::identity {
namespace {

constexpr store::Statement kPrincipal{
    "identity.principal",
    "SELECT site_role, COALESCE(nickname, global_name, username), COALESCE(preferred_locale, ''), time_zone "
    "FROM users WHERE id = $1"};

bool state_changing(http::Method m) {
    return m == http::Method::post || m == http::Method::put || m == http::Method::patch ||
           m == http::Method::delete_;
}

bool wants_html(const http::Request& r) {
    if (r.path.starts_with("/api/")) return false;
    auto accept = r.headers.get("Accept");
    return accept && accept->find("text/html") != std::string_view::npos;
}

std::string submitted_csrf(const http::Request& r) {
    if (auto header = r.headers.get("X-CSRF-Token")) return std::string(*header);
    auto type = r.headers.get("Content-Type");
    if (type && type->starts_with("application/x-www-form-urlencoded"))
        if (auto field = http::form_field(r.body, "_csrf")) return *field;
    return {};
}

}  // namespace

http::Middleware access_middleware(AccessDeps deps) {
    auto refuse = [deps](const http::Request& request, const Error& error) {
        return wants_html(request) ? web::error_page(deps.shell, request, error)
                                   : http::error_response(request, error);
    };
    return [deps, refuse](http::Request& request, const http::Next& next) -> http::Response {
        const auto cookies = request.headers.get("Cookie").value_or("");
        std::string new_anonymous_token;

        // 1. Session.
        if (auto id = auth::read_cookie(cookies, kSessionCookie)) {
            auto session = deps.sessions.load(*id);
            if (!session) return http::error_response(request, session.error());
            if (*session) {
                auto row = deps.sql.execute(kPrincipal, {(*session)->user_id});
                if (!row) return http::error_response(request, row.error());
                if (!row->empty()) {
                    request.principal.user_id = (*session)->user_id;
                    request.principal.role = row->first().text(0);
                    request.principal.display_name = row->first().text(1);
                    request.principal.csrf_token = (*session)->csrf_token;
                    request.principal.session_id = *id;
                    request.time_zone = row->first().text(3);
                    if (const auto preferred = row->first().text(2);
                        request.catalog && request.catalog->supports(preferred))
                        request.locale = preferred;
                }
            }
        }
        if (!request.principal.signed_in()) {
            // Visitors: the language switch and the browser's zone (pitwall.js) live in cookies.
            if (auto locale = auth::read_cookie(cookies, kLocaleCookie);
                locale && request.catalog && request.catalog->supports(*locale))
                request.locale = *locale;
            if (auto zone = auth::read_cookie(cookies, kTimeZoneCookie); zone && zone->size() <= 64)
                request.time_zone = *zone;
            auto anonymous = auth::read_cookie(cookies, kCsrfCookie);
            if (anonymous && anonymous->size() == 43) {
                request.principal.csrf_token = *anonymous;
            } else {
                new_anonymous_token = random::token(32);
                request.principal.csrf_token = new_anonymous_token;
            }
        }

        // 2. Permission.
        if (!request.permission.empty()) {
            auto role =
                request.principal.signed_in() ? auth::parse_role(request.principal.role) : std::nullopt;
            if (!auth::allows(role, request.permission)) {
                if (!request.principal.signed_in() && auth::needs_sign_in(request.permission)) {
                    if (wants_html(request) && request.method == http::Method::get)
                        return http::Response::redirect("/sign-in?next=" + request.path.substr(0, 512), 303);
                    return http::error_response(request,
                                                Error(ErrorKind::unauthorized, "auth.sign_in_required"));
                }
                return http::error_response(request, Error(ErrorKind::forbidden, "auth.forbidden"));
            }
        }

        // 3. CSRF: only requests that carry cookies can be forged by another site.
        if (state_changing(request.method) && !cookies.empty()) {
            const std::string submitted = submitted_csrf(request);
            if (submitted.empty() || !new_anonymous_token.empty() ||
                !encoding::constant_time_equal(submitted, request.principal.csrf_token)) {
                log::event(log::Level::warn, "csrf_refused",
                           {{"id", request.request_id}, {"route", request.route}});
                return refuse(request, Error(ErrorKind::forbidden, "auth.csrf"));
            }
        }

        auto response = next(request);
        if (!new_anonymous_token.empty())
            response.headers.add(
                "Set-Cookie", auth::set_cookie(kCsrfCookie, new_anonymous_token, {.secure = request.secure}));
        return response;
    };
}

}  // namespace pitwall::identity
