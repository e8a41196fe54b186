// pitwall-kv-bench: get and set throughput of the two KV engines on the same workload, so that the
// choice of `kv.engine` rests on figures: the embedded engine (its own SQLite file in a temp dir) and
// Redis (a throw-away redis-server on a loopback port, tests/support).
//
// Workload: 10,000 keys with 100-byte values; sets first (they also load the keys), then gets, each
// phase timed for a fixed duration with 1 and with 4 threads. Prints a table, then one summary line
// (single-threaded figures):
//   kv_embedded_get_ops=... kv_embedded_set_ops=... kv_redis_get_ops=... kv_redis_set_ops=...
//   embedded_vs_redis_get_ratio=...
// A benchmark prints figures; it exits non-zero only when a store cannot be opened or an operation
// fails.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "core/clock.hpp"
#include "platform/store/kv.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace {

using pitwall::store::Kv;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kKeys = 10'000;
constexpr std::size_t kValueBytes = 100;
constexpr std::chrono::milliseconds kPhaseDuration{2000};
constexpr std::size_t kCheckEvery = 64;  // operations between two looks at the clock
constexpr int kMaxThreads = 4;

enum class Operation { get, set };

struct Workload {
    std::vector<std::string> keys;
    std::string value;
};

struct PhaseResult {
    std::uint64_t operations = 0;
    std::uint64_t failures = 0;
    double seconds = 0;
    [[nodiscard]] double ops_per_second() const { return seconds > 0 ? operations / seconds : 0; }
};

Workload make_workload() {
    Workload workload;
    workload.keys.reserve(kKeys);
    for (std::size_t i = 0; i < kKeys; ++i) workload.keys.push_back(fmt::format("bench:key:{:05}", i));
    workload.value.reserve(kValueBytes);
    for (std::size_t i = 0; i < kValueBytes; ++i) workload.value.push_back(static_cast<char>('a' + i % 26));
    return workload;
}

// Runs `operation` from `threads` threads for kPhaseDuration; thread t starts at its own slice of the
// keys and walks them round-robin. A get that misses or returns other bytes counts as a failure.
PhaseResult run_phase(Kv& kv, Operation operation, int threads, const Workload& workload) {
    std::atomic<std::uint64_t> operations{0};
    std::atomic<std::uint64_t> failures{0};
    std::atomic<bool> go{false};
    const auto worker = [&](int index) {
        std::size_t next =
            static_cast<std::size_t>(index) * (workload.keys.size() / static_cast<std::size_t>(threads));
        std::uint64_t done = 0;
        std::uint64_t failed = 0;
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        const auto deadline = SteadyClock::now() + kPhaseDuration;
        while (true) {
            for (std::size_t i = 0; i < kCheckEvery; ++i) {
                const std::string& key = workload.keys[next];
                next = (next + 1) % workload.keys.size();
                if (operation == Operation::set) {
                    if (!kv.set(key, workload.value).ok()) ++failed;
                } else {
                    auto value = kv.get(key);
                    if (!value.ok() || !value->has_value() || **value != workload.value) ++failed;
                }
            }
            done += kCheckEvery;
            if (SteadyClock::now() >= deadline) break;
        }
        operations += done;
        failures += failed;
    };

    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
    const auto start = SteadyClock::now();
    go.store(true, std::memory_order_release);
    for (auto& thread : pool) thread.join();
    const auto elapsed = std::chrono::duration<double>(SteadyClock::now() - start);
    return {operations.load(), failures.load(), elapsed.count()};
}

struct EngineResult {
    std::string engine;
    PhaseResult set_1, get_1, set_n, get_n;
};

EngineResult measure(std::string engine, Kv& kv, const Workload& workload) {
    EngineResult result{.engine = std::move(engine)};
    result.set_1 = run_phase(kv, Operation::set, 1, workload);  // also loads every key for the gets
    result.get_1 = run_phase(kv, Operation::get, 1, workload);
    result.set_n = run_phase(kv, Operation::set, kMaxThreads, workload);
    result.get_n = run_phase(kv, Operation::get, kMaxThreads, workload);
    return result;
}

void print_row(std::string_view engine, std::string_view operation, int threads, const PhaseResult& phase) {
    // Mean latency as each thread sees it: threads / throughput.
    const double mean_us = phase.operations ? threads * phase.seconds * 1e6 / phase.operations : 0;
    fmt::print("{:<10} {:<4} {:>7} {:>12.0f} {:>12.1f} {:>9}\n", engine, operation, threads,
               phase.ops_per_second(), mean_us, phase.failures);
}

void print_table(const std::vector<EngineResult>& results) {
    fmt::print("{:<10} {:<4} {:>7} {:>12} {:>12} {:>9}\n", "engine", "op", "threads", "ops/s", "mean us/op",
               "failures");
    for (const auto& r : results) {
        print_row(r.engine, "set", 1, r.set_1);
        print_row(r.engine, "get", 1, r.get_1);
        print_row(r.engine, "set", kMaxThreads, r.set_n);
        print_row(r.engine, "get", kMaxThreads, r.get_n);
    }
}

std::uint64_t failures(const EngineResult& r) {
    return r.set_1.failures + r.get_1.failures + r.set_n.failures + r.get_n.failures;
}

int run() {
    const pitwall::Clock& clock = pitwall::SystemClock::instance();
    const Workload workload = make_workload();
    fmt::print("kv bench: {} keys, {}-byte values, {} ms per phase, 1 and {} threads\n", kKeys, kValueBytes,
               kPhaseDuration.count(), kMaxThreads);
    std::fflush(stdout);

    pitwall::test_support::TempDir dir("pitwall-kv-bench");
    auto embedded = pitwall::store::open_embedded_kv({.path = (dir.path() / "kv.db").string()}, clock);
    if (!embedded) {
        fmt::print(stderr, "kv bench: cannot open the embedded KV: {} {}\n", embedded.error().code,
                   embedded.error().detail);
        return 1;
    }
    pitwall::test_support::RedisServer redis_server;
    auto redis = pitwall::store::open_redis_kv({.url = redis_server.url(), .pool_size = kMaxThreads}, clock);
    if (!redis) {
        fmt::print(stderr, "kv bench: cannot open the Redis KV: {} {}\n", redis.error().code,
                   redis.error().detail);
        return 1;
    }

    std::vector<EngineResult> results;
    results.push_back(measure("embedded", **embedded, workload));
    results.push_back(measure("redis", **redis, workload));
    print_table(results);

    const EngineResult& e = results[0];
    const EngineResult& r = results[1];
    const double ratio =
        r.get_1.ops_per_second() > 0 ? e.get_1.ops_per_second() / r.get_1.ops_per_second() : 0;
    fmt::print(
        "kv_embedded_get_ops={:.0f} kv_embedded_set_ops={:.0f} kv_redis_get_ops={:.0f} "
        "kv_redis_set_ops={:.0f} "
        "embedded_vs_redis_get_ratio={:.3f}\n",
        e.get_1.ops_per_second(), e.set_1.ops_per_second(), r.get_1.ops_per_second(),
        r.set_1.ops_per_second(), ratio);
    if (failures(e) + failures(r) > 0) {
        fmt::print(stderr, "kv bench: {} operations failed\n", failures(e) + failures(r));
        return 1;
    }
    return 0;
}

}  // namespace

int main() {
    try {
        return run();
    } catch (const std::exception& e) {  // RedisServer and TempDir report start-up failures by throwing
        std::fprintf(stderr, "kv bench: %s\n", e.what());
        return 1;
    }
}
