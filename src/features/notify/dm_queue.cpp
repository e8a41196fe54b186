#include "features/notify/dm_queue.hpp"

#include <algorithm>
#include <array>
#include <random>

#include <boost/json.hpp>

#include "core/log.hpp"
#include "core/random.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::notify {
namespace {

constexpr store::Statement kMember{
    "dm.member", "SELECT discord_id, COALESCE(preferred_locale, locale), time_zone FROM users WHERE id = $1"};
constexpr store::Statement kInsert{
    "dm.insert",
    "INSERT INTO dm_messages (id, user_id, message_key, args, dedupe_key, status, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) ON CONFLICT (dedupe_key) DO NOTHING"};
constexpr store::Statement kByDedupe{"dm.by_dedupe", "SELECT id FROM dm_messages WHERE dedupe_key = $1"};
constexpr store::Statement kSetItem{"dm.set_item",
                                    "UPDATE dm_messages SET queue_item = $2, updated_at = $3 WHERE id = $1"};
constexpr store::Statement kDelete{"dm.delete", "DELETE FROM dm_messages WHERE id = $1"};
constexpr store::Statement kForSend{
    "dm.for_send",
    "SELECT m.status, m.queue_item, m.message_key, m.args, m.attempts, u.discord_id, "
    "COALESCE(u.preferred_locale, u.locale), u.time_zone FROM dm_messages m JOIN users u ON u.id = m.user_id "
    "WHERE m.id = $1"};
constexpr store::Statement kMarkInFlight{
    "dm.in_flight",
    "UPDATE dm_messages SET status = 'in_flight', attempts = attempts + 1, queue_item = $2, updated_at = $3, "
    "next_attempt_at = NULL WHERE id = $1 AND status IN ('pending', 'failed', 'in_flight')"};
constexpr store::Statement kState{
    "dm.state", "SELECT status, queue_item, attempts, user_id FROM dm_messages WHERE id = $1"};
constexpr store::Statement kDelivered{
    "dm.delivered",
    "UPDATE dm_messages SET status = 'delivered', discord_message_id = $2, delivered_at = $3, "
    "updated_at = $3, last_error = NULL, discord_code = NULL, next_attempt_at = NULL WHERE id = $1"};
constexpr store::Statement kFailed{
    "dm.failed",
    "UPDATE dm_messages SET status = $2, last_error = $3, discord_code = $4, next_attempt_at = $5, "
    "updated_at = $6 WHERE id = $1"};
constexpr store::Statement kDmStatus{"dm.user_status",
                                     "UPDATE users SET dm_status = $2, dm_status_at = $3 WHERE id = $1"};
constexpr store::Statement kReadDmStatus{"dm.user_status_read", "SELECT dm_status FROM users WHERE id = $1"};
constexpr store::Statement kRelease{
    "dm.release",
    "UPDATE dm_messages SET status = 'pending', updated_at = $2 WHERE id = $1 AND status = 'in_flight'"};
constexpr store::Statement kCounts{"dm.counts", "SELECT status, COUNT(*) FROM dm_messages GROUP BY status"};
constexpr store::Statement kRecentAll{
    "dm.recent",
    "SELECT m.id, m.user_id, COALESCE(u.nickname, u.global_name, u.username), m.message_key, m.status, "
    "m.attempts, m.last_error, m.discord_code, m.created_at, m.updated_at, m.next_attempt_at, m.delivered_at "
    "FROM dm_messages m JOIN users u ON u.id = m.user_id ORDER BY m.updated_at DESC, m.id LIMIT $1"};
constexpr store::Statement kRecentOf{
    "dm.recent_status",
    "SELECT m.id, m.user_id, COALESCE(u.nickname, u.global_name, u.username), m.message_key, m.status, "
    "m.attempts, m.last_error, m.discord_code, m.created_at, m.updated_at, m.next_attempt_at, m.delivered_at "
    "FROM dm_messages m JOIN users u ON u.id = m.user_id WHERE m.status = $2 "
    "ORDER BY m.updated_at DESC, m.id LIMIT $1"};
constexpr store::Statement kFind{
    "dm.find",
    "SELECT m.id, m.user_id, COALESCE(u.nickname, u.global_name, u.username), m.message_key, m.status, "
    "m.attempts, m.last_error, m.discord_code, m.created_at, m.updated_at, m.next_attempt_at, m.delivered_at "
    "FROM dm_messages m JOIN users u ON u.id = m.user_id WHERE m.id = $1"};
constexpr store::Statement kRetry{
    "dm.retry",
    "UPDATE dm_messages SET status = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = $2 "
    "WHERE id = $1 AND status IN ('failed', 'dead', 'discarded')"};
constexpr store::Statement kDiscard{
    "dm.discard",
    "UPDATE dm_messages SET status = 'discarded', next_attempt_at = NULL, updated_at = $2 "
    "WHERE id = $1 AND status IN ('pending', 'failed', 'dead')"};
constexpr store::Statement kStale{
    "dm.stale",
    "SELECT id, status, queue_item FROM dm_messages WHERE status IN ('pending', 'in_flight', 'failed') "
    "AND updated_at < $1 AND (next_attempt_at IS NULL OR next_attempt_at < $1) "
    "ORDER BY updated_at LIMIT 500"};
constexpr store::Statement kPrune{
    "dm.prune",
    "DELETE FROM dm_messages WHERE status IN ('delivered', 'dead', 'discarded') AND updated_at < $1"};

std::int64_t ms(SystemTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

DmRecord record_of(const store::Row& r) {
    DmRecord d;
    d.id = r.text(0);
    d.user_id = r.int64(1);
    d.member = r.text(2);
    d.message_key = r.text(3);
    d.status = parse_status(r.text(4)).value_or(DmStatus::pending);
    d.attempts = static_cast<int>(r.int64(5));
    d.last_error = r.text(6);
    d.discord_code = static_cast<int>(r.int64(7));
    d.created_at = r.int64(8);
    d.updated_at = r.int64(9);
    d.next_attempt_at = r.opt_int64(10);
    d.delivered_at = r.opt_int64(11);
    return d;
}

// Discord's "cannot send messages to this user": DMs closed, the bot blocked, or no mutual guild.
// Sending again changes nothing until the member acts, so these are dead letters at once.
// Only 50007 marks the member's DM status closed (the profile says how to fix it); 50278 (no mutual
// guild) would send the member to a setting that does not help.
bool permanent(int discord_code) {
    return discord_code == kDiscordDmsClosed || discord_code == 50278;
}

// Discord refuses message content above 2000 characters (50035): a longer rendering is cut at the
// last whole code point that fits, with an ellipsis, rather than failing every attempt.
std::string fit_discord_message(std::string text) {
    constexpr std::size_t kMaxCharacters = 2000;
    std::size_t characters = 0, cut = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // continuation byte
        if (++characters == kMaxCharacters) cut = i;
        if (characters > kMaxCharacters) return text.substr(0, cut) + "\u2026";
    }
    return text;
}

constexpr std::array kStatusNames{"pending", "in_flight", "delivered", "failed", "dead", "discarded"};

}  // namespace

std::string_view status_name(DmStatus status) {
    return kStatusNames.at(static_cast<std::size_t>(status));
}

std::optional<DmStatus> parse_status(std::string_view name) {
    for (std::size_t i = 0; i < kStatusNames.size(); ++i)
        if (name == kStatusNames[i]) return static_cast<DmStatus>(i);
    return std::nullopt;
}

std::string encode_args(const i18n::Args& args) {
    boost::json::object out;
    for (const auto& [name, arg] : args) {
        std::visit(
            [&, &name = name](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, i18n::DateTime>)
                    out[name] = boost::json::object{{"$time", v.epoch_ms}};
                else
                    out[name] = v;
            },
            arg.value());
    }
    return boost::json::serialize(out);
}

i18n::Args decode_args(std::string_view json) {
    i18n::Args args;
    boost::system::error_code ec;
    auto value = boost::json::parse(json, ec);
    if (ec || !value.is_object()) return args;
    for (const auto& [key, v] : value.as_object()) {
        const std::string name(key);
        if (v.is_string())
            args.emplace_back(name, std::string(v.as_string()));
        else if (v.is_int64())
            args.emplace_back(name, v.as_int64());
        else if (v.is_uint64())
            args.emplace_back(name, static_cast<std::int64_t>(v.as_uint64()));
        else if (v.is_double())
            args.emplace_back(name, v.as_double());
        else if (const auto* o = v.if_object(); o && o->contains("$time") && o->at("$time").is_int64())
            args.emplace_back(name, i18n::DateTime{o->at("$time").as_int64()});
    }
    return args;
}

DmQueue::DmQueue(store::Database& sql, store::Kv& kv, const i18n::Catalog& catalog, const Clock& clock,
                 DmQueueOptions options, http::WsHub* hub)
    : sql_(sql), kv_(kv), catalog_(catalog), clock_(clock), options_(options), hub_(hub) {}

Result<std::string> DmQueue::enqueue(std::int64_t user_id, std::string_view message_key,
                                     const i18n::Args& args, std::string_view dedupe_key) {
    auto member = sql_.execute(kMember, {user_id});
    if (!member) return member.error();
    if (member->empty() || member->first().is_null(0) || member->first().text(0).empty())
        return Error(ErrorKind::not_found, "dm.no_member", {}, "user " + std::to_string(user_id));

    // 16 random bytes: 22 base64url characters, within Discord's 25-character nonce.
    std::string id = random::token(16);
    const auto now = ms(clock_.now());
    const store::Value dedupe =
        dedupe_key.empty() ? store::Value(store::Null{}) : store::Value(std::string(dedupe_key));
    auto inserted =
        sql_.execute(kInsert, {id, user_id, std::string(message_key), encode_args(args), dedupe, now});
    if (!inserted) return inserted.error();
    if (inserted->affected == 0) {  // the feature asked for this message before
        auto existing = sql_.execute(kByDedupe, {std::string(dedupe_key)});
        if (!existing) return existing.error();
        if (!existing->empty()) return existing->first().text(0);
        return Error(ErrorKind::conflict, "store.constraint", {}, "dm dedupe key vanished");
    }
    auto item = kv_.push(kDmQueue, id);
    if (!item) {
        // Not durable in the queue: take the record back so nothing half-written remains.
        (void)sql_.execute(kDelete, {id});
        return item.error();
    }
    (void)sql_.execute(kSetItem, {id, *item, now});
    announce(id, DmStatus::pending);
    return id;
}

Result<std::vector<OutgoingDm>> DmQueue::claim(std::size_t max) {
    auto items = kv_.claim(kDmQueue, max, options_.visibility);
    if (!items) return items.error();
    std::vector<OutgoingDm> out;
    for (const auto& item : *items) {
        const std::string& id = item.payload;
        auto row = sql_.execute(kForSend, {id});
        if (!row) {
            // The store is down: leave the item to come back after its visibility.
            log::warn("dm {}: record unreadable: {}", id, row.error().detail);
            continue;
        }
        if (row->empty()) {
            (void)kv_.ack(kDmQueue, item.id);  // the member was deleted with their messages
            continue;
        }
        const auto& r = row->first();
        const auto status = parse_status(r.text(0)).value_or(DmStatus::pending);
        const std::string current_item = r.text(1);
        const bool settled =
            status == DmStatus::delivered || status == DmStatus::dead || status == DmStatus::discarded;
        // Another item carries this message (re-queued by the sweeper or an admin): keep one.
        const bool duplicate =
            status == DmStatus::in_flight && !current_item.empty() && current_item != item.id;
        if (settled || duplicate) {
            (void)kv_.ack(kDmQueue, item.id);
            continue;
        }
        auto marked = sql_.execute(kMarkInFlight, {id, item.id, ms(clock_.now())});
        if (!marked || marked->affected == 0) continue;
        if (r.text(5).empty()) {
            // The member unlinked Discord after the message was queued: nobody to send it to.
            const auto now = ms(clock_.now());
            (void)sql_.execute(kFailed, {id, std::string("dead"), std::string("dm.no_member"), store::Null{},
                                         store::Null{}, now});
            (void)kv_.ack(kDmQueue, item.id);
            announce(id, DmStatus::dead);
            continue;
        }
        OutgoingDm dm;
        dm.id = id;
        dm.discord_user_id = r.text(5);
        dm.attempt = static_cast<int>(r.int64(4)) + 1;
        std::string locale = r.text(6);
        if (!catalog_.supports(locale)) locale = "en";
        dm.content = fit_discord_message(catalog_.text(locale, r.text(2), decode_args(r.text(3)), r.text(7)));
        out.push_back(std::move(dm));
        announce(id, DmStatus::in_flight);
    }
    return out;
}

Status DmQueue::complete(const DmOutcome& outcome) {
    auto state = sql_.execute(kState, {outcome.id});
    if (!state) return state.error();
    if (state->empty()) return Status{};  // deleted meanwhile: nothing to record
    const auto& r = state->first();
    const auto status = parse_status(r.text(0)).value_or(DmStatus::pending);
    const std::string item = r.text(1);
    const int attempts = static_cast<int>(r.int64(2));
    const std::int64_t user_id = r.int64(3);
    const auto now = ms(clock_.now());
    if (status == DmStatus::delivered) return Status{};  // a repeated outcome

    if (outcome.delivered) {
        // Recorded even for a message discarded meanwhile: it did reach the member.
        if (auto done = sql_.execute(kDelivered, {outcome.id, outcome.message_id, now}); !done)
            return done.error();
        (void)sql_.execute(kDmStatus, {user_id, std::string("open"), now});
        if (!item.empty()) (void)kv_.ack(kDmQueue, item);
        announce(outcome.id, DmStatus::delivered);
        return Status{};
    }
    // A failure counts only for a message that is out with the bot: a repeated failure, or one arriving
    // after release() or an admin's retry/discard, must not push the backoff or the attempt budget.
    if (status != DmStatus::in_flight) return Status{};

    const std::string error = outcome.error.empty() ? "dm.send_failed" : outcome.error;
    const store::Value code =
        outcome.discord_code ? store::Value(std::int64_t{outcome.discord_code}) : store::Value(store::Null{});
    if (permanent(outcome.discord_code) || attempts >= options_.max_attempts) {
        if (auto dead =
                sql_.execute(kFailed, {outcome.id, std::string("dead"), error, code, store::Null{}, now});
            !dead)
            return dead.error();
        if (outcome.discord_code == kDiscordDmsClosed)
            (void)sql_.execute(kDmStatus, {user_id, std::string("closed"), now});
        if (!item.empty()) (void)kv_.ack(kDmQueue, item);
        announce(outcome.id, DmStatus::dead);
        return Status{};
    }
    auto wait = backoff(attempts);
    if (outcome.retry_after) wait = std::max(wait, *outcome.retry_after);
    if (auto failed =
            sql_.execute(kFailed, {outcome.id, std::string("failed"), error, code, now + wait.count(), now});
        !failed)
        return failed.error();
    if (!item.empty()) (void)kv_.nack(kDmQueue, item, wait);
    announce(outcome.id, DmStatus::failed);
    return Status{};
}

Status DmQueue::release(const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
        auto state = sql_.execute(kState, {id});
        if (!state) return state.error();
        if (state->empty() || parse_status(state->first().text(0)) != DmStatus::in_flight) continue;
        if (auto released = sql_.execute(kRelease, {id, ms(clock_.now())}); !released)
            return released.error();
        if (const auto item = state->first().text(1); !item.empty())
            (void)kv_.nack(kDmQueue, item, std::chrono::milliseconds(0));
        announce(id, DmStatus::pending);
    }
    return Status{};
}

Result<DmCounts> DmQueue::counts() {
    auto rows = sql_.execute(kCounts);
    if (!rows) return rows.error();
    DmCounts c;
    for (const auto& r : rows->rows) {
        const auto n = r.int64(1);
        switch (parse_status(r.text(0)).value_or(DmStatus::pending)) {
            case DmStatus::pending:
                c.pending = n;
                break;
            case DmStatus::in_flight:
                c.in_flight = n;
                break;
            case DmStatus::delivered:
                c.delivered = n;
                break;
            case DmStatus::failed:
                c.failed = n;
                break;
            case DmStatus::dead:
                c.dead = n;
                break;
            case DmStatus::discarded:
                c.discarded = n;
                break;
        }
    }
    return c;
}

Result<std::vector<DmRecord>> DmQueue::recent(std::optional<DmStatus> status, int limit) {
    auto rows = status ? sql_.execute(kRecentOf, {std::int64_t{limit}, std::string(status_name(*status))})
                       : sql_.execute(kRecentAll, {std::int64_t{limit}});
    if (!rows) return rows.error();
    std::vector<DmRecord> out;
    for (const auto& r : rows->rows) out.push_back(record_of(r));
    return out;
}

Result<std::optional<DmRecord>> DmQueue::find(std::string_view id) {
    auto rows = sql_.execute(kFind, {std::string(id)});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<DmRecord>{};
    return std::optional<DmRecord>(record_of(rows->first()));
}

Status DmQueue::retry(std::string_view id) {
    auto state = sql_.execute(kState, {std::string(id)});
    if (!state) return state.error();
    if (state->empty()) return Error(ErrorKind::not_found, "dm.not_found");
    const auto status = parse_status(state->first().text(0)).value_or(DmStatus::pending);
    if (status != DmStatus::failed && status != DmStatus::dead && status != DmStatus::discarded)
        return Error(ErrorKind::conflict, "dm.not_retryable", {{"status", std::string(status_name(status))}});
    const auto now = ms(clock_.now());
    auto reset = sql_.execute(kRetry, {std::string(id), now});
    if (!reset) return reset.error();
    if (reset->affected == 0)  // changed meanwhile (another admin, the bot)
        return Error(ErrorKind::conflict, "dm.not_retryable", {{"status", std::string(status_name(status))}});
    if (status == DmStatus::failed && !state->first().text(1).empty()) {
        // Its queue item still exists, waiting for the backoff: make it visible now.
        (void)kv_.nack(kDmQueue, state->first().text(1), std::chrono::milliseconds(0));
    } else {
        auto item = kv_.push(kDmQueue, id);
        if (!item) return item.error();
        (void)sql_.execute(kSetItem, {std::string(id), *item, now});
    }
    announce(id, DmStatus::pending);
    return Status{};
}

Status DmQueue::discard(std::string_view id) {
    auto state = sql_.execute(kState, {std::string(id)});
    if (!state) return state.error();
    if (state->empty()) return Error(ErrorKind::not_found, "dm.not_found");
    auto done = sql_.execute(kDiscard, {std::string(id), ms(clock_.now())});
    if (!done) return done.error();
    if (done->affected == 0) {
        const auto status = parse_status(state->first().text(0)).value_or(DmStatus::pending);
        return Error(ErrorKind::conflict, "dm.not_discardable",
                     {{"status", std::string(status_name(status))}});
    }
    if (const auto item = state->first().text(1); !item.empty()) (void)kv_.ack(kDmQueue, item);
    announce(id, DmStatus::discarded);
    return Status{};
}

Result<std::int64_t> DmQueue::sweep() {
    const auto now = ms(clock_.now());
    // A record untouched for far longer than any visibility or backoff has lost its queue item.
    const auto horizon = now - 3 * (options_.visibility + options_.backoff_max).count();
    auto stale = sql_.execute(kStale, {horizon});
    if (!stale) return stale.error();
    std::int64_t requeued = 0;
    for (const auto& r : stale->rows) {
        const std::string id = r.text(0);
        const std::string current = r.text(2);
        // Long waits are normal while no bot is connected: its item is still queued. Showing it now
        // (nack with no delay; the record is long past any visibility or backoff) tells whether it
        // exists without queueing a second item on every sweep.
        auto alive =
            current.empty() ? Result<bool>(false) : kv_.nack(kDmQueue, current, std::chrono::milliseconds(0));
        if (!alive) return alive.error();
        std::string item = current;
        if (!*alive) {
            auto pushed = kv_.push(kDmQueue, id);
            if (!pushed) return pushed.error();
            item = std::move(*pushed);
            ++requeued;
        }
        // Touched, so the next sweep looks at other records first.
        (void)sql_.execute(kSetItem, {id, item, now});
        if (parse_status(r.text(1)) == DmStatus::in_flight) (void)sql_.execute(kRelease, {id, now});
    }
    const auto keep_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.keep).count();
    if (auto pruned = sql_.execute(kPrune, {now - keep_ms}); !pruned) return pruned.error();
    return requeued;
}

Result<std::string> DmQueue::member_dm_status(std::int64_t user_id) {
    auto rows = sql_.execute(kReadDmStatus, {user_id});
    if (!rows) return rows.error();
    if (rows->empty()) return std::string("unknown");
    return rows->first().text(0);
}

std::chrono::milliseconds DmQueue::backoff(int attempts) const {
    const int exponent = std::clamp(attempts - 1, 0, 20);
    const auto raw = options_.backoff_base * (std::int64_t{1} << exponent);
    const auto capped = std::min<std::chrono::milliseconds>(raw, options_.backoff_max);
    // Full jitter in [50%, 100%]: retries of many members after an outage do not arrive together.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> spread(capped.count() / 2, capped.count());
    return std::chrono::milliseconds(spread(rng));
}

void DmQueue::announce(std::string_view id, DmStatus status) {
    if (!hub_) return;
    boost::json::object o{{"type", "dm"}, {"id", id}, {"status", status_name(status)}};
    hub_->broadcast(kDmTopic, boost::json::serialize(o));
}

}  // namespace pitwall::notify
