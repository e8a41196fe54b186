// The Redis KV engine on hiredis' blocking API: a bounded pool of command connections plus one
// subscriber connection with its own thread. Every command goes out in argv form, so keys and values
// are binary-safe and never parsed as command text. Multi-step operations are Lua scripts, which Redis
// runs atomically.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <poll.h>
#include <span>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <utility>

#include <hiredis/hiredis.h>

#include "platform/store/errors.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/pubsub.hpp"
#include "platform/store/sql_counters.hpp"

namespace pitwall::store {

namespace {

struct ContextCloser {
    void operator()(redisContext* context) const { redisFree(context); }
};
struct ReplyCloser {
    void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ContextHandle = std::unique_ptr<redisContext, ContextCloser>;
using ReplyHandle = std::unique_ptr<redisReply, ReplyCloser>;
using Args = std::span<const std::string_view>;

struct RedisAddress {
    std::string host;
    int port = 6379;
    std::string username;
    std::string password;
    int db = 0;
};

// `reason` never repeats the password.
Error bad_url(const std::string& reason) {
    return Error(ErrorKind::invalid_input, "store.bad_url", {{"reason", reason}},
                 "expected redis://[[user]:password@]host[:port][/db]: " + reason);
}

std::optional<int> parse_int(std::string_view text, int max) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0 || value > max)
        return std::nullopt;
    return value;
}

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        unsigned value = 0;
        if (i + 2 >= text.size() ||
            std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr != text.data() + i + 3)
            return std::nullopt;
        out += static_cast<char>(value);
        i += 2;
    }
    return out;
}

// redis://[[user]:password@]host[:port][/db]; the details never repeat the password.
Result<RedisAddress> parse_url(std::string_view url) {
    constexpr std::string_view scheme = "redis://";
    if (!url.starts_with(scheme)) return bad_url("scheme must be redis://");
    std::string_view rest = url.substr(scheme.size());
    RedisAddress address;

    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        const auto db = parse_int(rest.substr(slash + 1), 1'000'000);
        if (!db) return bad_url("database must be a number");
        address.db = *db;
        rest = rest.substr(0, slash);
    }
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        const std::string_view userinfo = rest.substr(0, at);
        const auto colon = userinfo.find(':');
        if (colon == std::string_view::npos) return bad_url("credentials must be [user]:password");
        auto username = percent_decode(userinfo.substr(0, colon));
        auto password = percent_decode(userinfo.substr(colon + 1));
        if (!username || !password) return bad_url("bad percent-encoding in the credentials");
        address.username = std::move(*username);
        address.password = std::move(*password);
        rest = rest.substr(at + 1);
    }
    std::string_view host = rest;
    if (rest.starts_with('[')) {  // [IPv6]:port
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return bad_url("unclosed [ in the host");
        host = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':')) return bad_url("junk after the host");
    } else if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        rest = rest.substr(colon);
    } else {
        rest = {};
    }
    if (!rest.empty()) {
        const auto port = parse_int(rest.substr(1), 65535);
        if (!port || *port == 0) return bad_url("port must be 1-65535");
        address.port = *port;
    }
    if (host.empty()) return bad_url("missing host");
    address.host = std::string(host);
    return address;
}

timeval to_timeval(int ms) {
    return timeval{ms / 1000, (ms % 1000) * 1000};
}

ReplyHandle command(redisContext* context, Args args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (auto arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    return ReplyHandle(static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(args.size()), argv.data(), lengths.data())));
}

ReplyHandle command(redisContext* context, std::initializer_list<std::string_view> args) {
    return command(context, Args(args.begin(), args.size()));
}

std::string where(const RedisAddress& address) {
    return address.host + ":" + std::to_string(address.port);
}

// A connection ready for commands: authenticated, on the right database, every call bounded by the timeout.
Result<ContextHandle> connect(const RedisAddress& address, int timeout_ms) {
    ContextHandle context(
        redisConnectWithTimeout(address.host.c_str(), address.port, to_timeval(timeout_ms)));
    if (!context) throw std::bad_alloc();
    if (context->err)
        return unavailable("cannot connect to Redis at " + where(address) + ": " + context->errstr);
    redisSetTimeout(context.get(), to_timeval(timeout_ms));
    // TCP keepalive (15 s) is how the subscriber, which only ever waits to read, notices a peer that
    // vanished without closing the connection.
    redisEnableKeepAlive(context.get());
    if (!address.password.empty()) {
        auto reply = address.username.empty()
                         ? command(context.get(), {"AUTH", address.password})
                         : command(context.get(), {"AUTH", address.username, address.password});
        if (!reply || reply->type == REDIS_REPLY_ERROR)
            return unavailable("Redis at " + where(address) + " refused the credentials");
    }
    if (address.db != 0) {
        auto reply = command(context.get(), {"SELECT", std::to_string(address.db)});
        if (!reply || reply->type == REDIS_REPLY_ERROR)
            return unavailable("Redis at " + where(address) + " refused SELECT " +
                               std::to_string(address.db));
    }
    return context;
}

std::string_view reply_text(const redisReply* reply) {
    return reply->str ? std::string_view(reply->str, reply->len) : std::string_view();
}

// A bounded pool of command connections, opened on demand.
class RedisPool {
  public:
    RedisPool(RedisAddress address, const RedisKvOptions& options)
        : address_(std::move(address)), size_(options.pool_size), timeout_ms_(options.timeout_ms) {}

    void add_idle(ContextHandle context) {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(context));
        ++open_;
    }

    // Runs one command. A pooled connection that fails is replaced and the command tried once more on
    // a fresh one: the usual cause is a server restart since the connection was last used.
    Result<ReplyHandle> run(Args args) {
        auto lease = acquire();
        if (!lease) return std::move(lease).error();
        ReplyHandle reply = command(lease->context.get(), args);
        if (!reply && lease->reused) {
            auto fresh = connect(address_, timeout_ms_);
            if (!fresh) return std::move(fresh).error();
            lease->context = std::move(*fresh);
            reply = command(lease->context.get(), args);
        }
        if (!reply)
            return unavailable("Redis " + std::string(args.front()) + " at " + where(address_) + ": " +
                               lease->context->errstr);
        if (reply->type == REDIS_REPLY_ERROR)
            return query_failed("Redis " + std::string(args.front()) + ": " +
                                std::string(reply_text(reply.get())));
        return reply;
    }

  private:
    struct Lease {
        RedisPool* owner;
        ContextHandle context;
        bool reused;

        Lease(RedisPool* o, ContextHandle c, bool r) : owner(o), context(std::move(c)), reused(r) {}
        Lease(Lease&& other) noexcept
            : owner(std::exchange(other.owner, nullptr)),
              context(std::move(other.context)),
              reused(other.reused) {}
        ~Lease() {
            if (owner) owner->release(std::move(context));
        }
    };

    Result<Lease> acquire() {
        std::unique_lock lock(mutex_);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
        while (idle_.empty() && open_ >= size_) {
            if (free_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
                open_ >= size_)
                return unavailable("no Redis connection free within " + std::to_string(timeout_ms_) + " ms");
        }
        if (!idle_.empty()) {
            auto context = std::move(idle_.back());
            idle_.pop_back();
            return Lease(this, std::move(context), true);
        }
        ++open_;  // reserve the slot, then connect without holding the lock
        lock.unlock();
        auto context = connect(address_, timeout_ms_);
        if (!context) {
            release(nullptr);
            return std::move(context).error();
        }
        return Lease(this, std::move(*context), false);
    }

    // A broken connection (hiredis cannot reuse a context after an error) gives its slot back.
    void release(ContextHandle context) {
        {
            std::lock_guard lock(mutex_);
            if (context && context->err == 0)
                idle_.push_back(std::move(context));
            else
                --open_;
        }
        free_.notify_one();
    }

    RedisAddress address_;
    int size_;
    int timeout_ms_;
    std::mutex mutex_;
    std::condition_variable free_;
    std::vector<ContextHandle> idle_;
    int open_ = 0;  // idle plus leased
};

// The subscriber connection. Its thread owns the socket: it sends SUBSCRIBE/UNSUBSCRIBE queued by
// other threads, reads messages and hands them to the handlers, and reconnects (resubscribing every
// channel) when the connection drops. An eventfd wakes it when there is something to send or it must stop.
class RedisSubscriber {
  public:
    RedisSubscriber(RedisAddress address, int timeout_ms, std::atomic<std::uint64_t>& errors)
        : address_(std::move(address)),
          timeout_ms_(timeout_ms),
          errors_(errors),
          wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

    ~RedisSubscriber() {
        stop();
        if (wake_fd_ >= 0) close(wake_fd_);
    }

    // Registers the handler and returns once Redis confirmed the subscription, so a message
    // published after subscribe() returns is delivered.
    Result<std::shared_ptr<HandlerSlot>> add(std::string_view channel, Kv::MessageHandler handler) {
        if (wake_fd_ < 0) return unavailable("cannot create an eventfd for the Redis subscriber");
        auto slot = std::make_shared<HandlerSlot>(std::move(handler));
        std::unique_lock lock(mutex_);
        if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
        auto& entry = channels_[std::string(channel)];
        if (!entry) {
            entry = std::make_shared<Channel>();
            pending_.push_back({true, std::string(channel), entry});
            wake();
        }
        entry->slots.push_back(slot);
        const auto subscribed = entry;
        if (!confirmed_.wait_for(lock, std::chrono::milliseconds(timeout_ms_),
                                 [&] { return subscribed->confirmed; })) {
            lock.unlock();
            remove(std::string(channel), slot);
            return unavailable("Redis at " + where(address_) + " did not confirm SUBSCRIBE within " +
                               std::to_string(timeout_ms_) + " ms");
        }
        return slot;
    }

    void remove(const std::string& channel, const std::shared_ptr<HandlerSlot>& slot) {
        slot->cancel();
        std::lock_guard lock(mutex_);
        auto it = channels_.find(channel);
        if (it == channels_.end()) return;
        std::erase(it->second->slots, slot);
        if (!it->second->slots.empty()) return;
        channels_.erase(it);
        pending_.push_back({false, channel, nullptr});
        wake();
    }

    void stop() {
        stopping_ = true;
        wake();
        if (thread_.joinable()) {
            // A handler that destroys the last owner runs on this very thread: it cannot join itself.
            if (thread_.get_id() == std::this_thread::get_id())
                thread_.detach();
            else
                thread_.join();
        }
    }

  private:
    struct Channel {
        std::vector<std::shared_ptr<HandlerSlot>> slots;
        bool confirmed = false;
    };
    struct Change {
        bool subscribe;
        std::string channel;
        std::shared_ptr<Channel> entry;  // the registration a SUBSCRIBE confirms
    };

    void wake() {
        const std::uint64_t one = 1;
        if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof one);
    }

    // Waits for a wake-up or `timeout_ms`; true when `fd` (if any) became readable.
    bool wait(int fd, int timeout_ms) {
        pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
        if (poll(fds, fd >= 0 ? 2 : 1, timeout_ms) > 0 && (fds[0].revents & POLLIN)) {
            std::uint64_t count = 0;
            (void)!read(wake_fd_, &count, sizeof count);
        }
        return fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR));
    }

    void run() {
        // Reconnects at once after a connection that worked, then backs off while Redis stays away.
        int backoff_ms = 0;
        const auto back_off = [&] {
            ++errors_;
            backoff_ms = std::clamp(backoff_ms * 2, 50, 2000);
        };
        while (!stopping_) {
            if (backoff_ms > 0) wait(-1, backoff_ms);
            auto context = connect(address_, timeout_ms_);
            if (!context) {
                back_off();
                continue;
            }
            {
                // A new connection has no subscriptions: queue every channel again.
                std::lock_guard lock(mutex_);
                pending_.clear();
                for (auto& [name, entry] : channels_) {
                    entry->confirmed = false;
                    pending_.push_back({true, name, entry});
                }
            }
            if (session(context->get()))
                backoff_ms = 0;
            else
                back_off();
        }
    }

    // Serves one connection until it fails or the subscriber stops. True when Redis answered at all.
    bool session(redisContext* context) {
        bool heard = false;
        std::deque<Change> in_flight;  // sent, reply not seen yet; Redis answers in order
        while (!stopping_) {
            std::deque<Change> changes;
            {
                std::lock_guard lock(mutex_);
                changes.swap(pending_);
            }
            for (auto& change : changes) {
                const char* argv[] = {change.subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE", change.channel.data()};
                const std::size_t lengths[] = {std::strlen(argv[0]), change.channel.size()};
                redisAppendCommandArgv(context, 2, argv, lengths);
                in_flight.push_back(std::move(change));
            }
            for (int done = changes.empty(); !done;)
                if (redisBufferWrite(context, &done) != REDIS_OK) return heard;

            if (!wait(context->fd, -1)) continue;
            if (redisBufferRead(context) != REDIS_OK) return heard;
            heard = true;
            void* raw = nullptr;
            while (true) {
                if (redisGetReplyFromReader(context, &raw) != REDIS_OK) return heard;
                if (!raw) break;
                handle(ReplyHandle(static_cast<redisReply*>(raw)), in_flight);
            }
        }
        return heard;
    }

    void handle(ReplyHandle reply, std::deque<Change>& in_flight) {
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
        const std::string_view kind = reply_text(reply->element[0]);
        if (kind == "message") {
            const std::string_view channel = reply_text(reply->element[1]);
            std::vector<std::shared_ptr<HandlerSlot>> slots;
            {
                std::lock_guard lock(mutex_);
                if (auto it = channels_.find(channel); it != channels_.end()) slots = it->second->slots;
            }
            for (const auto& slot : slots)
                if (!slot->deliver(channel, reply_text(reply->element[2]))) ++errors_;
        } else if ((kind == "subscribe" || kind == "unsubscribe") && !in_flight.empty()) {
            Change change = std::move(in_flight.front());
            in_flight.pop_front();
            if (!change.subscribe) return;
            {
                std::lock_guard lock(mutex_);
                change.entry->confirmed = true;
            }
            confirmed_.notify_all();
        }
    }

    RedisAddress address_;
    int timeout_ms_;
    std::atomic<std::uint64_t>& errors_;
    int wake_fd_;
    std::atomic<bool> stopping_ = false;
    std::mutex mutex_;
    std::condition_variable confirmed_;
    std::unordered_map<std::string, std::shared_ptr<Channel>, NameHash, std::equal_to<>> channels_;
    std::deque<Change> pending_;  // to send on the next turn of the thread
    std::thread thread_;
};

// Scripts take the clock's "now" as an argument (never the server's TIME), so queue visibility follows
// the injected clock on every engine.
constexpr std::string_view compare_and_set_script = R"(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else redis.call('SET', KEYS[1], ARGV[2]) end
return 1)";
constexpr std::string_view compare_and_delete_script = R"(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1]))";
constexpr std::string_view expire_script = R"(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) else redis.call('PERSIST', KEYS[1]) end
return 1)";
// Ids are zero-padded so that items visible at the same millisecond leave in push order (a sorted
// set orders equal scores by member bytes).
constexpr std::string_view push_script = R"(
local id = string.format('%016d', redis.call('INCR', KEYS[1]))
redis.call('HSET', KEYS[2], id, ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[2], id)
return id)";
constexpr std::string_view claim_script = R"(
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[3], ARGV[2], id)
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[1], id)
  out[#out + 1] = redis.call('HINCRBY', KEYS[2], id, 1)
end
return out)";
constexpr std::string_view ack_script = R"(
if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1)";
constexpr std::string_view nack_script = R"(
if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1)";
constexpr std::string_view counts_script = R"(
return {redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1]), redis.call('ZCARD', KEYS[1])})";

// The keys of one queue. The {name} hash tag keeps them in one Redis Cluster slot, as scripts require.
struct QueueKeys {
    explicit QueueKeys(std::string_view queue)
        : prefix("pw:q:{" + std::string(queue) + "}:"),
          seq(prefix + "seq"),
          items(prefix + "items"),
          attempts(prefix + "attempts"),
          visible(prefix + "vis") {}
    std::string prefix, seq, items, attempts, visible;
};

class RedisKv final : public Kv {
  public:
    RedisKv(const RedisAddress& address, const RedisKvOptions& options, const Clock& clock)
        : pool_(address, options),
          clock_(clock),
          subscriber_(std::make_shared<RedisSubscriber>(address, options.timeout_ms, errors_)) {}

    ~RedisKv() override { subscriber_->stop(); }

    RedisPool& pool() { return pool_; }

    Result<std::optional<std::string>> get(std::string_view key) override {
        ++reads_;
        auto reply = run({"GET", key});
        if (!reply) return std::move(reply).error();
        if ((*reply)->type == REDIS_REPLY_NIL) return std::optional<std::string>();
        return std::optional<std::string>(std::string(reply_text(reply->get())));
    }

    Status set(std::string_view key, std::string_view value, Ttl ttl) override {
        ++writes_;
        const std::string ms = std::to_string(ttl.count());
        auto reply = ttl.count() > 0 ? run({"SET", key, value, "PX", ms}) : run({"SET", key, value});
        if (!reply) return std::move(reply).error();
        return {};
    }

    Result<bool> set_if_absent(std::string_view key, std::string_view value, Ttl ttl) override {
        ++writes_;
        const std::string ms = std::to_string(ttl.count());
        auto reply =
            ttl.count() > 0 ? run({"SET", key, value, "NX", "PX", ms}) : run({"SET", key, value, "NX"});
        if (!reply) return std::move(reply).error();
        return (*reply)->type == REDIS_REPLY_STATUS;  // "OK"; nil when the key exists
    }

    Result<bool> compare_and_set(std::string_view key, std::string_view expected, std::string_view value,
                                 Ttl ttl) override {
        ++writes_;
        return flag(eval(compare_and_set_script, {key}, {expected, value, std::to_string(ttl.count())}));
    }

    Result<bool> compare_and_delete(std::string_view key, std::string_view expected) override {
        ++writes_;
        return flag(eval(compare_and_delete_script, {key}, {expected}));
    }

    Result<bool> del(std::string_view key) override {
        ++writes_;
        return flag(run({"DEL", key}));
    }

    Result<std::int64_t> incr(std::string_view key, std::int64_t by) override {
        ++writes_;
        auto reply = run({"INCRBY", key, std::to_string(by)});
        if (!reply) return std::move(reply).error();
        return std::int64_t{(*reply)->integer};
    }

    Result<bool> expire(std::string_view key, Ttl ttl) override {
        ++writes_;
        return flag(eval(expire_script, {key}, {std::to_string(ttl.count())}));
    }

    Status publish(std::string_view channel, std::string_view message) override {
        ++writes_;
        auto reply = run({"PUBLISH", channel, message});
        if (!reply) return std::move(reply).error();
        return {};
    }

    Result<std::unique_ptr<Subscription>> subscribe(std::string_view channel,
                                                    MessageHandler handler) override {
        auto slot = subscriber_->add(channel, std::move(handler));
        if (!slot) return track_error(std::move(slot).error());
        std::weak_ptr<RedisSubscriber> subscriber = subscriber_;
        return std::unique_ptr<Subscription>(std::make_unique<CallbackSubscription>(
            [subscriber, slot = std::move(*slot), name = std::string(channel)] {
                if (auto alive = subscriber.lock())
                    alive->remove(name, slot);
                else
                    slot->cancel();
            }));
    }

    Result<std::string> push(std::string_view queue, std::string_view payload, Ttl delay) override {
        ++writes_;
        const QueueKeys keys(queue);
        auto reply = eval(push_script, {keys.seq, keys.items, keys.attempts, keys.visible},
                          {payload, std::to_string(clock_.now_ms() + delay.count())});
        if (!reply) return std::move(reply).error();
        return std::string(reply_text(reply->get()));
    }

    Result<std::vector<QueueItem>> claim(std::string_view queue, std::size_t max, Ttl visibility) override {
        ++writes_;
        if (max == 0) return std::vector<QueueItem>();
        const QueueKeys keys(queue);
        const std::int64_t now = clock_.now_ms();
        auto reply =
            eval(claim_script, {keys.items, keys.attempts, keys.visible},
                 {std::to_string(now), std::to_string(now + visibility.count()), std::to_string(max)});
        if (!reply) return std::move(reply).error();
        std::vector<QueueItem> items;
        const redisReply* array = reply->get();
        for (std::size_t i = 0; i + 2 < array->elements; i += 3)
            items.push_back(QueueItem{std::string(reply_text(array->element[i])),
                                      std::string(reply_text(array->element[i + 1])),
                                      static_cast<int>(array->element[i + 2]->integer)});
        return items;
    }

    Result<bool> ack(std::string_view queue, std::string_view id) override {
        ++writes_;
        const QueueKeys keys(queue);
        return flag(eval(ack_script, {keys.items, keys.attempts, keys.visible}, {id}));
    }

    Result<bool> nack(std::string_view queue, std::string_view id, Ttl delay) override {
        ++writes_;
        const QueueKeys keys(queue);
        return flag(eval(nack_script, {keys.items, keys.attempts, keys.visible},
                         {id, std::to_string(clock_.now_ms() + delay.count())}));
    }

    Result<QueueCounts> queue_counts(std::string_view queue) override {
        ++reads_;
        const QueueKeys keys(queue);
        auto reply = eval(counts_script, {keys.visible}, {std::to_string(clock_.now_ms())});
        if (!reply) return std::move(reply).error();
        const std::int64_t ready = (*reply)->element[0]->integer;
        return QueueCounts{ready, (*reply)->element[1]->integer - ready};
    }

    Status ping() override {
        auto reply = run({"PING"});
        if (!reply) return std::move(reply).error();
        return {};
    }

    [[nodiscard]] KvStats stats() const override { return {reads_.load(), writes_.load(), errors_.load()}; }

    [[nodiscard]] std::string_view engine() const override { return "redis"; }

  private:
    Result<ReplyHandle> run(std::initializer_list<std::string_view> args) {
        auto reply = pool_.run(Args(args.begin(), args.size()));
        if (!reply) ++errors_;
        return reply;
    }

    Result<ReplyHandle> eval(std::string_view script, std::initializer_list<std::string_view> keys,
                             std::initializer_list<std::string_view> argv) {
        const std::string key_count = std::to_string(keys.size());
        std::vector<std::string_view> args{"EVAL", script, key_count};
        args.insert(args.end(), keys.begin(), keys.end());
        args.insert(args.end(), argv.begin(), argv.end());
        auto reply = pool_.run(args);
        if (!reply) ++errors_;
        return reply;
    }

    static Result<bool> flag(Result<ReplyHandle> reply) {
        if (!reply) return std::move(reply).error();
        return (*reply)->integer != 0;
    }

    Error track_error(Error error) {
        ++errors_;
        return error;
    }

    std::atomic<std::uint64_t> reads_ = 0;
    std::atomic<std::uint64_t> writes_ = 0;
    std::atomic<std::uint64_t> errors_ = 0;
    RedisPool pool_;
    const Clock& clock_;
    std::shared_ptr<RedisSubscriber> subscriber_;
};

}  // namespace

Result<std::unique_ptr<Kv>> open_redis_kv(const RedisKvOptions& options, const Clock& clock) {
    auto address = parse_url(options.url);
    if (!address) return std::move(address).error();
    if (options.pool_size < 1 || options.timeout_ms < 1)
        return bad_url("pool_size and timeout_ms must be positive");
    // One connection up front, so a wrong address or password stops start-up instead of the first request.
    auto first = connect(*address, options.timeout_ms);
    if (!first) return std::move(first).error();
    auto kv = std::make_unique<RedisKv>(*address, options, clock);
    kv->pool().add_idle(std::move(*first));
    return std::unique_ptr<Kv>(std::move(kv));
}

}  // namespace pitwall::store
