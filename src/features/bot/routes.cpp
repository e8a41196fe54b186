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

namespace {
constexpr store::Statement kRecipients{"bot.dm_recipients",
                                       "SELECT id FROM users WHERE discord_id IS NOT NULL AND guild_member = "
                                       "1 AND site_role <> 'guest' ORDER BY id"};
constexpr std::size_t kMaxText = 1800;  // Discord allows 2000 characters; the greeting needs the rest
}  // namespace

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

    // A message from the team's admins to members, one DM each through the queue:
    // {"text": "...", "user_ids": [..]} or {"text": "...", "all_members": true}. 202 with the ids queued.
    router.must_add(
        {.method = Method::post,
         .pattern = "/api/admin/dm/messages",
         .permission = "dm.manage",
         .handler = [d](Request& r) {
             boost::system::error_code ec;
             auto body = boost::json::parse(r.body, ec);
             const auto* o = body.if_object();
             const auto* text = o ? o->if_contains("text") : nullptr;
             if (ec || !text || !text->is_string() || text->as_string().empty() ||
                 text->as_string().size() > kMaxText)
                 return http::error_response(r, Error(ErrorKind::invalid_input, "dm.bad_message"));
             std::vector<std::int64_t> recipients;
             if (const auto* all = o->if_contains("all_members"); all && all->is_bool() && all->as_bool()) {
                 auto rows = d.sql.execute(kRecipients);
                 if (!rows) return http::error_response(r, rows.error());
                 for (const auto& row : rows->rows) recipients.push_back(row.int64(0));
             } else if (const auto* ids = o->if_contains("user_ids"); ids && ids->is_array()) {
                 for (const auto& id : ids->as_array())
                     if (id.is_int64()) recipients.push_back(id.as_int64());
             }
             if (recipients.empty() || recipients.size() > 10'000)
                 return http::error_response(r, Error(ErrorKind::invalid_input, "dm.bad_recipients"));
             const std::string message(text->as_string());
             // One key per request and member: a client retrying the same request id queues nothing twice.
             const auto key = r.headers.get("Idempotency-Key");
             const std::string batch = key ? std::string(*key) : r.request_id;
             boost::json::array queued;
             for (auto user_id : recipients) {
                 auto id = d.dms.enqueue(user_id, "dm.team_message",
                                         {{"text", message}, {"from", r.principal.display_name}},
                                         batch.empty() ? "" : "msg:" + batch + ":" + std::to_string(user_id));
                 if (!id) {
                     if (id.error().code == "dm.no_member") continue;
                     return http::error_response(r, id.error());
                 }
                 queued.push_back(boost::json::value(*id));
             }
             log::info("dm: member {} queued a team message to {} member(s)", r.principal.user_id,
                       queued.size());
             return Response::json(202, boost::json::serialize(boost::json::object{
                                            {"queued", queued.size()}, {"ids", std::move(queued)}}));
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
