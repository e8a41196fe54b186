// The sync log: one sync_runs row per job run (trigger, node, start, end, status, items, upstream
// calls, cache hits, progress, error), written by the scheduler through the RunRecorder interface and
// broadcast on the WebSocket topic "sync" so the admin page updates live, with progress while a job
// runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "platform/jobs/scheduler.hpp"

namespace pitwall::http {
class WsHub;
}
namespace pitwall::store {
class Database;
}

namespace pitwall::sync {

inline constexpr std::string_view kSyncTopic = "sync";

struct RunRow {
    std::int64_t id = 0;
    std::string job;
    std::string trigger;
    std::string node;
    std::optional<std::int64_t> scheduled_for;
    std::int64_t started_at = 0;
    std::optional<std::int64_t> ended_at;
    std::string status;  // running, ok, failed, timed_out
    std::int64_t items = 0;
    std::int64_t upstream_calls = 0;
    std::int64_t cache_hits = 0;
    std::int64_t progress_done = 0;
    std::int64_t progress_total = 0;
    std::string note;
    std::string error_code;
    std::string error_text;
};

class SyncLog final : public jobs::RunRecorder {
  public:
    // `hub` may be null (the CLI, benchmarks).
    SyncLog(store::Database& sql, http::WsHub* hub, const Clock& clock, std::string node);

    Result<std::int64_t> started(const std::string& job, jobs::Trigger trigger, SystemTime scheduled_for,
                                 SystemTime started) override;
    void progress(std::int64_t run_id, const std::string& job, const jobs::Progress& progress) override;
    void finished(std::int64_t run_id, const std::string& job, SystemTime ended,
                  const Result<jobs::JobOutcome>& outcome, bool timed_out) override;

    // Newest first; `job` empty: every job. At most `limit` (1..500) rows.
    [[nodiscard]] Result<std::vector<RunRow>> recent(const std::string& job, std::int64_t limit) const;
    [[nodiscard]] Result<std::optional<RunRow>> find(std::int64_t id) const;
    // housekeeping: rows that ended before `before_ms`.
    [[nodiscard]] Result<std::int64_t> prune(std::int64_t before_ms) const;
    // Runs a crashed node left "running" (no end) for longer than `older_than_ms` become failed.
    [[nodiscard]] Result<std::int64_t> close_abandoned(std::int64_t older_than_ms) const;

    // JSON of one row, as broadcast and as the API returns it.
    [[nodiscard]] static std::string to_json(const RunRow& row);

  private:
    void broadcast(std::int64_t run_id) const;

    store::Database& sql_;
    http::WsHub* hub_;
    const Clock& clock_;
    std::string node_;
};

}  // namespace pitwall::sync
