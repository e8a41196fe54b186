#include "features/sync/sync_log.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "core/log.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::sync {
namespace {

constexpr store::Statement kInsert{"sync.run_insert",
                                   "INSERT INTO sync_runs (job, run_trigger, node, scheduled_for, "
                                   "started_at, status) VALUES ($1, $2, $3, $4, $5, "
                                   "'running') RETURNING id"};
constexpr store::Statement kProgress{
    "sync.run_progress",
    "UPDATE sync_runs SET progress_done = $2, progress_total = $3, note = $4 WHERE id = $1"};
constexpr store::Statement kFinish{"sync.run_finish",
                                   "UPDATE sync_runs SET ended_at = $2, status = $3, items = $4, "
                                   "upstream_calls = $5, cache_hits = $6, note = $7, "
                                   "error_code = $8, error_text = $9 WHERE id = $1"};
constexpr store::Statement kRecent{
    "sync.run_recent",
    "SELECT id, job, run_trigger, node, scheduled_for, started_at, ended_at, status, items, upstream_calls, "
    "cache_hits, progress_done, progress_total, note, error_code, error_text FROM sync_runs ORDER BY id DESC "
    "LIMIT $1"};
constexpr store::Statement kRecentOfJob{
    "sync.run_recent_job",
    "SELECT id, job, run_trigger, node, scheduled_for, started_at, ended_at, status, items, upstream_calls, "
    "cache_hits, progress_done, progress_total, note, error_code, error_text FROM sync_runs WHERE job = $1 "
    "ORDER BY id DESC LIMIT $2"};
constexpr store::Statement kFind{
    "sync.run_find",
    "SELECT id, job, run_trigger, node, scheduled_for, started_at, ended_at, status, items, upstream_calls, "
    "cache_hits, progress_done, progress_total, note, error_code, error_text FROM sync_runs WHERE id = $1"};
constexpr store::Statement kPrune{"sync.run_prune",
                                  "DELETE FROM sync_runs WHERE ended_at IS NOT NULL AND ended_at < $1"};
constexpr store::Statement kAbandoned{
    "sync.run_abandoned",
    "UPDATE sync_runs SET status = 'failed', ended_at = started_at, error_code = 'jobs.abandoned' "
    "WHERE status = 'running' AND started_at < $1"};

RunRow row_of(const store::Row& r) {
    RunRow row;
    row.id = r.int64(0);
    row.job = r.text(1);
    row.trigger = r.text(2);
    row.node = r.text(3);
    row.scheduled_for = r.opt_int64(4);
    row.started_at = r.int64(5);
    row.ended_at = r.opt_int64(6);
    row.status = r.text(7);
    row.items = r.int64(8);
    row.upstream_calls = r.int64(9);
    row.cache_hits = r.int64(10);
    row.progress_done = r.int64(11);
    row.progress_total = r.int64(12);
    row.note = r.text(13);
    row.error_code = r.text(14);
    row.error_text = r.text(15);
    return row;
}

std::int64_t ms(SystemTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

SyncLog::SyncLog(store::Database& sql, http::WsHub* hub, const Clock& clock, std::string node)
    : sql_(sql), hub_(hub), clock_(clock), node_(std::move(node)) {}

Result<std::int64_t> SyncLog::started(const std::string& job, jobs::Trigger trigger, SystemTime scheduled_for,
                                      SystemTime started) {
    auto row = sql_.execute(
        kInsert, {job, std::string(jobs::trigger_name(trigger)), node_, ms(scheduled_for), ms(started)});
    if (!row) return row.error();
    const auto id = row->first().int64(0);
    broadcast(id);
    return id;
}

void SyncLog::progress(std::int64_t run_id, const std::string& job, const jobs::Progress& p) {
    if (auto s = sql_.execute(kProgress, {run_id, p.done, p.total, p.note.substr(0, 200)}); !s)
        log::warn("sync log: progress of {} not recorded: {}", job, s.error().code);
    broadcast(run_id);
}

void SyncLog::finished(std::int64_t run_id, const std::string& job, SystemTime ended,
                       const Result<jobs::JobOutcome>& outcome, bool timed_out) {
    const std::string status = timed_out ? "timed_out" : outcome ? "ok" : "failed";
    jobs::JobOutcome o = outcome ? *outcome : jobs::JobOutcome{};
    store::Value code = store::Null{};
    store::Value text = store::Null{};
    if (!outcome) {
        code = outcome.error().code;
        // The detail is for logs and admins only; it never holds tokens (clients keep them out).
        text = outcome.error().detail.substr(0, 500);
    } else if (timed_out) {
        code = std::string("jobs.timed_out");
    }
    if (auto s = sql_.execute(kFinish, {run_id, ms(ended), status, o.items, o.upstream_calls, o.cache_hits,
                                        o.note.substr(0, 200), code, text});
        !s)
        log::warn("sync log: end of {} not recorded: {}", job, s.error().code);
    broadcast(run_id);
}

Result<std::vector<RunRow>> SyncLog::recent(const std::string& job, std::int64_t limit) const {
    limit = std::clamp<std::int64_t>(limit, 1, 500);
    auto rows = job.empty() ? sql_.execute(kRecent, {limit}) : sql_.execute(kRecentOfJob, {job, limit});
    if (!rows) return rows.error();
    std::vector<RunRow> out;
    for (const auto& r : rows->rows) out.push_back(row_of(r));
    return out;
}

Result<std::optional<RunRow>> SyncLog::find(std::int64_t id) const {
    auto rows = sql_.execute(kFind, {id});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<RunRow>();
    return std::optional<RunRow>(row_of(rows->first()));
}

Result<std::int64_t> SyncLog::prune(std::int64_t before_ms) const {
    auto r = sql_.execute(kPrune, {before_ms});
    if (!r) return r.error();
    return r->affected;
}

Result<std::int64_t> SyncLog::close_abandoned(std::int64_t older_than_ms) const {
    auto r = sql_.execute(kAbandoned, {clock_.now_ms() - older_than_ms});
    if (!r) return r.error();
    return r->affected;
}

std::string SyncLog::to_json(const RunRow& row) {
    boost::json::object o{{"id", row.id},
                          {"job", row.job},
                          {"trigger", row.trigger},
                          {"node", row.node},
                          {"started_at", row.started_at},
                          {"status", row.status},
                          {"items", row.items},
                          {"upstream_calls", row.upstream_calls},
                          {"cache_hits", row.cache_hits},
                          {"progress_done", row.progress_done},
                          {"progress_total", row.progress_total},
                          {"note", row.note}};
    o["scheduled_for"] = row.scheduled_for ? boost::json::value(*row.scheduled_for) : nullptr;
    o["ended_at"] = row.ended_at ? boost::json::value(*row.ended_at) : nullptr;
    o["error_code"] =
        row.error_code.empty() ? boost::json::value(nullptr) : boost::json::value(row.error_code);
    return boost::json::serialize(o);
}

void SyncLog::broadcast(std::int64_t run_id) const {
    if (!hub_) return;
    auto row = find(run_id);
    if (!row || !*row) return;
    hub_->broadcast(kSyncTopic, "{\"type\":\"run\",\"run\":" + to_json(**row) + "}");
}

}  // namespace pitwall::sync
