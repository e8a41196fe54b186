// The DM queue on a real SQLite file migrated with the shipped migrations, with the embedded KV and
// with a real Redis (the queue's visibility and backoff follow the injected ManualClock on both):
// durability, deduplication, rendering in the member's language and time zone, visibility, outcomes
// (delivered, retried with backoff, dead letters, DMs closed), release, admin retry/discard, the
// sweeper, and the admin monitor's counts.
#include "features/notify/dm_queue.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "platform/http/ws_hub.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/migrate.hpp"
#include "platform/store/sql_test_fixture.hpp"
#include "support/servers.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::notify {
namespace {

using namespace std::chrono_literals;
using store::must;

const std::filesystem::path kSource = PITWALL_SOURCE_DIR;
constexpr std::int64_t kStart = 1774785600000;              // Sunday 2026-03-29 12:00 UTC
constexpr std::int64_t kRaceAt = kStart + 3 * 3600 * 1000;  // 15:00 UTC: 18:00 in Istanbul, 11:00 in New York

enum class Engine { embedded, redis };

void PrintTo(Engine engine, std::ostream* out) {
    *out << (engine == Engine::embedded ? "embedded" : "redis");
}
std::string engine_name(const ::testing::TestParamInfo<Engine>& info) {
    return ::testing::PrintToString(info.param);
}

constexpr store::Statement kAddUser{
    "test.add_user",
    "INSERT INTO users (discord_id, username, nickname, preferred_locale, locale, time_zone, created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, 0) RETURNING id"};
constexpr store::Statement kQueueItem{"test.queue_item", "SELECT queue_item FROM dm_messages WHERE id = $1"};
constexpr store::Statement kRecords{"test.records", "SELECT COUNT(*) FROM dm_messages"};

// A catalog of its own: the queue renders whatever key a feature names.
i18n::Catalog test_catalog() {
    return must(i18n::Catalog::from_json(
        {{"en",
          R"({"test": {"stint": "Your stint at {track} starts {when, date, medium} {when, time, short} (lap {lap}).", "long": "{text}"}})"},
         {"tr",
          R"({"test": {"stint": "{track} stintiniz {when, date, medium} {when, time, short} saatinde başlıyor ({lap}. tur).", "long": "{text}"}})"}}));
}

const i18n::Args kStintArgs = {{"track", "Spa"}, {"when", i18n::DateTime{kRaceAt}}, {"lap", 12}};

class DmQueueTest : public ::testing::TestWithParam<Engine> {
  protected:
    void SetUp() override {
        db_ = must(store::open_sqlite({(dir_.path() / "pitwall.db").string()}));
        must(store::migrate(*db_,
                            must(store::load_migrations(kSource / "migrations", store::Dialect::sqlite))));
        if (GetParam() == Engine::redis) {
            test_support::shared_redis().flush_all();
            kv_ = must(store::open_redis_kv({test_support::shared_redis().url()}, clock_));
        } else {
            kv_ = must(store::open_embedded_kv({(dir_.path() / "kv.db").string()}, clock_));
        }
        hub_.set_relay([this](std::string_view message) {
            broadcasts_.emplace_back(message);
            return true;
        });
        queue_ = std::make_unique<DmQueue>(*db_, *kv_, catalog_, clock_, options_, &hub_);
        ayse_ = add_user("100000000000000001", "ayse", "Ayşe", "tr", "Europe/Istanbul");
        john_ = add_user("100000000000000002", "john", "", "", "America/New_York");
    }

    std::int64_t add_user(const std::string& discord_id, const std::string& name, const std::string& nickname,
                          const std::string& preferred_locale, const std::string& zone) {
        const auto opt = [](const std::string& s) {
            return s.empty() ? store::Value(store::Null{}) : store::Value(s);
        };
        return must(db_->execute(kAddUser, {opt(discord_id), name, opt(nickname), opt(preferred_locale),
                                            std::string("en"), zone}))
            .first()
            .int64(0);
    }

    std::string enqueue(std::int64_t user, std::string_view dedupe = {}) {
        return must(queue_->enqueue(user, "test.stint", kStintArgs, dedupe));
    }
    DmRecord record(const std::string& id) {
        auto found = must(queue_->find(id));
        if (!found) throw std::runtime_error("no record " + id);
        return *found;
    }
    std::vector<OutgoingDm> claim(std::size_t max = 10) { return must(queue_->claim(max)); }
    // Claims exactly one message (the test's only due one).
    OutgoingDm claim_one() {
        auto out = claim();
        if (out.size() != 1) throw std::runtime_error("claimed " + std::to_string(out.size()) + " messages");
        return out.front();
    }
    void fail(const std::string& id, int discord_code = 0,
              std::optional<std::chrono::milliseconds> retry_after = std::nullopt, std::string error = {}) {
        DmOutcome outcome;
        outcome.id = id;
        outcome.discord_code = discord_code;
        outcome.retry_after = retry_after;
        outcome.error = std::move(error);
        must(queue_->complete(outcome));
    }
    void deliver(const std::string& id) {
        DmOutcome outcome;
        outcome.id = id;
        outcome.delivered = true;
        outcome.message_id = "1300000000000000000";
        must(queue_->complete(outcome));
    }
    store::QueueCounts queue_counts() { return must(kv_->queue_counts(kDmQueue)); }
    std::int64_t now() const { return clock_.now_ms(); }

    // The {"type":"dm",...} events broadcast on the admin topic, as "id status".
    std::vector<std::string> events() const {
        std::vector<std::string> out;
        for (const auto& message : broadcasts_) {
            const auto newline = message.find('\n');
            if (message.substr(0, newline) != kDmTopic) continue;
            const auto frame = boost::json::parse(message.substr(newline + 1)).as_object();
            const auto& data = frame.at("data").as_object();
            if (data.at("type").as_string() != "dm") continue;
            out.push_back(std::string(data.at("id").as_string()) + " " +
                          std::string(data.at("status").as_string()));
        }
        return out;
    }

    test_support::TempDir dir_{"pitwall-dm"};
    ManualClock clock_{kStart};
    i18n::Catalog catalog_ = test_catalog();
    DmQueueOptions options_{.max_attempts = 3,
                            .backoff_base = 10s,
                            .backoff_max = 60s,
                            .visibility = 30s,
                            .keep = std::chrono::hours(24 * 7)};
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<store::Kv> kv_;
    http::WsHub hub_{nullptr, 16};
    std::vector<std::string> broadcasts_;
    std::unique_ptr<DmQueue> queue_;
    std::int64_t ayse_ = 0, john_ = 0;
};

TEST_P(DmQueueTest, EnqueueIsDurableBeforeItReturns) {
    const auto id = enqueue(ayse_);
    EXPECT_EQ(id.size(), 22u);  // 16 random bytes, base64url: within Discord's 25-character nonce
    const auto r = record(id);
    EXPECT_EQ(r.status, DmStatus::pending);
    EXPECT_EQ(r.user_id, ayse_);
    EXPECT_EQ(r.member, "Ayşe");
    EXPECT_EQ(r.message_key, "test.stint");
    EXPECT_EQ(r.attempts, 0);
    EXPECT_EQ(r.created_at, kStart);
    EXPECT_FALSE(must(db_->execute(kQueueItem, {id})).first().text(0).empty());
    EXPECT_EQ(queue_counts().ready, 1);
    EXPECT_EQ(queue_counts().delayed, 0);
    EXPECT_EQ(events(), std::vector<std::string>{id + " pending"});

    // Another handle on the same stores (a restart, or the node holding the bot's session) finds it.
    queue_.reset();
    kv_.reset();
    kv_ = GetParam() == Engine::redis
              ? must(store::open_redis_kv({test_support::shared_redis().url()}, clock_))
              : must(store::open_embedded_kv({(dir_.path() / "kv.db").string()}, clock_));
    queue_ = std::make_unique<DmQueue>(*db_, *kv_, catalog_, clock_, options_, &hub_);
    EXPECT_EQ(claim_one().id, id);
}

TEST_P(DmQueueTest, RefusesUnknownMembersAndMembersWithoutDiscordAndWritesNothing) {
    const auto no_discord = add_user("", "nodiscord", "", "", "UTC");
    for (const std::int64_t user : {std::int64_t{999'999}, no_discord}) {
        auto refused = queue_->enqueue(user, "test.stint", kStintArgs);
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.error().code, "dm.no_member");
        EXPECT_EQ(refused.error().kind, ErrorKind::not_found);
    }
    EXPECT_EQ(must(db_->execute(kRecords)).first().int64(0), 0);
    EXPECT_EQ(queue_counts().ready + queue_counts().delayed, 0);
    EXPECT_TRUE(events().empty());
}

TEST_P(DmQueueTest, DedupeKeyMakesEnqueueIdempotent) {
    const auto first = enqueue(ayse_, "stint:42:ayse");
    EXPECT_EQ(enqueue(ayse_, "stint:42:ayse"), first);
    EXPECT_EQ(queue_counts().ready, 1);
    EXPECT_EQ(must(queue_->counts()).pending, 1);
    const auto other = enqueue(ayse_, "stint:43:ayse");
    EXPECT_NE(other, first);
    // Without a key every call is a message of its own.
    EXPECT_NE(enqueue(ayse_), enqueue(ayse_));
    EXPECT_EQ(queue_counts().ready, 4);
}

TEST_P(DmQueueTest, ClaimRendersInTheMembersLanguageAndTimeZone) {
    const auto to_ayse = enqueue(ayse_);
    const auto to_john = enqueue(john_);
    auto out = claim();
    ASSERT_EQ(out.size(), 2u);
    std::map<std::string, OutgoingDm> by_id;
    for (auto& dm : out) by_id[dm.id] = dm;
    // Ayşe chose Turkish; her zone is Istanbul (UTC+3).
    EXPECT_EQ(by_id[to_ayse].content, "Spa stintiniz 29 Mar 2026 18:00 saatinde başlıyor (12. tur).");
    EXPECT_EQ(by_id[to_ayse].discord_user_id, "100000000000000001");
    EXPECT_EQ(by_id[to_ayse].attempt, 1);
    // John chose nothing: his account's locale (en); New York is UTC-4 in late March.
    EXPECT_EQ(by_id[to_john].content, "Your stint at Spa starts Mar 29, 2026 11:00\u202fAM (lap 12).");
    EXPECT_EQ(by_id[to_john].discord_user_id, "100000000000000002");
}

TEST_P(DmQueueTest, ClaimHidesAMessageUntilItsVisibilityEnds) {
    const auto id = enqueue(ayse_);
    EXPECT_EQ(claim_one().attempt, 1);
    auto r = record(id);
    EXPECT_EQ(r.status, DmStatus::in_flight);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_TRUE(claim().empty());
    EXPECT_EQ(queue_counts().delayed, 1);

    clock_.advance(29s);
    EXPECT_TRUE(claim().empty());
    clock_.advance(1s);  // no answer from the bot within the visibility: out again
    const auto again = claim_one();
    EXPECT_EQ(again.id, id);
    EXPECT_EQ(again.attempt, 2);
    EXPECT_EQ(record(id).attempts, 2);
    EXPECT_EQ(record(id).status, DmStatus::in_flight);
}

TEST_P(DmQueueTest, DeliveredIsFinal) {
    const auto id = enqueue(john_);
    EXPECT_EQ(must(queue_->member_dm_status(john_)), "unknown");
    claim_one();
    clock_.advance(2s);
    deliver(id);
    auto r = record(id);
    EXPECT_EQ(r.status, DmStatus::delivered);
    EXPECT_EQ(r.delivered_at, kStart + 2000);
    EXPECT_EQ(must(queue_->member_dm_status(john_)), "open");
    EXPECT_EQ(queue_counts().ready, 0);
    EXPECT_EQ(queue_counts().delayed, 0);

    // A repeated outcome, delivered or failed, changes nothing.
    clock_.advance(1s);
    deliver(id);
    fail(id, 0, std::nullopt, "dm.send_failed");
    r = record(id);
    EXPECT_EQ(r.status, DmStatus::delivered);
    EXPECT_EQ(r.updated_at, kStart + 2000);
    EXPECT_TRUE(r.last_error.empty());

    // Its id surfacing in the queue again (a copy from a KV restore, the sweeper) sends nothing.
    must(kv_->push(kDmQueue, id));
    EXPECT_TRUE(claim().empty());
    EXPECT_EQ(queue_counts().ready + queue_counts().delayed, 0);
    EXPECT_EQ(record(id).status, DmStatus::delivered);
    EXPECT_EQ(events(), (std::vector<std::string>{id + " pending", id + " in_flight", id + " delivered"}));
}

TEST_P(DmQueueTest, RetryableFailuresBackOffExponentiallyThenDie) {
    const auto id = enqueue(ayse_);
    claim_one();
    fail(id);
    auto r = record(id);
    EXPECT_EQ(r.status, DmStatus::failed);
    EXPECT_EQ(r.last_error, "dm.send_failed");  // the bot named no code
    ASSERT_TRUE(r.next_attempt_at.has_value());
    // Attempt 1 failed: base (10 s), jittered into [base/2, base].
    EXPECT_GE(*r.next_attempt_at, now() + 5000);
    EXPECT_LE(*r.next_attempt_at, now() + 10000);
    EXPECT_TRUE(claim().empty());
    clock_.set_ms(*r.next_attempt_at - 1);
    EXPECT_TRUE(claim().empty());
    clock_.set_ms(*r.next_attempt_at);
    EXPECT_EQ(claim_one().attempt, 2);
    EXPECT_EQ(record(id).status, DmStatus::in_flight);
    EXPECT_FALSE(record(id).next_attempt_at.has_value());

    fail(id, 0, std::nullopt, "dm.send_failed");
    r = record(id);
    ASSERT_TRUE(r.next_attempt_at.has_value());
    // Attempt 2 failed: 2 * base, jittered into [base, 2 * base].
    EXPECT_GE(*r.next_attempt_at, now() + 10000);
    EXPECT_LE(*r.next_attempt_at, now() + 20000);
    clock_.set_ms(*r.next_attempt_at);
    EXPECT_EQ(claim_one().attempt, 3);

    // The third attempt was the last (max_attempts = 3): a dead letter, out of the queue.
    fail(id);
    r = record(id);
    EXPECT_EQ(r.status, DmStatus::dead);
    EXPECT_FALSE(r.next_attempt_at.has_value());
    EXPECT_EQ(queue_counts().ready + queue_counts().delayed, 0);
    clock_.advance(std::chrono::hours(1));
    EXPECT_TRUE(claim().empty());
}

TEST_P(DmQueueTest, BackoffIsCappedAtTheMaximum) {
    options_.max_attempts = 10;
    queue_ = std::make_unique<DmQueue>(*db_, *kv_, catalog_, clock_, options_, &hub_);
    const auto id = enqueue(ayse_);
    for (int attempt = 1; attempt <= 6; ++attempt) {
        ASSERT_EQ(claim_one().attempt, attempt);
        fail(id);
        const auto next = *record(id).next_attempt_at;
        EXPECT_LE(next, now() + 60000) << attempt;  // 10 s * 2^5 = 320 s, capped at 60 s
        clock_.set_ms(next);
    }
}

TEST_P(DmQueueTest, RetryAfterFromDiscordIsRespected) {
    const auto id = enqueue(ayse_);
    claim_one();
    fail(id, 0, 120s, "discord.rate_limited");
    auto r = record(id);
    EXPECT_EQ(r.status, DmStatus::failed);
    EXPECT_EQ(r.last_error, "discord.rate_limited");
    EXPECT_EQ(r.next_attempt_at, now() + 120000);  // longer than any backoff of attempt 1
    clock_.advance(119s);
    EXPECT_TRUE(claim().empty());
    clock_.advance(1s);
    EXPECT_EQ(claim_one().id, id);
}

TEST_P(DmQueueTest, DmsClosedIsADeadLetterAtOnceAndMarksTheMember) {
    const auto id = enqueue(ayse_);
    claim_one();
    fail(id, 50007, std::nullopt, "discord.cannot_dm");
    auto r = record(id);
    EXPECT_EQ(r.status, DmStatus::dead);
    EXPECT_EQ(r.attempts, 1);  // not retried: nothing changes until the member acts
    EXPECT_EQ(r.discord_code, 50007);
    EXPECT_EQ(r.last_error, "discord.cannot_dm");
    EXPECT_EQ(must(queue_->member_dm_status(ayse_)), "closed");
    EXPECT_EQ(queue_counts().ready + queue_counts().delayed, 0);

    // The member opened their DMs and an admin sent it again: delivered, and the status follows.
    must(queue_->retry(id));
    claim_one();
    deliver(id);
    EXPECT_EQ(must(queue_->member_dm_status(ayse_)), "open");
}

TEST_P(DmQueueTest, NoMutualGuildIsDeadButDoesNotBlameThePrivacySettings) {
    const auto id = enqueue(ayse_);
    claim_one();
    fail(id, 50278, std::nullopt, "discord.cannot_dm");
    EXPECT_EQ(record(id).status, DmStatus::dead);
    EXPECT_EQ(must(queue_->member_dm_status(ayse_)), "unknown");
}

TEST_P(DmQueueTest, ReleaseHandsMessagesOutAgainAtOnce) {
    const auto id = enqueue(ayse_);
    const auto other = enqueue(john_);
    EXPECT_EQ(claim().size(), 2u);
    must(queue_->release({id}));
    EXPECT_EQ(record(id).status, DmStatus::pending);
    EXPECT_EQ(record(other).status, DmStatus::in_flight);
    const auto again = claim_one();
    EXPECT_EQ(again.id, id);
    EXPECT_EQ(again.attempt, 2);
    // A failure the bot reports for a released message no longer counts (it is out again).
    must(queue_->release({id}));
    fail(id);
    EXPECT_EQ(record(id).status, DmStatus::pending);
    EXPECT_FALSE(record(id).next_attempt_at.has_value());
    // Releasing a message that is not in flight changes nothing.
    deliver(other);
    must(queue_->release({other, "no-such-message-id-0000"}));
    EXPECT_EQ(record(other).status, DmStatus::delivered);
}

TEST_P(DmQueueTest, AdminRetrySendsFailedDeadAndDiscardedMessagesAgain) {
    // failed: its item waits for the backoff; a retry makes it due now.
    const auto failed = enqueue(ayse_);
    claim_one();
    fail(failed);
    must(queue_->retry(failed));
    auto r = record(failed);
    EXPECT_EQ(r.status, DmStatus::pending);
    EXPECT_EQ(r.attempts, 0);
    EXPECT_FALSE(r.next_attempt_at.has_value());
    EXPECT_EQ(claim_one().id, failed);
    deliver(failed);

    // dead: a new queue item.
    const auto dead = enqueue(ayse_);
    claim_one();
    fail(dead, 50007);
    must(queue_->retry(dead));
    EXPECT_EQ(record(dead).status, DmStatus::pending);
    const auto out = claim_one();
    EXPECT_EQ(out.id, dead);
    EXPECT_EQ(out.attempt, 1);  // a fresh attempt budget
    deliver(dead);

    // discarded
    const auto discarded = enqueue(john_);
    must(queue_->discard(discarded));
    must(queue_->retry(discarded));
    EXPECT_EQ(claim_one().id, discarded);

    // Anything else is refused.
    auto in_flight = queue_->retry(discarded);
    ASSERT_FALSE(in_flight.ok());
    EXPECT_EQ(in_flight.error().code, "dm.not_retryable");
    EXPECT_EQ(in_flight.error().kind, ErrorKind::conflict);
    EXPECT_EQ(queue_->retry(failed).error().code, "dm.not_retryable");  // delivered
    auto unknown = queue_->retry("AAAAAAAAAAAAAAAAAAAAAA");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, "dm.not_found");
    EXPECT_EQ(unknown.error().kind, ErrorKind::not_found);
}

TEST_P(DmQueueTest, DiscardedMessagesAreNeverSent) {
    const auto pending = enqueue(ayse_);
    must(queue_->discard(pending));
    EXPECT_EQ(record(pending).status, DmStatus::discarded);
    EXPECT_TRUE(claim().empty());
    EXPECT_EQ(queue_counts().ready + queue_counts().delayed, 0);
    clock_.advance(std::chrono::hours(1));
    EXPECT_TRUE(claim().empty());

    const auto failed = enqueue(ayse_);
    claim_one();
    fail(failed);
    must(queue_->discard(failed));
    clock_.advance(std::chrono::hours(1));
    EXPECT_TRUE(claim().empty());
    EXPECT_EQ(record(failed).status, DmStatus::discarded);

    // In flight, delivered or discarded already: refused.
    const auto out = enqueue(john_);
    claim_one();
    auto refused = queue_->discard(out);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "dm.not_discardable");
    EXPECT_EQ(refused.error().kind, ErrorKind::conflict);
    deliver(out);
    EXPECT_EQ(queue_->discard(out).error().code, "dm.not_discardable");
    EXPECT_EQ(queue_->discard(pending).error().code, "dm.not_discardable");
    EXPECT_EQ(queue_->discard("AAAAAAAAAAAAAAAAAAAAAA").error().code, "dm.not_found");
}

TEST_P(DmQueueTest, SweepRequeuesMessagesWhoseQueueItemWasLost) {
    const auto lost = enqueue(ayse_);
    const auto waiting = enqueue(john_);  // still queued: no bot connected for a long time
    // The KV store lost the item (wiped, replaced): ack it behind the queue's back.
    const auto item = must(db_->execute(kQueueItem, {lost})).first().text(0);
    ASSERT_TRUE(must(kv_->ack(kDmQueue, item)));
    EXPECT_EQ(queue_counts().ready, 1);

    EXPECT_EQ(must(queue_->sweep()), 0);  // recent records are left alone
    // Past any visibility and backoff (3 * (30 s + 60 s)).
    clock_.advance(271s);
    EXPECT_EQ(must(queue_->sweep()), 1);
    EXPECT_EQ(queue_counts().ready, 2);   // the lost one again; the waiting one not twice
    EXPECT_EQ(must(queue_->sweep()), 0);  // touched: nothing to do until the horizon passes again

    auto out = claim();
    ASSERT_EQ(out.size(), 2u);
    std::set<std::string> ids{out[0].id, out[1].id};
    EXPECT_EQ(ids, (std::set<std::string>{lost, waiting}));
    EXPECT_TRUE(claim().empty());
}

TEST_P(DmQueueTest, SweepReleasesAStaleInFlightMessageWhoseItemWasLost) {
    const auto id = enqueue(ayse_);
    claim_one();
    const auto item = must(db_->execute(kQueueItem, {id})).first().text(0);
    ASSERT_TRUE(must(kv_->ack(kDmQueue, item)));
    clock_.advance(271s);
    EXPECT_TRUE(claim().empty());
    EXPECT_EQ(must(queue_->sweep()), 1);
    EXPECT_EQ(record(id).status, DmStatus::pending);
    const auto again = claim_one();
    EXPECT_EQ(again.id, id);
    EXPECT_EQ(again.attempt, 2);
}

TEST_P(DmQueueTest, SweepPrunesOldSettledRecordsOnly) {
    const auto delivered = enqueue(ayse_);
    claim_one();
    deliver(delivered);
    const auto discarded = enqueue(john_);
    must(queue_->discard(discarded));
    const auto pending = enqueue(john_);

    clock_.advance(std::chrono::hours(24 * 7) - 1s);
    (void)must(queue_->sweep());
    EXPECT_TRUE(must(queue_->find(delivered)).has_value());
    clock_.advance(2s);
    (void)must(queue_->sweep());
    EXPECT_FALSE(must(queue_->find(delivered)).has_value());
    EXPECT_FALSE(must(queue_->find(discarded)).has_value());
    EXPECT_EQ(record(pending).status, DmStatus::pending);  // never pruned before it is settled
    EXPECT_EQ(claim_one().id, pending);
}

TEST_P(DmQueueTest, CountsAndRecentForTheMonitor) {
    const auto a = enqueue(ayse_);
    const auto b = enqueue(ayse_);
    const auto c = enqueue(john_);
    const auto d = enqueue(john_);
    clock_.advance(1s);
    auto out = claim(2);  // a and b (oldest first)
    ASSERT_EQ(out.size(), 2u);
    clock_.advance(1s);
    deliver(a);
    clock_.advance(1s);
    fail(b, 50007);
    clock_.advance(1s);
    must(queue_->discard(c));

    const auto counts = must(queue_->counts());
    EXPECT_EQ(counts.pending, 1);
    EXPECT_EQ(counts.in_flight, 0);
    EXPECT_EQ(counts.delivered, 1);
    EXPECT_EQ(counts.failed, 0);
    EXPECT_EQ(counts.dead, 1);
    EXPECT_EQ(counts.discarded, 1);

    auto recent = must(queue_->recent(std::nullopt, 10));
    ASSERT_EQ(recent.size(), 4u);
    EXPECT_EQ(recent[0].id, c);  // most recently updated first
    EXPECT_EQ(recent[1].id, b);
    EXPECT_EQ(recent[2].id, a);
    EXPECT_EQ(recent[3].id, d);
    EXPECT_EQ(recent[1].discord_code, 50007);
    EXPECT_EQ(recent[3].member, "john");  // no nickname: the username
    EXPECT_EQ(must(queue_->recent(std::nullopt, 2)).size(), 2u);
    auto dead = must(queue_->recent(DmStatus::dead, 10));
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].id, b);
    EXPECT_TRUE(must(queue_->recent(DmStatus::failed, 10)).empty());
}

TEST_P(DmQueueTest, AMemberWhoUnlinkedDiscordMeanwhileGetsADeadLetter) {
    constexpr store::Statement kUnlink{"test.unlink", "UPDATE users SET discord_id = NULL WHERE id = $1"};
    const auto id = enqueue(ayse_);
    must(db_->execute(kUnlink, {ayse_}));
    EXPECT_TRUE(claim().empty());
    EXPECT_EQ(record(id).status, DmStatus::dead);
    EXPECT_EQ(record(id).last_error, "dm.no_member");
    EXPECT_EQ(queue_counts().ready + queue_counts().delayed, 0);
}

// Discord refuses content above 2000 characters: a longer rendering is cut to 2000, never sent to fail.
TEST_P(DmQueueTest, ContentLongerThanDiscordAllowsIsCutAtTwoThousandCharacters) {
    std::string text;
    for (int i = 0; i < 1500; ++i) text += "ş";  // two bytes each: characters, not bytes, are counted
    text += std::string(1000, 'x');
    must(queue_->enqueue(ayse_, "test.long", {{"text", text}}));
    const auto dm = claim_one();
    std::size_t characters = 0;
    for (unsigned char c : dm.content) characters += (c & 0xC0) != 0x80;
    EXPECT_EQ(characters, 2000u);
    EXPECT_TRUE(dm.content.ends_with("\u2026"));
    EXPECT_TRUE(dm.content.starts_with("şş"));
}

INSTANTIATE_TEST_SUITE_P(Engines, DmQueueTest, ::testing::Values(Engine::embedded, Engine::redis),
                         engine_name);

TEST(DmArgs, RoundTripThroughTheRecord) {
    const i18n::Args args = {
        {"track", "Spa-Francorchamps \"GP\""}, {"lap", 12}, {"gap", 1.5}, {"when", i18n::DateTime{kRaceAt}}};
    const auto back = decode_args(encode_args(args));
    ASSERT_EQ(back.size(), 4u);
    std::map<std::string, i18n::Arg::Value> by_name;
    for (const auto& [name, arg] : back) by_name.emplace(name, arg.value());
    EXPECT_EQ(std::get<std::string>(by_name.at("track")), "Spa-Francorchamps \"GP\"");
    EXPECT_EQ(std::get<std::int64_t>(by_name.at("lap")), 12);
    EXPECT_DOUBLE_EQ(std::get<double>(by_name.at("gap")), 1.5);
    EXPECT_EQ(std::get<i18n::DateTime>(by_name.at("when")).epoch_ms, kRaceAt);
    EXPECT_TRUE(decode_args("not json").empty());
    EXPECT_TRUE(decode_args("[1,2]").empty());
}

TEST(DmStatusNames, ParseWhatTheyPrint) {
    for (const auto s : {DmStatus::pending, DmStatus::in_flight, DmStatus::delivered, DmStatus::failed,
                         DmStatus::dead, DmStatus::discarded})
        EXPECT_EQ(parse_status(status_name(s)), s);
    EXPECT_EQ(parse_status("sent"), std::nullopt);
}

}  // namespace
}  // namespace pitwall::notify
