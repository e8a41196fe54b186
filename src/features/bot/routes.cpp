#include "features/bot/routes.hpp"

#include <boost/json.hpp>

#include "core/log.hpp"
#include "features/bot/bridge_server.hpp"
#include "features/bot/commands.hpp"
#include "features/identity/users.hpp"
#include "features/notify/dm_queue.hpp"
#include "platform/auth/permissions.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/http/router.hpp"
#include "platform/store/sql.hpp"
#include "platform/web/page.hpp"

namespace pitwall::bot {

using http::Method;
using http::Request;
using http::Response;

void add_routes(http::Router& router, const RouteDeps& deps) {
    const RouteDeps d = deps;

    router.must_add({.method = Method::get,
                     .pattern = "/bridge",
                     .permission = std::string(http::kPublic),  // the HMAC handshake authenticates the bot
                     .handler =
                         [](Request& request) {
                             auto response = http::error_response(request, 426, "http.upgrade_required");
                             response.headers.set("Upgrade", "websocket");
                             return response;
                         },
                     .execution = http::Execution::immediate});

    router.must_add(
        {.method = Method::get,
         .pattern = "/link",
         .permission = std::string(auth::kSignedIn),
         .handler = [d](Request& r) {
             std::string code = r.query_param("code").value_or("");
             if (code.size() > 32) code.clear();
             return web::render_page(d.shell, r, "link", "link.title", "profile", {{"code", code}});
         }});

    router.must_add(
        {.method = Method::post,
         .pattern = "/link",
         .permission = std::string(auth::kSignedIn),
         .handler = [d](Request& r) {
             const std::string code = http::form_field(r.body, "code").value_or("");
             auto redeemed = redeem_link_code(d.sql, d.clock, code);
             if (!redeemed) return web::error_page(d.shell, r, redeemed.error());
             if (auto attached = d.users.attach_discord(r.principal.user_id, redeemed->discord_id); !attached)
                 return web::error_page(d.shell, r, attached.error());
             log::info("link: member {} linked Discord account {}", r.principal.user_id,
                       redeemed->discord_id);
             return Response::redirect("/profile?linked=discord", 303);
         }});

    router.must_add({.method = Method::get,
                     .pattern = "/api/admin/bot",
                     .permission = "dm.view",
                     .handler = [d](Request&) {
                         const auto s = d.bridge.status();
                         boost::json::object o{{"connected", s.connected},
                                               {"bot_id", s.bot_id},
                                               {"session_id", s.session_id},
                                               {"connected_since", s.connected_since_ms},
                                               {"dms_in_flight", s.dms_in_flight},
                                               {"sessions_started", s.sessions_started},
                                               {"resumes", s.resumes}};
                         return Response::json(200, boost::json::serialize(o));
                     }});
}

}  // namespace pitwall::bot
