// The DM queue: any feature sends a member a localized direct message with one call, enqueue().
// The record lives in SQL (dm_messages: what admins see, and the truth about delivery); the KV
// queue "dm" carries its id to whichever node holds the bot's bridge session. That node claims
// ids, renders each message in the member's language and time zone, hands it to the bot, and
// records the outcome: delivered, retried with backoff, or a dead letter. Discord's 50007 (DMs
// closed) marks the member's DM status so the profile can say how to fix it.
//
// Exactly-once towards the member rests on the message id doubling as Discord's message nonce
// (docs/bridge.md, "The DM queue and exactly-once delivery"); this class makes sure an id that is
// delivered is never handed out again and that an outcome arriving twice changes nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "platform/i18n/catalog.hpp"

namespace pitwall::store {
class Database;
class Kv;
}  // namespace pitwall::store
namespace pitwall::http {
class WsHub;
}

namespace pitwall::notify {

inline constexpr std::string_view kDmQueue = "dm";
// Discord's "Cannot send messages to this user": the member's privacy settings refuse DMs from the bot.
inline constexpr int kDiscordDmsClosed = 50007;
inline constexpr std::string_view kDmTopic = "admin:dm";  // /ws topic of the admin monitor

struct DmQueueOptions {
    int max_attempts = 6;
    std::chrono::milliseconds backoff_base{5000};
    std::chrono::milliseconds backoff_max{900'000};
    std::chrono::milliseconds visibility{60'000};
    std::chrono::hours keep{24 * 30};
};

// One DM ready for the bot: rendered, addressed, with the id that is also its Discord nonce.
struct OutgoingDm {
    std::string id;
    std::string discord_user_id;
    std::string content;
    int attempt = 0;
};

// What the bot reports for one DM.
struct DmOutcome {
    std::string id;
    bool delivered = false;
    std::string message_id;                                // delivered: Discord's message id
    int discord_code = 0;                                  // failed: Discord's JSON error code, if any
    std::string error;                                     // failed: error code (locale key below error.)
    std::optional<std::chrono::milliseconds> retry_after;  // failed: the upstream asked to wait
};

enum class DmStatus { pending, in_flight, delivered, failed, dead, discarded };
[[nodiscard]] std::string_view status_name(DmStatus status);
[[nodiscard]] std::optional<DmStatus> parse_status(std::string_view name);

struct DmRecord {
    std::string id;
    std::int64_t user_id = 0;
    std::string member;  // display name
    std::string message_key;
    DmStatus status = DmStatus::pending;
    int attempts = 0;
    std::string last_error;
    int discord_code = 0;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::optional<std::int64_t> next_attempt_at;
    std::optional<std::int64_t> delivered_at;
};

struct DmCounts {
    std::int64_t pending = 0, in_flight = 0, delivered = 0, failed = 0, dead = 0, discarded = 0;
};

class DmQueue {
  public:
    DmQueue(store::Database& sql, store::Kv& kv, const i18n::Catalog& catalog, const Clock& clock,
            DmQueueOptions options, http::WsHub* hub = nullptr);

    // The one call features make. The message is durable (SQL record + KV queue item) before this
    // returns; its text is rendered at send time in the member's language and time zone. Arguments
    // are text, numbers or times (i18n::DateTime). A non-empty dedupe_key makes the call idempotent:
    // the same key returns the first message's id and queues nothing. Errors: dm.no_member (unknown
    // member or no Discord account), store.unavailable.
    [[nodiscard]] Result<std::string> enqueue(std::int64_t user_id, std::string_view message_key,
                                              const i18n::Args& args = {}, std::string_view dedupe_key = {});

    // The dispatching node: up to `max` messages due now, marked in flight for `visibility`.
    [[nodiscard]] Result<std::vector<OutgoingDm>> claim(std::size_t max);
    // The bot's answer for one message. Idempotent: a second outcome for a settled message is ignored.
    [[nodiscard]] Status complete(const DmOutcome& outcome);
    // The bot session ended with these messages in flight: hand them out again at once. Any of them
    // that did reach Discord is deduplicated by its nonce when it is sent again.
    [[nodiscard]] Status release(const std::vector<std::string>& ids);

    // Admin monitor.
    [[nodiscard]] Result<DmCounts> counts();
    [[nodiscard]] Result<std::vector<DmRecord>> recent(std::optional<DmStatus> status, int limit);
    [[nodiscard]] Result<std::optional<DmRecord>> find(std::string_view id);
    // A failed, dead or discarded message goes back to the queue with a fresh attempt budget.
    [[nodiscard]] Status retry(std::string_view id);
    // A pending, failed or dead message is never sent (one already handed to the bot may still arrive).
    [[nodiscard]] Status discard(std::string_view id);
    // dm-queue-sweeper: re-queues records whose queue item was lost (a KV store wiped or replaced)
    // and prunes settled records older than `keep`. Returns how many were re-queued.
    [[nodiscard]] Result<std::int64_t> sweep();

    // The member's DM status as Discord last showed it: "unknown", "open" or "closed".
    [[nodiscard]] Result<std::string> member_dm_status(std::int64_t user_id);

  private:
    [[nodiscard]] std::chrono::milliseconds backoff(int attempts) const;
    void announce(std::string_view id, DmStatus status);

    store::Database& sql_;
    store::Kv& kv_;
    const i18n::Catalog& catalog_;
    const Clock& clock_;
    DmQueueOptions options_;
    http::WsHub* hub_;
};

// Message arguments as stored with the record (JSON object; times as {"$time": epoch ms}) and back.
[[nodiscard]] std::string encode_args(const i18n::Args& args);
[[nodiscard]] i18n::Args decode_args(std::string_view json);

}  // namespace pitwall::notify
