#include "features/home/routes.hpp"

#include <string>

#include "platform/http/pipeline.hpp"
#include "platform/http/router.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::home {
namespace {

constexpr store::Statement kTeamSize{
    "home.team_size", "SELECT COUNT(*), COUNT(DISTINCT time_zone) FROM users WHERE site_role <> 'guest'"};

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace

void add_routes(http::Router& router, HomeDeps deps) {
    router.must_add({.method = http::Method::get,
                     .pattern = "/",
                     .permission = std::string(http::kPublic),
                     .handler = [&sql = deps.sql](http::Request& request) {
                         auto counts = sql.execute(kTeamSize);
                         if (!counts) return http::error_response(request, counts.error());
                         const auto& t = *request.catalog;
                         const auto& l = request.locale;
                         const std::string members = std::to_string(counts->first().int64(0));
                         const std::string zones = std::to_string(counts->first().int64(1));
                         std::string html =
                             "<!doctype html>\n<html lang=\"" + escape_html(l) +
                             "\">\n<head>\n"
                             "<meta charset=\"utf-8\">\n"
                             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                             "<title>" +
                             escape_html(t.text(l, "app.name")) +
                             "</title>\n"
                             "<link rel=\"stylesheet\" href=\"/static/css/pitwall.css\">\n</head>\n"
                             "<body>\n<main class=\"home\">\n<h1>" +
                             escape_html(t.text(l, "app.name")) + "</h1>\n<p class=\"tagline\">" +
                             escape_html(t.text(l, "home.tagline")) + "</p>\n<p class=\"team\">" +
                             escape_html(
                                 t.text(l, "home.team_size", {{"members", members}, {"zones", zones}})) +
                             "</p>\n</main>\n</body>\n</html>\n";
                         return http::Response::html(200, std::move(html));
                     }});
}

}  // namespace pitwall::home
