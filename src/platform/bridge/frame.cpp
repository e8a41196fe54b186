#include "platform/bridge/frame.hpp"

#include <array>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include <boost/json.hpp>

namespace pitwall::bridge {

namespace json = boost::json;

namespace {

struct TypeInfo {
    MessageType type;
    std::string_view name;
    bool sequenced;
    std::optional<Side> sender;
};

// In MessageType order.
constexpr std::array<TypeInfo, std::variant_size_v<Message>> types = {{
    {MessageType::hello, "hello", false, Side::server},
    {MessageType::identify, "identify", false, Side::bot},
    {MessageType::ready, "ready", false, Side::server},
    {MessageType::ack, "ack", false, std::nullopt},
    {MessageType::heartbeat, "heartbeat", false, std::nullopt},
    {MessageType::heartbeat_ack, "heartbeat_ack", false, std::nullopt},
    {MessageType::error, "error", false, std::nullopt},
    {MessageType::dm_send, "dm.send", true, Side::server},
    {MessageType::roles_apply, "roles.apply", true, Side::server},
    {MessageType::command_result, "command.result", true, Side::server},
    {MessageType::announce, "announce", true, Side::server},
    {MessageType::dm_result, "dm.result", true, Side::bot},
    {MessageType::command, "command", true, Side::bot},
    {MessageType::member_update, "member.update", true, Side::bot},
    {MessageType::roles_result, "roles.result", true, Side::bot},
    {MessageType::announce_result, "announce.result", true, Side::bot},
}};

constexpr bool table_in_order() {
    for (std::size_t i = 0; i < types.size(); ++i)
        if (static_cast<std::size_t>(types[i].type) != i) return false;
    return true;
}
static_assert(table_in_order(), "types[] must follow MessageType and the Message variant");

const TypeInfo& info(MessageType type) {
    return types[static_cast<std::size_t>(type)];
}

// `field` is the path of the offending field ("d.resume.last_seq"), empty for the frame as a whole.
Error malformed(std::string_view type, std::string field, std::string_view why) {
    std::string detail = type.empty() ? std::string("frame") : std::string(type);
    detail += ": ";
    if (!field.empty()) detail += field + " ";
    detail += why;
    return Error(ErrorKind::invalid_input, "bridge.malformed", {{"field", std::move(field)}},
                 std::move(detail));
}

// Reads the fields of one JSON object strictly. The first problem is kept and names the field by its
// path ("d.resume.session_id"); after it, reads return empty values and the caller returns the error.
class Reader {
  public:
    Reader(const json::object& object, std::string_view type, std::string prefix)
        : object_(object), type_(type), prefix_(std::move(prefix)) {}

    [[nodiscard]] bool failed() const { return error_.has_value(); }
    [[nodiscard]] Error error() && { return std::move(*error_); }

    // A string; `id` strings must not be empty.
    std::string text(std::string_view name) { return optional_text(name, true).value_or(std::string()); }
    std::string id(std::string_view name) {
        auto value = text(name);
        if (!failed() && value.empty()) fail(name, "is empty");
        return value;
    }
    std::optional<std::string> optional_text(std::string_view name, bool required = false) {
        const json::value* v = field(name, required);
        if (!v) return std::nullopt;
        if (!v->is_string()) {
            fail(name, "is not a string");
            return std::nullopt;
        }
        return std::string(v->get_string());
    }

    // A JSON integer in [0, max]; doubles (1.0, 1e3) are refused.
    std::uint64_t count(std::string_view name, std::uint64_t max = max_seq) {
        return optional_count(name, max, true).value_or(0);
    }
    std::optional<std::uint64_t> optional_count(std::string_view name, std::uint64_t max = max_seq,
                                                bool required = false) {
        const json::value* v = field(name, required);
        if (!v) return std::nullopt;
        std::optional<std::uint64_t> n;
        if (v->is_uint64()) n = v->get_uint64();
        if (v->is_int64() && v->get_int64() >= 0) n = static_cast<std::uint64_t>(v->get_int64());
        if (!n || *n > max) {
            fail(name, "is not an integer from 0 to " + std::to_string(max));
            return std::nullopt;
        }
        return n;
    }

    std::int64_t integer(std::string_view name) { return optional_integer(name, true).value_or(0); }
    std::optional<std::int64_t> optional_integer(std::string_view name, bool required = false) {
        const json::value* v = field(name, required);
        if (!v) return std::nullopt;
        if (v->is_int64()) return v->get_int64();
        if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
            return static_cast<std::int64_t>(v->get_uint64());
        fail(name, "is not a 64-bit integer");
        return std::nullopt;
    }

    bool boolean(std::string_view name) { return boolean_or(name, false, true); }
    bool boolean_or(std::string_view name, bool fallback, bool required = false) {
        const json::value* v = field(name, required);
        if (!v) return fallback;
        if (!v->is_bool()) {
            fail(name, "is not a boolean");
            return fallback;
        }
        return v->get_bool();
    }

    // An array of non-empty strings; absent = empty.
    std::vector<std::string> ids(std::string_view name) {
        std::vector<std::string> out;
        const json::value* v = field(name, false);
        if (!v) return out;
        if (!v->is_array()) {
            fail(name, "is not an array");
            return out;
        }
        const auto& array = v->get_array();
        out.reserve(array.size());
        for (std::size_t i = 0; i < array.size(); ++i) {
            if (!array[i].is_string() || array[i].get_string().empty()) {
                fail(std::string(name) + "[" + std::to_string(i) + "]", "is not a non-empty string");
                return {};
            }
            out.emplace_back(array[i].get_string());
        }
        return out;
    }

    const json::object* object(std::string_view name) {
        const json::value* v = field(name, false);
        if (!v) return nullptr;
        if (!v->is_object()) {
            fail(name, "is not an object");
            return nullptr;
        }
        return &v->get_object();
    }

    [[nodiscard]] std::string path(std::string_view name) const { return prefix_ + std::string(name); }

    void fail(std::string_view name, std::string_view why) {
        if (!error_) error_ = malformed(type_, path(name), why);
    }
    // The error of a Reader over a nested object (its paths already carry ours).
    void adopt(Error error) {
        if (!error_) error_ = std::move(error);
    }

  private:
    const json::value* field(std::string_view name, bool required) {
        if (failed()) return nullptr;
        const json::value* v = object_.if_contains(name);
        if (v && v->is_null()) v = nullptr;
        if (!v && required) fail(name, "is missing");
        return v;
    }

    const json::object& object_;
    std::string_view type_;
    std::string prefix_;
    std::optional<Error> error_;
};

// ---- one read() and one write() per message --------------------------------------------------------

void read(Reader& r, Hello& m) {
    m.nonce = r.id("nonce");
    m.heartbeat_ms = r.count("heartbeat_ms");
    m.server_time_ms = r.integer("server_time_ms");
}
void write(json::object& o, const Hello& m) {
    o["nonce"] = m.nonce;
    o["heartbeat_ms"] = m.heartbeat_ms;
    o["server_time_ms"] = m.server_time_ms;
}

void read(Reader& r, Identify& m) {
    m.bot_id = r.id("bot_id");
    m.ts_ms = r.integer("ts_ms");
    m.mac = r.id("mac");
    if (const json::object* resume = r.object("resume")) {
        Reader inner(*resume, "identify", r.path("resume."));
        Resume value;
        value.session_id = inner.id("session_id");
        value.last_seq = inner.count("last_seq");
        if (inner.failed()) return r.adopt(std::move(inner).error());
        m.resume = std::move(value);
    }
}
void write(json::object& o, const Identify& m) {
    o["bot_id"] = m.bot_id;
    o["ts_ms"] = m.ts_ms;
    o["mac"] = m.mac;
    if (m.resume) o["resume"] = {{"session_id", m.resume->session_id}, {"last_seq", m.resume->last_seq}};
}

void read(Reader& r, Ready& m) {
    m.session_id = r.id("session_id");
    m.resumed = r.boolean("resumed");
    m.resume_from = r.count("resume_from");
}
void write(json::object& o, const Ready& m) {
    o["session_id"] = m.session_id;
    o["resumed"] = m.resumed;
    o["resume_from"] = m.resume_from;
}

void read(Reader&, Ack&) {}
void write(json::object&, const Ack&) {}
void read(Reader&, Heartbeat&) {}
void write(json::object&, const Heartbeat&) {}
void read(Reader&, HeartbeatAck&) {}
void write(json::object&, const HeartbeatAck&) {}

void read(Reader& r, ErrorMessage& m) {
    m.code = r.id("code");
    m.message = r.text("message");
    m.ref_seq = r.optional_count("ref_seq");
}
void write(json::object& o, const ErrorMessage& m) {
    o["code"] = m.code;
    o["message"] = m.message;
    if (m.ref_seq) o["ref_seq"] = *m.ref_seq;
}

void read(Reader& r, DmSend& m) {
    m.id = r.id("id");
    m.discord_user_id = r.id("discord_user_id");
    m.content = r.text("content");
    m.nonce = r.id("nonce");
    m.attempt = r.count("attempt");
}
void write(json::object& o, const DmSend& m) {
    o["id"] = m.id;
    o["discord_user_id"] = m.discord_user_id;
    o["content"] = m.content;
    o["nonce"] = m.nonce;
    o["attempt"] = m.attempt;
}

json::array id_array(const std::vector<std::string>& ids) {
    json::array out;
    out.reserve(ids.size());
    for (const auto& id : ids) out.emplace_back(id);
    return out;
}

void read(Reader& r, RolesApply& m) {
    m.id = r.id("id");
    m.discord_user_id = r.id("discord_user_id");
    m.add = r.ids("add");
    m.remove = r.ids("remove");
    m.reason = r.optional_text("reason").value_or(std::string());
}
void write(json::object& o, const RolesApply& m) {
    o["id"] = m.id;
    o["discord_user_id"] = m.discord_user_id;
    o["add"] = id_array(m.add);
    o["remove"] = id_array(m.remove);
    o["reason"] = m.reason;
}

void read(Reader& r, CommandResult& m) {
    m.ref = r.id("ref");
    m.content = r.text("content");
    m.ephemeral = r.boolean_or("ephemeral", false);
}
void write(json::object& o, const CommandResult& m) {
    o["ref"] = m.ref;
    o["content"] = m.content;
    o["ephemeral"] = m.ephemeral;
}

void read(Reader& r, Announce& m) {
    m.id = r.id("id");
    m.channel_id = r.id("channel_id");
    m.content = r.text("content");
    m.message_id = r.optional_text("message_id");
}
void write(json::object& o, const Announce& m) {
    o["id"] = m.id;
    o["channel_id"] = m.channel_id;
    o["content"] = m.content;
    if (m.message_id) o["message_id"] = *m.message_id;
}

void read(Reader& r, DmResult& m) {
    m.id = r.id("id");
    const auto status = r.text("status");
    if (status == "delivered")
        m.status = DmStatus::delivered;
    else if (status == "failed")
        m.status = DmStatus::failed;
    else
        r.fail("status", "is neither \"delivered\" nor \"failed\"");
    m.message_id = r.optional_text("message_id");
    m.discord_code = r.optional_integer("discord_code");
    m.retry_after_ms = r.optional_count("retry_after_ms");
    m.error = r.optional_text("error");
}
void write(json::object& o, const DmResult& m) {
    o["id"] = m.id;
    o["status"] = m.status == DmStatus::delivered ? "delivered" : "failed";
    if (m.message_id) o["message_id"] = *m.message_id;
    if (m.discord_code) o["discord_code"] = *m.discord_code;
    if (m.retry_after_ms) o["retry_after_ms"] = *m.retry_after_ms;
    if (m.error) o["error"] = *m.error;
}

void read(Reader& r, Command& m) {
    m.ref = r.id("ref");
    m.guild_id = r.id("guild_id");
    m.discord_user_id = r.id("discord_user_id");
    m.username = r.text("username");
    m.locale = r.text("locale");
    m.name = r.id("name");
    const json::object* options = r.object("options");
    if (!options || r.failed()) return;
    for (const auto& [key, value] : *options) {
        const std::string name(key);
        if (value.is_string()) {
            m.options.emplace(name, std::string(value.get_string()));
        } else if (value.is_bool()) {
            m.options.emplace(name, value.get_bool());
        } else if (value.is_int64()) {
            m.options.emplace(name, value.get_int64());
        } else if (value.is_uint64() && value.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
            m.options.emplace(name, static_cast<std::int64_t>(value.get_uint64()));
        } else if (value.is_double() && std::isfinite(value.get_double())) {
            m.options.emplace(name, value.get_double());
        } else {
            r.fail("options." + name, "is not a string, a number or a boolean");
            return;
        }
    }
}
void write(json::object& o, const Command& m) {
    o["ref"] = m.ref;
    o["guild_id"] = m.guild_id;
    o["discord_user_id"] = m.discord_user_id;
    o["username"] = m.username;
    o["locale"] = m.locale;
    o["name"] = m.name;
    json::object options;
    for (const auto& [name, value] : m.options)
        std::visit([&, &key = name](const auto& v) { options[key] = v; }, value);
    o["options"] = std::move(options);
}

void read(Reader& r, MemberUpdate& m) {
    m.discord_user_id = r.id("discord_user_id");
    m.username = r.text("username");
    m.nick = r.optional_text("nick");
    m.roles = r.ids("roles");
    m.removed = r.boolean_or("removed", false);
}
void write(json::object& o, const MemberUpdate& m) {
    o["discord_user_id"] = m.discord_user_id;
    o["username"] = m.username;
    if (m.nick) o["nick"] = *m.nick;
    o["roles"] = id_array(m.roles);
    o["removed"] = m.removed;
}

void read(Reader& r, RolesResult& m) {
    m.id = r.id("id");
    m.ok = r.boolean("ok");
    m.error = r.optional_text("error");
}
void write(json::object& o, const RolesResult& m) {
    o["id"] = m.id;
    o["ok"] = m.ok;
    if (m.error) o["error"] = *m.error;
}

void read(Reader& r, AnnounceResult& m) {
    m.id = r.id("id");
    m.message_id = r.optional_text("message_id");
    m.error = r.optional_text("error");
}
void write(json::object& o, const AnnounceResult& m) {
    o["id"] = m.id;
    if (m.message_id) o["message_id"] = *m.message_id;
    if (m.error) o["error"] = *m.error;
}

// Reads alternative `index` of Message.
template <std::size_t I = 0>
Message read_alternative(std::size_t index, Reader& reader) {
    if constexpr (I < std::variant_size_v<Message>) {
        if (index != I) return read_alternative<I + 1>(index, reader);
        std::variant_alternative_t<I, Message> value;
        read(reader, value);
        return value;
    } else {
        return Message{};  // unreachable: index comes from a MessageType
    }
}

Result<Message> read_data(MessageType type, const json::object& data) {
    Reader reader(data, type_name(type), "d.");
    auto message = read_alternative(static_cast<std::size_t>(type), reader);
    if (reader.failed()) return std::move(reader).error();
    return message;
}

}  // namespace

std::string_view type_name(MessageType type) {
    return info(type).name;
}

std::optional<MessageType> type_from_name(std::string_view name) {
    for (const auto& entry : types)
        if (entry.name == name) return entry.type;
    return std::nullopt;
}

bool is_sequenced(MessageType type) {
    return info(type).sequenced;
}

std::optional<Side> sender(MessageType type) {
    return info(type).sender;
}

Status check_receivable(MessageType type, Side receiver) {
    const auto from = sender(type);
    if (!from || *from != receiver) return {};
    return Error(ErrorKind::invalid_input, "bridge.unexpected_type", {{"type", std::string(type_name(type))}},
                 std::string(type_name(type)) + " is never sent to the " +
                     (receiver == Side::server ? "server" : "bot"));
}

MessageType type_of(const Message& message) {
    return static_cast<MessageType>(message.index());
}

json::object to_json(const Message& message) {
    json::object data;
    std::visit([&](const auto& m) { write(data, m); }, message);
    return data;
}

Result<Message> from_json(MessageType type, const json::object& data) {
    return read_data(type, data);
}

std::string encode(const Frame& frame) {
    json::object o;
    const MessageType type = frame.type();
    o["t"] = type_name(type);
    if (frame.seq != 0) o["s"] = frame.seq;
    if (frame.ack) o["a"] = *frame.ack;
    auto data = to_json(frame.message);
    if (!data.empty()) o["d"] = std::move(data);
    return json::serialize(o);
}

Result<Frame> decode(std::string_view text, const DecodeOptions& options) {
    if (text.size() > options.max_frame_bytes)
        return Error(ErrorKind::too_large, "bridge.too_large",
                     {{"max", std::to_string(options.max_frame_bytes)}},
                     "frame of " + std::to_string(text.size()) + " bytes");

    json::parse_options parse_options;
    parse_options.max_depth = max_depth;
    json::monotonic_resource memory;
    boost::system::error_code ec;
    const json::value value = json::parse(text, ec, &memory, parse_options);
    if (ec) return Error(ErrorKind::invalid_input, "bridge.malformed", {}, "not JSON: " + ec.message());
    if (!value.is_object()) return malformed("", "", "is not a JSON object");
    const json::object& o = value.get_object();

    const json::value* t = o.if_contains("t");
    if (!t) return malformed("", "t", "is missing");
    if (!t->is_string()) return malformed("", "t", "is not a string");
    const std::string_view name = t->get_string();
    if (name.size() > max_type_length)
        return malformed("", "t", "is longer than " + std::to_string(max_type_length) + " characters");
    const auto type = type_from_name(name);
    if (!type)
        return Error(ErrorKind::invalid_input, "bridge.unknown_type", {{"type", std::string(name)}},
                     "unknown type \"" + std::string(name) + "\"");

    Frame frame;
    Reader envelope(o, name, "");
    const auto seq = envelope.optional_count("s");
    frame.ack = envelope.optional_count("a", max_seq, *type == MessageType::ack);
    const json::object* data = envelope.object("d");
    if (envelope.failed()) return std::move(envelope).error();
    if (is_sequenced(*type)) {
        if (!seq) return malformed(name, "s", "is missing");
        if (*seq == 0) return malformed(name, "s", "is 0; application messages start at 1");
        frame.seq = *seq;
    } else if (seq) {
        return malformed(name, "s", "is set on a control frame");
    }

    static const json::object empty;
    auto message = read_data(*type, data ? *data : empty);
    if (!message) return std::move(message).error();
    frame.message = std::move(*message);
    return frame;
}

ErrorMessage error_message(const Error& error, std::optional<std::uint64_t> ref_seq) {
    return ErrorMessage{error.code, error.detail.empty() ? error.code : error.detail, ref_seq};
}

}  // namespace pitwall::bridge
