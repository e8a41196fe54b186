#include "integrations/discord/gateway.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "core/json.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "core/version.hpp"

namespace pitwall::integrations::discord {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

constexpr int op_dispatch = 0;
constexpr int op_heartbeat = 1;
constexpr int op_identify = 2;
constexpr int op_resume = 6;
constexpr int op_reconnect = 7;
constexpr int op_invalid_session = 9;
constexpr int op_hello = 10;
constexpr int op_heartbeat_ack = 11;

// Our own close code for every connection we give up on while keeping the session (zombie, op 7,
// op 9, no HELLO): anything but 1000/1001, which would end the session.
constexpr int close_keep_session = 4000;
// How long a connection we closed may take to finish its close handshake before it is dropped.
constexpr auto close_grace = std::chrono::seconds(2);

double os_random() {
    const auto raw = random::bytes(8);
    std::uint64_t v = 0;
    std::memcpy(&v, raw.data(), sizeof v);
    return static_cast<double>(v >> 11) * 0x1.0p-53;  // [0,1)
}

milliseconds until(SystemTime from, SystemTime to) {
    if (to <= from) return milliseconds(0);
    return std::chrono::ceil<milliseconds>(to - from);
}

milliseconds scaled(milliseconds base, double factor) {
    return milliseconds(static_cast<std::int64_t>(std::llround(static_cast<double>(base.count()) * factor)));
}

std::string with_query(const std::string& url) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "v=10&encoding=json";
}

}  // namespace

std::string_view close_code_meaning(int code) {
    switch (code) {
        case 1000:
            return "normal closure";
        case 1001:
            return "going away";
        case 1006:
            return "connection dropped";
        case 4000:
            return "unknown error";
        case 4001:
            return "unknown opcode";
        case 4002:
            return "decode error";
        case 4003:
            return "not authenticated";
        case 4004:
            return "authentication failed";
        case 4005:
            return "already authenticated";
        case 4007:
            return "invalid seq";
        case 4008:
            return "rate limited";
        case 4009:
            return "session timed out";
        case 4010:
            return "invalid shard";
        case 4011:
            return "sharding required";
        case 4012:
            return "invalid API version";
        case 4013:
            return "invalid intent(s)";
        case 4014:
            return "disallowed intent(s)";
        default:
            return "unknown close code";
    }
}

bool is_fatal_close_code(int code) {
    return code == 4004 || code == 4010 || code == 4011 || code == 4012 || code == 4013 || code == 4014;
}

struct Gateway::Impl {
    enum class Phase {
        waiting,    // until connect_at, then connect
        hello,      // connected, waiting for HELLO
        handshake,  // IDENTIFY or RESUME sent
        running,    // READY or RESUMED
        fatal,      // a fatal close code: nothing more until stop()
    };

    struct Event {
        std::uint64_t connection = 0;
        bool closed = false;
        std::string text;
        int code = 0;
        std::string reason;
    };

    struct Retiring {
        std::uint64_t connection;
        std::unique_ptr<http::WsClient> ws;
        Steady::time_point deadline;
    };

    Impl(GatewayOptions o, GatewayCallbacks c, const Clock& clk, std::function<double()> r)
        : options(std::move(o)), callbacks(std::move(c)), clock(clk), random(std::move(r)) {
        if (!random) random = os_random;
        if (!options.connector) {
            const auto timeout = options.connect_timeout;
            options.connector = [timeout](const std::string& url, http::WsClient::Handlers handlers) {
                http::WsClientOptions ws_options;
                ws_options.connect_timeout = timeout;
                ws_options.user_agent =
                    std::string("DiscordBot (https://github.com/pitwall, ") + pitwall::version + ")";
                return http::WsClient::connect(url, std::move(handlers), ws_options);
            };
        }
    }

    GatewayOptions options;
    GatewayCallbacks callbacks;
    const Clock& clock;
    std::function<double()> random;

    // Shared with the WebSocket I/O threads and callers.
    mutable std::mutex mutex;
    std::condition_variable wake;
    std::deque<Event> events;
    std::deque<std::string> outbox;  // serialized payloads from send()
    bool started = false;
    bool stopping = false;
    std::thread thread;
    GatewayStats published;  // stats, as the gateway thread last wrote them
    GatewaySession published_session;
    bool published_connected = false;

    // Gateway thread only.
    Phase phase = Phase::waiting;
    std::unique_ptr<http::WsClient> ws;
    std::uint64_t connection = 0;
    std::vector<Retiring> retiring;
    SystemTime connect_at{};
    bool resume_next = false;
    SystemTime phase_deadline{};  // hello / handshake: reconnect when it passes
    std::optional<SystemTime> next_heartbeat;
    bool awaiting_ack = false;
    milliseconds interval{41'250};
    GatewaySession session;
    std::optional<std::int64_t> sequence;
    int failures = 0;                   // consecutive connections that did not reach READY/RESUMED
    std::deque<SystemTime> sent_times;  // this connection's sends within send_window

    template <typename F>
    void update(F&& f) {
        std::lock_guard lock(mutex);
        f(published);
    }

    void set_connected(bool value) {
        std::lock_guard lock(mutex);
        published_connected = value;
    }

    void push(std::uint64_t id, bool closed, std::string_view text, int code, std::string_view reason) {
        {
            std::lock_guard lock(mutex);
            events.push_back({id, closed, std::string(text), code, std::string(reason)});
        }
        wake.notify_all();
    }

    // ---- the loop ------------------------------------------------------------------------------

    void run() {
        schedule_connect(false, clock.now());
        for (;;) {
            std::deque<Event> batch;
            {
                std::unique_lock lock(mutex);
                if (events.empty() && !stopping) wake.wait_for(lock, next_wait());
                if (stopping) break;
                batch.swap(events);
            }
            for (auto& event : batch) handle(event);
            on_timers();
            flush_outbox();
            reap_retiring(false);
        }
        shutdown();
    }

    // Real time to wait for the next timer (called with `mutex` held; reads gateway-thread state).
    milliseconds next_wait() const {
        const auto now = clock.now();
        std::optional<SystemTime> due;
        auto consider = [&](SystemTime t) { due = due ? std::min(*due, t) : t; };
        switch (phase) {
            case Phase::waiting:
                consider(connect_at);
                break;
            case Phase::hello:
            case Phase::handshake:
                consider(phase_deadline);
                break;
            default:
                break;
        }
        if (next_heartbeat) consider(*next_heartbeat);
        if (phase == Phase::running && !outbox.empty() && !sent_times.empty())
            consider(sent_times.front() + options.send_window);
        auto wait = due ? until(now, *due) : options.poll_interval;
        return std::clamp(wait, milliseconds(0), options.poll_interval);
    }

    void on_timers() {
        const auto now = clock.now();
        if (phase == Phase::waiting && now >= connect_at) {
            connect();
            return;
        }
        if ((phase == Phase::hello || phase == Phase::handshake) && now >= phase_deadline) {
            log::warn("discord gateway: no {} in time; reconnecting",
                      phase == Phase::hello ? "HELLO" : "READY");
            ++failures;
            reconnect(resume_next, backoff());
            return;
        }
        if ((phase == Phase::handshake || phase == Phase::running) && next_heartbeat &&
            now >= *next_heartbeat) {
            if (awaiting_ack) {
                // No ACK since the last heartbeat: the connection is a zombie.
                log::warn("discord gateway: heartbeat not acknowledged; reconnecting to resume");
                update([](GatewayStats& s) { ++s.zombies; });
                reconnect(true, milliseconds(0));
                return;
            }
            send_heartbeat();
            next_heartbeat = now + interval;
        }
    }

    // ---- connections -----------------------------------------------------------------------------

    milliseconds backoff() {
        if (failures <= 0) return milliseconds(0);
        const int exponent = std::min(failures - 1, 16);
        auto base = std::min(options.max_backoff, options.min_backoff * (std::int64_t{1} << exponent));
        // Half fixed, half jitter: spreads reconnecting bots, stays within max_backoff.
        return base / 2 + scaled(base - base / 2, random());
    }

    void schedule_connect(bool resume, SystemTime at) {
        phase = Phase::waiting;
        resume_next = resume;
        connect_at = at;
        next_heartbeat.reset();
        awaiting_ack = false;
    }

    void connect() {
        const bool resume = resume_next && !session.session_id.empty() && !session.resume_gateway_url.empty();
        const auto url = with_query(resume ? session.resume_gateway_url : options.url);
        const auto id = ++connection;
        http::WsClient::Handlers handlers{
            .on_text = [this, id](std::string_view text) { push(id, false, text, 0, {}); },
            .on_close = [this, id](int code, std::string_view reason) { push(id, true, {}, code, reason); },
        };
        auto client = options.connector(url, std::move(handlers));
        if (!client) {
            ++failures;
            update([](GatewayStats& s) { ++s.connect_failures; });
            const auto wait = backoff();
            log::warn("discord gateway: connecting failed ({}); next attempt in {} ms", client.error().detail,
                      wait.count());
            schedule_connect(resume_next, clock.now() + wait);
            return;
        }
        ws = std::move(*client);
        update([](GatewayStats& s) { ++s.connects; });
        sent_times.clear();
        phase = Phase::hello;
        phase_deadline = clock.now() + options.hello_timeout;
    }

    // Gives up the current connection (keeping the session unless `resume` is false) and connects
    // again after `delay`.
    void reconnect(bool resume, milliseconds delay) {
        if (ws) {
            ws->close(close_keep_session, "reconnecting");
            retiring.push_back({connection, std::move(ws), Steady::now() + close_grace});
        }
        set_connected(false);
        update([](GatewayStats& s) { ++s.reconnects; });
        if (!resume) forget_session();
        schedule_connect(resume, clock.now() + delay);
    }

    void forget_session() {
        session = {};
        sequence.reset();
        std::lock_guard lock(mutex);
        published_session = {};
    }

    void reap_retiring(bool all) {
        const auto now = Steady::now();
        std::erase_if(retiring, [&](const Retiring& r) { return all || now >= r.deadline; });
    }

    void handle(const Event& event) {
        if (event.connection != connection || !ws) {
            if (event.closed)
                std::erase_if(retiring, [&](const Retiring& r) { return r.connection == event.connection; });
            return;
        }
        if (event.closed)
            on_closed(event.code, event.reason);
        else
            on_text(event.text);
    }

    void on_closed(int code, const std::string& reason) {
        ws.reset();  // its I/O thread has delivered on_close; destroying it here is safe
        set_connected(false);
        update([code](GatewayStats& s) { s.last_close_code = code; });
        if (phase == Phase::fatal) return;
        if (is_fatal_close_code(code)) {
            phase = Phase::fatal;
            next_heartbeat.reset();
            update([](GatewayStats& s) { s.fatal = true; });
            log::error("discord gateway: closed with {} ({}); not reconnecting", code,
                       close_code_meaning(code));
            if (callbacks.on_fatal)
                callbacks.on_fatal(Error(
                    ErrorKind::unavailable, "discord.gateway_fatal",
                    {{"code", std::to_string(code)}, {"meaning", std::string(close_code_meaning(code))}},
                    "gateway closed with " + std::to_string(code) + " " + reason));
            return;
        }
        if (phase != Phase::running) ++failures;
        // 4007/4009 mean "start a new session"; a 1000 from Discord ends the session too.
        const bool resume = !(code == 4007 || code == 4009 || code == 1000);
        log::info("discord gateway: closed with {} ({}); {}", code, close_code_meaning(code),
                  resume ? "resuming" : "identifying anew");
        update([](GatewayStats& s) { ++s.reconnects; });
        if (!resume) forget_session();
        schedule_connect(resume, clock.now() + backoff());
    }

    // ---- payloads ----------------------------------------------------------------------------------

    void prune_sent(SystemTime now) {
        while (!sent_times.empty() && sent_times.front() <= now - options.send_window) sent_times.pop_front();
    }

    // Sends now; false when there is no connection or the payload is too large. The send limit is
    // checked by the callers that may wait (flush_outbox); heartbeats, IDENTIFY and RESUME always go.
    bool send_now(const std::string& payload) {
        if (!ws) return false;
        if (payload.size() > options.max_payload_bytes) {
            log::error("discord gateway: refusing a {}-byte payload (limit {})", payload.size(),
                       options.max_payload_bytes);
            return false;
        }
        const auto now = clock.now();
        prune_sent(now);
        if (!ws->send(payload)) return false;
        sent_times.push_back(now);
        update([](GatewayStats& s) { ++s.sent; });
        return true;
    }

    // Sends kept for heartbeats (and IDENTIFY/RESUME) in every send window.
    [[nodiscard]] int heartbeat_reserve() const {
        const auto per_window = options.send_window.count() / std::max<std::int64_t>(1, interval.count());
        return static_cast<int>(std::clamp<std::int64_t>(per_window + 2, 2, options.send_limit / 2));
    }

    void flush_outbox() {
        if (phase != Phase::running || !ws) return;
        const auto now = clock.now();
        for (;;) {
            prune_sent(now);
            if (static_cast<int>(sent_times.size()) >= options.send_limit - heartbeat_reserve()) return;
            std::string payload;
            {
                std::lock_guard lock(mutex);
                if (outbox.empty()) return;
                payload = std::move(outbox.front());
                outbox.pop_front();
            }
            send_now(payload);
        }
    }

    void send_heartbeat() {
        boost::json::object p{{"op", op_heartbeat}};
        p["d"] = sequence ? boost::json::value(*sequence) : boost::json::value(nullptr);
        send_now(boost::json::serialize(p));
        awaiting_ack = true;
        update([](GatewayStats& s) { ++s.heartbeats; });
    }

    void identify() {
        boost::json::object d{
            {"token", options.token},
            {"intents", options.intents},
            {"properties", {{"os", options.os}, {"browser", options.browser}, {"device", options.device}}}};
        boost::json::object p{{"op", op_identify}, {"d", std::move(d)}};
        send_now(boost::json::serialize(p));
        update([](GatewayStats& s) { ++s.identifies; });
    }

    void resume() {
        boost::json::object d{{"token", options.token}, {"session_id", session.session_id}};
        d["seq"] = sequence ? boost::json::value(*sequence) : boost::json::value(nullptr);
        boost::json::object p{{"op", op_resume}, {"d", std::move(d)}};
        send_now(boost::json::serialize(p));
        update([](GatewayStats& s) { ++s.resumes; });
    }

    void on_text(const std::string& text) {
        boost::system::error_code ec;
        auto value = boost::json::parse(text, ec);
        if (ec || !value.is_object()) {
            log::warn("discord gateway: ignoring a frame that is not a JSON object");
            return;
        }
        const auto& p = value.get_object();
        const auto op = json::integer(p, "op");
        if (!op) return;
        const auto now = clock.now();
        switch (*op) {
            case op_hello: {
                const auto* d = json::object(p, "d");
                const auto ms = d ? json::integer(*d, "heartbeat_interval") : std::nullopt;
                interval = milliseconds(std::clamp<std::int64_t>(ms.value_or(41'250), 10, 600'000));
                awaiting_ack = false;
                next_heartbeat = now + scaled(interval, std::clamp(random(), 0.0, 0.999999));
                phase = Phase::handshake;
                phase_deadline = now + options.hello_timeout;
                if (resume_next && !session.session_id.empty())
                    resume();
                else
                    identify();
                return;
            }
            case op_heartbeat_ack:
                awaiting_ack = false;
                update([](GatewayStats& s) { ++s.acks; });
                return;
            case op_heartbeat:
                send_heartbeat();  // Discord asked: at once, the schedule stays
                return;
            case op_reconnect:
                log::info("discord gateway: op 7 reconnect");
                reconnect(true, milliseconds(0));
                return;
            case op_invalid_session: {
                const auto* d = p.if_contains("d");
                const bool resumable = d && d->is_bool() && d->get_bool();
                update([](GatewayStats& s) { ++s.invalid_sessions; });
                if (resumable) {
                    reconnect(true, milliseconds(0));
                } else {
                    const auto span = options.invalid_session_max_wait - options.invalid_session_min_wait;
                    reconnect(false, options.invalid_session_min_wait + scaled(span, random()));
                }
                return;
            }
            case op_dispatch:
                on_dispatch(p);
                return;
            default:
                return;
        }
    }

    void on_dispatch(const boost::json::object& p) {
        if (auto s = json::integer(p, "s")) {
            sequence = *s;
            update([&](GatewayStats& st) { st.last_sequence = *s; });
        }
        const auto type = json::text(p, "t");
        const auto* d = p.if_contains("d");
        if (type == "READY" && d && d->is_object()) {
            const auto& ready = d->get_object();
            session.session_id = json::text(ready, "session_id");
            session.resume_gateway_url = json::text(ready, "resume_gateway_url");
            if (const auto* user = json::object(ready, "user")) session.user_id = json::text(*user, "id");
            if (const auto* app = json::object(ready, "application"))
                session.application_id = json::text(*app, "id");
            if (session.resume_gateway_url.empty()) session.resume_gateway_url = options.url;
            running();
            {
                std::lock_guard lock(mutex);
                published_session = session;
            }
            if (callbacks.on_ready) callbacks.on_ready(session);
        } else if (type == "RESUMED") {
            running();
            update([](GatewayStats& s) { ++s.resumed; });
        }
        update([](GatewayStats& s) { ++s.dispatches; });
        if (callbacks.on_dispatch)
            callbacks.on_dispatch(type, d ? boost::json::serialize(*d) : std::string("null"));
    }

    void running() {
        phase = Phase::running;
        failures = 0;
        set_connected(true);
    }

    void shutdown() {
        if (ws) {
            const auto id = connection;
            ws->close(1000, "shutting down");
            std::unique_lock lock(mutex);
            wake.wait_until(lock, Steady::now() + close_grace, [&] {
                return std::any_of(events.begin(), events.end(),
                                   [&](const Event& e) { return e.connection == id && e.closed; });
            });
            lock.unlock();
            ws.reset();
        }
        reap_retiring(true);
        set_connected(false);
    }
};

Gateway::Gateway(GatewayOptions options, GatewayCallbacks callbacks, const Clock& clock,
                 std::function<double()> random)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(callbacks), clock, std::move(random))) {}

Gateway::~Gateway() {
    stop();
}

void Gateway::start() {
    std::lock_guard lock(impl_->mutex);
    if (impl_->started) return;
    impl_->started = true;
    impl_->thread = std::thread([this] { impl_->run(); });
}

void Gateway::stop() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake.notify_all();
    // From a callback (the gateway thread itself) only ask; the owner's stop()/destructor joins.
    if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id())
        impl_->thread.join();
}

bool Gateway::connected() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->published_connected;
}

GatewayStats Gateway::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->published;
}

GatewaySession Gateway::session() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->published_session;
}

Status Gateway::send(int op, std::string_view d_json) {
    boost::system::error_code ec;
    auto d = boost::json::parse(d_json, ec);
    if (ec)
        return Error(ErrorKind::invalid_input, "discord.bad_request", {}, "gateway payload d is not JSON");
    boost::json::object p{{"op", op}, {"d", std::move(d)}};
    auto payload = boost::json::serialize(p);
    if (payload.size() > impl_->options.max_payload_bytes)
        return Error(ErrorKind::too_large, "discord.gateway_payload_too_large",
                     {{"bytes", std::to_string(payload.size())}}, "gateway payload over the limit");
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->stopping || impl_->published.fatal)
            return Error(ErrorKind::unavailable, "discord.gateway_closed", {}, "gateway stopped");
        if (impl_->outbox.size() >= impl_->options.outbox_max)
            return Error(ErrorKind::rate_limited, "discord.gateway_busy", {}, "gateway outbox full");
        impl_->outbox.push_back(std::move(payload));
    }
    impl_->wake.notify_all();
    return Status{};
}

}  // namespace pitwall::integrations::discord
