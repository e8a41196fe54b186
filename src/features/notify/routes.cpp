#include "features/notify/routes.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <boost/json.hpp>

#include "core/log.hpp"
#include "features/notify/dm_queue.hpp"
#include "platform/auth/permissions.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/http/router.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/sql.hpp"
#include "platform/web/page.hpp"

namespace pitwall::notify {
namespace {

using http::Method;
using http::Request;
using http::Response;

constexpr int kPageLimit = 100;
constexpr int kApiDefaultLimit = 50;
constexpr int kApiMaxLimit = 200;
constexpr std::size_t kIdLength = 22;  // 16 random bytes in base64url (DmQueue::enqueue)

constexpr std::array kStatuses{DmStatus::pending, DmStatus::in_flight, DmStatus::delivered,
                               DmStatus::failed,  DmStatus::dead,      DmStatus::discarded};

// The colour of a status badge, from the badge classes the stylesheet already has.
std::string_view tone(DmStatus status) {
    switch (status) {
        case DmStatus::pending:
        case DmStatus::in_flight:
            return "syncing";
        case DmStatus::delivered:
            return "ok";
        case DmStatus::failed:
            return "expired";
        case DmStatus::dead:
            return "error";
        case DmStatus::discarded:
            return "unlinked";
    }
    return "unlinked";
}

bool retryable(DmStatus s) {
    return s == DmStatus::failed || s == DmStatus::dead || s == DmStatus::discarded;
}
bool discardable(DmStatus s) {
    return s == DmStatus::pending || s == DmStatus::failed || s == DmStatus::dead;
}

// Message ids are base64url; anything else is no message of ours (and never reaches SQL).
bool valid_id(std::string_view id) {
    return id.size() == kIdLength && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
           });
}

// ?status=: absent or empty means every status; an unknown name is refused.
Result<std::optional<DmStatus>> status_filter(const Request& r) {
    const auto text = r.query_param("status");
    if (!text || text->empty()) return std::optional<DmStatus>{};
    const auto status = parse_status(*text);
    if (!status) return Error(ErrorKind::invalid_input, "dm.bad_status");
    return std::optional<DmStatus>(*status);
}

int api_limit(const Request& r) {
    const auto text = r.query_param("limit");
    int limit = kApiDefaultLimit;
    if (text) {
        const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
        if (ec != std::errc() || end != text->data() + text->size()) limit = kApiDefaultLimit;
    }
    return std::clamp(limit, 1, kApiMaxLimit);
}

// The localized message of an error code the queue recorded; a code without one shows as written.
std::string error_text(const Request& r, const std::string& code) {
    if (code.empty() || !r.catalog || !r.catalog->has(r.locale, "error." + code)) return code;
    return r.catalog->error_text(r.locale, Error(ErrorKind::internal, code), r.time_zone);
}

boost::json::object counts_json(const DmCounts& c) {
    return {{"pending", c.pending}, {"in_flight", c.in_flight}, {"delivered", c.delivered},
            {"failed", c.failed},   {"dead", c.dead},           {"discarded", c.discarded}};
}

std::int64_t count_of(const DmCounts& c, DmStatus s) {
    switch (s) {
        case DmStatus::pending:
            return c.pending;
        case DmStatus::in_flight:
            return c.in_flight;
        case DmStatus::delivered:
            return c.delivered;
        case DmStatus::failed:
            return c.failed;
        case DmStatus::dead:
            return c.dead;
        case DmStatus::discarded:
            return c.discarded;
    }
    return 0;
}

// One message as the API answers it (and as the page's rows start).
boost::json::object message_json(const Request& r, const DmRecord& m) {
    boost::json::object o{{"id", m.id},
                          {"user_id", m.user_id},
                          {"member", m.member},
                          {"message_key", m.message_key},
                          {"status", status_name(m.status)},
                          {"attempts", m.attempts},
                          {"last_error", m.last_error},
                          {"last_error_text", error_text(r, m.last_error)},
                          {"dms_closed", m.discord_code == kDiscordDmsClosed},
                          {"created_at", m.created_at},
                          {"updated_at", m.updated_at}};
    o["discord_code"] = m.discord_code ? boost::json::value(m.discord_code) : boost::json::value(nullptr);
    o["next_attempt_at"] =
        m.next_attempt_at ? boost::json::value(*m.next_attempt_at) : boost::json::value(nullptr);
    o["delivered_at"] = m.delivered_at ? boost::json::value(*m.delivered_at) : boost::json::value(nullptr);
    return o;
}

// The page's row: the API's fields plus what the template needs to choose (no nulls, no numbers
// that ICU would group: the Discord code is text).
boost::json::object row_view(const Request& r, const DmRecord& m, bool can_manage) {
    auto o = message_json(r, m);
    o["tone"] = tone(m.status);
    o["has_error"] = !m.last_error.empty();
    o["has_error_text"] = !m.last_error.empty() && o["last_error_text"].as_string() != m.last_error;
    o["has_discord_code"] = m.discord_code != 0;
    o["discord_code"] = std::to_string(m.discord_code);
    o.erase("delivered_at");
    if (!m.next_attempt_at) o.erase("next_attempt_at");
    o["can_retry"] = can_manage && retryable(m.status);
    o["can_discard"] = can_manage && discardable(m.status);
    return o;
}

// A POST back to the monitor keeps the filter the admin was looking at.
Response back_to_monitor(const Request& r) {
    const auto status = http::form_field(r.body, "status");
    if (status && parse_status(*status)) return Response::redirect("/admin/dm?status=" + *status, 303);
    return Response::redirect("/admin/dm", 303);
}

constexpr store::Statement kRecipients{"bot.dm_recipients",
                                       "SELECT id FROM users WHERE discord_id IS NOT NULL AND guild_member = "
                                       "1 AND site_role <> 'guest' ORDER BY id"};
constexpr std::size_t kMaxText = 1800;  // Discord allows 2000 characters; the greeting needs the rest

}  // namespace

void add_routes(http::Router& router, const RouteDeps& deps) {
    const RouteDeps d = deps;

    router.must_add(
        {.method = Method::get, .pattern = "/admin/dm", .permission = "dm.view", .handler = [d](Request& r) {
             auto filter = status_filter(r);
             if (!filter) return web::error_page(d.shell, r, filter.error());
             auto counts = d.queue.counts();
             if (!counts) return web::error_page(d.shell, r, counts.error());
             auto queue = d.kv.queue_counts(kDmQueue);
             if (!queue) return web::error_page(d.shell, r, queue.error());
             auto messages = d.queue.recent(*filter, kPageLimit);
             if (!messages) return web::error_page(d.shell, r, messages.error());

             const bool can_manage = auth::allows(auth::parse_role(r.principal.role), "dm.manage");
             boost::json::array count_rows, statuses, rows;
             for (const auto s : kStatuses) {
                 count_rows.push_back(boost::json::object{
                     {"status", status_name(s)}, {"tone", tone(s)}, {"count", count_of(*counts, s)}});
                 statuses.push_back(boost::json::object{
                     {"name", status_name(s)}, {"tone", tone(s)}, {"selected", *filter == s}});
             }
             for (const auto& m : *messages) rows.push_back(row_view(r, m, can_manage));
             return web::render_page(
                 d.shell, r, "admin_dm", "dm.title", "admin",
                 {{"counts", std::move(count_rows)},
                  {"queue", boost::json::object{{"ready", queue->ready}, {"delayed", queue->delayed}}},
                  {"statuses", std::move(statuses)},
                  {"filter", *filter ? status_name(**filter) : std::string_view()},
                  {"messages", std::move(rows)},
                  {"has_messages", !messages->empty()},
                  {"can_manage", can_manage},
                  {"bot", boost::json::object{{"connected", d.bot_connected && d.bot_connected()}}},
                  {"topics", std::string(kDmTopic) + " admin:bot"}});
         }});

    router.must_add(
        {.method = Method::get,
         .pattern = "/api/admin/dm",
         .permission = "dm.view",
         .handler = [d](Request& r) {
             auto filter = status_filter(r);
             if (!filter) return http::error_response(r, filter.error());
             auto counts = d.queue.counts();
             if (!counts) return http::error_response(r, counts.error());
             auto queue = d.kv.queue_counts(kDmQueue);
             if (!queue) return http::error_response(r, queue.error());
             auto messages = d.queue.recent(*filter, api_limit(r));
             if (!messages) return http::error_response(r, messages.error());
             boost::json::array rows;
             for (const auto& m : *messages) rows.push_back(message_json(r, m));
             return Response::json(
                 200,
                 boost::json::serialize(boost::json::object{
                     {"counts", counts_json(*counts)},
                     {"queue", boost::json::object{{"ready", queue->ready}, {"delayed", queue->delayed}}},
                     {"messages", std::move(rows)}}));
         }});

    // Retry and discard: forms on the monitor (CSRF checked by the access middleware).
    const auto action = [&router, d](std::string_view name, Status (DmQueue::*act)(std::string_view)) {
        router.must_add({.method = Method::post,
                         .pattern = "/admin/dm/{id:slug}/" + std::string(name),
                         .permission = "dm.manage",
                         .handler = [d, name, act](Request& r) {
                             const std::string id(r.param("id"));
                             if (!valid_id(id))
                                 return web::error_page(d.shell, r,
                                                        Error(ErrorKind::not_found, "dm.not_found"));
                             if (auto done = (d.queue.*act)(id); !done)
                                 return web::error_page(d.shell, r, done.error());
                             log::info("dm {}: {} by user {}", id, name, r.principal.user_id);
                             return back_to_monitor(r);
                         }});
    };
    action("retry", &DmQueue::retry);
    action("discard", &DmQueue::discard);

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
                 auto id = d.queue.enqueue(
                     user_id, "dm.team_message", {{"text", message}, {"from", r.principal.display_name}},
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
}

}  // namespace pitwall::notify
