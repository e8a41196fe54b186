// "Team week": the sync pipeline of a 60-member team against the local iRacing and Garage61 fakes for
// 7 simulated days — every job on its default schedule, plus members' page views of the live JSON
// answers (GET /api/members/{id}/iracing, GET /api/schedule/race-guide) — once with the KV cache
// and once without. Time is a ManualClock shared by the fakes and Pitwall, so a week runs in
// seconds; every upstream request is real HTTP on loopback and is counted by the fakes.
//
// Ends with: upstream_calls_cached=N upstream_calls_uncached=N saved_pct=P http_429=N
// Target: saved_pct >= 95 and http_429 = 0 (the governor must keep both runs under the limits).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "core/config.hpp"
#include "core/log.hpp"
#include "fakes/fake_garage61.hpp"
#include "fakes/fake_iracing.hpp"
#include "features/identity/users.hpp"
#include "features/sync/component.hpp"
#include "features/sync/sync_log.hpp"
#include "integrations/iracing/client.hpp"
#include "platform/jobs/scheduler.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/migrate.hpp"
#include "platform/store/sql.hpp"
#include "platform/upstream/cache.hpp"
#include "support/temp_dir.hpp"

using namespace pitwall;
using namespace std::chrono_literals;

namespace {

constexpr int kMembers = 60;
constexpr int kDays = 7;
constexpr int kViewsPerMemberPerDay = 20;
constexpr std::int64_t kStart = 1'795'392'000'000;  // Monday 2026-11-23 00:00 UTC

constexpr store::Statement kAddUser{"bench.add_user",
                                    "INSERT INTO users (discord_id, username, site_role, guild_member, "
                                    "created_at, updated_at) VALUES ($1, $2, "
                                    "'member', 1, $3, $3) RETURNING id"};
constexpr store::Statement kAddLink{"bench.add_link",
                                    "INSERT INTO linked_accounts (user_id, provider, subject, slug, status, "
                                    "created_at, updated_at) VALUES ($1, $2, "
                                    "$3, $4, 'active', $5, $5)"};
constexpr store::Statement kRunsByJob{
    "bench.runs",
    "SELECT job, COUNT(*), SUM(upstream_calls), SUM(CASE WHEN status = 'ok' THEN 0 ELSE 1 END) "
    "FROM sync_runs GROUP BY job ORDER BY job"};

template <typename T>
T must(Result<T> r, const char* what) {
    if (!r) {
        std::fprintf(stderr, "team_week: %s: %s %s\n", what, r.error().code.c_str(),
                     r.error().detail.c_str());
        std::exit(1);
    }
    return std::move(*r);
}

struct WeekResult {
    std::int64_t iracing_calls = 0;  // /data requests the fake received
    std::int64_t garage61_calls = 0;
    std::int64_t http_429 = 0;
    std::int64_t views = 0;
    std::int64_t view_errors = 0;
    std::int64_t job_failures = 0;
    double wall_s = 0;
    upstream::CacheStats cache;
    std::string per_job;
};

WeekResult run_week(bool use_cache) {
    const auto wall_start = std::chrono::steady_clock::now();
    ManualClock clock(kStart);
    auto team = std::make_shared<fakes::FakeTeam>(fakes::generate_team(2026, kMembers));
    fakes::FakeIracing iracing(team, clock);
    fakes::FakeGarage61 garage61(team, clock, {.lap_history_days = 30});
    test_support::TempDir dir("pitwall-team-week");

    auto sql = must(store::open_sqlite({(dir.path() / "pitwall.db").string()}), "sqlite");
    must(store::migrate(*sql,
                        must(store::load_migrations(std::filesystem::path(PITWALL_SOURCE_DIR) / "migrations",
                                                    store::Dialect::sqlite),
                             "migrations")),
         "migrate");
    auto kv = must(store::open_embedded_kv({(dir.path() / "kv.db").string()}, clock), "kv");

    std::map<std::int64_t, const fakes::TeamMember*> member_of_user;
    std::vector<std::int64_t> users;
    for (const auto& m : team->members) {
        auto id = must(sql->execute(kAddUser, {"bench-" + std::to_string(m.cust_id), m.display_name, kStart}),
                       "user")
                      .first()
                      .int64(0);
        must(sql->execute(kAddLink,
                          {id, std::string("iracing"), std::to_string(m.cust_id), store::Null{}, kStart}),
             "link");
        must(sql->execute(kAddLink, {id, std::string("garage61"), m.g61_id, m.g61_slug, kStart}), "link");
        member_of_user[id] = &m;
        users.push_back(id);
    }

    auto config = must(parse_config_text("", {}), "config");
    config.data_dir = dir.path().string();
    config.iracing.api_base = iracing.api_url();
    config.iracing.token_url = iracing.token_url();
    config.iracing.client_id = iracing.options().client_id;
    config.iracing.client_secret = iracing.options().client_secret;
    config.iracing.service_username = iracing.options().username;
    config.iracing.service_password = iracing.options().password;
    config.iracing.league_id = team->league.league_id;
    config.iracing.league_season_id = fakes::league_season_id(team->league, fakes::season_at(kStart).index);
    config.garage61.api_base = garage61.api_url();
    config.secrets.token_key = std::string(40, 'b');

    identity::Users identity_users(*sql, clock);
    auto sync =
        must(sync::SyncComponent::create(
                 config, *sql, *kv, clock, identity_users, nullptr, nullptr,
                 {.use_cache = use_cache,
                  .member_tokens = [&](std::string_view provider, std::int64_t user) -> Result<std::string> {
                      const auto* m = member_of_user.at(user);
                      return std::string(provider == "iracing" ? m->iracing_token : m->garage61_token);
                  }}),
             "sync component");
    sync->scheduler().set_inline(true);
    if (auto* cache = sync->cache()) cache->set_inline_refresh(true);

    // Page views: each member opens the live pages ~20 times a day, mostly in their evening; half
    // are a member's iRacing record, half the race guide. Same seed in both runs.
    std::mt19937_64 rng(7);
    std::map<std::int64_t, std::vector<std::int64_t>> views_at;  // minute -> viewer user ids
    for (int day = 0; day < kDays; ++day)
        for (auto user : users)
            for (int v = 0; v < kViewsPerMemberPerDay; ++v) {
                std::normal_distribution<double> evening(19.5 * 60, 150);
                const auto minute =
                    std::clamp<std::int64_t>(static_cast<std::int64_t>(evening(rng)), 0, 24 * 60 - 1);
                views_at[day * 24 * 60 + minute].push_back(user);
            }

    WeekResult result;
    std::uniform_int_distribution<std::size_t> pick(0, users.size() - 1);
    for (std::int64_t minute = 0; minute < kDays * 24 * 60; ++minute) {
        const std::int64_t target = kStart + minute * 60'000;
        if (clock.now_ms() < target) clock.set_ms(target);  // waits inside a minute may have moved it on
        sync->scheduler().tick();
        if (minute % (24 * 60) == 0)
            std::fprintf(
                stderr, "  %s day %lld: iracing=%lld garage61=%lld (%.0f s)\n",
                use_cache ? "cached" : "uncached", static_cast<long long>(minute / (24 * 60)),
                static_cast<long long>(iracing.stats().data_calls),
                static_cast<long long>(garage61.stats().calls),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
        if (auto it = views_at.find(minute); it != views_at.end())
            for (std::size_t i = 0; i < it->second.size(); ++i) {
                ++result.views;
                const bool record = i % 2 == 0;
                auto answer = record ? sync->service().live_member_json(users[pick(rng)])
                                     : sync->service().live_race_guide_json();
                if (!answer) ++result.view_errors;
            }
    }
    sync->scheduler().wait_idle();

    const auto ir = iracing.stats();
    const auto g61 = garage61.stats();
    result.iracing_calls = ir.data_calls;
    result.garage61_calls = g61.calls;
    result.http_429 = ir.rate_limited + g61.rate_limited + ir.password_limited_throttled;
    if (auto* cache = sync->cache()) result.cache = cache->stats();
    auto runs = must(sql->execute(kRunsByJob), "runs");
    for (const auto& r : runs.rows) {
        result.job_failures += r.int64(3);
        char line[160];
        std::snprintf(line, sizeof line, "    %-24s runs=%-5lld upstream_calls=%-6lld failed=%lld\n",
                      r.text(0).c_str(), static_cast<long long>(r.int64(1)),
                      static_cast<long long>(r.int64(2)), static_cast<long long>(r.int64(3)));
        result.per_job += line;
    }
    sync->stop();
    result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return result;
}

void print(const char* name, const WeekResult& r) {
    std::printf(
        "%s: iracing_data_calls=%lld garage61_calls=%lld http_429=%lld views=%lld view_errors=%lld "
        "job_failures=%lld wall_s=%.1f\n",
        name, static_cast<long long>(r.iracing_calls), static_cast<long long>(r.garage61_calls),
        static_cast<long long>(r.http_429), static_cast<long long>(r.views),
        static_cast<long long>(r.view_errors), static_cast<long long>(r.job_failures), r.wall_s);
    if (r.cache.hits + r.cache.misses > 0)
        std::printf(
            "  cache: hits=%llu stale_hits=%llu misses=%llu negative_hits=%llu coalesced=%llu "
            "upstream_calls=%llu refreshes=%llu\n",
            static_cast<unsigned long long>(r.cache.hits),
            static_cast<unsigned long long>(r.cache.stale_hits),
            static_cast<unsigned long long>(r.cache.misses),
            static_cast<unsigned long long>(r.cache.negative_hits),
            static_cast<unsigned long long>(r.cache.coalesced),
            static_cast<unsigned long long>(r.cache.upstream_calls),
            static_cast<unsigned long long>(r.cache.refreshes));
    std::printf("%s", r.per_job.c_str());
}

}  // namespace

int main() {
    log::setup("warn", "text");
    std::printf(
        "team week: %d members, %d simulated days, %d page views per member per day, default schedules\n",
        kMembers, kDays, kViewsPerMemberPerDay);
    std::fflush(stdout);
    const auto cached = run_week(true);
    print("cached", cached);
    std::fflush(stdout);
    const auto uncached = run_week(false);
    print("uncached", uncached);
    const auto with = cached.iracing_calls + cached.garage61_calls;
    const auto without = uncached.iracing_calls + uncached.garage61_calls;
    const double saved =
        without > 0 ? 100.0 * static_cast<double>(without - with) / static_cast<double>(without) : 0;
    std::printf("upstream_calls_cached=%lld upstream_calls_uncached=%lld saved_pct=%.1f http_429=%lld\n",
                static_cast<long long>(with), static_cast<long long>(without), saved,
                static_cast<long long>(cached.http_429 + uncached.http_429));
    return 0;
}
