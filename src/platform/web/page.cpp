#include "platform/web/page.hpp"

#include <boost/json.hpp>

#include "core/log.hpp"
#include "core/version.hpp"
#include "platform/auth/permissions.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/web/templates.hpp"

namespace pitwall::web {

boost::json::object layout_data(const Shell& shell, const http::Request& request, std::string_view title_key,
                                std::string_view current) {
    boost::json::object data;
    data["title_key"] = title_key;
    data["csrf"] = request.principal.csrf_token;
    data["demo"] = shell.demo;
    data["version"] = pitwall::version;
    data["return_to"] = request.path;
    auto role = request.principal.signed_in() ? auth::parse_role(request.principal.role) : std::nullopt;
    if (request.principal.signed_in())
        data["user"] =
            boost::json::object{{"name", request.principal.display_name}, {"role", request.principal.role}};
    // The admin entry leads to the first admin panel, sync; the admin pages' own tabs (admin_nav)
    // lead on to the others the role may see.
    data["can"] = boost::json::object{{"members", auth::allows(role, "team.view")},
                                      {"admin", auth::allows(role, "sync.view")},
                                      {"admin_dm", auth::allows(role, "dm.view")}};
    if (!current.empty()) data["current"] = boost::json::object{{current, true}};
    boost::json::array locales;
    if (request.catalog)
        for (const auto& code : request.catalog->locales())
            locales.push_back(boost::json::object{{"code", code}, {"selected", code == request.locale}});
    data["locales"] = std::move(locales);
    return data;
}

http::Response render_page(const Shell& shell, const http::Request& request, std::string_view name,
                           std::string_view title_key, std::string_view current, boost::json::object data,
                           int status) {
    auto merged = layout_data(shell, request, title_key, current);
    merged["page"] = boost::json::object{{name, true}};  // page.<template>: marks a tab (admin_nav)
    for (auto& [k, v] : data) merged[k] = std::move(v);
    auto html = shell.templates.render(name, merged, {request.locale, request.time_zone});
    if (!html) {
        log::error("page {} failed to render: {}", name, html.error().detail);
        auto response = http::error_response(request, html.error());
        response.status = 500;
        return response;
    }
    auto response = http::Response::html(status, std::move(*html));
    response.headers.set("Cache-Control", "no-store");
    return response;
}

http::Response error_page(const Shell& shell, const http::Request& request, const Error& error) {
    const int status = http::status_for(error.kind);
    const std::string message =
        request.catalog ? request.catalog->error_text(request.locale, error) : error.code;
    return render_page(shell, request, "error", "error_page.title", "",
                       boost::json::object{{"status", status}, {"message", message}}, status);
}

}  // namespace pitwall::web
