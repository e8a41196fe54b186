#include "platform/upstream/cache.hpp"

#include <charconv>
#include <exception>
#include <utility>
#include <vector>

#include "core/random.hpp"
#include "platform/store/kv.hpp"
#include "platform/upstream/blocking_pool.hpp"

namespace pitwall::upstream {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view lock_prefix = "pw:lock:fetch:";

// The stored form: "1|<stored-at ms>|o|<body>" for a value, "1|<stored-at ms>|n|<code>\0<name>\0<value>..."
// for a cached not_found answer. The body is the rest of the string, so it may hold any byte.
std::string envelope(std::int64_t stored_ms, char kind, std::string_view body) {
    std::string out = "1|" + std::to_string(stored_ms) + "|";
    out += kind;
    out += '|';
    out += body;
    return out;
}

std::string encode_error(const Error& error) {
    std::string out = error.code;
    for (const auto& [name, value] : error.args) {
        out += '\0';
        out += name;
        out += '\0';
        out += value;
    }
    return out;
}

Error decode_error(std::string_view text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto end = text.find('\0', start);
        parts.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    Error error(ErrorKind::not_found, parts[0], {}, "cached not_found answer");
    for (std::size_t i = 1; i + 1 < parts.size(); i += 2) error.args.emplace_back(parts[i], parts[i + 1]);
    return error;
}

}  // namespace

struct Cache::Entry {
    std::int64_t stored_ms = 0;
    bool found = true;  // false: a cached not_found answer
    std::string body;
};

// One upstream call in progress for a key: a miss's fetch or a stale refresh. Callers that miss the
// same key meanwhile wait for its answer instead of calling the upstream themselves.
struct Cache::Flight {
    bool done = false;
    std::optional<Result<std::string>> result;  // empty: ended without an answer (refresh skipped)
    std::condition_variable finished;
};

Cache::Cache(store::Kv& kv, const Clock& clock, CacheOptions options)
    : kv_(kv),
      clock_(clock),
      options_(std::move(options)),
      pool_(std::make_unique<BlockingPool>(options_.refresh_threads, options_.refresh_queue)) {
    if (options_.wait_step <= milliseconds::zero()) options_.wait_step = milliseconds(1);
    if (options_.lock_ttl <= milliseconds::zero()) options_.lock_ttl = milliseconds(1000);
}

Cache::~Cache() {
    pool_->shutdown();
}

std::string Cache::cache_key(const std::string& key) const {
    return options_.prefix + key;
}

Result<std::optional<Cache::Entry>> Cache::load(const std::string& key) {
    auto stored = kv_.get(cache_key(key));
    if (!stored) {
        std::lock_guard lock(mutex_);
        ++stats_.errors;
        return std::move(stored).error();
    }
    if (!stored->has_value()) return std::optional<Entry>();
    const std::string& text = **stored;
    // "1|" digits "|" kind "|" body; anything else is treated as absent and overwritten later.
    const auto bar = text.find('|', 2);
    if (!text.starts_with("1|") || bar == std::string::npos || bar + 2 >= text.size() || text[bar + 2] != '|')
        return std::optional<Entry>();
    Entry entry;
    const auto parsed = std::from_chars(text.data() + 2, text.data() + bar, entry.stored_ms);
    if (parsed.ec != std::errc() || parsed.ptr != text.data() + bar) return std::optional<Entry>();
    const char kind = text[bar + 1];
    if (kind != 'o' && kind != 'n') return std::optional<Entry>();
    entry.found = kind == 'o';
    entry.body = text.substr(bar + 3);
    return std::optional<Entry>(std::move(entry));
}

Cache::Found Cache::classify(const Entry& entry, const CachePolicy& policy) const {
    const auto age = milliseconds(clock_.now_ms() - entry.stored_ms);
    if (!entry.found) return age < policy.negative_ttl ? Found::negative : Found::unusable;
    if (age < policy.ttl) return Found::fresh;
    if (age < policy.ttl + policy.stale_for) return Found::stale;
    return Found::unusable;
}

Result<std::string> Cache::get(const std::string& key, const CachePolicy& policy, const Fetcher& fetcher) {
    auto loaded = load(key);
    if (loaded && loaded->has_value()) {
        Entry& entry = **loaded;
        switch (classify(entry, policy)) {
            case Found::fresh: {
                std::lock_guard lock(mutex_);
                ++stats_.hits;
                return std::move(entry.body);
            }
            case Found::negative: {
                std::lock_guard lock(mutex_);
                ++stats_.negative_hits;
                return decode_error(entry.body);
            }
            case Found::stale: {
                {
                    std::lock_guard lock(mutex_);
                    ++stats_.stale_hits;
                }
                start_refresh(key, policy, fetcher);
                return std::move(entry.body);
            }
            case Found::unusable:
                break;
        }
    }
    {
        std::lock_guard lock(mutex_);
        ++stats_.misses;
    }
    return fetch_single_flight(key, policy, fetcher, loaded.ok());
}

Result<std::string> Cache::fetch_single_flight(const std::string& key, const CachePolicy& policy,
                                               const Fetcher& fetcher, bool kv_up) {
    for (;;) {
        std::unique_lock lock(mutex_);
        if (const auto it = flights_.find(key); it != flights_.end()) {
            const auto flight = it->second;
            flight->finished.wait(lock, [&] { return flight->done; });
            if (flight->result) {
                ++stats_.coalesced;
                return *flight->result;
            }
            // A refresh that found another node at work ended without an answer: look again.
            lock.unlock();
            if (kv_up) {
                auto loaded = load(key);
                if (loaded && loaded->has_value()) {
                    const auto found = classify(**loaded, policy);
                    if (found == Found::fresh || found == Found::negative) {
                        std::lock_guard relock(mutex_);
                        ++stats_.coalesced;
                        if (found == Found::negative) return decode_error((*loaded)->body);
                        return std::move((*loaded)->body);
                    }
                }
            }
            continue;
        }
        const auto flight = std::make_shared<Flight>();
        flights_.emplace(key, flight);
        lock.unlock();

        std::optional<Result<std::string>> result;
        try {
            result = kv_up ? fetch_across_nodes(key, policy, fetcher)
                           : fetch_and_store(key, policy, fetcher, false);
        } catch (...) {
            finish(key, flight,
                   Error(ErrorKind::internal, "upstream.fetch_failed", {}, "the fetcher threw an exception"),
                   false);
            throw;
        }
        finish(key, flight, *result, false);
        return std::move(*result);
    }
}

Result<std::string> Cache::fetch_across_nodes(const std::string& key, const CachePolicy& policy,
                                              const Fetcher& fetcher) {
    const std::string lock_key = std::string(lock_prefix) + key;
    const std::string token = random::token(16);
    const SystemTime give_up_at = clock_.now() + options_.lock_ttl + options_.wait_step;
    for (;;) {
        auto locked = kv_.set_if_absent(lock_key, token, options_.lock_ttl);
        if (!locked) {
            {
                std::lock_guard lock(mutex_);
                ++stats_.errors;
            }
            return fetch_and_store(key, policy, fetcher, true);
        }
        if (*locked) {
            // Another node may have stored the value between our miss and taking the lock.
            auto loaded = load(key);
            if (loaded && loaded->has_value()) {
                const auto found = classify(**loaded, policy);
                if (found == Found::fresh || found == Found::negative) {
                    release_lock(lock_key, token);
                    std::lock_guard lock(mutex_);
                    ++stats_.coalesced;
                    if (found == Found::negative) return decode_error((*loaded)->body);
                    return std::move((*loaded)->body);
                }
            }
            std::optional<Result<std::string>> result;
            try {
                result = fetch_and_store(key, policy, fetcher, true);
            } catch (...) {
                release_lock(lock_key, token);
                throw;
            }
            release_lock(lock_key, token);
            return std::move(*result);
        }
        // Another node is fetching: wait for its value, or for its lock to go (then take it).
        if (clock_.now() >= give_up_at) return fetch_and_store(key, policy, fetcher, true);
        clock_.sleep_for(options_.wait_step);
        auto loaded = load(key);
        if (!loaded) return fetch_and_store(key, policy, fetcher, false);
        if (loaded->has_value()) {
            const auto found = classify(**loaded, policy);
            if (found == Found::fresh || found == Found::negative) {
                std::lock_guard lock(mutex_);
                ++stats_.coalesced;
                if (found == Found::negative) return decode_error((*loaded)->body);
                return std::move((*loaded)->body);
            }
        }
    }
}

Result<std::string> Cache::fetch_and_store(const std::string& key, const CachePolicy& policy,
                                           const Fetcher& fetcher, bool store) {
    {
        std::lock_guard lock(mutex_);
        ++stats_.upstream_calls;
    }
    auto result = fetcher();
    if (result) {
        if (store) store_entry(key, envelope(clock_.now_ms(), 'o', *result), policy.ttl + policy.stale_for);
    } else if (result.error().kind == ErrorKind::not_found) {
        if (store && policy.negative_ttl > milliseconds::zero())
            store_entry(key, envelope(clock_.now_ms(), 'n', encode_error(result.error())),
                        policy.negative_ttl);
    } else {
        std::lock_guard lock(mutex_);
        ++stats_.fetch_errors;
    }
    return result;
}

void Cache::start_refresh(const std::string& key, const CachePolicy& policy, const Fetcher& fetcher) {
    auto flight = std::make_shared<Flight>();
    bool run_here = false;
    {
        std::lock_guard lock(mutex_);
        if (flights_.contains(key)) return;  // a fetch or refresh of this key is already under way
        flights_.emplace(key, flight);
        ++refreshing_;
        run_here = inline_refresh_;
    }
    if (run_here) {
        refresh(key, policy, fetcher, flight);
        return;
    }
    auto submitted =
        pool_->submit([this, key, policy, fetcher, flight] { refresh(key, policy, fetcher, flight); });
    if (!submitted) finish(key, flight, std::nullopt, true);  // busy: a later stale get() tries again
}

void Cache::refresh(const std::string& key, const CachePolicy& policy, const Fetcher& fetcher,
                    const std::shared_ptr<Flight>& flight) {
    const std::string lock_key = std::string(lock_prefix) + key;
    const std::string token = random::token(16);
    bool held = false;
    try {
        auto locked = kv_.set_if_absent(lock_key, token, options_.lock_ttl);
        held = locked && *locked;
        if (!locked) {
            std::lock_guard lock(mutex_);
            ++stats_.errors;
        } else if (!held) {
            finish(key, flight, std::nullopt, true);  // another node is fetching this key
            return;
        } else if (auto loaded = load(key);
                   loaded && loaded->has_value() && classify(**loaded, policy) == Found::fresh) {
            release_lock(lock_key, token);  // another node has refreshed it already
            finish(key, flight, std::move((*loaded)->body), true);
            return;
        }
        {
            std::lock_guard lock(mutex_);
            ++stats_.refreshes;
        }
        auto result = fetch_and_store(key, policy, fetcher, true);
        // A failed refresh keeps the stale value until stale_for ends; a not_found answer that is not
        // cached means the value is gone.
        if (!result && result.error().kind == ErrorKind::not_found &&
            policy.negative_ttl <= milliseconds::zero()) {
            if (!kv_.del(cache_key(key))) {
                std::lock_guard lock(mutex_);
                ++stats_.errors;
            }
        }
        if (held) release_lock(lock_key, token);
        finish(key, flight, std::move(result), true);
    } catch (...) {
        // A background refresh has nobody to throw to; whoever waits for it gets an error.
        if (held) release_lock(lock_key, token);
        finish(key, flight,
               Error(ErrorKind::internal, "upstream.fetch_failed", {}, "the fetcher threw an exception"),
               true);
    }
}

void Cache::finish(const std::string& key, const std::shared_ptr<Flight>& flight,
                   std::optional<Result<std::string>> result, bool was_refresh) {
    {
        std::lock_guard lock(mutex_);
        flight->result = std::move(result);
        flight->done = true;
        if (const auto it = flights_.find(key); it != flights_.end() && it->second == flight)
            flights_.erase(it);
        if (was_refresh) --refreshing_;
    }
    flight->finished.notify_all();
    if (was_refresh) refreshes_done_.notify_all();
}

void Cache::store_entry(const std::string& key, const std::string& envelope, milliseconds ttl) {
    if (ttl <= milliseconds::zero()) return;  // a zero KV ttl would mean "keep forever"
    if (!kv_.set(cache_key(key), envelope, ttl)) {
        std::lock_guard lock(mutex_);
        ++stats_.errors;
    }
}

void Cache::release_lock(const std::string& lock_key, const std::string& token) {
    if (!kv_.compare_and_delete(lock_key, token)) {
        std::lock_guard lock(mutex_);
        ++stats_.errors;
    }
}

Status Cache::put(const std::string& key, std::string_view value, const CachePolicy& policy) {
    const auto ttl = policy.ttl + policy.stale_for;
    if (ttl <= milliseconds::zero()) return {};
    return kv_.set(cache_key(key), envelope(clock_.now_ms(), 'o', value), ttl);
}

Status Cache::invalidate(const std::string& key) {
    auto removed = kv_.del(cache_key(key));
    if (!removed) return std::move(removed).error();
    return {};
}

CacheStats Cache::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void Cache::wait_refreshes() {
    std::unique_lock lock(mutex_);
    refreshes_done_.wait(lock, [&] { return refreshing_ == 0; });
}

void Cache::set_inline_refresh(bool inline_refresh) {
    std::lock_guard lock(mutex_);
    inline_refresh_ = inline_refresh;
}

}  // namespace pitwall::upstream
