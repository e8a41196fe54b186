// The background-job scheduler: named jobs on cron schedules (cron.hpp), run by whichever server node
// holds the leader lock, each scheduled slot at most once across all nodes.
//
// Everything nodes must agree on lives in the KV store, so processes sharing Redis (or one embedded KV
// file) cooperate; keys below options.key_prefix (default "pw:jobs:"):
//   leader        node id of the leader; set_if_absent with leader_ttl, renewed every tick with
//                 compare_and_set, released with compare_and_delete by stop()
//   last:<job>    the last slot handled (ms since epoch, no expiry): the baseline for catch-up
//   slot:<job>:<ms>  claim of one slot (a few days' expiry): a slot runs at most once, even while
//                 leadership changes hands
//   running:<job> a run in progress anywhere (expiry: timeout + margin, renewed while the run lasts)
//
// Slots: when exactly one slot is due and it is on time, it runs with Trigger::schedule. When slots
// were missed (the cluster was down, leadership moved, the clock jumped) the job runs ONCE with
// Trigger::catch_up for the latest missed slot, never once per slot. A job never run before records
// "now" as its baseline and waits for its next slot. A slot that comes due while the job is still
// running is skipped (logged, not queued, not recorded).
//
// Cancellation is cooperative: when a run passes its deadline (start + timeout) or the scheduler is
// stopping, JobContext::should_stop() turns true and the job is expected to return soon. Threads are
// never killed: a thread killed mid-job would leave locks held, transactions open and heap state
// undefined. A job that returns after its deadline is recorded with timed_out = true.
//
// Jobs run on a pool of options.max_concurrent threads (or inline on the caller's thread after
// set_inline(true), for deterministic tests and the simulation bench). The pool's queue is bounded by
// the number of jobs, since a job has at most one run in flight.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "platform/jobs/cron.hpp"
#include "platform/store/kv.hpp"

namespace pitwall::jobs {

enum class Trigger { schedule, catch_up, manual, external };
// "schedule", "catch_up", "manual", "external".
std::string_view trigger_name(Trigger trigger);

struct Progress {
    std::int64_t done = 0;
    std::int64_t total = 0;
    std::string note;
};

class RunRecorder;

// What a running job sees. Valid only during the job's call.
class JobContext {
  public:
    [[nodiscard]] Trigger trigger() const { return trigger_; }
    [[nodiscard]] SystemTime scheduled_for() const { return scheduled_for_; }
    [[nodiscard]] SystemTime deadline() const { return deadline_; }
    // True once the deadline has passed on the clock or the scheduler is stopping. Check it between
    // units of work and return early (see "Cancellation is cooperative" above).
    [[nodiscard]] bool should_stop() const;
    // Forwarded to the RunRecorder: the first report, then at most one per progress_interval of clock
    // time, and always the report that completes the total.
    void progress(const Progress& progress);
    [[nodiscard]] std::int64_t run_id() const { return run_id_; }
    [[nodiscard]] const std::string& job() const { return job_; }

    static constexpr std::chrono::milliseconds progress_interval{250};

  private:
    friend class Scheduler;
    JobContext(const Clock& clock, RunRecorder& recorder, const std::atomic<bool>& stopping, std::string job,
               Trigger trigger, SystemTime scheduled_for, SystemTime deadline, std::int64_t run_id);

    const Clock& clock_;
    RunRecorder& recorder_;
    const std::atomic<bool>& stopping_;
    std::string job_;
    Trigger trigger_;
    SystemTime scheduled_for_;
    SystemTime deadline_;
    std::int64_t run_id_;
    std::optional<SystemTime> last_progress_;
};

struct JobOutcome {
    std::int64_t items = 0;
    std::int64_t upstream_calls = 0;
    std::int64_t cache_hits = 0;
    std::string note;
};

using JobFunction = std::function<Result<JobOutcome>(JobContext&)>;

struct JobSpec {
    std::string name;
    CronExpression schedule;
    std::chrono::milliseconds timeout{std::chrono::minutes(10)};
    bool enabled = true;  // disabled jobs are never scheduled; run_now still runs them
    JobFunction run;
};

struct RunRecord {
    std::int64_t id = 0;
    std::string job;
    Trigger trigger = Trigger::schedule;
    SystemTime scheduled_for;
    SystemTime started;
};

// Where runs are written (the sync feature implements it with SQL and a WebSocket broadcast). Called
// from the scheduler's threads; implementations must be thread-safe. Exceptions they throw are logged.
class RunRecorder {
  public:
    virtual ~RunRecorder() = default;
    // Returns the new run's id. An error cancels the run (the job is not called).
    virtual Result<std::int64_t> started(const std::string& job, Trigger trigger, SystemTime scheduled_for,
                                         SystemTime started) = 0;
    virtual void progress(std::int64_t run_id, const std::string& job, const Progress& progress) = 0;
    // `outcome` holds the job's error (jobs.failed when it threw). timed_out: it returned after its
    // deadline.
    virtual void finished(std::int64_t run_id, const std::string& job, SystemTime ended,
                          const Result<JobOutcome>& outcome, bool timed_out) = 0;
};

struct SchedulerOptions {
    std::string node_id;  // unique per process; the leader lock's value
    std::chrono::milliseconds leader_ttl{15000};
    std::chrono::milliseconds tick{1000};
    std::size_t max_concurrent = 2;
    std::string key_prefix = "pw:jobs:";
    // Real time stop() waits for running jobs before it returns (they are told to stop first).
    std::chrono::milliseconds stop_grace{10000};
};

struct JobStatus {
    std::string name;
    std::string schedule;
    bool enabled = true;
    bool running = false;                 // on this node
    std::optional<SystemTime> next_run;   // the next slot after now; none when disabled or never
    std::optional<SystemTime> last_slot;  // from KV: the last slot handled by any node
};

class Scheduler {
  public:
    Scheduler(store::Kv& kv, const Clock& clock, RunRecorder& recorder, SchedulerOptions options);
    // Stops, then waits for every run to return (see stop()).
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Error jobs.duplicate (conflict) when the name is taken, jobs.invalid_name (invalid_input) when
    // the name is empty, longer than 64 characters or not [a-z0-9_.-], jobs.no_function when run is empty.
    Status add(JobSpec spec);

    // A background thread calls tick() every options.tick of real time until stop().
    void start();
    // Graceful: no new runs, should_stop() turns true for running jobs, waits up to stop_grace for them,
    // releases the leader lock. Idempotent. A run still going after the grace keeps its thread; the
    // destructor waits for it.
    void stop();

    // One evaluation at clock.now(): renews or acquires leadership; as leader, starts every due slot.
    // Public so tests and the simulation bench drive it with a ManualClock. KV errors are logged and
    // count as "not leader" for this tick.
    void tick();

    // Runs a job now on this node, leader or not, with Trigger::manual or Trigger::external; returns the
    // run id. Errors: jobs.unknown (not_found), jobs.already_running (conflict), jobs.stopped
    // (unavailable), a KV error, or the recorder's error.
    Result<std::int64_t> run_now(const std::string& job, Trigger trigger);

    [[nodiscard]] bool is_leader() const { return leader_.load(); }
    [[nodiscard]] std::vector<JobStatus> jobs() const;
    // Blocks until no run is queued or in progress on this node (tests, bench).
    void wait_idle();
    // When true, tick() and run_now() run jobs synchronously on the caller's thread.
    void set_inline(bool run_inline) { inline_.store(run_inline); }

  private:
    struct Entry;

    void update_leadership();
    void renew_running_locks();
    bool evaluate(Entry& entry, SystemTime now);
    // Takes the job's run lock (and, for a scheduled slot, the slot's claim), records the start and runs
    // or queues the job. The run id, or nullopt when the slot was skipped or taken by another node.
    Result<std::optional<std::int64_t>> launch(Entry& entry, Trigger trigger, SystemTime scheduled_for,
                                               std::optional<std::int64_t> slot_ms);
    void execute(Entry& entry, const std::string& token, Trigger trigger, SystemTime scheduled_for,
                 SystemTime started, std::int64_t run_id);
    void release_running_lock(const Entry& entry, const std::string& token);
    void finish_locally(Entry& entry);
    void dispatch(std::function<void()> work);
    void worker_loop();
    [[nodiscard]] Entry* find(std::string_view name) const;
    [[nodiscard]] std::string key(std::string_view kind, std::string_view job) const;
    [[nodiscard]] store::Kv::Ttl running_ttl(const Entry& entry) const;

    store::Kv& kv_;
    const Clock& clock_;
    RunRecorder& recorder_;
    const SchedulerOptions options_;

    mutable std::mutex mutex_;  // guards entries_ and every Entry's local state, active_, queue_
    std::condition_variable idle_;
    std::condition_variable work_ready_;
    std::vector<std::unique_ptr<Entry>> entries_;
    std::size_t active_ = 0;  // runs queued or in progress on this node
    std::deque<std::function<void()>> queue_;
    std::vector<std::thread> workers_;
    bool workers_exit_ = false;
    std::uint64_t run_sequence_ = 0;

    std::mutex tick_mutex_;  // one tick at a time
    std::atomic<bool> leader_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<bool> inline_{false};

    std::mutex ticker_mutex_;
    std::condition_variable ticker_wake_;
    std::thread ticker_;
};

}  // namespace pitwall::jobs
