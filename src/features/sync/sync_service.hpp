// The team's sync jobs: what each of the 14 scheduled jobs does, with which upstream client and which
// token, and where the results land (SQL tables of migration 0004, the KV cache, the WebSocket hub).
// Registered with the scheduler by register_jobs(); every schedule comes from configuration
// (`[jobs]`, "off" disables a job).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "integrations/garage61/client.hpp"
#include "integrations/token_source.hpp"
#include "platform/jobs/scheduler.hpp"

namespace pitwall::store {
class Database;
class Kv;
}  // namespace pitwall::store
namespace pitwall::http {
class WsHub;
}
namespace pitwall::upstream {
class Cache;
}
namespace pitwall::identity {
class Users;
class Providers;
}  // namespace pitwall::identity
namespace pitwall::integrations::iracing {
class Client;
class ServiceAccount;
}  // namespace pitwall::integrations::iracing
namespace pitwall::integrations::discord {
class Client;
}

namespace pitwall::sync {

class SyncLog;

struct SyncDeps {
    const Config& config;
    store::Database& sql;
    store::Kv& kv;
    const Clock& clock;
    identity::Users& users;
    identity::Providers* providers;  // null: member tokens unavailable (benchmarks pass their own)
    integrations::iracing::Client& iracing;
    integrations::iracing::ServiceAccount* service_account;  // null or unconfigured: a member's token
    integrations::garage61::Client& garage61;
    integrations::discord::Client& discord;
    upstream::Cache* cache;  // null: uncached (bench)
    SyncLog& log;
    http::WsHub* hub;  // null: no live updates
    // dm-queue-sweeper: notify::DmQueue::sweep (re-queues lost items, prunes settled records); empty: counts
    // only.
    std::function<Result<std::int64_t>()> dm_sweep = {};
    // stint-reminders: planner::Planner::send_reminders (DMs 30, 15 and 5 minutes before each published
    // stint); empty: nothing to remind.
    std::function<Result<std::int64_t>()> stint_reminders = {};
};

// A linked account as the jobs see it.
struct LinkedMember {
    std::int64_t user_id = 0;
    std::string subject;  // iRacing cust_id or Garage61 id
    std::string slug;
    std::string status;
    std::int64_t access_expires_at = 0;
};

// Long-lived token sources per linked member (see integrations::TokenSource on why long-lived).
class MemberTokens {
  public:
    // `fallback` serves when `providers` is null (tests and benchmarks with fixed member tokens).
    using Fallback = std::function<Result<std::string>(std::string_view provider, std::int64_t user_id)>;
    MemberTokens(identity::Providers* providers, Fallback fallback = {});
    [[nodiscard]] integrations::TokenSource& of(std::string_view provider, std::int64_t user_id);

  private:
    class Source;
    identity::Providers* providers_;
    Fallback fallback_;
    std::mutex mutex_;
    std::map<std::pair<std::string, std::int64_t>, std::unique_ptr<Source>> sources_;
};

class SyncService {
  public:
    explicit SyncService(SyncDeps deps, MemberTokens::Fallback token_fallback = {});
    ~SyncService();

    // Adds the 14 jobs with their configured schedules. Error config.bad_cron naming the jobs.<name>
    // key when a schedule does not parse.
    [[nodiscard]] Status register_jobs(jobs::Scheduler& scheduler);
    [[nodiscard]] static const std::vector<std::string>& job_names();

    // The job bodies (public for tests and the team-week benchmark).
    Result<jobs::JobOutcome> iracing_members(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> iracing_irating_history(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> iracing_recent_races(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> iracing_weekly_schedule(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> iracing_league_results(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> garage61_laps(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> garage61_cars(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> subscription_audit(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> discord_role_sync(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> cache_warm(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> stint_reminders(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> dm_queue_sweeper(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> token_refresh(jobs::JobContext& ctx);
    Result<jobs::JobOutcome> housekeeping(jobs::JobContext& ctx);

    // Live answers for the JSON API (and the page views of the team-week benchmark): read through
    // the cache at interactive priority, so a page never waits behind background sync. The member's
    // record comes from the same member/get batch the iracing-members job reads (one cache key for
    // the roster), recent races from the key iracing-recent-races fills.
    // Errors: sync.not_linked (not_found) when the member has no iRacing link; upstream errors.
    [[nodiscard]] Result<std::string> live_member_json(std::int64_t user_id);
    // The race guide from now, with series names: the sessions of the next hours.
    [[nodiscard]] Result<std::string> live_race_guide_json();

    [[nodiscard]] Result<std::vector<LinkedMember>> linked(std::string_view provider) const;
    // The token the team's background reads use: the service account when configured, else the
    // first linked member's (any member's token may read public data).
    [[nodiscard]] Result<integrations::TokenSource*> team_token(std::string_view provider);

  private:
    struct Counter;
    struct TeamLaps {
        std::map<std::string, std::int64_t> user_of;  // Garage61 id -> user id
        integrations::TokenSource* token = nullptr;
        integrations::garage61::LapQuery query;
    };
    [[nodiscard]] Result<TeamLaps> team_laps(const jobs::JobContext& ctx);
    SyncDeps deps_;
    MemberTokens tokens_;
};

}  // namespace pitwall::sync
