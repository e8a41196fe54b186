// The key-value store: cache, sessions, rate limits, locks, pub/sub and a durable queue.
// Two engines behind one interface: embedded (SQLite-backed, survives restarts) and Redis 7.
// Callers never know which engine is behind it. No hiredis/sqlite type appears here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace pitwall::store {

struct QueueItem {
    std::string id;       // opaque, unique within the queue
    std::string payload;  // what was pushed
    int attempts = 0;     // claims so far, this one included
};

struct QueueCounts {
    std::int64_t ready = 0;    // visible now
    std::int64_t delayed = 0;  // invisible: claimed (in flight) or waiting for a retry
};

struct KvStats {
    std::uint64_t reads = 0;
    std::uint64_t writes = 0;
    std::uint64_t errors = 0;
};

// Unsubscribes when destroyed.
class Subscription {
  public:
    virtual ~Subscription() = default;
};

class Kv {
  public:
    using Ttl = std::chrono::milliseconds;
    using MessageHandler = std::function<void(std::string_view channel, std::string_view message)>;

    virtual ~Kv() = default;

    [[nodiscard]] virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
    // ttl of zero: no expiry.
    [[nodiscard]] virtual Status set(std::string_view key, std::string_view value, Ttl ttl = Ttl::zero()) = 0;
    // Sets only when the key is absent (or expired); true when it was set. The building block of locks.
    [[nodiscard]] virtual Result<bool> set_if_absent(std::string_view key, std::string_view value,
                                                     Ttl ttl) = 0;
    // Replaces the value only when it currently equals `expected` (lock renewal/release by owner).
    [[nodiscard]] virtual Result<bool> compare_and_set(std::string_view key, std::string_view expected,
                                                       std::string_view value, Ttl ttl) = 0;
    [[nodiscard]] virtual Result<bool> compare_and_delete(std::string_view key,
                                                          std::string_view expected) = 0;
    [[nodiscard]] virtual Result<bool> del(std::string_view key) = 0;
    // Atomic add; a missing key counts from 0. Keeps an existing expiry.
    [[nodiscard]] virtual Result<std::int64_t> incr(std::string_view key, std::int64_t by = 1) = 0;
    // Sets an expiry on an existing key (zero: removes its expiry); false when the key does not exist.
    [[nodiscard]] virtual Result<bool> expire(std::string_view key, Ttl ttl) = 0;

    // Pub/sub: at-most-once fan-out to every current subscriber (also in other processes for Redis).
    // subscribe() returns once the subscription is live. Handlers run on the publisher's thread
    // (embedded) or the subscriber thread (Redis): keep them short and hand work off. Once a
    // Subscription is destroyed its handler is not running and never runs again.
    [[nodiscard]] virtual Status publish(std::string_view channel, std::string_view message) = 0;
    [[nodiscard]] virtual Result<std::unique_ptr<Subscription>> subscribe(std::string_view channel,
                                                                          MessageHandler handler) = 0;

    // Durable queue with visibility timeout: push makes an item visible after `delay`; claim hides up to
    // `max` visible items for `visibility` and returns them; ack removes; nack makes it visible again
    // after `delay`. An item claimed and never acked becomes visible again when its visibility ends.
    [[nodiscard]] virtual Result<std::string> push(std::string_view queue, std::string_view payload,
                                                   Ttl delay = Ttl::zero()) = 0;
    [[nodiscard]] virtual Result<std::vector<QueueItem>> claim(std::string_view queue, std::size_t max,
                                                               Ttl visibility) = 0;
    [[nodiscard]] virtual Result<bool> ack(std::string_view queue, std::string_view id) = 0;
    [[nodiscard]] virtual Result<bool> nack(std::string_view queue, std::string_view id, Ttl delay) = 0;
    [[nodiscard]] virtual Result<QueueCounts> queue_counts(std::string_view queue) = 0;

    [[nodiscard]] virtual Status ping() = 0;
    [[nodiscard]] virtual KvStats stats() const = 0;
    [[nodiscard]] virtual std::string_view engine() const = 0;  // "embedded" or "redis"
};

struct EmbeddedKvOptions {
    std::string path;  // SQLite file of its own (data_dir/kv.db)
    int busy_timeout_ms = 5000;
};
struct RedisKvOptions {
    std::string url;  // redis://[[user]:password@]host[:port][/db]
    int pool_size = 4;
    int timeout_ms = 2000;
};

// The clock decides queue visibility on both engines and key expiry on the embedded one (Redis expires
// keys on its own clock). Tests move it by hand.
[[nodiscard]] Result<std::unique_ptr<Kv>> open_embedded_kv(const EmbeddedKvOptions& options,
                                                           const Clock& clock);
[[nodiscard]] Result<std::unique_ptr<Kv>> open_redis_kv(const RedisKvOptions& options, const Clock& clock);

}  // namespace pitwall::store
