// The bridge's wire format (docs/bridge.md): one JSON text frame per message,
//
//   {"t":"<type>","s":<seq>,"a":<ack>,"d":{...}}
//
// `t` names the message type; `s` is the sequence number of an application message (absent on control
// frames); `a` is a cumulative ack (the highest contiguous seq this side has received from the peer);
// `d` holds the message's fields (absent = {}). Every message has a typed struct below, so callers
// build and read messages and never touch JSON.
//
// Frames come from the other process over the network: decode() bounds the size and depth of what it
// parses and reports every problem as an error value (bridge.too_large, bridge.malformed naming the
// field, bridge.unknown_type), never as an exception or an assert. The reader is strict about the
// fields it knows (a string is a string, a seq is a JSON integer) and ignores fields it does not know,
// so either side may add optional fields without breaking the other. A JSON null reads as absent.
// This module is pure: no sockets and no Beast/Asio; the server and the bot share it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/result.hpp"

namespace pitwall::bridge {

inline constexpr std::size_t default_max_frame_bytes = 64 * 1024;
inline constexpr std::size_t max_depth = 16;        // JSON nesting; the deepest message needs 3
inline constexpr std::size_t max_type_length = 32;  // characters of `t`
// Sequence numbers, acks and other counters stay within the integers every JSON implementation reads
// exactly (2^53 - 1); at one message a millisecond that is 285,000 years of one session.
inline constexpr std::uint64_t max_seq = (std::uint64_t{1} << 53) - 1;

// In the order of the Message variant below.
enum class MessageType {
    // control frames (unsequenced)
    hello,          // server -> bot
    identify,       // bot -> server
    ready,          // server -> bot
    ack,            // either way
    heartbeat,      // either way
    heartbeat_ack,  // either way
    error,          // either way
    // application messages, server -> bot
    dm_send,
    roles_apply,
    command_result,
    announce,
    // application messages, bot -> server
    dm_result,
    command,
    member_update,
    roles_result,
    announce_result,
};

enum class Side { server, bot };

// "dm.send" for MessageType::dm_send; the names on the wire.
[[nodiscard]] std::string_view type_name(MessageType type);
[[nodiscard]] std::optional<MessageType> type_from_name(std::string_view name);
// Application messages carry a seq and are acked, kept until acked and replayed after a reconnect.
[[nodiscard]] bool is_sequenced(MessageType type);
// The side that sends this type; nullopt when either side may.
[[nodiscard]] std::optional<Side> sender(MessageType type);
// bridge.unexpected_type when `receiver` must never receive this type (a bot sending dm.send).
[[nodiscard]] Status check_receivable(MessageType type, Side receiver);

// ---- control messages ----------------------------------------------------------------------------

struct Hello {
    std::string nonce;  // single-use, for this connection only (handshake.hpp)
    std::uint64_t heartbeat_ms = 0;
    std::int64_t server_time_ms = 0;
    bool operator==(const Hello&) const = default;
};

struct Resume {
    std::string session_id;
    std::uint64_t last_seq = 0;  // the last seq the bot received from the server in that session
    bool operator==(const Resume&) const = default;
};

struct Identify {
    std::string bot_id;
    std::int64_t ts_ms = 0;
    std::string mac;  // lowercase hex HMAC-SHA256, see handshake.hpp
    std::optional<Resume> resume;
    bool operator==(const Identify&) const = default;
};

struct Ready {
    std::string session_id;
    bool resumed = false;
    std::uint64_t resume_from = 0;  // the last seq the server received from the bot in this session
    bool operator==(const Ready&) const = default;
};

// The frame's `a` is the whole message.
struct Ack {
    bool operator==(const Ack&) const = default;
};
struct Heartbeat {
    bool operator==(const Heartbeat&) const = default;
};
struct HeartbeatAck {
    bool operator==(const HeartbeatAck&) const = default;
};

struct ErrorMessage {
    std::string code;     // an error code, e.g. "bridge.out_of_order"
    std::string message;  // for the other side's log
    std::optional<std::uint64_t> ref_seq;
    bool operator==(const ErrorMessage&) const = default;
};

// ---- server -> bot -------------------------------------------------------------------------------

struct DmSend {
    std::string id;  // the DM's id: the bot delivers each id at most once
    std::string discord_user_id;
    std::string content;
    std::string nonce;  // Discord message nonce (enforce_nonce), stable across attempts
    std::uint64_t attempt = 1;
    bool operator==(const DmSend&) const = default;
};

struct RolesApply {
    std::string id;
    std::string discord_user_id;
    std::vector<std::string> add;     // role ids
    std::vector<std::string> remove;  // role ids
    std::string reason;               // for Discord's audit log
    bool operator==(const RolesApply&) const = default;
};

struct CommandResult {
    std::string ref;  // the interaction id of the command it answers
    std::string content;
    bool ephemeral = false;
    bool operator==(const CommandResult&) const = default;
};

struct Announce {
    std::string id;
    std::string channel_id;
    std::string content;
    std::optional<std::string> message_id;  // present: edit that message instead of posting
    bool operator==(const Announce&) const = default;
};

// ---- bot -> server -------------------------------------------------------------------------------

enum class DmStatus { delivered, failed };

struct DmResult {
    std::string id;
    DmStatus status = DmStatus::delivered;
    std::optional<std::string> message_id;
    std::optional<std::int64_t> discord_code;  // Discord's JSON error code, e.g. 50007 (DMs closed)
    std::optional<std::uint64_t> retry_after_ms;
    std::optional<std::string> error;
    bool operator==(const DmResult&) const = default;
};

// A slash command option: Discord sends strings (also ids), integers, numbers and booleans.
using OptionValue = std::variant<std::string, std::int64_t, double, bool>;

struct Command {
    std::string ref;  // the interaction id; command.result answers it
    std::string guild_id;
    std::string discord_user_id;
    std::string username;
    std::string locale;
    std::string name;
    std::map<std::string, OptionValue> options;
    bool operator==(const Command&) const = default;
};

struct MemberUpdate {
    std::string discord_user_id;
    std::string username;
    std::optional<std::string> nick;
    std::vector<std::string> roles;
    bool removed = false;  // left the guild
    bool operator==(const MemberUpdate&) const = default;
};

struct RolesResult {
    std::string id;
    bool ok = false;
    std::optional<std::string> error;
    bool operator==(const RolesResult&) const = default;
};

struct AnnounceResult {
    std::string id;
    std::optional<std::string> message_id;
    std::optional<std::string> error;
    bool operator==(const AnnounceResult&) const = default;
};

// Alternative i is MessageType(i).
using Message =
    std::variant<Hello, Identify, Ready, Ack, Heartbeat, HeartbeatAck, ErrorMessage, DmSend, RolesApply,
                 CommandResult, Announce, DmResult, Command, MemberUpdate, RolesResult, AnnounceResult>;

[[nodiscard]] MessageType type_of(const Message& message);

struct Frame {
    std::uint64_t seq = 0;             // > 0 on application messages, 0 (absent) on control frames
    std::optional<std::uint64_t> ack;  // `a`
    Message message;

    [[nodiscard]] MessageType type() const { return type_of(message); }
    bool operator==(const Frame&) const = default;
};

struct DecodeOptions {
    std::size_t max_frame_bytes = default_max_frame_bytes;
};

// One text frame -> a Frame, or bridge.too_large / bridge.malformed (args: field, e.g. "d.content")
// / bridge.unknown_type (args: type).
[[nodiscard]] Result<Frame> decode(std::string_view text, const DecodeOptions& options = {});
// The frame as JSON text; decode(encode(f)) == f for every frame decode() returns.
[[nodiscard]] std::string encode(const Frame& frame);

// The `d` object of a message, and back (bridge.malformed naming the field); encode()/decode() use
// them, and they let a caller keep a message as JSON (a queue entry) without a frame around it.
[[nodiscard]] boost::json::object to_json(const Message& message);
[[nodiscard]] Result<Message> from_json(MessageType type, const boost::json::object& data);

// The error frame's payload for an error this side found in what the peer sent.
[[nodiscard]] ErrorMessage error_message(const Error& error, std::optional<std::uint64_t> ref_seq = {});

}  // namespace pitwall::bridge
