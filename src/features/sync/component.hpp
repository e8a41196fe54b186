// The sync pipeline as one component: the outbound HTTP client, a rate governor per upstream, the KV
// cache, the iRacing / Garage61 / Discord clients, the iRacing service account, the sync log, the job
// bodies and the scheduler, built from configuration. The server wires it; the team-week benchmark
// builds the same thing against the fakes.
#pragma once

#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "features/sync/sync_service.hpp"

namespace pitwall::auth {
class HttpClient;
class TokenCipher;
}  // namespace pitwall::auth
namespace pitwall::upstream {
class RateGovernor;
class Cache;
}  // namespace pitwall::upstream

namespace pitwall::sync {

struct ComponentOptions {
    bool use_cache = true;                           // false: every read goes upstream (benchmark baseline)
    std::string ca_file;                             // test peers' trust anchors; empty: the system store
    MemberTokens::Fallback member_tokens;            // used when `providers` is null
    std::function<Result<std::int64_t>()> dm_sweep;  // the DM queue's sweep, for dm-queue-sweeper
    std::function<Result<std::int64_t>()> stint_reminders;  // planner::Planner::send_reminders
};

class SyncComponent {
  public:
    // Error config.bad_cron (key jobs.<name>) for a schedule that does not parse.
    static Result<std::unique_ptr<SyncComponent>> create(const Config& config, store::Database& sql,
                                                         store::Kv& kv, const Clock& clock,
                                                         identity::Users& users,
                                                         identity::Providers* providers, http::WsHub* hub,
                                                         ComponentOptions options = {});
    ~SyncComponent();

    void start();  // the scheduler's ticker (when sync.scheduler is on)
    void stop();   // graceful: running jobs are told to stop and waited for

    [[nodiscard]] jobs::Scheduler& scheduler() { return *scheduler_; }
    [[nodiscard]] SyncLog& log() { return *log_; }
    [[nodiscard]] SyncService& service() { return *service_; }
    [[nodiscard]] upstream::Cache* cache() { return cache_.get(); }
    [[nodiscard]] integrations::iracing::Client& iracing() { return *iracing_; }
    [[nodiscard]] integrations::garage61::Client& garage61() { return *garage61_; }
    [[nodiscard]] upstream::RateGovernor& iracing_governor() { return *iracing_governor_; }
    [[nodiscard]] upstream::RateGovernor& garage61_governor() { return *garage61_governor_; }
    [[nodiscard]] const std::string& node_id() const { return node_id_; }

  private:
    SyncComponent() = default;

    const Config* config_ = nullptr;
    std::string node_id_;
    std::unique_ptr<auth::HttpClient> http_;
    std::unique_ptr<auth::TokenCipher> cipher_;
    std::unique_ptr<upstream::RateGovernor> iracing_governor_;
    std::unique_ptr<upstream::RateGovernor> garage61_governor_;
    std::unique_ptr<upstream::RateGovernor> discord_governor_;
    std::unique_ptr<upstream::Cache> cache_;
    std::unique_ptr<integrations::iracing::Client> iracing_;
    std::unique_ptr<integrations::iracing::ServiceAccount> service_account_;
    std::unique_ptr<integrations::garage61::Client> garage61_;
    std::unique_ptr<integrations::discord::Client> discord_;
    std::unique_ptr<SyncLog> log_;
    std::unique_ptr<SyncService> service_;
    std::unique_ptr<jobs::Scheduler> scheduler_;
};

// host name + process id: unique per process, readable in the sync log.
[[nodiscard]] std::string default_node_id();

}  // namespace pitwall::sync
