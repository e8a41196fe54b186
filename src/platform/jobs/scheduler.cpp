#include "platform/jobs/scheduler.hpp"

#include <algorithm>
#include <charconv>
#include <exception>
#include <utility>

#include "core/log.hpp"
#include "core/random.hpp"

namespace pitwall::jobs {

namespace {

using namespace std::chrono_literals;
using Ttl = store::Kv::Ttl;

// A slot claim outlives any catch-up window a leader could look back over within a normal outage;
// older slots are guarded by last:<job> alone.
constexpr Ttl slot_claim_ttl = std::chrono::hours(72);
constexpr std::size_t max_job_name = 64;

std::int64_t to_ms(SystemTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
SystemTime from_ms(std::int64_t ms) {
    return SystemTime(std::chrono::milliseconds(ms));
}

std::optional<std::int64_t> parse_ms(std::string_view text) {
    std::int64_t value = 0;
    auto [end, errc] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (errc != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

bool valid_job_name(std::string_view name) {
    if (name.empty() || name.size() > max_job_name) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-' || c == '.';
    });
}

std::string describe(const Error& error) {
    return error.detail.empty() ? error.code : error.code + ": " + error.detail;
}

}  // namespace

std::string_view trigger_name(Trigger trigger) {
    switch (trigger) {
        case Trigger::schedule:
            return "schedule";
        case Trigger::catch_up:
            return "catch_up";
        case Trigger::manual:
            return "manual";
        case Trigger::external:
            return "external";
    }
    return "schedule";
}

// ---------------------------------------------------------------------------------------------------
// JobContext

JobContext::JobContext(const Clock& clock, RunRecorder& recorder, const std::atomic<bool>& stopping,
                       std::string job, Trigger trigger, SystemTime scheduled_for, SystemTime deadline,
                       std::int64_t run_id)
    : clock_(clock),
      recorder_(recorder),
      stopping_(stopping),
      job_(std::move(job)),
      trigger_(trigger),
      scheduled_for_(scheduled_for),
      deadline_(deadline),
      run_id_(run_id) {}

bool JobContext::should_stop() const {
    return stopping_.load() || clock_.now() >= deadline_;
}

void JobContext::progress(const Progress& progress) {
    const auto now = clock_.now();
    const bool complete = progress.total > 0 && progress.done >= progress.total;
    if (last_progress_ && !complete && now - *last_progress_ < progress_interval) return;
    last_progress_ = now;
    try {
        recorder_.progress(run_id_, job_, progress);
    } catch (const std::exception& e) {
        log::error("jobs: recording progress of {} run {} failed: {}", job_, run_id_, e.what());
    } catch (...) {
        log::error("jobs: recording progress of {} run {} failed", job_, run_id_);
    }
}

// ---------------------------------------------------------------------------------------------------
// Scheduler

struct Scheduler::Entry {
    JobSpec spec;
    // Local run state, guarded by mutex_.
    bool running = false;
    std::string token;  // value of running:<job> while this node runs the job
    // Leader-side cache, touched only by tick() (under tick_mutex_) and dropped whenever this node
    // (re)gains leadership, since another leader may have moved last:<job> meanwhile.
    std::optional<std::int64_t> last_ms;
    std::optional<std::int64_t> next_due_ms;
    bool never_fires = false;

    void forget() {
        last_ms.reset();
        next_due_ms.reset();
        never_fires = false;
    }
};

namespace {

// A lock without expiry would outlive a crashed node forever, and a zero tick would spin: options out of
// range are raised to a floor instead (configuration validation normally catches them first).
SchedulerOptions sanitized(SchedulerOptions options) {
    if (options.node_id.empty()) {
        options.node_id = "node-" + random::hex(8);
        log::warn("jobs: no node id configured; using {}", options.node_id);
    }
    options.leader_ttl = std::max<std::chrono::milliseconds>(options.leader_ttl, 1s);
    options.tick = std::max<std::chrono::milliseconds>(options.tick, 10ms);
    options.max_concurrent = std::max<std::size_t>(options.max_concurrent, 1);
    options.stop_grace = std::max<std::chrono::milliseconds>(options.stop_grace, 0ms);
    return options;
}

}  // namespace

Scheduler::Scheduler(store::Kv& kv, const Clock& clock, RunRecorder& recorder, SchedulerOptions options)
    : kv_(kv), clock_(clock), recorder_(recorder), options_(sanitized(std::move(options))) {}

Scheduler::~Scheduler() {
    stop();
    {
        std::lock_guard lock(mutex_);
        workers_exit_ = true;
    }
    work_ready_.notify_all();
    for (auto& worker : workers_) worker.join();  // runs past the grace: their threads are joined here
}

std::string Scheduler::key(std::string_view kind, std::string_view job) const {
    std::string k = options_.key_prefix;
    k += kind;
    if (!job.empty()) {
        k += ':';
        k += job;
    }
    return k;
}

Scheduler::Entry* Scheduler::find(std::string_view name) const {
    std::lock_guard lock(mutex_);
    for (const auto& entry : entries_)
        if (entry->spec.name == name) return entry.get();
    return nullptr;
}

Status Scheduler::add(JobSpec spec) {
    if (!valid_job_name(spec.name))
        return Error{ErrorKind::invalid_input,
                     "jobs.invalid_name",
                     {{"job", spec.name.substr(0, max_job_name)}, {"max", std::to_string(max_job_name)}}};
    if (!spec.run) return Error{ErrorKind::invalid_input, "jobs.no_function", {{"job", spec.name}}};
    std::lock_guard lock(mutex_);
    for (const auto& entry : entries_)
        if (entry->spec.name == spec.name)
            return Error{ErrorKind::conflict, "jobs.duplicate", {{"job", spec.name}}};
    auto entry = std::make_unique<Entry>();
    entry->spec = std::move(spec);
    entries_.push_back(std::move(entry));
    return {};
}

void Scheduler::start() {
    std::lock_guard lock(ticker_mutex_);
    if (ticker_.joinable() || stopping_.load()) return;
    ticker_ = std::thread([this] {
        std::unique_lock wait_lock(ticker_mutex_);
        while (!stopping_.load()) {
            wait_lock.unlock();
            try {
                tick();
            } catch (const std::exception& e) {
                log::error("jobs: tick failed: {}", e.what());
            } catch (...) {
                log::error("jobs: tick failed");
            }
            wait_lock.lock();
            ticker_wake_.wait_for(wait_lock, options_.tick, [this] { return stopping_.load(); });
        }
    });
}

void Scheduler::stop() {
    if (stopping_.exchange(true)) return;
    std::thread ticker;
    {
        std::lock_guard lock(ticker_mutex_);
        ticker = std::move(ticker_);
    }
    ticker_wake_.notify_all();
    if (ticker.joinable()) ticker.join();

    {
        std::unique_lock lock(mutex_);
        if (!idle_.wait_for(lock, options_.stop_grace, [this] { return active_ == 0; }))
            log::warn("jobs: {} run(s) still going {} ms after stop; they keep running until they return",
                      active_, options_.stop_grace.count());
    }

    // Released whatever leader_ says: a KV error may have cleared the flag while the lock is still ours.
    // compare_and_delete removes it only if it is.
    std::lock_guard tick_lock(tick_mutex_);
    leader_.store(false);
    auto released = kv_.compare_and_delete(key("leader", {}), options_.node_id);
    if (!released)
        log::warn("jobs: releasing the leader lock failed: {}", describe(released.error()));
    else if (*released)
        log::info("jobs: node {} released leadership", options_.node_id);
}

void Scheduler::update_leadership() {
    const bool was_leader = leader_.load();
    const std::string leader_key = key("leader", {});
    bool now_leader = false;
    // Renew first: also recognises our own lock after a tick that failed on a KV error.
    auto renewed = kv_.compare_and_set(leader_key, options_.node_id, options_.node_id, options_.leader_ttl);
    if (!renewed) {
        log::warn("jobs: leader lock check failed, not scheduling this tick: {}", describe(renewed.error()));
        leader_.store(false);
        return;
    }
    now_leader = *renewed;
    bool regained = now_leader && !was_leader;
    if (!now_leader) {
        auto acquired = kv_.set_if_absent(leader_key, options_.node_id, options_.leader_ttl);
        if (!acquired) {
            log::warn("jobs: leader lock check failed, not scheduling this tick: {}",
                      describe(acquired.error()));
            leader_.store(false);
            return;
        }
        now_leader = *acquired;
        // Acquired afresh: even if we thought we led, the lock lapsed and another node may have led.
        regained = now_leader;
    }
    if (regained) {
        log::info("jobs: node {} is the scheduling leader", options_.node_id);
        std::lock_guard lock(mutex_);
        for (auto& entry : entries_) entry->forget();
    } else if (!now_leader && was_leader) {
        log::warn("jobs: node {} lost scheduling leadership", options_.node_id);
    }
    leader_.store(now_leader);
}

Ttl Scheduler::running_ttl(const Entry& entry) const {
    // Never zero (no expiry): a crashed node's run lock must lapse.
    const auto timeout = std::max<Ttl>(std::chrono::duration_cast<Ttl>(entry.spec.timeout), Ttl::zero());
    return timeout + std::max<Ttl>(options_.leader_ttl, 60s);
}

void Scheduler::renew_running_locks() {
    std::vector<std::pair<Entry*, std::string>> running;
    {
        std::lock_guard lock(mutex_);
        for (auto& entry : entries_)
            if (entry->running && !entry->token.empty()) running.emplace_back(entry.get(), entry->token);
    }
    for (const auto& [entry, token] : running) {
        auto renewed =
            kv_.compare_and_set(key("running", entry->spec.name), token, token, running_ttl(*entry));
        if (!renewed)
            log::warn("jobs: renewing the run lock of {} failed: {}", entry->spec.name,
                      describe(renewed.error()));
    }
}

void Scheduler::tick() {
    std::lock_guard tick_lock(tick_mutex_);
    if (stopping_.load()) return;
    update_leadership();
    renew_running_locks();
    if (!leader_.load()) return;

    const SystemTime now = clock_.now();
    std::vector<Entry*> entries;
    {
        std::lock_guard lock(mutex_);
        for (auto& entry : entries_)
            if (entry->spec.enabled) entries.push_back(entry.get());
    }
    for (Entry* entry : entries) {
        if (stopping_.load()) return;
        if (!evaluate(*entry, now)) {
            // A KV error: stop scheduling until leadership is confirmed again (which reloads state).
            // While stopping, the flag stays: stop() releases the lock.
            if (!stopping_.load()) leader_.store(false);
            return;
        }
    }
}

// Starts the job's due slot, if any. False on a KV error.
bool Scheduler::evaluate(Entry& entry, SystemTime now) {
    const std::string& name = entry.spec.name;
    const std::int64_t now_ms = to_ms(now);
    if (entry.never_fires) return true;
    if (entry.next_due_ms && now_ms < *entry.next_due_ms) return true;

    if (!entry.last_ms) {
        const std::string last_key = key("last", name);
        auto stored = kv_.get(last_key);
        if (!stored) {
            log::warn("jobs: reading {} failed: {}", last_key, describe(stored.error()));
            return false;
        }
        if (stored->has_value()) entry.last_ms = parse_ms(**stored);
        if (!entry.last_ms) {
            // Never run before (or unreadable): now is the baseline; the job waits for its next slot.
            if (stored->has_value()) log::warn("jobs: {} holds no time; resetting it to now", last_key);
            auto written = kv_.set(last_key, std::to_string(now_ms));
            if (!written) {
                log::warn("jobs: writing {} failed: {}", last_key, describe(written.error()));
                return false;
            }
            log::info("jobs: {} has no previous slot; next slots count from now", name);
            entry.last_ms = now_ms;
        }
    }

    const auto first = entry.spec.schedule.next_after(from_ms(*entry.last_ms));
    if (!first) {
        log::warn("jobs: the schedule of {} ({}) never fires", name, entry.spec.schedule.text());
        entry.never_fires = true;
        return true;
    }
    if (*first > now) {
        entry.next_due_ms = to_ms(*first);
        return true;
    }

    // One or more slots are due. Missed ones (more than one, or one later than a leader handover can
    // explain) coalesce into a single catch-up run for the latest.
    auto latest = entry.spec.schedule.last_at_or_before(now);
    if (!latest || *latest < *first) latest = first;
    const bool missed = *latest != *first || now - *latest > options_.leader_ttl + options_.tick;
    const Trigger trigger = missed ? Trigger::catch_up : Trigger::schedule;

    auto launched = launch(entry, trigger, *latest, to_ms(*latest));
    if (!launched) {  // a KV error (or stopping): the slot is left for the next confirmed leader
        log::warn("jobs: starting {} failed: {}", name, describe(launched.error()));
        return false;
    }
    entry.last_ms = to_ms(*latest);
    const auto next = entry.spec.schedule.next_after(*latest);
    entry.next_due_ms = next ? std::optional(to_ms(*next)) : std::nullopt;
    entry.never_fires = !next;
    return true;
}

void Scheduler::finish_locally(Entry& entry) {
    {
        std::lock_guard lock(mutex_);
        entry.running = false;
        entry.token.clear();
        if (active_ > 0) --active_;
    }
    idle_.notify_all();
}

void Scheduler::release_running_lock(const Entry& entry, const std::string& token) {
    auto released = kv_.compare_and_delete(key("running", entry.spec.name), token);
    if (!released)
        log::warn("jobs: releasing the run lock of {} failed: {}", entry.spec.name,
                  describe(released.error()));
    else if (!*released)
        log::warn("jobs: the run lock of {} had expired or changed hands before the run ended",
                  entry.spec.name);
}

Result<std::optional<std::int64_t>> Scheduler::launch(Entry& entry, Trigger trigger, SystemTime scheduled_for,
                                                      std::optional<std::int64_t> slot_ms) {
    const std::string& name = entry.spec.name;
    const std::string last_key = key("last", name);
    // A slot that cannot run because the job is still going is spent: last:<job> moves past it.
    const auto skip_slot = [&]() -> Result<std::optional<std::int64_t>> {
        log::info("jobs: {} is still running; skipping slot {}", name, *slot_ms);
        if (auto marked = kv_.set(last_key, std::to_string(*slot_ms)); !marked)
            return std::move(marked).error();
        return std::optional<std::int64_t>{};
    };

    std::string token;
    {
        std::lock_guard lock(mutex_);
        if (stopping_.load()) return Error{ErrorKind::unavailable, "jobs.stopped", {{"job", name}}};
        if (!entry.running) {
            entry.running = true;
            ++active_;
            token = options_.node_id + "#" + std::to_string(++run_sequence_);
        }
    }
    if (token.empty()) {
        if (slot_ms) return skip_slot();
        return Error{ErrorKind::conflict, "jobs.already_running", {{"job", name}}};
    }

    auto locked = kv_.set_if_absent(key("running", name), token, running_ttl(entry));
    if (!locked) {
        finish_locally(entry);
        return std::move(locked).error();
    }
    if (!*locked) {
        finish_locally(entry);
        if (slot_ms) return skip_slot();
        return Error{ErrorKind::conflict, "jobs.already_running", {{"job", name}}};
    }
    const auto give_up = [&] {
        release_running_lock(entry, token);
        finish_locally(entry);
    };

    if (slot_ms) {
        const std::string slot_key = key("slot", name) + ":" + std::to_string(*slot_ms);
        auto claimed = kv_.set_if_absent(slot_key, options_.node_id, slot_claim_ttl);
        if (!claimed) {
            give_up();
            return std::move(claimed).error();
        }
        // The claim is what guarantees at most once; last:<job> only spares the next leader a lookup.
        if (auto marked = kv_.set(last_key, std::to_string(*slot_ms)); !marked)
            log::warn("jobs: writing {} failed: {}", last_key, describe(marked.error()));
        if (!*claimed) {
            log::info("jobs: slot {} of {} was already claimed by another node", *slot_ms, name);
            give_up();
            return std::optional<std::int64_t>{};
        }
    }

    const SystemTime started = clock_.now();
    Result<std::int64_t> run_id = Error{ErrorKind::internal, "jobs.failed", {{"job", name}}};
    try {
        run_id = recorder_.started(name, trigger, scheduled_for, started);
    } catch (const std::exception& e) {
        run_id = Error{ErrorKind::internal, "jobs.failed", {{"job", name}}, e.what()};
    }
    if (!run_id) {
        give_up();
        if (!slot_ms) return std::move(run_id).error();
        // A scheduled slot the recorder refused is spent (claimed): logged, not retried.
        log::error("jobs: recording the start of {} for slot {} failed: {}", name, *slot_ms,
                   describe(run_id.error()));
        return std::optional<std::int64_t>{};
    }
    {
        std::lock_guard lock(mutex_);
        entry.token = token;
    }
    log::info("jobs: run {} of {} started ({})", *run_id, name, trigger_name(trigger));

    const std::int64_t id = *run_id;
    auto work = [this, &entry, token, trigger, scheduled_for, started, id] {
        execute(entry, token, trigger, scheduled_for, started, id);
    };
    if (inline_.load())
        work();
    else
        dispatch(std::move(work));
    return std::optional<std::int64_t>{id};
}

void Scheduler::execute(Entry& entry, const std::string& token, Trigger trigger, SystemTime scheduled_for,
                        SystemTime started, std::int64_t run_id) {
    const std::string& name = entry.spec.name;
    const SystemTime deadline = started + entry.spec.timeout;
    JobContext context(clock_, recorder_, stopping_, name, trigger, scheduled_for, deadline, run_id);

    Result<JobOutcome> outcome = Error{ErrorKind::internal, "jobs.failed", {{"job", name}}};
    try {
        outcome = entry.spec.run(context);
    } catch (const std::exception& e) {
        outcome = Error{ErrorKind::internal, "jobs.failed", {{"job", name}}, e.what()};
    } catch (...) {
        outcome = Error{ErrorKind::internal, "jobs.failed", {{"job", name}}, "unknown exception"};
    }
    const SystemTime ended = clock_.now();
    const bool timed_out = ended > deadline;
    if (!outcome)
        log::warn("jobs: run {} of {} failed: {}", run_id, name, describe(outcome.error()));
    else if (timed_out)
        log::warn("jobs: run {} of {} returned after its deadline", run_id, name);
    else
        log::info("jobs: run {} of {} finished", run_id, name);

    try {
        recorder_.finished(run_id, name, ended, outcome, timed_out);
    } catch (const std::exception& e) {
        log::error("jobs: recording the end of run {} of {} failed: {}", run_id, name, e.what());
    } catch (...) {
        log::error("jobs: recording the end of run {} of {} failed", run_id, name);
    }
    release_running_lock(entry, token);
    finish_locally(entry);
}

void Scheduler::dispatch(std::function<void()> work) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(work));
        const std::size_t pool_size = std::max<std::size_t>(1, options_.max_concurrent);
        while (workers_.size() < pool_size) workers_.emplace_back([this] { worker_loop(); });
    }
    work_ready_.notify_one();
}

void Scheduler::worker_loop() {
    while (true) {
        std::function<void()> work;
        {
            std::unique_lock lock(mutex_);
            work_ready_.wait(lock, [this] { return workers_exit_ || !queue_.empty(); });
            if (queue_.empty()) return;  // exiting, and nothing left: queued runs still run (told to stop)
            work = std::move(queue_.front());
            queue_.pop_front();
        }
        work();  // execute() catches everything the job and the recorder throw
    }
}

Result<std::int64_t> Scheduler::run_now(const std::string& job, Trigger trigger) {
    Entry* entry = find(job);
    if (!entry) return Error{ErrorKind::not_found, "jobs.unknown", {{"job", job.substr(0, max_job_name)}}};
    auto launched = launch(*entry, trigger, clock_.now(), std::nullopt);
    if (!launched) return std::move(launched).error();
    return launched->value_or(0);  // without a slot, launch either starts the run or fails
}

std::vector<JobStatus> Scheduler::jobs() const {
    struct Snapshot {
        JobStatus status;
        const CronExpression* schedule;
    };
    std::vector<Snapshot> snapshots;
    {
        std::lock_guard lock(mutex_);
        for (const auto& entry : entries_)
            snapshots.push_back({JobStatus{entry->spec.name, entry->spec.schedule.text(), entry->spec.enabled,
                                           entry->running, std::nullopt, std::nullopt},
                                 &entry->spec.schedule});
    }
    const SystemTime now = clock_.now();
    std::vector<JobStatus> statuses;
    statuses.reserve(snapshots.size());
    for (auto& [status, schedule] : snapshots) {
        if (status.enabled) status.next_run = schedule->next_after(now);
        auto stored = kv_.get(key("last", status.name));
        if (!stored)
            log::warn("jobs: reading the last slot of {} failed: {}", status.name, describe(stored.error()));
        else if (stored->has_value())
            if (auto ms = parse_ms(**stored)) status.last_slot = from_ms(*ms);
        statuses.push_back(std::move(status));
    }
    return statuses;
}

void Scheduler::wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return active_ == 0; });
}

}  // namespace pitwall::jobs
