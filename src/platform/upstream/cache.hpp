// A KV-backed cache in front of upstream calls (iRacing /data, Garage61), shared by every node:
//   - fresh within `ttl`; for `stale_for` after that the stale value is served at once and refreshed
//     in the background (stale-while-revalidate), by one refresh across all nodes;
//   - single-flight: concurrent misses of one key make one upstream call, in-process (the others wait
//     for its answer) and across nodes (a KV lock pw:lock:fetch:<key>; a node without it polls the
//     cache every wait_step until the value appears or the lock goes);
//   - not_found answers are cached for `negative_ttl`; other errors are never cached;
//   - a KV failure never fails a request: the cache is skipped and the fetcher called.
// Freshness is decided on the injected Clock from the time stored with each value.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace pitwall::store {
class Kv;
}

namespace pitwall::upstream {

class BlockingPool;

struct CachePolicy {
    std::chrono::milliseconds ttl{0};
    std::chrono::milliseconds stale_for{0};     // after ttl: served stale, refreshed in the background
    std::chrono::milliseconds negative_ttl{0};  // how long a not_found answer is cached; 0: not cached
};

// The upstream call. An error of kind not_found may be cached (CachePolicy::negative_ttl). A fetcher
// may run on a background thread after get() has returned (stale refresh): it must own what it uses
// (capture by value), not refer to the caller's locals.
using Fetcher = std::function<Result<std::string>()>;

struct CacheOptions {
    std::string prefix = "pw:cache:";
    std::size_t refresh_threads = 2;
    std::size_t refresh_queue = 64;  // background refreshes waiting for a thread; more are skipped
    std::chrono::milliseconds lock_ttl{30000};
    std::chrono::milliseconds wait_step{50};
};

struct CacheStats {
    std::uint64_t hits = 0;
    std::uint64_t stale_hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t negative_hits = 0;
    std::uint64_t upstream_calls = 0;  // fetcher calls, refreshes included
    std::uint64_t coalesced = 0;       // misses answered by another caller's (or node's) upstream call
    std::uint64_t refreshes = 0;       // background refreshes that called the fetcher
    std::uint64_t errors = 0;          // KV failures (the cache was skipped)
    std::uint64_t fetch_errors = 0;    // fetcher failures other than not_found

    // Upstream calls not made thanks to the cache. Every get() is one of hits, stale_hits,
    // negative_hits or misses, and upstream_calls == misses - coalesced + refreshes.
    [[nodiscard]] std::uint64_t saved() const { return hits + stale_hits + negative_hits + coalesced; }
};

class Cache {
  public:
    // `kv` must outlive the cache.
    Cache(store::Kv& kv, const Clock& clock, CacheOptions options = {});
    ~Cache();  // waits for background refreshes
    Cache(const Cache&) = delete;
    Cache& operator=(const Cache&) = delete;

    // Fresh: the value. Stale within stale_for: the value now, and one background refresh. Miss: one
    // fetch for all concurrent callers. Errors are the fetcher's (a cached not_found comes back as
    // the same code and args).
    [[nodiscard]] Result<std::string> get(const std::string& key, const CachePolicy& policy,
                                          const Fetcher& fetcher);
    // Stores a value a job already fetched.
    [[nodiscard]] Status put(const std::string& key, std::string_view value, const CachePolicy& policy);
    [[nodiscard]] Status invalidate(const std::string& key);

    [[nodiscard]] CacheStats stats() const;
    // Blocks until no background refresh is queued or running (tests, benchmarks).
    void wait_refreshes();
    // true: a stale get() runs its refresh itself before returning, and still returns the stale value
    // (deterministic tests and benchmarks).
    void set_inline_refresh(bool inline_refresh);

  private:
    struct Entry;
    struct Flight;
    enum class Found { fresh, stale, negative, unusable };

    [[nodiscard]] std::string cache_key(const std::string& key) const;
    // The stored entry; nullopt when absent; an error when the KV failed (counted).
    [[nodiscard]] Result<std::optional<Entry>> load(const std::string& key);
    [[nodiscard]] Found classify(const Entry& entry, const CachePolicy& policy) const;
    Result<std::string> fetch_single_flight(const std::string& key, const CachePolicy& policy,
                                            const Fetcher& fetcher, bool kv_up);
    Result<std::string> fetch_across_nodes(const std::string& key, const CachePolicy& policy,
                                           const Fetcher& fetcher);
    Result<std::string> fetch_and_store(const std::string& key, const CachePolicy& policy,
                                        const Fetcher& fetcher, bool store);
    void start_refresh(const std::string& key, const CachePolicy& policy, const Fetcher& fetcher);
    void refresh(const std::string& key, const CachePolicy& policy, const Fetcher& fetcher,
                 const std::shared_ptr<Flight>& flight);
    void finish(const std::string& key, const std::shared_ptr<Flight>& flight,
                std::optional<Result<std::string>> result, bool was_refresh);
    void store_entry(const std::string& key, const std::string& envelope, std::chrono::milliseconds ttl);
    void release_lock(const std::string& lock_key, const std::string& token);

    store::Kv& kv_;
    const Clock& clock_;
    CacheOptions options_;

    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
    std::condition_variable refreshes_done_;
    std::size_t refreshing_ = 0;
    bool inline_refresh_ = false;
    CacheStats stats_;

    std::unique_ptr<BlockingPool> pool_;  // last: stopped first
};

}  // namespace pitwall::upstream
