#include "features/home/routes.hpp"

#include <string>

#include <boost/json.hpp>

#include "platform/http/pipeline.hpp"
#include "platform/http/router.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/sql.hpp"
#include "platform/web/page.hpp"

namespace pitwall::home {
namespace {

constexpr store::Statement kTeamSize{
    "home.team_size", "SELECT COUNT(*), COUNT(DISTINCT time_zone) FROM users WHERE site_role <> 'guest'"};

}  // namespace

void add_routes(http::Router& router, HomeDeps deps) {
    router.must_add(
        {.method = http::Method::get,
         .pattern = "/",
         .permission = std::string(http::kPublic),
         .handler = [&sql = deps.sql, &shell = deps.shell](http::Request& request) {
             auto counts = sql.execute(kTeamSize);
             if (!counts) return web::error_page(shell, request, counts.error());
             boost::json::object data{{"team", boost::json::object{{"members", counts->first().int64(0)},
                                                                   {"zones", counts->first().int64(1)}}}};
             return web::render_page(shell, request, "home", "home.title", "home", std::move(data));
         }});
}

}  // namespace pitwall::home
