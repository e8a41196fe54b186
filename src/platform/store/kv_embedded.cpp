// The embedded KV engine: a SQLite file of its own (so KV churn never blocks the relational writer),
// with expiry and queue visibility decided by the injected clock. Pub/sub is an in-process fan-out:
// with one server there is nobody else to tell.
#include <atomic>
#include <charconv>
#include <mutex>
#include <unordered_map>

#include "platform/store/errors.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/pubsub.hpp"
#include "platform/store/sql.hpp"
#include "platform/store/sql_counters.hpp"

namespace pitwall::store {

namespace {

// kv_queue ids are AUTOINCREMENT so that an id is never reused: a late ack for an item that was
// already acked must not delete a newer item.
constexpr std::string_view schema = R"(
CREATE TABLE IF NOT EXISTS kv (
    key        BLOB PRIMARY KEY,
    value      BLOB NOT NULL,
    expires_at INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS kv_queue (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    queue      TEXT NOT NULL,
    payload    BLOB NOT NULL,
    visible_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS kv_queue_visible ON kv_queue (queue, visible_at, id);
)";

// A key whose expires_at is at or before now does not exist, whether or not its row is gone yet.
constexpr Statement select_live{
    "kv.select_live",
    "SELECT value, expires_at FROM kv WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)"};
constexpr Statement upsert{
    "kv.upsert",
    "INSERT INTO kv (key, value, expires_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"};
constexpr Statement insert_if_absent{
    "kv.insert_if_absent",
    "INSERT INTO kv (key, value, expires_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at "
    "WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= $4"};
constexpr Statement update_if_equal{
    "kv.update_if_equal",
    "UPDATE kv SET value = $3, expires_at = $4 "
    "WHERE key = $1 AND value = $2 AND (expires_at IS NULL OR expires_at > $5)"};
constexpr Statement delete_if_equal{
    "kv.delete_if_equal",
    "DELETE FROM kv WHERE key = $1 AND value = $2 AND (expires_at IS NULL OR expires_at > $3)"};
constexpr Statement delete_key{"kv.delete", "DELETE FROM kv WHERE key = $1 RETURNING expires_at"};
constexpr Statement update_expiry{
    "kv.update_expiry",
    "UPDATE kv SET expires_at = $2 WHERE key = $1 AND (expires_at IS NULL OR expires_at > $3)"};
constexpr Statement purge_expired{
    "kv.purge_expired", "DELETE FROM kv WHERE key IN (SELECT key FROM kv WHERE expires_at <= $1 LIMIT $2)"};

constexpr Statement queue_insert{"kv.queue_insert",
                                 "INSERT INTO kv_queue (queue, payload, visible_at, attempts, created_at) "
                                 "VALUES ($1, $2, $3, 0, $4) RETURNING id"};
constexpr Statement queue_select_visible{
    "kv.queue_select_visible",
    "SELECT id, payload, attempts FROM kv_queue "
    "WHERE queue = $1 AND visible_at <= $2 ORDER BY visible_at, id LIMIT $3"};
constexpr Statement queue_hide{"kv.queue_hide",
                               "UPDATE kv_queue SET visible_at = $2, attempts = attempts + 1 WHERE id = $1"};
constexpr Statement queue_delete{"kv.queue_delete", "DELETE FROM kv_queue WHERE queue = $1 AND id = $2"};
constexpr Statement queue_show{"kv.queue_show",
                               "UPDATE kv_queue SET visible_at = $3 WHERE queue = $1 AND id = $2"};
constexpr Statement queue_count{
    "kv.queue_count", "SELECT COALESCE(SUM(visible_at <= $2), 0), COUNT(*) FROM kv_queue WHERE queue = $1"};

// Expired rows nobody touches again (rate-limit windows, abandoned sessions) are swept in batches
// every `purge_every` expiring writes; a batch is larger than the writes between two sweeps, so the
// sweep keeps up.
constexpr std::uint64_t purge_every = 256;
constexpr std::int64_t purge_batch = 1024;

Blob bytes(std::string_view text) {
    return Blob{std::string(text)};
}

std::optional<std::int64_t> parse_int64(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

// In-process fan-out. Subscriptions hold it weakly: they may outlive the Kv.
class LocalBroker {
  public:
    std::shared_ptr<HandlerSlot> add(std::string_view channel, Kv::MessageHandler handler) {
        auto slot = std::make_shared<HandlerSlot>(std::move(handler));
        std::lock_guard lock(mutex_);
        channels_[std::string(channel)].push_back(slot);
        return slot;
    }

    void remove(const std::string& channel, const HandlerSlot* slot) {
        std::lock_guard lock(mutex_);
        auto it = channels_.find(channel);
        if (it == channels_.end()) return;
        std::erase_if(it->second, [&](const auto& candidate) { return candidate.get() == slot; });
        if (it->second.empty()) channels_.erase(it);
    }

    // Handlers run on the publisher's thread, outside the registry lock. Returns how many threw.
    std::size_t publish(std::string_view channel, std::string_view message) {
        std::vector<std::shared_ptr<HandlerSlot>> slots;
        {
            std::lock_guard lock(mutex_);
            if (auto it = channels_.find(channel); it != channels_.end()) slots = it->second;
        }
        std::size_t failed = 0;
        for (const auto& slot : slots)
            if (!slot->deliver(channel, message)) ++failed;
        return failed;
    }

  private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::vector<std::shared_ptr<HandlerSlot>>, NameHash, std::equal_to<>>
        channels_;
};

class EmbeddedKv final : public Kv {
  public:
    EmbeddedKv(std::unique_ptr<Database> db, const Clock& clock) : db_(std::move(db)), clock_(clock) {}

    Result<std::optional<std::string>> get(std::string_view key) override {
        ++reads_;
        auto rows = track(db_->execute(select_live, {bytes(key), clock_.now_ms()}));
        if (!rows) return std::move(rows).error();
        if (rows->empty()) return std::optional<std::string>();
        return std::optional<std::string>(rows->first().blob(0));
    }

    Status set(std::string_view key, std::string_view value, Ttl ttl) override {
        ++writes_;
        auto done = track(db_->execute(upsert, {bytes(key), bytes(value), expiry(ttl)}));
        if (!done) return std::move(done).error();
        sweep_now_and_then(ttl);
        return {};
    }

    Result<bool> set_if_absent(std::string_view key, std::string_view value, Ttl ttl) override {
        ++writes_;
        auto done =
            track(db_->execute(insert_if_absent, {bytes(key), bytes(value), expiry(ttl), clock_.now_ms()}));
        if (!done) return std::move(done).error();
        sweep_now_and_then(ttl);
        return done->affected > 0;
    }

    Result<bool> compare_and_set(std::string_view key, std::string_view expected, std::string_view value,
                                 Ttl ttl) override {
        ++writes_;
        auto done = track(db_->execute(
            update_if_equal, {bytes(key), bytes(expected), bytes(value), expiry(ttl), clock_.now_ms()}));
        if (!done) return std::move(done).error();
        return done->affected > 0;
    }

    Result<bool> compare_and_delete(std::string_view key, std::string_view expected) override {
        ++writes_;
        auto done = track(db_->execute(delete_if_equal, {bytes(key), bytes(expected), clock_.now_ms()}));
        if (!done) return std::move(done).error();
        return done->affected > 0;
    }

    Result<bool> del(std::string_view key) override {
        ++writes_;
        auto done = track(db_->execute(delete_key, {bytes(key)}));
        if (!done) return std::move(done).error();
        // The row may have been an expired leftover: that key did not exist.
        return !done->empty() && (done->first().is_null(0) || done->first().int64(0) > clock_.now_ms());
    }

    Result<std::int64_t> incr(std::string_view key, std::int64_t by) override {
        ++writes_;
        std::int64_t result = 0;
        auto status = db_->write([&](Connection& c) -> Status {
            const std::int64_t now = clock_.now_ms();
            auto rows = c.execute(select_live, {bytes(key), now});
            if (!rows) return std::move(rows).error();
            std::int64_t current = 0;
            Value expires_at = Null{};
            if (!rows->empty()) {
                const auto parsed = parse_int64(rows->first().blob(0));
                if (!parsed) return query_failed("kv.incr: value is not an integer");
                current = *parsed;
                expires_at = rows->first().at(1);
            }
            if (__builtin_add_overflow(current, by, &result))
                return query_failed("kv.incr: integer overflow");
            auto written = c.execute(upsert, {bytes(key), bytes(std::to_string(result)), expires_at});
            if (!written) return std::move(written).error();
            return {};
        });
        if (!status) return track_error(std::move(status).error());
        return result;
    }

    Result<bool> expire(std::string_view key, Ttl ttl) override {
        ++writes_;
        auto done = track(db_->execute(update_expiry, {bytes(key), expiry(ttl), clock_.now_ms()}));
        if (!done) return std::move(done).error();
        sweep_now_and_then(ttl);
        return done->affected > 0;
    }

    Status publish(std::string_view channel, std::string_view message) override {
        ++writes_;
        errors_ += broker_->publish(channel, message);
        return {};
    }

    Result<std::unique_ptr<Subscription>> subscribe(std::string_view channel,
                                                    MessageHandler handler) override {
        auto slot = broker_->add(channel, std::move(handler));
        std::weak_ptr<LocalBroker> broker = broker_;
        return std::unique_ptr<Subscription>(
            std::make_unique<CallbackSubscription>([broker, slot, name = std::string(channel)] {
                slot->cancel();
                if (auto alive = broker.lock()) alive->remove(name, slot.get());
            }));
    }

    Result<std::string> push(std::string_view queue, std::string_view payload, Ttl delay) override {
        ++writes_;
        const std::int64_t now = clock_.now_ms();
        auto rows =
            track(db_->execute(queue_insert, {std::string(queue), bytes(payload), now + delay.count(), now}));
        if (!rows) return std::move(rows).error();
        return rows->first().text(0);
    }

    Result<std::vector<QueueItem>> claim(std::string_view queue, std::size_t max, Ttl visibility) override {
        ++writes_;
        std::vector<QueueItem> items;
        auto status = db_->write([&](Connection& c) -> Status {
            const std::int64_t now = clock_.now_ms();
            auto rows =
                c.execute(queue_select_visible, {std::string(queue), now, static_cast<std::int64_t>(max)});
            if (!rows) return std::move(rows).error();
            for (const auto& row : rows->rows) {
                auto hidden = c.execute(queue_hide, {row.int64(0), now + visibility.count()});
                if (!hidden) return std::move(hidden).error();
                items.push_back(QueueItem{row.text(0), row.blob(1), static_cast<int>(row.int64(2)) + 1});
            }
            return {};
        });
        if (!status) return track_error(std::move(status).error());
        return items;
    }

    Result<bool> ack(std::string_view queue, std::string_view id) override {
        ++writes_;
        const auto number = parse_int64(id);
        if (!number) return false;
        auto done = track(db_->execute(queue_delete, {std::string(queue), *number}));
        if (!done) return std::move(done).error();
        return done->affected > 0;
    }

    Result<bool> nack(std::string_view queue, std::string_view id, Ttl delay) override {
        ++writes_;
        const auto number = parse_int64(id);
        if (!number) return false;
        auto done =
            track(db_->execute(queue_show, {std::string(queue), *number, clock_.now_ms() + delay.count()}));
        if (!done) return std::move(done).error();
        return done->affected > 0;
    }

    Result<QueueCounts> queue_counts(std::string_view queue) override {
        ++reads_;
        auto rows = track(db_->execute(queue_count, {std::string(queue), clock_.now_ms()}));
        if (!rows) return std::move(rows).error();
        const std::int64_t ready = rows->first().int64(0);
        return QueueCounts{ready, rows->first().int64(1) - ready};
    }

    Status ping() override { return db_->ping(); }

    [[nodiscard]] KvStats stats() const override { return {reads_.load(), writes_.load(), errors_.load()}; }

    [[nodiscard]] std::string_view engine() const override { return "embedded"; }

  private:
    // NULL for "no expiry", otherwise the absolute expiry in epoch milliseconds.
    Value expiry(Ttl ttl) const {
        if (ttl.count() <= 0) return Null{};
        return clock_.now_ms() + ttl.count();
    }

    void sweep_now_and_then(Ttl ttl) {
        if (ttl.count() <= 0 || ++expiring_writes_ % purge_every != 0) return;
        (void)track(db_->execute(purge_expired, {clock_.now_ms(), purge_batch}));
    }

    template <typename T>
    Result<T> track(Result<T> result) {
        if (!result) ++errors_;
        return result;
    }
    Error track_error(Error error) {
        ++errors_;
        return error;
    }

    std::unique_ptr<Database> db_;
    const Clock& clock_;
    std::shared_ptr<LocalBroker> broker_ = std::make_shared<LocalBroker>();
    std::atomic<std::uint64_t> reads_ = 0;
    std::atomic<std::uint64_t> writes_ = 0;
    std::atomic<std::uint64_t> errors_ = 0;
    std::atomic<std::uint64_t> expiring_writes_ = 0;
};

}  // namespace

Result<std::unique_ptr<Kv>> open_embedded_kv(const EmbeddedKvOptions& options, const Clock& clock) {
    auto db = open_sqlite(SqliteOptions{options.path, options.busy_timeout_ms, 2});
    if (!db) return std::move(db).error();
    auto created = (*db)->write([](Connection& c) { return c.execute_script(schema); });
    if (!created) return std::move(created).error();
    return std::unique_ptr<Kv>(std::make_unique<EmbeddedKv>(std::move(*db), clock));
}

}  // namespace pitwall::store
