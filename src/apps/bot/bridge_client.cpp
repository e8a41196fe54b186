#include "apps/bot/bridge_client.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "core/log.hpp"
#include "platform/bridge/handshake.hpp"
#include "platform/bridge/heartbeat.hpp"
#include "platform/bridge/link.hpp"
#include "platform/http/ws_client.hpp"

namespace pitwall::bot {
namespace {

std::int64_t ms(SystemTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string control(bridge::Message message, std::optional<std::uint64_t> ack = {}) {
    return bridge::encode(bridge::Frame{.seq = 0, .ack = ack, .message = std::move(message)});
}

}  // namespace

struct BridgeClient::Impl {
    BridgeClientOptions options;
    Callbacks callbacks;
    const Clock& clock;

    mutable std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    std::thread thread;

    // Guarded by mutex.
    bridge::Link link;
    std::unique_ptr<http::WsClient> ws;
    std::uint64_t generation = 0;  // which connection an incoming frame belongs to
    std::deque<std::pair<std::uint64_t, std::string>> inbox;
    std::optional<std::uint64_t> closed_generation;
    bool ready = false;
    std::optional<bridge::HeartbeatMonitor> heartbeat;
    BridgeClientStats stats;
    std::mt19937_64 rng{std::random_device{}()};

    Impl(BridgeClientOptions o, Callbacks c, const Clock& k)
        : options(std::move(o)),
          callbacks(std::move(c)),
          clock(k),
          link({.max_unacked = options.max_unacked, .max_frame_bytes = options.max_frame_bytes}) {}

    double jitter() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

    void run();
    bool connect(std::unique_lock<std::mutex>& lock);
    void handle(std::unique_lock<std::mutex>& lock, std::string_view text);
    void drop_connection(std::unique_lock<std::mutex>& lock);
};

BridgeClient::BridgeClient(BridgeClientOptions options, Callbacks callbacks, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(callbacks), clock)) {}

BridgeClient::~BridgeClient() {
    stop();
}

void BridgeClient::start() {
    if (impl_->thread.joinable()) return;
    impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void BridgeClient::stop() {
    std::unique_ptr<http::WsClient> ws;
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake.notify_all();
    if (impl_->thread.joinable()) impl_->thread.join();
    {
        std::lock_guard lock(impl_->mutex);
        ws = std::move(impl_->ws);
    }
    if (ws) ws->close(1000, "bot stopping");
}

Status BridgeClient::send(bridge::Message message) {
    std::lock_guard lock(impl_->mutex);
    auto out = impl_->link.send(std::move(message));
    if (!out) return out.error();
    // Not connected or not ready yet: the frame waits in the link and is replayed after ready.
    if (impl_->ws && impl_->ready) impl_->ws->send(*out->text);
    return Status{};
}

BridgeClientStats BridgeClient::stats() const {
    std::lock_guard lock(impl_->mutex);
    auto s = impl_->stats;
    s.connected = impl_->ready && impl_->ws != nullptr;
    return s;
}

bool BridgeClient::Impl::connect(std::unique_lock<std::mutex>& lock) {
    const std::uint64_t gen = ++generation;
    lock.unlock();
    http::WsClientOptions ws_options;
    ws_options.max_message_bytes = options.max_frame_bytes;
    ws_options.ca_file = options.ca_file;
    ws_options.user_agent = "pitwall-bot";
    auto client =
        http::WsClient::connect(options.url,
                                {.on_text =
                                     [this, gen](std::string_view text) {
                                         {
                                             std::lock_guard guard(mutex);
                                             inbox.emplace_back(gen, std::string(text));
                                         }
                                         wake.notify_all();
                                     },
                                 .on_close =
                                     [this, gen](int code, std::string_view reason) {
                                         log::info("bridge: connection closed ({} {})", code, reason);
                                         {
                                             std::lock_guard guard(mutex);
                                             closed_generation = gen;
                                         }
                                         wake.notify_all();
                                     }},
                                ws_options);
    lock.lock();
    if (!client) {
        log::warn("bridge: cannot connect to {}: {}", options.url, client.error().detail);
        return false;
    }
    ws = std::move(*client);
    ready = false;
    heartbeat.reset();
    ++stats.connects;
    return true;
}

void BridgeClient::Impl::drop_connection(std::unique_lock<std::mutex>& lock) {
    auto old = std::move(ws);
    const bool was_ready = ready;
    ready = false;
    heartbeat.reset();
    inbox.clear();
    closed_generation.reset();
    ++generation;  // frames still in flight from the old socket are ignored
    lock.unlock();
    if (old) old->abort();
    old.reset();  // joins its I/O thread outside the lock
    if (was_ready && callbacks.on_state) callbacks.on_state(false);
    lock.lock();
}

void BridgeClient::Impl::handle(std::unique_lock<std::mutex>& lock, std::string_view text) {
    auto frame = bridge::decode(text, {.max_frame_bytes = options.max_frame_bytes});
    if (!frame) {
        log::warn("bridge: unreadable frame from the server: {}", frame.error().code);
        return;
    }
    if (auto ok = bridge::check_receivable(frame->type(), bridge::Side::bot); !ok) {
        log::warn("bridge: unexpected {} from the server", bridge::type_name(frame->type()));
        return;
    }
    if (heartbeat) heartbeat->heard();
    if (const auto* hello = std::get_if<bridge::Hello>(&frame->message)) {
        std::optional<bridge::Resume> resume;
        if (!link.session_id().empty())
            resume = bridge::Resume{.session_id = link.session_id(), .last_seq = link.last_received()};
        heartbeat.emplace(clock,
                          std::chrono::milliseconds(std::max<std::uint64_t>(hello->heartbeat_ms, 100)));
        ws->send(
            control(bridge::make_identify(options.secret, *hello, options.bot_id, ms(clock.now()), resume)));
        return;
    }
    if (const auto* r = std::get_if<bridge::Ready>(&frame->message)) {
        std::vector<bridge::Outbound> replay;
        if (r->resumed && r->session_id == link.session_id()) {
            (void)link.on_ack(r->resume_from);
            replay = link.replay_after(r->resume_from);
            ++stats.resumes;
        } else {
            // A new session: what the server never acknowledged goes again, renumbered. Application
            // messages are idempotent by id, so a result the server did record is recognised there.
            link.renew(r->session_id);
            replay = link.replay_after(0);
            ++stats.sessions;
        }
        ready = true;
        for (const auto& out : replay) ws->send(*out.text);
        log::info("bridge: {} session {} ({} message(s) replayed)", r->resumed ? "resumed" : "new",
                  r->session_id, replay.size());
        lock.unlock();
        if (callbacks.on_state) callbacks.on_state(true);
        lock.lock();
        return;
    }
    if (const auto* error = std::get_if<bridge::ErrorMessage>(&frame->message)) {
        ++stats.errors;
        log::warn("bridge: server reports {}: {}", error->code, error->message);
        // The server refused one of our frames and is waiting at its ack: send the rest again.
        if (ready && error->code == "bridge.out_of_order" && frame->ack) {
            (void)link.on_ack(*frame->ack);
            for (const auto& out : link.replay_after(*frame->ack)) ws->send(*out.text);
        }
        return;
    }
    if (std::holds_alternative<bridge::HeartbeatAck>(frame->message)) {
        if (heartbeat) heartbeat->acked();
        if (frame->ack) (void)link.on_ack(*frame->ack);
        return;
    }
    if (!ready) return;
    auto received = link.receive(*frame);
    if (!received) {
        log::warn("bridge: {}", received.error().code);
        return;
    }
    if (*received == bridge::Receive::duplicate) {
        ++stats.duplicates;
        ws->send(link.ack_frame());
        return;
    }
    if (*received == bridge::Receive::out_of_order) {
        // A gap: the server replays everything after the ack this error frame carries.
        ws->send(bridge::encode(
            bridge::Frame{.seq = 0,
                          .ack = link.last_received(),
                          .message = bridge::error_message(link.out_of_order(frame->seq), frame->seq)}));
        return;
    }
    if (!bridge::is_sequenced(frame->type())) return;
    ++stats.received;
    ws->send(link.ack_frame());
    lock.unlock();
    if (callbacks.on_message) callbacks.on_message(frame->message);
    lock.lock();
}

void BridgeClient::Impl::run() {
    std::unique_lock lock(mutex);
    unsigned attempt = 0;
    while (!stopping) {
        if (!ws) {
            if (connect(lock)) {
                attempt = 0;
            } else {
                const auto delay =
                    bridge::reconnect_delay(attempt++, jitter(), options.min_backoff, options.max_backoff);
                wake.wait_for(lock, delay, [&] { return stopping; });
                continue;
            }
        }
        // Frames of this connection, in order.
        while (!inbox.empty() && !stopping) {
            auto [gen, text] = std::move(inbox.front());
            inbox.pop_front();
            if (gen == generation && ws) handle(lock, text);
        }
        if (stopping) break;
        if (closed_generation && *closed_generation == generation) {
            drop_connection(lock);
            const auto delay =
                bridge::reconnect_delay(attempt++, jitter(), options.min_backoff, options.max_backoff);
            wake.wait_for(lock, delay, [&] { return stopping; });
            continue;
        }
        if (heartbeat && ready) {
            if (heartbeat->missed()) {
                log::warn("bridge: no heartbeat_ack from the server: reconnecting");
                drop_connection(lock);
                continue;
            }
            if (heartbeat->due()) {
                ws->send(control(bridge::Heartbeat{}, link.last_received()));
                heartbeat->sent();
            }
        }
        const auto wait = heartbeat ? std::min<std::chrono::milliseconds>(heartbeat->until_due(),
                                                                          std::chrono::milliseconds(200))
                                    : std::chrono::milliseconds(200);
        wake.wait_for(lock, std::max(wait, std::chrono::milliseconds(1)),
                      [&] { return stopping || !inbox.empty() || closed_generation.has_value(); });
    }
}

}  // namespace pitwall::bot
