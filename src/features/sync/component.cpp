#include "features/sync/component.hpp"

#include <unistd.h>

#include "core/log.hpp"
#include "features/sync/sync_log.hpp"
#include "integrations/discord/client.hpp"
#include "integrations/garage61/client.hpp"
#include "integrations/iracing/client.hpp"
#include "integrations/iracing/service_account.hpp"
#include "platform/auth/http_client.hpp"
#include "platform/auth/token_cipher.hpp"
#include "platform/jobs/scheduler.hpp"
#include "platform/upstream/cache.hpp"
#include "platform/upstream/rate_governor.hpp"

namespace pitwall::sync {

std::string default_node_id() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "node");
    return std::string(host) + ":" + std::to_string(getpid());
}

Result<std::unique_ptr<SyncComponent>> SyncComponent::create(const Config& config, store::Database& sql,
                                                             store::Kv& kv, const Clock& clock,
                                                             identity::Users& users,
                                                             identity::Providers* providers, http::WsHub* hub,
                                                             ComponentOptions options) {
    std::unique_ptr<SyncComponent> c(new SyncComponent());
    c->config_ = &config;
    c->node_id_ = config.sync.node_id.empty() ? default_node_id() : config.sync.node_id;
    c->http_ = std::make_unique<auth::HttpClient>(auth::HttpClientOptions{
        .total_timeout = std::chrono::seconds(config.sync.http_timeout_s),
        .max_response_bytes = 64 * 1024 * 1024,  // series/seasons is ~2 MB, chunks more
        .ca_file = options.ca_file});
    c->iracing_governor_ = std::make_unique<upstream::RateGovernor>(
        clock, upstream::GovernorOptions{.name = "iracing",
                                         .limit = config.iracing.rate_limit,
                                         .window = std::chrono::seconds(config.iracing.rate_window_s)});
    c->garage61_governor_ = std::make_unique<upstream::RateGovernor>(
        clock, upstream::GovernorOptions{.name = "garage61",
                                         .limit = config.garage61.rate_limit,
                                         .window = std::chrono::seconds(config.garage61.rate_window_s),
                                         .refill = upstream::Refill::continuous});
    c->discord_governor_ = std::make_unique<upstream::RateGovernor>(
        clock, upstream::GovernorOptions{.name = "discord",
                                         .limit = config.discord.rate_limit,
                                         .window = std::chrono::seconds(config.discord.rate_window_s),
                                         .refill = upstream::Refill::continuous});
    if (options.use_cache) c->cache_ = std::make_unique<upstream::Cache>(kv, clock);
    c->iracing_ = std::make_unique<integrations::iracing::Client>(
        *c->http_, *c->iracing_governor_, c->cache_.get(), clock,
        integrations::iracing::ClientOptions{
            .api_base = config.iracing.api_base,
            .maintenance_backoff = std::chrono::seconds(config.iracing.maintenance_backoff_s)});
    c->garage61_ = std::make_unique<integrations::garage61::Client>(
        *c->http_, *c->garage61_governor_, c->cache_.get(), clock,
        integrations::garage61::ClientOptions{.api_base = config.garage61.api_base});
    c->discord_ = std::make_unique<integrations::discord::Client>(
        *c->http_, *c->discord_governor_, clock,
        integrations::discord::ClientOptions{.api_base = config.discord.api_base,
                                             .bot_token = config.discord.bot_token});
    if (!config.secrets.token_key.empty() && !config.iracing.service_username.empty()) {
        std::vector<auth::TokenKey> previous;
        if (!config.secrets.token_key_previous.empty())
            previous.push_back({.id = "", .secret = config.secrets.token_key_previous});
        auto cipher = auth::TokenCipher::create({.id = "", .secret = config.secrets.token_key}, previous);
        if (!cipher) return cipher.error();
        c->cipher_ = std::make_unique<auth::TokenCipher>(std::move(*cipher));
        c->service_account_ = std::make_unique<integrations::iracing::ServiceAccount>(
            *c->http_, sql, kv, *c->cipher_, clock,
            integrations::iracing::ServiceAccountOptions{.token_url = config.iracing.token_url,
                                                         .client_id = config.iracing.client_id,
                                                         .client_secret = config.iracing.client_secret,
                                                         .username = config.iracing.service_username,
                                                         .password = config.iracing.service_password});
    }
    c->log_ = std::make_unique<SyncLog>(sql, hub, clock, c->node_id_);
    c->service_ = std::make_unique<SyncService>(SyncDeps{.config = config,
                                                         .sql = sql,
                                                         .kv = kv,
                                                         .clock = clock,
                                                         .users = users,
                                                         .providers = providers,
                                                         .iracing = *c->iracing_,
                                                         .service_account = c->service_account_.get(),
                                                         .garage61 = *c->garage61_,
                                                         .discord = *c->discord_,
                                                         .cache = c->cache_.get(),
                                                         .log = *c->log_,
                                                         .hub = hub,
                                                         .dm_sweep = options.dm_sweep,
                                                         .stint_reminders = options.stint_reminders},
                                                std::move(options.member_tokens));
    c->scheduler_ = std::make_unique<jobs::Scheduler>(
        kv, clock, *c->log_,
        jobs::SchedulerOptions{.node_id = c->node_id_,
                               .leader_ttl = std::chrono::seconds(config.sync.leader_ttl_s),
                               .tick = std::chrono::milliseconds(config.sync.tick_ms),
                               .max_concurrent = static_cast<std::size_t>(config.sync.max_concurrent)});
    if (auto registered = c->service_->register_jobs(*c->scheduler_); !registered) return registered.error();
    return c;
}

SyncComponent::~SyncComponent() {
    stop();
}

void SyncComponent::start() {
    if (config_->sync.scheduler) {
        scheduler_->start();
        log::info("scheduler started on {} ({} jobs)", node_id_, SyncService::job_names().size());
    } else {
        log::info("scheduler off on this node (sync.scheduler = false); run now and /api/cron still work");
    }
}

void SyncComponent::stop() {
    if (scheduler_) scheduler_->stop();
    if (cache_) cache_->wait_refreshes();
}

}  // namespace pitwall::sync
