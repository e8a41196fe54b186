#include "features/bot/bridge_server.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include <boost/json.hpp>

#include "core/log.hpp"
#include "core/random.hpp"
#include "features/identity/users.hpp"
#include "features/notify/dm_queue.hpp"
#include "platform/bridge/handshake.hpp"
#include "platform/bridge/heartbeat.hpp"
#include "platform/bridge/link.hpp"
#include "platform/http/ws_endpoint.hpp"
#include "platform/store/kv.hpp"

namespace pitwall::bot {
namespace {

// Close codes of /bridge (docs/bridge.md, "Close codes").
constexpr int kCloseHandshakeFailed = 4001;
constexpr int kCloseNotIdentified = 4002;
constexpr int kCloseReplaced = 4003;
constexpr int kCloseSilent = 4004;

std::int64_t ms(SystemTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string control(bridge::Message message) {
    return bridge::encode(bridge::Frame{.seq = 0, .ack = std::nullopt, .message = std::move(message)});
}

}  // namespace

class BridgeConnection;

// One bot session: survives its socket for resume_window.
struct Session {
    explicit Session(bridge::LinkOptions options) : link(options) {}
    bridge::Link link;
    std::string bot_id;
    std::shared_ptr<http::WsChannel> channel;  // null while disconnected
    std::int64_t connected_since_ms = 0;
    std::optional<std::int64_t> disconnected_at_ms;
    std::set<std::string> dms_in_flight;           // DM ids handed over, no result yet
    std::map<std::string, std::string> bot_items;  // roles.apply/announce id -> KV queue item
};

struct BridgeServer::State : std::enable_shared_from_this<BridgeServer::State> {
    BridgeOptions options;
    const Clock& clock;
    notify::DmQueue& dms;
    store::Kv& kv;
    identity::Users& users;
    CommandHandler& commands;
    http::WsHub* hub;

    mutable std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    std::thread dispatcher;
    std::map<std::string, std::shared_ptr<Session>> sessions;  // by session id
    std::shared_ptr<Session> active;
    std::uint64_t sessions_started = 0;
    std::uint64_t resumes = 0;
    std::function<void(const bridge::AnnounceResult&)> announce_callback;
    std::function<void(std::int64_t)> member_callback;
    // Open connections, for the dispatcher's identify and heartbeat timeouts.
    std::mutex connections_mutex;
    std::vector<std::weak_ptr<BridgeConnection>> connections;

    State(BridgeOptions o, const Clock& c, notify::DmQueue& d, store::Kv& k, identity::Users& u,
          CommandHandler& h, http::WsHub* w)
        : options(std::move(o)), clock(c), dms(d), kv(k), users(u), commands(h), hub(w) {}

    [[nodiscard]] bridge::LinkOptions link_options() const {
        return {.max_unacked = options.max_unacked, .max_frame_bytes = options.max_frame_bytes};
    }

    void publish_status() {
        if (!hub) return;
        BridgeStatus s;
        {
            std::lock_guard lock(mutex);
            s = status_locked();
        }
        boost::json::object o{{"type", "bot"},
                              {"connected", s.connected},
                              {"bot_id", s.bot_id},
                              {"in_flight", s.dms_in_flight}};
        hub->broadcast(kBotStatusTopic, boost::json::serialize(o));
    }

    [[nodiscard]] BridgeStatus status_locked() const {
        BridgeStatus s;
        s.sessions_started = sessions_started;
        s.resumes = resumes;
        if (active && active->channel) {
            s.connected = true;
            s.bot_id = active->bot_id;
            s.session_id = active->link.session_id();
            s.connected_since_ms = active->connected_since_ms;
            s.dms_in_flight = active->dms_in_flight.size();
        }
        return s;
    }

    // A session that can no longer be resumed: what it had in flight goes back to the queues.
    void retire(const std::shared_ptr<Session>& session, std::vector<std::string>& dms_back,
                std::vector<std::string>& items_back) {
        dms_back.insert(dms_back.end(), session->dms_in_flight.begin(), session->dms_in_flight.end());
        for (const auto& [id, item] : session->bot_items) items_back.push_back(item);
        session->dms_in_flight.clear();
        session->bot_items.clear();
        sessions.erase(session->link.session_id());
    }

    void give_back(const std::vector<std::string>& dms_back, const std::vector<std::string>& items_back) {
        if (!dms_back.empty()) {
            if (auto released = dms.release(dms_back); !released)
                log::warn("bridge: {} DM(s) not released: {}", dms_back.size(), released.error().detail);
            else
                log::info("bridge: {} DM(s) of an ended session back in the queue", dms_back.size());
        }
        for (const auto& item : items_back) (void)kv.nack(kBotQueue, item, std::chrono::milliseconds(0));
    }

    // Sends an application message on the active session. Returns false when there is no session or
    // the link refuses (backpressure): the caller gives the work back to its queue.
    bool send_locked(Session& session, bridge::Message message) {
        if (!session.channel) return false;
        auto out = session.link.send(std::move(message));
        if (!out) return false;
        session.channel->send(out->text);
        return true;
    }

    void run_dispatcher();
    void dispatch_dms();
    void dispatch_bot_queue();
    void housekeeping();
};

class BridgeConnection final : public http::WsSession {
  public:
    BridgeConnection(std::shared_ptr<BridgeServer::State> state, std::shared_ptr<http::WsChannel> channel)
        : state_(std::move(state)),
          channel_(std::move(channel)),
          nonce_(bridge::make_nonce()),
          opened_ms_(ms(state_->clock.now())),
          monitor_(state_->clock, state_->options.heartbeat) {
        channel_->send_text(control(
            bridge::Hello{.nonce = nonce_,
                          .heartbeat_ms = static_cast<std::uint64_t>(state_->options.heartbeat.count()),
                          .server_time_ms = opened_ms_}));
    }

    void on_text(std::string_view text) override;
    void on_close() override;

    // The dispatcher's checks: a connection that never identifies, or goes silent, is dropped.
    [[nodiscard]] bool overdue() const {
        std::lock_guard lock(state_->mutex);
        if (!session_) return ms(state_->clock.now()) - opened_ms_ > state_->options.identify_timeout.count();
        return monitor_.silent();
    }
    [[nodiscard]] bool identified() const {
        std::lock_guard lock(state_->mutex);
        return session_ != nullptr;
    }
    http::WsChannel& channel() { return *channel_; }

  private:
    // An error frame, carrying the link's ack once there is a session (the peer replays after it).
    void send_error(const Error& error, std::optional<std::uint64_t> ref_seq = {}) {
        std::optional<std::uint64_t> ack;
        {
            std::lock_guard lock(state_->mutex);
            if (session_) ack = session_->link.last_received();
        }
        channel_->send_text(bridge::encode(
            bridge::Frame{.seq = 0, .ack = ack, .message = bridge::error_message(error, ref_seq)}));
    }
    void identify(const bridge::Identify& identify);
    void handle(const bridge::Frame& frame);

    std::shared_ptr<BridgeServer::State> state_;
    std::shared_ptr<http::WsChannel> channel_;
    std::string nonce_;     // cleared by the first identify, whatever its outcome: single use
    bool closing_ = false;  // a refused handshake: nothing more is handled on this connection
    std::int64_t opened_ms_;
    bridge::HeartbeatMonitor monitor_;  // guarded by state_->mutex
    std::shared_ptr<Session> session_;  // guarded by state_->mutex; set once identified
};

void BridgeConnection::on_text(std::string_view text) {
    if (closing_) return;  // on_text calls of one connection never overlap (WsEndpoint::blocking)
    auto frame = bridge::decode(text, {.max_frame_bytes = state_->options.max_frame_bytes});
    if (!frame) return send_error(frame.error());  // malformed, oversized, unknown type: nothing changes
    if (auto receivable = bridge::check_receivable(frame->type(), bridge::Side::server); !receivable)
        return send_error(receivable.error(), frame->seq ? std::optional(frame->seq) : std::nullopt);
    {
        std::lock_guard lock(state_->mutex);
        monitor_.heard();
    }
    if (!identified()) {
        if (const auto* hello = std::get_if<bridge::Identify>(&frame->message)) return identify(*hello);
        send_error(Error(ErrorKind::unauthorized, "bridge.not_identified"));
        closing_ = true;
        channel_->close(kCloseNotIdentified, "identify first");
        return;
    }
    handle(*frame);
}

void BridgeConnection::identify(const bridge::Identify& identify) {
    auto& s = *state_;
    const auto now = ms(s.clock.now());
    const std::string nonce = std::exchange(nonce_, std::string());  // single use, whatever the outcome
    if (auto verified =
            bridge::verify(s.options.secret, nonce, identify, now, s.options.handshake_skew.count());
        !verified) {
        log::warn("bridge: handshake refused for bot '{}': {}", identify.bot_id, verified.error().code);
        send_error(verified.error());
        closing_ = true;
        channel_->close(kCloseHandshakeFailed, verified.error().code);
        return;
    }

    std::vector<std::string> dms_back, items_back;
    std::vector<bridge::Outbound> replay;
    std::shared_ptr<http::WsChannel> replaced;
    bridge::Ready ready;
    {
        std::lock_guard lock(s.mutex);
        std::shared_ptr<Session> session;
        if (identify.resume) {
            auto found = s.sessions.find(identify.resume->session_id);
            if (found != s.sessions.end() && found->second->bot_id == identify.bot_id &&
                identify.resume->last_seq <= found->second->link.last_sent()) {
                session = found->second;
                (void)session->link.on_ack(identify.resume->last_seq);
                replay = session->link.replay_after(identify.resume->last_seq);
                ++s.resumes;
                ready.resumed = true;
            }
        }
        if (!session) {
            session = std::make_shared<Session>(s.link_options());
            session->link.reset(bridge::make_session_id());
            session->bot_id = identify.bot_id;
            s.sessions[session->link.session_id()] = session;
            ++s.sessions_started;
        }
        // The previous active session: replaced by this one. If it is not this session resumed, its
        // in-flight work can never be acknowledged any more.
        if (s.active && s.active != session) {
            replaced = s.active->channel;
            s.active->channel.reset();
            s.retire(s.active, dms_back, items_back);
        }
        if (session->channel && session->channel != channel_) replaced = session->channel;
        session->channel = channel_;
        session->connected_since_ms = now;
        session->disconnected_at_ms.reset();
        s.active = session;
        session_ = session;
        ready.session_id = session->link.session_id();
        ready.resume_from = session->link.last_received();
    }
    if (replaced) replaced->close(kCloseReplaced, "replaced by a newer connection");
    channel_->send_text(control(ready));
    for (const auto& frame : replay) channel_->send(frame.text);
    s.give_back(dms_back, items_back);
    log::info("bridge: bot '{}' {} session {} ({} frame(s) replayed)", identify.bot_id,
              ready.resumed ? "resumed" : "started", ready.session_id, replay.size());
    s.publish_status();
    s.wake.notify_all();
}

void BridgeConnection::handle(const bridge::Frame& frame) {
    auto& s = *state_;
    std::shared_ptr<Session> session;
    bridge::Receive received{};
    {
        std::lock_guard lock(s.mutex);
        session = session_;
        if (std::holds_alternative<bridge::Identify>(frame.message)) {
            channel_->send_text(bridge::encode(bridge::Frame{
                .seq = 0,
                .ack = session->link.last_received(),
                .message = bridge::error_message(Error(ErrorKind::conflict, "bridge.already_identified"))}));
            return;
        }
        if (std::holds_alternative<bridge::Heartbeat>(frame.message)) {
            channel_->send_text(control(bridge::HeartbeatAck{}));
            if (frame.ack) (void)session->link.on_ack(*frame.ack);
            return;
        }
        auto result = session->link.receive(frame);
        if (!result) {
            const auto ref = frame.seq ? std::optional(frame.seq) : std::nullopt;
            channel_->send_text(
                bridge::encode(bridge::Frame{.seq = 0,
                                             .ack = session->link.last_received(),
                                             .message = bridge::error_message(result.error(), ref)}));
            return;
        }
        // The bot refused one of our frames (a gap on its side): send again what it has not acknowledged.
        if (const auto* error = std::get_if<bridge::ErrorMessage>(&frame.message)) {
            log::warn("bridge: bot reports {}: {}", error->code, error->message);
            if (error->code == "bridge.out_of_order" && frame.ack)
                for (const auto& out : session->link.replay_after(*frame.ack)) channel_->send(out.text);
            return;
        }
        received = *result;
        if (received == bridge::Receive::duplicate) {
            channel_->send_text(session->link.ack_frame());
            return;
        }
        if (received == bridge::Receive::out_of_order) {
            channel_->send_text(bridge::encode(bridge::Frame{
                .seq = 0,
                .ack = session->link.last_received(),
                .message = bridge::error_message(session->link.out_of_order(frame.seq), frame.seq)}));
            return;
        }
        if (!bridge::is_sequenced(frame.type())) return;  // ack, heartbeat_ack, error: nothing more
    }

    // A delivered application message: act on it outside the lock (stores), then acknowledge.
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, bridge::DmResult>) {
                notify::DmOutcome outcome;
                outcome.id = m.id;
                outcome.delivered = m.status == bridge::DmStatus::delivered;
                outcome.message_id = m.message_id.value_or("");
                outcome.discord_code = static_cast<int>(m.discord_code.value_or(0));
                outcome.error = m.error.value_or("");
                if (m.retry_after_ms) outcome.retry_after = std::chrono::milliseconds(*m.retry_after_ms);
                if (auto done = s.dms.complete(outcome); !done)
                    log::warn("bridge: dm {} result not recorded: {}", m.id, done.error().detail);
                std::lock_guard lock(s.mutex);
                session->dms_in_flight.erase(m.id);
                s.wake.notify_all();
            } else if constexpr (std::is_same_v<T, bridge::Command>) {
                // A command the bot sends again after a reconnect is answered, not executed twice.
                auto first = s.kv.set_if_absent("pw:bridge:command:" + m.ref, "1", std::chrono::minutes(15));
                bridge::CommandResult reply;
                if (first && !*first) {
                    reply = bridge::CommandResult{.ref = m.ref, .content = {}, .ephemeral = true};
                } else {
                    reply = s.commands.handle(m);
                }
                std::lock_guard lock(s.mutex);
                if (!s.send_locked(*session, reply)) log::warn("bridge: reply to command {} not sent", m.ref);
            } else if constexpr (std::is_same_v<T, bridge::MemberUpdate>) {
                identity::GuildMembership membership{
                    .member = !m.removed, .nickname = m.nick.value_or(""), .role_ids = m.roles};
                auto change = s.users.apply_member_update(m.discord_user_id, membership);
                if (!change) {
                    log::warn("bridge: member update for {} failed: {}", m.discord_user_id,
                              change.error().detail);
                } else if (*change) {
                    if ((*change)->role_before != (*change)->role_after)
                        log::info("bridge: member {} is now {} (was {})", (*change)->user_id,
                                  (*change)->role_after, (*change)->role_before);
                    if (s.member_callback) s.member_callback((*change)->user_id);
                }
            } else if constexpr (std::is_same_v<T, bridge::RolesResult> ||
                                 std::is_same_v<T, bridge::AnnounceResult>) {
                std::string item;
                {
                    std::lock_guard lock(s.mutex);
                    if (auto found = session->bot_items.find(m.id); found != session->bot_items.end()) {
                        item = found->second;
                        session->bot_items.erase(found);
                    }
                }
                if (!item.empty()) (void)s.kv.ack(kBotQueue, item);
                if constexpr (std::is_same_v<T, bridge::RolesResult>) {
                    if (!m.ok) log::warn("bridge: roles change {} failed: {}", m.id, m.error.value_or(""));
                } else if (s.announce_callback) {
                    s.announce_callback(m);
                }
            }
        },
        frame.message);
    std::lock_guard lock(s.mutex);
    channel_->send_text(session->link.ack_frame());
}

void BridgeConnection::on_close() {
    auto& s = *state_;
    {
        std::lock_guard lock(s.mutex);
        if (session_ && session_->channel == channel_) {
            session_->channel.reset();
            session_->disconnected_at_ms = ms(s.clock.now());
            log::info("bridge: bot '{}' disconnected; session {} resumable for {} s", session_->bot_id,
                      session_->link.session_id(), s.options.resume_window.count() / 1000);
        }
    }
    s.publish_status();
}

void BridgeServer::State::run_dispatcher() {
    while (true) {
        {
            std::unique_lock lock(mutex);
            if (stopping) return;
        }
        housekeeping();
        dispatch_dms();
        dispatch_bot_queue();
        std::unique_lock lock(mutex);
        if (stopping) return;
        const bool room =
            active && active->channel && active->dms_in_flight.size() < options.dm_in_flight_max;
        wake.wait_for(lock, room ? options.poll : options.poll * 4);
    }
}

void BridgeServer::State::housekeeping() {
    std::vector<std::shared_ptr<BridgeConnection>> overdue;
    {
        std::lock_guard lock(connections_mutex);
        std::erase_if(connections, [](const auto& weak) { return weak.expired(); });
        for (const auto& weak : connections)
            if (auto c = weak.lock(); c && c->overdue()) overdue.push_back(std::move(c));
    }
    for (auto& c : overdue) {
        log::warn("bridge: dropping a connection that {}",
                  c->identified() ? "went silent" : "never identified");
        c->channel().close(c->identified() ? kCloseSilent : kCloseNotIdentified, "timeout");
        c->channel().abort();
    }
    std::vector<std::string> dms_back, items_back;
    {
        std::lock_guard lock(mutex);
        const auto now = ms(clock.now());
        std::vector<std::shared_ptr<Session>> expired;
        for (const auto& [id, session] : sessions)
            if (session->disconnected_at_ms &&
                now - *session->disconnected_at_ms > options.resume_window.count())
                expired.push_back(session);
        for (const auto& session : expired) {
            if (active == session) active.reset();
            retire(session, dms_back, items_back);
        }
    }
    give_back(dms_back, items_back);
}

void BridgeServer::State::dispatch_dms() {
    std::size_t room = 0;
    {
        std::lock_guard lock(mutex);
        if (!active || !active->channel) return;
        const auto used = active->dms_in_flight.size();
        room = used < options.dm_in_flight_max ? options.dm_in_flight_max - used : 0;
        room = std::min(room, options.max_unacked / 2 > active->link.unacked()
                                  ? options.max_unacked / 2 - active->link.unacked()
                                  : std::size_t{0});
    }
    if (room == 0) return;
    auto claimed = dms.claim(room);
    if (!claimed) {
        log::warn("bridge: DM queue unavailable: {}", claimed.error().detail);
        return;
    }
    std::vector<std::string> back;
    {
        std::lock_guard lock(mutex);
        for (auto& dm : *claimed) {
            const bool sent =
                active &&
                send_locked(*active, bridge::DmSend{.id = dm.id,
                                                    .discord_user_id = dm.discord_user_id,
                                                    .content = std::move(dm.content),
                                                    .nonce = dm.id,
                                                    .attempt = static_cast<std::uint64_t>(dm.attempt)});
            if (sent)
                active->dms_in_flight.insert(dm.id);
            else
                back.push_back(dm.id);
        }
    }
    if (!back.empty()) (void)dms.release(back);
}

void BridgeServer::State::dispatch_bot_queue() {
    {
        std::lock_guard lock(mutex);
        if (!active || !active->channel) return;
    }
    auto items = kv.claim(kBotQueue, 16, std::chrono::minutes(2));
    if (!items) return;
    for (const auto& item : *items) {
        boost::system::error_code ec;
        auto parsed = boost::json::parse(item.payload, ec);
        const auto* o = parsed.if_object();
        const auto* type_name = o ? o->if_contains("t") : nullptr;
        const auto* data = o ? o->if_contains("d") : nullptr;
        std::optional<bridge::MessageType> type;
        if (type_name && type_name->is_string())
            type = bridge::type_from_name(std::string(type_name->as_string()));
        auto message = type && data && data->is_object()
                           ? bridge::from_json(*type, data->as_object())
                           : Result<bridge::Message>(Error(ErrorKind::invalid_input, "bridge.malformed"));
        if (!message) {
            log::warn("bridge: dropping an unreadable bot queue item");
            (void)kv.ack(kBotQueue, item.id);
            continue;
        }
        std::string id;
        if (const auto* roles = std::get_if<bridge::RolesApply>(&*message)) id = roles->id;
        if (const auto* announce = std::get_if<bridge::Announce>(&*message)) id = announce->id;
        std::lock_guard lock(mutex);
        if (active && send_locked(*active, std::move(*message)))
            active->bot_items[id] = item.id;
        else
            (void)kv.nack(kBotQueue, item.id, std::chrono::seconds(1));
    }
}

BridgeServer::BridgeServer(BridgeOptions options, const Clock& clock, notify::DmQueue& dms, store::Kv& kv,
                           identity::Users& users, CommandHandler& commands, http::WsHub* hub)
    : state_(std::make_shared<State>(std::move(options), clock, dms, kv, users, commands, hub)) {}

BridgeServer::~BridgeServer() {
    stop();
}

http::WsEndpoint BridgeServer::endpoint() {
    std::weak_ptr<State> weak = state_;
    return http::WsEndpoint{.open = [weak](std::shared_ptr<http::WsChannel> channel,
                                           const http::Request&) -> std::shared_ptr<http::WsSession> {
                                auto state = weak.lock();
                                if (!state) return nullptr;
                                auto connection =
                                    std::make_shared<BridgeConnection>(state, std::move(channel));
                                std::lock_guard lock(state->connections_mutex);
                                state->connections.push_back(connection);
                                return connection;
                            },
                            .blocking = true,
                            // Frames up to 64 KiB above the bridge's limit reach decode() and get a
                            // bridge.too_large error frame; beyond that the socket layer closes with 1009.
                            .max_message_bytes = state_->options.max_frame_bytes + 64 * 1024};
}

void BridgeServer::start() {
    if (state_->dispatcher.joinable()) return;
    state_->dispatcher = std::thread([state = state_] { state->run_dispatcher(); });
}

void BridgeServer::stop() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->wake.notify_all();
    if (state_->dispatcher.joinable()) state_->dispatcher.join();
}

namespace {
Status push_bot_message(store::Kv& kv, const bridge::Message& message) {
    boost::json::object envelope{{"t", bridge::type_name(bridge::type_of(message))},
                                 {"d", bridge::to_json(message)}};
    auto pushed = kv.push(kBotQueue, boost::json::serialize(envelope));
    if (!pushed) return pushed.error();
    return Status{};
}
}  // namespace

Status BridgeServer::apply_roles(std::string discord_user_id, std::vector<std::string> add,
                                 std::vector<std::string> remove, std::string reason) {
    auto status =
        push_bot_message(state_->kv, bridge::RolesApply{.id = random::token(16),
                                                        .discord_user_id = std::move(discord_user_id),
                                                        .add = std::move(add),
                                                        .remove = std::move(remove),
                                                        .reason = std::move(reason)});
    state_->wake.notify_all();
    return status;
}

Result<std::string> BridgeServer::announce(std::string channel_id, std::string content,
                                           std::optional<std::string> edit_message_id) {
    std::string id = random::token(16);
    auto status = push_bot_message(state_->kv, bridge::Announce{.id = id,
                                                                .channel_id = std::move(channel_id),
                                                                .content = std::move(content),
                                                                .message_id = std::move(edit_message_id)});
    state_->wake.notify_all();
    if (!status) return status.error();
    return id;
}

void BridgeServer::on_announce_result(std::function<void(const bridge::AnnounceResult&)> callback) {
    std::lock_guard lock(state_->mutex);
    state_->announce_callback = std::move(callback);
}

void BridgeServer::on_member_change(std::function<void(std::int64_t)> callback) {
    std::lock_guard lock(state_->mutex);
    state_->member_callback = std::move(callback);
}

BridgeStatus BridgeServer::status() const {
    std::lock_guard lock(state_->mutex);
    return state_->status_locked();
}

}  // namespace pitwall::bot
