// The scheduler across real processes: two pitwall-server nodes on one PostgreSQL and one Redis (the
// scaled tier) share the leader lock, so each scheduled run happens once; when the leader stops, the
// other node takes over without running a slot twice. And the external trigger POST /api/cron/{job}
// with its bearer secret.
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "platform/store/sql.hpp"
#include "server_process.hpp"
#include "support/postgres_cluster.hpp"
#include "support/redis_server.hpp"
#include "support/servers.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::testing {
namespace {

using namespace std::chrono_literals;

constexpr store::Statement kRuns{
    "test.runs",
    "SELECT job, run_trigger, node, COALESCE(scheduled_for, 0), status FROM sync_runs ORDER BY id"};

struct Run {
    std::string job, trigger, node;
    std::int64_t scheduled_for;
    std::string status;
};

std::vector<Run> runs(store::Database& db) {
    std::vector<Run> out;
    auto rows = db.execute(kRuns);
    if (!rows) return out;
    for (const auto& r : rows->rows) out.push_back({r.text(0), r.text(1), r.text(2), r.int64(3), r.text(4)});
    return out;
}

// Every job off but two fast ones (six-field schedules: seconds first).
std::map<std::string, std::string> fast_jobs(std::map<std::string, std::string> env) {
    for (const char* job :
         {"IRACING_MEMBERS", "IRACING_IRATING_HISTORY", "IRACING_RECENT_RACES", "IRACING_WEEKLY_SCHEDULE",
          "IRACING_LEAGUE_RESULTS", "GARAGE61_LAPS", "GARAGE61_CARS", "SUBSCRIPTION_AUDIT",
          "DISCORD_ROLE_SYNC", "CACHE_WARM", "TOKEN_REFRESH", "HOUSEKEEPING"})
        env[std::string("PITWALL_JOBS_") + job] = "off";
    env["PITWALL_JOBS_STINT_REMINDERS"] = "*/2 * * * * *";
    env["PITWALL_JOBS_DM_QUEUE_SWEEPER"] = "*/3 * * * * *";
    env["PITWALL_SYNC_TICK_MS"] = "100";
    env["PITWALL_SYNC_LEADER_TTL_S"] = "2";
    env["PITWALL_LOG_ACCESS_LOG"] = "false";
    return env;
}

TEST(Scheduler, TwoNodesRunEachScheduledSlotOnceAndFailOver) {
    auto& redis = test_support::shared_redis();
    auto& postgres = test_support::shared_postgres();
    const std::string sql_url = postgres.schema_url(postgres.create_schema());
    const std::map<std::string, std::string> shared{{"PITWALL_SQL_ENGINE", "postgres"},
                                                    {"PITWALL_SQL_POSTGRES_URL", sql_url},
                                                    {"PITWALL_KV_ENGINE", "redis"},
                                                    {"PITWALL_KV_REDIS_URL", redis.url(7)}};
    auto env_a = fast_jobs(shared);
    env_a["PITWALL_SYNC_NODE_ID"] = "node-a";
    auto node_a = std::make_unique<ServerProcess>(env_a);
    ASSERT_TRUE(node_a->started()) << node_a->output();
    auto env_b = fast_jobs(shared);
    env_b["PITWALL_SYNC_NODE_ID"] = "node-b";
    ServerProcess node_b(env_b);
    ASSERT_TRUE(node_b.started()) << node_b.output();

    std::this_thread::sleep_for(9s);
    node_a->stop(SIGTERM);  // graceful: releases the leader lock
    node_a.reset();
    std::this_thread::sleep_for(7s);

    auto db = store::open_postgres({.url = sql_url, .pool_size = 1});
    ASSERT_TRUE(db.ok()) << db.error().code;
    const auto all = runs(**db);
    std::map<std::string, std::set<std::int64_t>> slots;
    std::map<std::string, int> scheduled;
    std::set<std::string> nodes;
    for (const auto& r : all) {
        if (r.trigger != "schedule" && r.trigger != "catch_up") continue;
        ++scheduled[r.job];
        slots[r.job].insert(r.scheduled_for);
        nodes.insert(r.node);
        EXPECT_EQ(r.status, "ok") << r.job << " on " << r.node;
    }
    // Every slot ran once in total, whichever node ran it.
    EXPECT_EQ(scheduled["stint-reminders"], static_cast<int>(slots["stint-reminders"].size()));
    EXPECT_EQ(scheduled["dm-queue-sweeper"], static_cast<int>(slots["dm-queue-sweeper"].size()));
    // ~16 s at one slot per 2 s, minus start-up and the take-over gap.
    EXPECT_GE(scheduled["stint-reminders"], 5);
    EXPECT_LE(scheduled["stint-reminders"], 9);
    // Both nodes ran slots: A while it led, B after A stopped.
    EXPECT_TRUE(nodes.contains("node-a")) << node_b.output();
    EXPECT_TRUE(nodes.contains("node-b")) << node_b.output();
    // After A stopped, B ran the remaining slots: the last run is B's.
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.back().node, "node-b");
}

TEST(Scheduler, ExternalTriggerNeedsTheCronSecret) {
    auto env = fast_jobs({{"PITWALL_SECRETS_CRON_SECRET", "a-cron-secret-of-some-length-0123456789"}});
    env["PITWALL_JOBS_STINT_REMINDERS"] = "off";
    ServerProcess server(env);
    ASSERT_TRUE(server.started()) << server.output();
    auto post = [&](const std::string& job, const std::string& auth) {
        std::string request = "POST /api/cron/" + job + " HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n";
        if (!auth.empty()) request += "Authorization: " + auth + "\r\n";
        return http_request(server.port(), request + "Connection: close\r\n\r\n");
    };
    EXPECT_EQ(status_of(post("stint-reminders", "")), 401);
    EXPECT_EQ(status_of(post("stint-reminders", "Bearer wrong")), 401);
    EXPECT_EQ(status_of(post("stint-reminders", "Basic a-cron-secret-of-some-length-0123456789")), 401);
    const auto refused = post("stint-reminders", "Bearer nope");
    EXPECT_NE(body_of(refused).find("\"code\":\"sync.bad_cron_secret\""), std::string::npos) << refused;
    EXPECT_EQ(status_of(post("no-such-job", "Bearer a-cron-secret-of-some-length-0123456789")), 404);
    const auto accepted = post("stint-reminders", "Bearer a-cron-secret-of-some-length-0123456789");
    EXPECT_EQ(status_of(accepted), 202) << accepted;
    EXPECT_NE(body_of(accepted).find("\"run_id\":"), std::string::npos);
    std::this_thread::sleep_for(300ms);
    const auto output = server.stop(SIGTERM).output;
    // Refusals are logged, the secret never is.
    EXPECT_NE(output.find("refused external trigger of stint-reminders"), std::string::npos);
    EXPECT_EQ(output.find("a-cron-secret-of-some-length"), std::string::npos);
    EXPECT_NE(output.find("run 1 of stint-reminders started (external)"), std::string::npos) << output;
}

TEST(Scheduler, ABadScheduleStopsStartUpNamingTheKey) {
    test_support::TempDir dir("pitwall-badcron");
    const auto result =
        run_binary(std::string(PITWALL_BIN_DIR) + "/pitwall-server", {},
                   {{"PITWALL_JOBS_HOUSEKEEPING", "61 * * * *"}, {"PITWALL_DATA_DIR", dir.path().string()}});
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.output.find("jobs.housekeeping"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("minute"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace pitwall::testing
