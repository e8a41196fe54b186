#include "platform/jobs/scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace pitwall::jobs {
namespace {

using namespace std::chrono_literals;

template <typename T>
T must(Result<T> result) {
    if (!result) throw std::runtime_error(result.error().code + ": " + result.error().detail);
    return std::move(*result);
}

std::int64_t ms(SystemTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

constexpr std::int64_t jan_1_2024 = 1'704'067'200'000;  // 2024-01-01 00:00:00 UTC, a Monday

// Keeps every call, as the sync feature's SQL recorder would keep rows.
class MemoryRecorder final : public RunRecorder {
  public:
    struct Finished {
        bool ok = false;
        std::string error_code;
        std::string error_detail;
        JobOutcome outcome;
        bool timed_out = false;
        SystemTime ended;
    };

    Result<std::int64_t> started(const std::string& job, Trigger trigger, SystemTime scheduled_for,
                                 SystemTime started) override {
        std::lock_guard lock(mutex_);
        if (refuse_starts) return Error{ErrorKind::unavailable, "store.unavailable"};
        const std::int64_t id = static_cast<std::int64_t>(runs_.size()) + 1;
        runs_.push_back({id, job, trigger, scheduled_for, started});
        return id;
    }
    void progress(std::int64_t run_id, const std::string&, const Progress& progress) override {
        std::lock_guard lock(mutex_);
        progress_[run_id].push_back(progress);
    }
    void finished(std::int64_t run_id, const std::string&, SystemTime ended,
                  const Result<JobOutcome>& outcome, bool timed_out) override {
        std::lock_guard lock(mutex_);
        Finished f;
        f.ok = outcome.ok();
        if (outcome.ok())
            f.outcome = *outcome;
        else
            f.error_code = outcome.error().code, f.error_detail = outcome.error().detail;
        f.timed_out = timed_out;
        f.ended = ended;
        finished_[run_id] = f;
    }

    std::vector<RunRecord> runs() const {
        std::lock_guard lock(mutex_);
        return runs_;
    }
    std::vector<RunRecord> runs_of(const std::string& job) const {
        std::vector<RunRecord> out;
        for (auto& run : runs())
            if (run.job == job) out.push_back(run);
        return out;
    }
    std::optional<Finished> finished(std::int64_t run_id) const {
        std::lock_guard lock(mutex_);
        auto it = finished_.find(run_id);
        if (it == finished_.end()) return std::nullopt;
        return it->second;
    }
    std::vector<Progress> progress_of(std::int64_t run_id) const {
        std::lock_guard lock(mutex_);
        auto it = progress_.find(run_id);
        return it == progress_.end() ? std::vector<Progress>{} : it->second;
    }

    std::atomic<bool> refuse_starts{false};

  private:
    mutable std::mutex mutex_;
    std::vector<RunRecord> runs_;
    std::map<std::int64_t, Finished> finished_;
    std::map<std::int64_t, std::vector<Progress>> progress_;
};

// A KV that fails every call while `failing` is set, as a Redis outage would.
class FlakyKv final : public store::Kv {
  public:
    explicit FlakyKv(store::Kv& inner) : inner_(inner) {}
    std::atomic<bool> failing{false};

    Result<std::optional<std::string>> get(std::string_view key) override {
        if (failing) return down();
        return inner_.get(key);
    }
    Status set(std::string_view key, std::string_view value, Ttl ttl) override {
        if (failing) return down();
        return inner_.set(key, value, ttl);
    }
    Result<bool> set_if_absent(std::string_view key, std::string_view value, Ttl ttl) override {
        if (failing) return down();
        return inner_.set_if_absent(key, value, ttl);
    }
    Result<bool> compare_and_set(std::string_view key, std::string_view expected, std::string_view value,
                                 Ttl ttl) override {
        if (failing) return down();
        return inner_.compare_and_set(key, expected, value, ttl);
    }
    Result<bool> compare_and_delete(std::string_view key, std::string_view expected) override {
        if (failing) return down();
        return inner_.compare_and_delete(key, expected);
    }
    Result<bool> del(std::string_view key) override { return failing ? down() : inner_.del(key); }
    Result<std::int64_t> incr(std::string_view key, std::int64_t by) override {
        if (failing) return down();
        return inner_.incr(key, by);
    }
    Result<bool> expire(std::string_view key, Ttl ttl) override {
        if (failing) return down();
        return inner_.expire(key, ttl);
    }
    Status publish(std::string_view channel, std::string_view message) override {
        return inner_.publish(channel, message);
    }
    Result<std::unique_ptr<store::Subscription>> subscribe(std::string_view channel,
                                                           MessageHandler handler) override {
        return inner_.subscribe(channel, std::move(handler));
    }
    Result<std::string> push(std::string_view queue, std::string_view payload, Ttl delay) override {
        return inner_.push(queue, payload, delay);
    }
    Result<std::vector<store::QueueItem>> claim(std::string_view queue, std::size_t max,
                                                Ttl visibility) override {
        return inner_.claim(queue, max, visibility);
    }
    Result<bool> ack(std::string_view queue, std::string_view id) override { return inner_.ack(queue, id); }
    Result<bool> nack(std::string_view queue, std::string_view id, Ttl delay) override {
        return inner_.nack(queue, id, delay);
    }
    Result<store::QueueCounts> queue_counts(std::string_view queue) override {
        return inner_.queue_counts(queue);
    }
    Status ping() override { return failing ? Status(down()) : inner_.ping(); }
    store::KvStats stats() const override { return inner_.stats(); }
    std::string_view engine() const override { return inner_.engine(); }

  private:
    static Error down() { return Error{ErrorKind::unavailable, "store.unavailable", {}, "test outage"}; }
    store::Kv& inner_;
};

class SchedulerTest : public ::testing::Test {
  protected:
    // Another handle on the same KV file, as another server process would open it.
    std::unique_ptr<store::Kv> open_kv() {
        return must(store::open_embedded_kv({(dir_.path() / "kv.db").string()}, clock_));
    }

    SchedulerOptions options(std::string node) const {
        SchedulerOptions o;
        o.node_id = std::move(node);
        o.leader_ttl = 5s;
        o.tick = 1s;
        return o;
    }

    std::unique_ptr<Scheduler> scheduler(std::string node, store::Kv* kv = nullptr) {
        auto s = std::make_unique<Scheduler>(kv ? *kv : *kv_, clock_, recorder_, options(std::move(node)));
        s->set_inline(true);
        return s;
    }

    static JobSpec job(std::string name, std::string_view schedule, JobFunction run) {
        JobSpec spec{std::move(name), must(CronExpression::parse(schedule)), std::chrono::minutes(10), true,
                     std::move(run)};
        return spec;
    }
    static JobFunction succeed() {
        return [](JobContext&) -> Result<JobOutcome> { return JobOutcome{}; };
    }

    // Moves the clock one step and ticks every scheduler given, in order.
    void step(std::chrono::milliseconds by, std::initializer_list<Scheduler*> schedulers) {
        clock_.advance(by);
        for (auto* s : schedulers) s->tick();
    }

    ManualClock clock_{jan_1_2024};
    test_support::TempDir dir_{"pitwall-jobs"};
    std::unique_ptr<store::Kv> kv_ = open_kv();
    MemoryRecorder recorder_;
};

TEST_F(SchedulerTest, RunsEachSlotExactlyOnceAsTheClockAdvances) {
    auto s = scheduler("node-a");
    ASSERT_TRUE(s->add(job("every_10s", "*/10 * * * * *", succeed())).ok());
    clock_.advance(1s);
    s->tick();  // first tick: leadership and the baseline, nothing due yet
    EXPECT_TRUE(s->is_leader());
    EXPECT_TRUE(recorder_.runs().empty());

    for (int i = 0; i < 100; ++i) {
        step(1s, {s.get()});
        s->tick();  // a second tick at the same instant starts nothing new
    }
    const auto runs = recorder_.runs();
    ASSERT_EQ(runs.size(), 10u);
    for (std::size_t i = 0; i < runs.size(); ++i) {
        EXPECT_EQ(ms(runs[i].scheduled_for), jan_1_2024 + 10'000 * static_cast<std::int64_t>(i + 1));
        EXPECT_EQ(runs[i].trigger, Trigger::schedule);
        EXPECT_EQ(runs[i].job, "every_10s");
        auto finished = recorder_.finished(runs[i].id);
        ASSERT_TRUE(finished);
        EXPECT_TRUE(finished->ok);
        EXPECT_FALSE(finished->timed_out);
    }
}

TEST_F(SchedulerTest, AJobNeverRunBeforeWaitsForItsNextSlot) {
    auto s = scheduler("node-a");
    ASSERT_TRUE(s->add(job("hourly", "0 * * * *", succeed())).ok());
    clock_.advance(30min);
    s->tick();  // no last slot: now is the baseline, 00:00 is not caught up
    EXPECT_TRUE(recorder_.runs().empty());
    const auto status = s->jobs();
    ASSERT_EQ(status.size(), 1u);
    ASSERT_TRUE(status[0].last_slot);
    EXPECT_EQ(ms(*status[0].last_slot), jan_1_2024 + 30 * 60'000);
    step(30min, {s.get()});
    ASSERT_EQ(recorder_.runs().size(), 1u);
    EXPECT_EQ(ms(recorder_.runs()[0].scheduled_for), jan_1_2024 + 60 * 60'000);
}

TEST_F(SchedulerTest, TwoNodesOnOneKvRunEachSlotOnceInTotal) {
    auto kv_b = open_kv();
    auto a = scheduler("node-a");
    auto b = scheduler("node-b", kv_b.get());
    std::mutex mutex;
    std::vector<std::string> ran_on;
    const auto recording = [&](std::string node) -> JobFunction {
        return [&, node](JobContext&) -> Result<JobOutcome> {
            std::lock_guard lock(mutex);
            ran_on.push_back(node);
            return JobOutcome{};
        };
    };
    ASSERT_TRUE(a->add(job("sync", "* * * * * *", recording("a"))).ok());
    ASSERT_TRUE(b->add(job("sync", "* * * * * *", recording("b"))).ok());

    a->tick();
    b->tick();
    for (int slot = 0; slot < 50; ++slot) {
        // Both nodes tick every second, in either order.
        if (slot % 2 == 0)
            step(1s, {a.get(), b.get()});
        else
            step(1s, {b.get(), a.get()});
        EXPECT_NE(a->is_leader(), b->is_leader()) << "slot " << slot;
    }
    const auto runs = recorder_.runs();
    ASSERT_EQ(runs.size(), 50u);
    std::set<std::int64_t> slots;
    for (const auto& run : runs) slots.insert(ms(run.scheduled_for));
    EXPECT_EQ(slots.size(), 50u);
    EXPECT_EQ(std::set<std::string>(ran_on.begin(), ran_on.end()), std::set<std::string>{"a"});
}

TEST_F(SchedulerTest, WhenTheLeaderDiesTheOtherNodeTakesOverAfterTheTtl) {
    auto kv_b = open_kv();
    auto a = scheduler("node-a");
    auto b = scheduler("node-b", kv_b.get());
    ASSERT_TRUE(a->add(job("sync", "* * * * * *", succeed())).ok());
    ASSERT_TRUE(b->add(job("sync", "* * * * * *", succeed())).ok());
    a->tick();
    b->tick();
    for (int i = 0; i < 10; ++i) step(1s, {a.get(), b.get()});
    ASSERT_TRUE(a->is_leader());
    ASSERT_EQ(recorder_.runs().size(), 10u);

    // Node a stops ticking (crashed, no release). Node b waits for the lock to expire: 5 s TTL.
    int waited = 0;
    while (!b->is_leader() && waited < 20) {
        step(1s, {b.get()});
        ++waited;
    }
    ASSERT_TRUE(b->is_leader());
    EXPECT_EQ(waited, 5);
    for (int i = 0; i < 10; ++i) step(1s, {b.get()});

    const auto runs = recorder_.runs();
    std::set<std::int64_t> slots;
    for (const auto& run : runs) EXPECT_TRUE(slots.insert(ms(run.scheduled_for)).second) << "slot ran twice";
    // 10 slots by a, one catch-up for the slots missed during the handover, 10 by b.
    ASSERT_EQ(runs.size(), 21u);
    EXPECT_EQ(runs[10].trigger, Trigger::catch_up);
    EXPECT_EQ(ms(runs[10].scheduled_for), jan_1_2024 + 15'000);
    for (std::size_t i = 11; i < runs.size(); ++i) EXPECT_EQ(runs[i].trigger, Trigger::schedule);

    // The old leader comes back: it is a follower now.
    step(1s, {a.get(), b.get()});
    EXPECT_FALSE(a->is_leader());
    EXPECT_TRUE(b->is_leader());
    EXPECT_EQ(recorder_.runs().size(), 22u);
}

TEST_F(SchedulerTest, AGracefulStopHandsLeadershipOverAtOnce) {
    auto kv_b = open_kv();
    auto a = scheduler("node-a");
    auto b = scheduler("node-b", kv_b.get());
    ASSERT_TRUE(a->add(job("sync", "*/2 * * * * *", succeed())).ok());
    ASSERT_TRUE(b->add(job("sync", "*/2 * * * * *", succeed())).ok());
    a->tick();
    b->tick();
    for (int i = 0; i < 4; ++i) step(1s, {a.get(), b.get()});
    ASSERT_EQ(recorder_.runs().size(), 2u);

    a->stop();
    EXPECT_FALSE(a->is_leader());
    EXPECT_FALSE(must(kv_->get("pw:jobs:leader")).has_value());
    step(1s, {a.get(), b.get()});
    EXPECT_TRUE(b->is_leader());
    for (int i = 0; i < 3; ++i) step(1s, {a.get(), b.get()});
    const auto runs = recorder_.runs();
    ASSERT_EQ(runs.size(), 4u);
    EXPECT_EQ(ms(runs[2].scheduled_for), jan_1_2024 + 6'000);
    EXPECT_EQ(runs[2].trigger, Trigger::schedule);  // on time: nothing was missed
    EXPECT_EQ(ms(runs[3].scheduled_for), jan_1_2024 + 8'000);
}

TEST_F(SchedulerTest, CatchesUpOnceAfterAGap) {
    {
        auto s = scheduler("node-a");
        ASSERT_TRUE(s->add(job("hourly", "0 * * * *", succeed())).ok());
        ASSERT_TRUE(s->add(job("daily", "0 0 * * *", succeed())).ok());
        s->tick();
        step(1h, {s.get()});
        ASSERT_EQ(recorder_.runs_of("hourly").size(), 1u);
    }  // the node goes down at 01:00

    clock_.advance(3h + 20min);  // back at 04:20: 02:00, 03:00 and 04:00 were missed
    auto s = scheduler("node-a");
    ASSERT_TRUE(s->add(job("hourly", "0 * * * *", succeed())).ok());
    ASSERT_TRUE(s->add(job("daily", "0 0 * * *", succeed())).ok());
    s->tick();
    s->tick();
    auto hourly = recorder_.runs_of("hourly");
    ASSERT_EQ(hourly.size(), 2u);
    EXPECT_EQ(hourly[1].trigger, Trigger::catch_up);
    EXPECT_EQ(ms(hourly[1].scheduled_for), jan_1_2024 + 4 * 3'600'000);
    EXPECT_EQ(ms(hourly[1].started), jan_1_2024 + 4 * 3'600'000 + 20 * 60'000);

    step(40min, {s.get()});  // 05:00 is on time again
    hourly = recorder_.runs_of("hourly");
    ASSERT_EQ(hourly.size(), 3u);
    EXPECT_EQ(hourly[2].trigger, Trigger::schedule);

    // One slot missed by hours also counts as missed.
    clock_.advance(24h - 5h + 3h);  // 03:00 the next day: midnight passed while nobody ticked
    s->tick();
    auto daily = recorder_.runs_of("daily");
    ASSERT_EQ(daily.size(), 1u);
    EXPECT_EQ(daily[0].trigger, Trigger::catch_up);
    EXPECT_EQ(ms(daily[0].scheduled_for), jan_1_2024 + 24 * 3'600'000);
}

TEST_F(SchedulerTest, ARunningJobBlocksASecondRunOnAnyNode) {
    auto kv_b = open_kv();
    auto a = scheduler("node-a");
    auto b = scheduler("node-b", kv_b.get());
    std::optional<Error> same_node, other_node;
    ASSERT_TRUE(a->add(job("import", "0 0 * * *", [&](JobContext&) -> Result<JobOutcome> {
                     auto again = a->run_now("import", Trigger::manual);
                     if (!again) same_node = again.error();
                     auto elsewhere = b->run_now("import", Trigger::external);
                     if (!elsewhere) other_node = elsewhere.error();
                     return JobOutcome{};
                 })).ok());
    ASSERT_TRUE(b->add(job("import", "0 0 * * *", succeed())).ok());

    auto id = a->run_now("import", Trigger::manual);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(same_node && other_node);
    EXPECT_EQ(same_node->code, "jobs.already_running");
    EXPECT_EQ(same_node->kind, ErrorKind::conflict);
    EXPECT_EQ(other_node->code, "jobs.already_running");
    EXPECT_EQ(recorder_.runs().size(), 1u);
    EXPECT_EQ(recorder_.runs()[0].trigger, Trigger::manual);

    // Finished: it can run again, here or there.
    EXPECT_TRUE(b->run_now("import", Trigger::external).ok());
    EXPECT_EQ(recorder_.runs().size(), 2u);
    EXPECT_EQ(recorder_.runs()[1].trigger, Trigger::external);
}

TEST_F(SchedulerTest, ASlotDueWhileTheJobRunsIsSkippedNotQueued) {
    auto kv_b = open_kv();
    auto leader = scheduler("node-a");
    auto other = scheduler("node-b", kv_b.get());
    ASSERT_TRUE(leader->add(job("import", "*/10 * * * * *", succeed())).ok());
    ASSERT_TRUE(other
                    ->add(job("import", "*/10 * * * * *",
                              [&](JobContext&) -> Result<JobOutcome> {
                                  step(10s, {leader.get()});  // the 00:00:10 slot comes due meanwhile
                                  return JobOutcome{};
                              }))
                    .ok());
    leader->tick();
    other->tick();
    ASSERT_TRUE(leader->is_leader());

    clock_.advance(5s);
    ASSERT_TRUE(other->run_now("import", Trigger::manual).ok());  // runs 00:00:05 to 00:00:15
    EXPECT_EQ(recorder_.runs().size(), 1u);                       // the slot was not recorded
    step(1s, {leader.get()});
    EXPECT_EQ(recorder_.runs().size(), 1u);  // nor caught up later
    step(4s, {leader.get()});
    ASSERT_EQ(recorder_.runs().size(), 2u);
    EXPECT_EQ(ms(recorder_.runs()[1].scheduled_for), jan_1_2024 + 20'000);
    EXPECT_EQ(recorder_.runs()[1].trigger, Trigger::schedule);
}

TEST_F(SchedulerTest, AJobPastItsDeadlineIsAskedToStopAndMarkedTimedOut) {
    auto s = scheduler("node-a");
    bool stop_before = true, stop_after = false;
    JobSpec slow = job("slow", "0 0 * * *", [&](JobContext& context) -> Result<JobOutcome> {
        stop_before = context.should_stop();
        EXPECT_EQ(context.deadline() - clock_.now(), 30s);
        clock_.advance(31s);  // the work takes longer than the timeout
        stop_after = context.should_stop();
        return JobOutcome{7, 2, 1, "partial"};
    });
    slow.timeout = 30s;
    ASSERT_TRUE(s->add(std::move(slow)).ok());
    ASSERT_TRUE(s->add(job("quick", "0 0 * * *", succeed())).ok());

    auto id = must(s->run_now("slow", Trigger::manual));
    EXPECT_FALSE(stop_before);
    EXPECT_TRUE(stop_after);
    auto finished = recorder_.finished(id);
    ASSERT_TRUE(finished);
    EXPECT_TRUE(finished->timed_out);
    EXPECT_TRUE(finished->ok);
    EXPECT_EQ(finished->outcome.items, 7);
    EXPECT_EQ(finished->outcome.note, "partial");

    auto quick = must(s->run_now("quick", Trigger::manual));
    EXPECT_FALSE(recorder_.finished(quick)->timed_out);
}

TEST_F(SchedulerTest, AnExceptionIsRecordedAsAFailureAndSchedulingGoesOn) {
    auto s = scheduler("node-a");
    int calls = 0;
    ASSERT_TRUE(s->add(job("flaky", "*/5 * * * * *", [&](JobContext&) -> Result<JobOutcome> {
                     if (++calls == 1) throw std::runtime_error("upstream exploded");
                     if (calls == 2) return Error{ErrorKind::unavailable, "store.unavailable"};
                     return JobOutcome{3};
                 })).ok());
    s->tick();
    for (int i = 0; i < 15; ++i) step(1s, {s.get()});
    const auto runs = recorder_.runs();
    ASSERT_EQ(runs.size(), 3u);
    auto first = recorder_.finished(runs[0].id);
    EXPECT_FALSE(first->ok);
    EXPECT_EQ(first->error_code, "jobs.failed");
    EXPECT_EQ(first->error_detail, "upstream exploded");
    EXPECT_EQ(recorder_.finished(runs[1].id)->error_code, "store.unavailable");
    EXPECT_TRUE(recorder_.finished(runs[2].id)->ok);
    EXPECT_EQ(recorder_.finished(runs[2].id)->outcome.items, 3);
}

TEST_F(SchedulerTest, DisabledJobsAreNotScheduledButRunByHand) {
    auto s = scheduler("node-a");
    JobSpec spec = job("cleanup", "* * * * * *", succeed());
    spec.enabled = false;
    ASSERT_TRUE(s->add(std::move(spec)).ok());
    s->tick();
    for (int i = 0; i < 5; ++i) step(1s, {s.get()});
    EXPECT_TRUE(recorder_.runs().empty());
    ASSERT_TRUE(s->run_now("cleanup", Trigger::manual).ok());
    ASSERT_EQ(recorder_.runs().size(), 1u);

    const auto status = s->jobs();
    ASSERT_EQ(status.size(), 1u);
    EXPECT_FALSE(status[0].enabled);
    EXPECT_FALSE(status[0].next_run);
}

TEST_F(SchedulerTest, RefusesUnknownJobsAndBadRegistrations) {
    auto s = scheduler("node-a");
    auto unknown = s->run_now("nope", Trigger::manual);
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, "jobs.unknown");
    EXPECT_EQ(unknown.error().kind, ErrorKind::not_found);

    ASSERT_TRUE(s->add(job("sync", "@hourly", succeed())).ok());
    auto duplicate = s->add(job("sync", "@daily", succeed()));
    ASSERT_FALSE(duplicate.ok());
    EXPECT_EQ(duplicate.error().code, "jobs.duplicate");
    EXPECT_EQ(duplicate.error().kind, ErrorKind::conflict);
    for (const std::string& name :
         {std::string(), std::string("has:colon"), std::string("space d"), std::string(65, 'x')}) {
        auto bad = s->add(job(name, "@hourly", succeed()));
        ASSERT_FALSE(bad.ok()) << name;
        EXPECT_EQ(bad.error().code, "jobs.invalid_name");
    }
    auto no_function = s->add(job("empty", "@hourly", nullptr));
    ASSERT_FALSE(no_function.ok());
    EXPECT_EQ(no_function.error().code, "jobs.no_function");
}

TEST_F(SchedulerTest, ARefusedRecordingCancelsTheRun) {
    auto s = scheduler("node-a");
    int calls = 0;
    ASSERT_TRUE(s->add(job("sync", "@hourly", [&](JobContext&) -> Result<JobOutcome> {
                     ++calls;
                     return JobOutcome{};
                 })).ok());
    recorder_.refuse_starts = true;
    auto refused = s->run_now("sync", Trigger::manual);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "store.unavailable");
    EXPECT_EQ(calls, 0);
    recorder_.refuse_starts = false;
    EXPECT_TRUE(s->run_now("sync", Trigger::manual).ok());  // the run lock was released
    EXPECT_EQ(calls, 1);

    // A scheduled slot the recorder refuses is spent, and leadership is kept.
    s->tick();
    recorder_.refuse_starts = true;
    step(1h, {s.get()});
    EXPECT_TRUE(s->is_leader());
    EXPECT_EQ(calls, 1);
    recorder_.refuse_starts = false;
    step(1s, {s.get()});
    EXPECT_EQ(calls, 1);  // not retried
    step(1h, {s.get()});
    EXPECT_EQ(calls, 2);
}

TEST_F(SchedulerTest, KvOutagesMeanNotLeaderAndNoCrash) {
    FlakyKv flaky(*kv_);
    auto s = scheduler("node-a", &flaky);
    ASSERT_TRUE(s->add(job("sync", "* * * * * *", succeed())).ok());
    s->tick();
    ASSERT_TRUE(s->is_leader());
    step(1s, {s.get()});
    ASSERT_EQ(recorder_.runs().size(), 1u);

    flaky.failing = true;
    for (int i = 0; i < 3; ++i) step(1s, {s.get()});
    EXPECT_FALSE(s->is_leader());
    EXPECT_EQ(recorder_.runs().size(), 1u);
    auto manual = s->run_now("sync", Trigger::manual);
    EXPECT_FALSE(manual.ok());
    EXPECT_EQ(manual.error().code, "store.unavailable");
    EXPECT_EQ(s->jobs().size(), 1u);

    flaky.failing = false;  // back within the TTL: our own lock is still there
    step(1s, {s.get()});
    EXPECT_TRUE(s->is_leader());
    const auto runs = recorder_.runs();
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[1].trigger, Trigger::catch_up);  // the slots of the outage, once
    EXPECT_EQ(ms(runs[1].scheduled_for), jan_1_2024 + 5'000);
}

TEST_F(SchedulerTest, ProgressIsForwardedThrottledByTheClock) {
    auto s = scheduler("node-a");
    ASSERT_TRUE(s->add(job("sync", "@hourly", [&](JobContext& context) -> Result<JobOutcome> {
                     for (int i = 1; i <= 10; ++i) context.progress({i, 10, "member " + std::to_string(i)});
                     for (int i = 1; i <= 4; ++i) {
                         clock_.advance(300ms);
                         context.progress({i, 100, {}});
                     }
                     return JobOutcome{};
                 })).ok());
    auto id = must(s->run_now("sync", Trigger::manual));
    const auto reports = recorder_.progress_of(id);
    ASSERT_EQ(reports.size(), 6u);  // first, the completing one, then one per 300 ms
    EXPECT_EQ(reports[0].done, 1);
    EXPECT_EQ(reports[1].done, 10);
    EXPECT_EQ(reports[1].note, "member 10");
    EXPECT_EQ(reports[5].total, 100);
}

TEST_F(SchedulerTest, ReportsJobStatus) {
    auto s = scheduler("node-a");
    ASSERT_TRUE(s->add(job("hourly", "0 * * * *", succeed())).ok());
    auto before = s->jobs();
    ASSERT_EQ(before.size(), 1u);
    EXPECT_EQ(before[0].name, "hourly");
    EXPECT_EQ(before[0].schedule, "0 * * * *");
    EXPECT_TRUE(before[0].enabled);
    EXPECT_FALSE(before[0].running);
    EXPECT_FALSE(before[0].last_slot);
    ASSERT_TRUE(before[0].next_run);
    EXPECT_EQ(ms(*before[0].next_run), jan_1_2024 + 3'600'000);

    s->tick();
    step(1h, {s.get()});
    auto after = s->jobs();
    ASSERT_TRUE(after[0].last_slot);
    EXPECT_EQ(ms(*after[0].last_slot), jan_1_2024 + 3'600'000);
    EXPECT_EQ(ms(*after[0].next_run), jan_1_2024 + 2 * 3'600'000);
    EXPECT_EQ(trigger_name(Trigger::catch_up), "catch_up");
}

// Real threads from here on: the pool, the ticker and stop(). Waits are on conditions, never on time.
class Gate {
  public:
    void open() {
        {
            std::lock_guard lock(mutex_);
            open_ = true;
        }
        changed_.notify_all();
    }
    void wait() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return open_; });
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool open_ = false;
};

TEST_F(SchedulerTest, ThePoolRunsAtMostMaxConcurrentJobsAtOnce) {
    Scheduler s(*kv_, clock_, recorder_, options("node-a"));  // max_concurrent = 2
    Gate release;
    std::atomic<int> running{0}, most{0};
    std::mutex mutex;
    std::condition_variable changed;
    const auto blocking = [&](JobContext&) -> Result<JobOutcome> {
        {
            std::lock_guard lock(mutex);
            most = std::max(most.load(), ++running);
        }
        changed.notify_all();
        release.wait();
        --running;
        return JobOutcome{};
    };
    for (const char* name : {"one", "two", "three"}) ASSERT_TRUE(s.add(job(name, "@daily", blocking)).ok());
    for (const char* name : {"one", "two", "three"}) ASSERT_TRUE(s.run_now(name, Trigger::manual).ok());
    {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return running.load() == 2; });
    }
    auto statuses = s.jobs();
    EXPECT_EQ(std::count_if(statuses.begin(), statuses.end(), [](auto& j) { return j.running; }), 3);
    release.open();
    s.wait_idle();
    EXPECT_EQ(most.load(), 2);
    EXPECT_EQ(recorder_.runs().size(), 3u);
    for (const auto& run : recorder_.runs()) EXPECT_TRUE(recorder_.finished(run.id)->ok);
}

TEST_F(SchedulerTest, StopIsPromptAndTellsRunningJobsToStop) {
    auto options_a = options("node-a");
    options_a.tick = std::chrono::hours(1);  // the ticker must wake for stop(), not sleep the hour out
    Scheduler s(*kv_, clock_, recorder_, options_a);
    Gate started;
    std::atomic<bool> saw_stop{false};
    ASSERT_TRUE(s.add(job("long", "@daily", [&](JobContext& context) -> Result<JobOutcome> {
                     started.open();
                     while (!context.should_stop()) std::this_thread::yield();
                     saw_stop = true;
                     return JobOutcome{};
                 })).ok());
    s.start();
    auto id = must(s.run_now("long", Trigger::manual));
    started.wait();

    const auto before = std::chrono::steady_clock::now();
    s.stop();
    const auto took = std::chrono::steady_clock::now() - before;
    EXPECT_LT(took, 2s);
    EXPECT_TRUE(saw_stop);
    auto finished = recorder_.finished(id);
    ASSERT_TRUE(finished);
    EXPECT_FALSE(finished->timed_out);
    EXPECT_FALSE(s.is_leader());
    EXPECT_FALSE(must(kv_->get("pw:jobs:leader")).has_value());
    EXPECT_FALSE(must(kv_->get("pw:jobs:running:long")).has_value());

    auto late = s.run_now("long", Trigger::manual);
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code, "jobs.stopped");
    s.stop();  // idempotent
}

}  // namespace
}  // namespace pitwall::jobs
