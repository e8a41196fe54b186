#include "features/sync/routes.hpp"

#include <boost/json.hpp>

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "features/sync/sync_log.hpp"
#include "features/sync/sync_service.hpp"
#include "platform/auth/permissions.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/http/router.hpp"
#include "platform/jobs/scheduler.hpp"
#include "platform/store/sql.hpp"
#include "platform/web/page.hpp"

namespace pitwall::sync {
namespace {

using http::Method;
using http::Request;
using http::Response;

constexpr store::Statement kFindings{
    "sync.findings",
    "SELECT f.user_id, COALESCE(u.nickname, u.global_name, u.username), f.kind, f.detail, f.found_at FROM "
    "audit_findings f JOIN users u ON u.id = f.user_id ORDER BY f.kind, 2 LIMIT 500"};

std::int64_t epoch_ms(SystemTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

boost::json::object run_view(const RunRow& row) {
    boost::json::object o{{"id", row.id},
                          {"job", row.job},
                          {"trigger", row.trigger},
                          {"node", row.node},
                          {"started_at", row.started_at},
                          {"status", row.status},
                          {"running", row.status == "running"},
                          {"items", row.items},
                          {"upstream_calls", row.upstream_calls},
                          {"cache_hits", row.cache_hits},
                          {"progress_done", row.progress_done},
                          {"progress_total", row.progress_total},
                          {"note", row.note},
                          {"error_code", row.error_code}};
    if (row.ended_at) o["duration_s"] = static_cast<double>(*row.ended_at - row.started_at) / 1000.0;
    return o;
}

bool known_job(std::string_view name) {
    const auto& names = SyncService::job_names();
    return std::find(names.begin(), names.end(), name) != names.end();
}

Response run_started(std::int64_t run_id) {
    return Response::json(202, boost::json::serialize(boost::json::object{{"run_id", run_id}}));
}

}  // namespace

void add_routes(http::Router& router, const RouteDeps& deps) {
    const RouteDeps d = deps;

    router.must_add({.method = Method::get,
                     .pattern = "/admin/sync",
                     .permission = "sync.view",
                     .handler = [d](Request& r) {
                         auto runs = d.log.recent(r.query_param("job").value_or(""), 50);
                         if (!runs) return web::error_page(d.shell, r, runs.error());
                         boost::json::array jobs;
                         for (const auto& j : d.scheduler.jobs()) {
                             boost::json::object o{{"name", j.name},
                                                   {"schedule", j.schedule},
                                                   {"enabled", j.enabled},
                                                   {"running", j.running}};
                             if (j.next_run) o["next_run"] = epoch_ms(*j.next_run);
                             if (j.last_slot) o["last_slot"] = epoch_ms(*j.last_slot);
                             jobs.push_back(std::move(o));
                         }
                         boost::json::array run_rows;
                         for (const auto& row : *runs) run_rows.push_back(run_view(row));
                         auto findings = d.sql.execute(kFindings);
                         if (!findings) return web::error_page(d.shell, r, findings.error());
                         boost::json::array finding_rows;
                         for (const auto& f : findings->rows)
                             finding_rows.push_back(boost::json::object{{"user_id", f.int64(0)},
                                                                        {"member", f.text(1)},
                                                                        {"kind", f.text(2)},
                                                                        {"detail", f.text(3)},
                                                                        {"found_at", f.int64(4)}});
                         const bool can_run = auth::allows(auth::parse_role(r.principal.role), "sync.run");
                         return web::render_page(d.shell, r, "admin_sync", "sync.title", "admin",
                                                 {{"jobs", std::move(jobs)},
                                                  {"runs", std::move(run_rows)},
                                                  {"has_runs", !runs->empty()},
                                                  {"findings", std::move(finding_rows)},
                                                  {"has_findings", !findings->rows.empty()},
                                                  {"can_run", can_run},
                                                  {"leader", d.scheduler.is_leader()},
                                                  {"topics", std::string(kSyncTopic)}});
                     }});

    router.must_add({.method = Method::get,
                     .pattern = "/api/admin/sync/runs",
                     .permission = "sync.view",
                     .handler = [d](Request& r) {
                         std::int64_t limit = 50;
                         if (auto text = r.query_param("limit"))
                             limit = std::strtoll(text->c_str(), nullptr, 10);
                         auto runs = d.log.recent(r.query_param("job").value_or(""), limit);
                         if (!runs) return http::error_response(r, runs.error());
                         std::string body = "{\"runs\":[";
                         for (std::size_t i = 0; i < runs->size(); ++i)
                             body += (i ? "," : "") + SyncLog::to_json((*runs)[i]);
                         return Response::json(200, body + "]}");
                     }});

    router.must_add({.method = Method::post,
                     .pattern = "/admin/sync/jobs/{name:slug}/run",
                     .permission = "sync.run",
                     .handler = [d](Request& r) {
                         const std::string name(r.param("name"));
                         if (!known_job(name))
                             return web::error_page(
                                 d.shell, r, Error(ErrorKind::not_found, "jobs.unknown", {{"job", name}}));
                         auto run = d.scheduler.run_now(name, jobs::Trigger::manual);
                         if (!run) return web::error_page(d.shell, r, run.error());
                         log::info("sync: {} run now by user {} (run {})", name, r.principal.user_id, *run);
                         return Response::redirect("/admin/sync", 303);
                     }});

    router.must_add({.method = Method::get,
                     .pattern = "/api/members/{id:int}/iracing",
                     .permission = "team.view",
                     .handler = [d](Request& r) {
                         auto body = d.service.live_member_json(r.int_param("id"));
                         if (!body) return http::error_response(r, body.error());
                         return Response::json(200, std::move(*body));
                     }});
    router.must_add({.method = Method::get,
                     .pattern = "/api/schedule/race-guide",
                     .permission = "team.view",
                     .handler = [d](Request& r) {
                         auto body = d.service.live_race_guide_json();
                         if (!body) return http::error_response(r, body.error());
                         return Response::json(200, std::move(*body));
                     }});

    // An external scheduler (system cron, a cloud scheduler) triggers a job. The secret is compared
    // in constant time; a wrong or missing one is a 401 and a log line (without the secret).
    router.must_add(
        {.method = Method::post,
         .pattern = "/api/cron/{name:slug}",
         .permission = std::string(auth::kPublic),
         .handler = [d](Request& r) {
             const std::string name(r.param("name"));
             const std::string header(r.headers.get("authorization").value_or(""));
             const std::string_view prefix = "Bearer ";
             const bool has_bearer = header.size() > prefix.size() && header.starts_with(prefix);
             const auto& secret = d.config.secrets.cron_secret;
             if (secret.empty() || !has_bearer ||
                 !encoding::constant_time_equal(header.substr(prefix.size()), secret)) {
                 log::warn("sync: refused external trigger of {} from {}: {}", name.substr(0, 64),
                           r.remote_address,
                           secret.empty() ? "no cron secret configured"
                           : has_bearer   ? "wrong secret"
                                          : "no bearer token");
                 return http::error_response(r, Error(ErrorKind::unauthorized, "sync.bad_cron_secret"));
             }
             if (!known_job(name))
                 return http::error_response(r, Error(ErrorKind::not_found, "jobs.unknown", {{"job", name}}));
             auto run = d.scheduler.run_now(name, jobs::Trigger::external);
             if (!run) return http::error_response(r, run.error());
             return run_started(*run);
         }});
}

}  // namespace pitwall::sync
