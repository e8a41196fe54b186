#include "integrations/discord/rest.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <boost/json.hpp>

#include "core/json.hpp"
#include "core/log.hpp"
#include "core/version.hpp"

namespace pitwall::integrations::discord {
namespace {

using std::chrono::milliseconds;

constexpr auto invalid_window = std::chrono::minutes(10);
constexpr std::size_t invalid_kept_max = 20'000;  // Cloudflare bans at 10,000; more is never needed
// Two answers whose reset times differ by less than this describe the same window.
constexpr auto same_window = milliseconds(100);

milliseconds to_millis(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return milliseconds(0);
    return milliseconds(static_cast<std::int64_t>(std::ceil(std::min(seconds, 86'400.0) * 1000.0)));
}

milliseconds until(SystemTime from, SystemTime to) {
    if (to <= from) return milliseconds(0);
    return std::chrono::ceil<milliseconds>(to - from);
}

std::optional<double> parse_double(std::string_view text) {
    if (text.empty()) return std::nullopt;
    const std::string copy(text);
    char* end = nullptr;
    const double value = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

std::string seconds_text(double seconds) {
    char buffer[32];
    auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof buffer, seconds, std::chars_format::fixed, 3);
    return ec == std::errc() ? std::string(buffer, ptr) : "0";
}

Error rate_limited(milliseconds wait, std::string detail) {
    return Error(ErrorKind::rate_limited, "discord.rate_limited",
                 {{"retry_after", seconds_text(static_cast<double>(wait.count()) / 1000.0)}},
                 std::move(detail));
}

Error unauthorized_error() {
    return Error(ErrorKind::unauthorized, "discord.unauthorized", {{"discord_code", "0"}},
                 "the bot token was refused earlier (401); it is not used again");
}

Error bad_answer(std::string detail) {
    return Error(ErrorKind::unavailable, "discord.bad_answer", {}, std::move(detail));
}

// Discord's JSON error body: {"code": 50007, "message": "...", "retry_after": 1.2, "global": false}.
struct ErrorBody {
    int code = 0;
    std::string message;
    std::optional<double> retry_after;
    bool global = false;
};

ErrorBody parse_error_body(std::string_view body) {
    ErrorBody out;
    boost::system::error_code ec;
    auto value = boost::json::parse(body, ec);
    if (ec || !value.is_object()) return out;
    const auto& o = value.get_object();
    out.code = static_cast<int>(json::integer_or(o, "code", 0));
    out.message = json::text(o, "message");
    out.retry_after = json::number(o, "retry_after");
    out.global = json::boolean_or(o, "global", false);
    return out;
}

// The error for a non-2xx answer other than 429 (and 5xx, which are retried first).
Error answer_error(int status, const ErrorBody& body, const std::string& route_key) {
    std::vector<std::pair<std::string, std::string>> args{{"discord_code", std::to_string(body.code)}};
    std::string detail = route_key + ": HTTP " + std::to_string(status) + " code " +
                         std::to_string(body.code) + (body.message.empty() ? "" : " " + body.message);
    switch (status) {
        case 400:
            if (body.code == 40060)
                return Error(ErrorKind::conflict, "discord.already_acknowledged", std::move(args),
                             std::move(detail));
            return Error(ErrorKind::invalid_input, "discord.bad_request", std::move(args), std::move(detail));
        case 401:
            return Error(ErrorKind::unauthorized, "discord.unauthorized", std::move(args), std::move(detail));
        case 403:
            if (body.code == 50007 || body.code == 50278)
                return Error(ErrorKind::forbidden, "discord.dm_closed", std::move(args), std::move(detail));
            if (body.code == 50013 || body.code == 50001)
                return Error(ErrorKind::forbidden, "discord.missing_permissions", std::move(args),
                             std::move(detail));
            return Error(ErrorKind::forbidden, "discord.forbidden", std::move(args), std::move(detail));
        case 404:
            if (body.code == 10062)
                return Error(ErrorKind::not_found, "discord.interaction_expired", std::move(args),
                             std::move(detail));
            return Error(ErrorKind::not_found, "discord.not_found", std::move(args), std::move(detail));
        default:
            break;
    }
    if (status >= 500)
        return Error(ErrorKind::unavailable, "discord.unavailable", std::move(args), std::move(detail));
    return Error(ErrorKind::invalid_input, "discord.bad_request", std::move(args), std::move(detail));
}

std::string path_part(std::string_view value) {
    return auth::url_encode(value);
}

Result<boost::json::value> parse_answer(const auth::ClientResponse& response) {
    return json::parse(response.body, "discord.bad_answer", ErrorKind::unavailable);
}

Result<boost::json::object> answer_object(const auth::ClientResponse& response) {
    auto value = parse_answer(response);
    if (!value) return value.error();
    if (!value->is_object()) return bad_answer("expected a JSON object");
    return std::move(value->get_object());
}

// Validates caller-supplied JSON before anything is sent.
Result<boost::json::value> caller_json(std::string_view text, std::string_view what) {
    boost::system::error_code ec;
    auto value = boost::json::parse(text, ec);
    if (ec)
        return Error(ErrorKind::invalid_input, "discord.bad_request", {{"discord_code", "0"}},
                     std::string(what) + " is not JSON: " + ec.message());
    return value;
}

Result<std::string> message_id(const auth::ClientResponse& response) {
    auto o = answer_object(response);
    if (!o) return o.error();
    auto id = json::text(*o, "id");
    if (id.empty()) return bad_answer("message without id");
    return id;
}

}  // namespace

int discord_code(const Error& error) {
    return static_cast<int>(parse_int(error.arg("discord_code")).value_or(0));
}

double retry_after_seconds(const Error& error) {
    return parse_double(error.arg("retry_after")).value_or(0.0);
}

// ---------------------------------------------------------------------------------------------
// RateLimitHeaders

RateLimitHeaders RateLimitHeaders::from(const auth::ClientResponse& response) {
    RateLimitHeaders h;
    if (auto v = response.header("x-ratelimit-bucket"); v && !v->empty()) h.bucket = std::string(*v);
    if (auto v = response.header("x-ratelimit-limit")) h.limit = parse_int(*v);
    if (auto v = response.header("x-ratelimit-remaining")) h.remaining = parse_int(*v);
    if (auto v = response.header("x-ratelimit-reset-after")) h.reset_after_s = parse_double(*v);
    if (auto v = response.header("x-ratelimit-reset")) h.reset_epoch_s = parse_double(*v);
    if (auto v = response.header("x-ratelimit-global")) h.global = (*v == "true" || *v == "True");
    if (auto v = response.header("x-ratelimit-scope")) h.scope = std::string(*v);
    return h;
}

// ---------------------------------------------------------------------------------------------
// RestRateLimiter

RestRateLimiter::RestRateLimiter(const Clock& clock, LimiterOptions options)
    : clock_(clock), options_(std::move(options)) {}

std::string RestRateLimiter::state_key(const std::string& route_key, const std::string& major) const {
    auto it = route_buckets_.find(route_key);
    return (it != route_buckets_.end() ? it->second : route_key) + "|" + major;
}

void RestRateLimiter::forget_idle(SystemTime now) {
    if (buckets_.size() <= options_.max_buckets) return;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
        if (it->second.in_flight == 0 && now >= it->second.reset_at)
            it = buckets_.erase(it);
        else
            ++it;
    }
}

Result<RestRateLimiter::Permit> RestRateLimiter::acquire(const Route& route) {
    const auto route_key = route.key();
    const auto start = clock_.now();
    bool waited = false;
    std::unique_lock lock(mutex_);
    forget_idle(start);
    std::string key;
    // 1. The route's bucket.
    for (;;) {
        const auto now = clock_.now();
        key = state_key(route_key, route.major);
        auto& b = buckets_[key];
        b.last_used = now;
        if (b.unlimited) break;
        if (!b.known) {
            if (b.in_flight == 0) break;  // this request probes the bucket
            // Another request is probing: its answer (at most an HTTP timeout away) tells the limit.
            waited = true;
            answered_.wait_for(lock, milliseconds(50));
            continue;
        }
        if (now >= b.reset_at) {  // the window has passed: a new one starts with this request
            b.remaining = b.limit;
            b.reset_at = now + b.window + options_.margin;
        }
        if (b.remaining > 0) {
            --b.remaining;
            break;
        }
        const auto wait = until(now, b.reset_at);
        if (until(start, b.reset_at) > options_.max_wait)
            return rate_limited(wait, route_key + ": bucket exhausted beyond max_wait");
        waited = true;
        lock.unlock();
        clock_.sleep_for(wait);
        lock.lock();
    }
    ++buckets_[key].in_flight;
    Permit permit{key, route_key, route.major};
    if (waited) ++stats_.route_waits;

    // 2. The global budget: no 1-second span (+ margin) holds more than global_per_second grants.
    if (!route.global_exempt && options_.global_per_second > 0) {
        const auto n = static_cast<std::size_t>(options_.global_per_second);
        const auto span = std::chrono::seconds(1) + options_.margin;
        for (;;) {
            const auto now = clock_.now();
            auto slot = std::max(now, global_blocked_until_);
            if (global_slots_.size() >= n) slot = std::max(slot, global_slots_.front() + span);
            if (until(start, slot) > options_.max_wait) {
                auto& b = buckets_[key];
                b.in_flight = std::max(0, b.in_flight - 1);
                if (b.known && !b.unlimited) ++b.remaining;
                answered_.notify_all();
                return rate_limited(until(now, slot), "global limit: wait beyond max_wait");
            }
            global_slots_.push_back(slot);
            while (global_slots_.size() > n) global_slots_.pop_front();
            if (slot <= now) break;
            ++stats_.global_waits;
            const auto epoch = global_epoch_;
            lock.unlock();
            clock_.sleep_for(until(now, slot));
            lock.lock();
            // A global 429 while this caller slept: its slot is void, take a new one after the pause.
            if (epoch == global_epoch_) break;
        }
    }
    ++stats_.granted;
    return permit;
}

void RestRateLimiter::observe(const Permit& permit, const RateLimitHeaders& headers, bool was_429) {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    if (auto it = buckets_.find(permit.state_key); it != buckets_.end())
        it->second.in_flight = std::max(0, it->second.in_flight - 1);
    const bool has_headers = headers.bucket || headers.limit || headers.remaining || headers.reset_after_s;
    if (!has_headers) {
        // A route Discord does not limit (or an error page without headers): no bucket to keep.
        if (auto it = buckets_.find(permit.state_key); it != buckets_.end() && !it->second.known && !was_429)
            it->second.unlimited = true;
        answered_.notify_all();
        return;
    }
    std::string key = permit.state_key;
    if (headers.bucket) {
        route_buckets_[permit.route_key] = *headers.bucket;
        key = *headers.bucket + "|" + permit.major;
    }
    auto& b = buckets_[key];
    b.unlimited = false;
    b.last_used = now;
    if (headers.limit) b.limit = std::max<std::int64_t>(1, *headers.limit);
    std::optional<SystemTime> reset;
    if (headers.reset_after_s) {
        const auto after = to_millis(*headers.reset_after_s);
        b.window = std::max(b.window, after);
        reset = now + after + options_.margin;
    } else if (headers.reset_epoch_s) {
        reset = SystemTime(to_millis(*headers.reset_epoch_s)) + options_.margin;
    }
    if (headers.remaining) {
        const std::int64_t server_remaining = std::max<std::int64_t>(0, *headers.remaining);
        if (!b.known) {
            // Requests granted on this state but not answered yet are not in the server's count.
            b.remaining = std::max<std::int64_t>(0, server_remaining - b.in_flight);
            b.reset_at = reset.value_or(now + b.window + options_.margin);
            b.known = true;
        } else if (reset && *reset > b.reset_at + same_window) {
            // The server is in a newer window than our local view.
            b.remaining = now >= b.reset_at ? std::max<std::int64_t>(0, server_remaining - b.in_flight)
                                            : std::min(b.remaining, server_remaining);
            b.reset_at = *reset;
        } else {
            // Same window (or an answer from an older one): the lower count wins.
            b.remaining = std::min(b.remaining, server_remaining);
            if (reset && *reset > b.reset_at) b.reset_at = *reset;
        }
    }
    answered_.notify_all();
}

void RestRateLimiter::throttled(const Permit& permit, milliseconds retry_after, bool global) {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    ++stats_.throttled;
    if (global) {
        ++stats_.global_throttled;
        global_blocked_until_ = std::max(global_blocked_until_, now + retry_after + options_.margin);
        global_slots_.clear();
        ++global_epoch_;
    } else {
        auto& b = buckets_[state_key(permit.route_key, permit.major)];
        b.known = true;
        b.unlimited = false;
        b.remaining = 0;
        b.reset_at = std::max(b.reset_at, now + retry_after + options_.margin);
        b.last_used = now;
    }
    answered_.notify_all();
}

void RestRateLimiter::release(const Permit& permit) {
    std::lock_guard lock(mutex_);
    if (auto it = buckets_.find(permit.state_key); it != buckets_.end())
        it->second.in_flight = std::max(0, it->second.in_flight - 1);
    answered_.notify_all();
}

LimiterStats RestRateLimiter::stats() const {
    std::lock_guard lock(mutex_);
    auto out = stats_;
    out.buckets = buckets_.size();
    return out;
}

// ---------------------------------------------------------------------------------------------
// RestClient

RestClient::RestClient(const auth::HttpClient& http, const Clock& clock, RestOptions options)
    : RestClient([&http](const auth::ClientRequest& request) { return http.request(request); }, clock,
                 std::move(options)) {}

RestClient::RestClient(Transport transport, const Clock& clock, RestOptions options)
    : transport_(std::move(transport)),
      clock_(clock),
      options_(std::move(options)),
      limiter_(clock, {.global_per_second = options_.global_per_second,
                       .margin = options_.margin,
                       .max_wait = options_.max_wait}) {
    if (options_.user_agent.empty())
        options_.user_agent =
            std::string("DiscordBot (https://github.com/pitwall, ") + pitwall::version + ")";
    while (!options_.api_base.empty() && options_.api_base.back() == '/') options_.api_base.pop_back();
}

void RestClient::count_invalid() {
    // Called with mutex_ held.
    const auto now = clock_.now();
    invalid_.push_back(now);
    while (!invalid_.empty() &&
           (invalid_.front() <= now - invalid_window || invalid_.size() > invalid_kept_max))
        invalid_.pop_front();
    // Cloudflare bans the IP at 10,000 in 10 minutes: say so long before.
    if (invalid_.size() == 1000 || invalid_.size() == 5000)
        log::warn("discord: {} answers with 401/403/429 in the last 10 minutes (Cloudflare bans at 10000)",
                  invalid_.size());
}

std::size_t RestClient::invalid_requests() const {
    std::lock_guard lock(mutex_);
    const auto cutoff = clock_.now() - invalid_window;
    return static_cast<std::size_t>(
        std::count_if(invalid_.begin(), invalid_.end(), [&](SystemTime t) { return t > cutoff; }));
}

bool RestClient::token_revoked() const {
    std::lock_guard lock(mutex_);
    return unauthorized_;
}

RestStats RestClient::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

Result<auth::ClientResponse> RestClient::execute(const Call& call) {
    // Interaction callbacks and interaction webhooks are authorized by their token in the path.
    const bool bot_auth = !call.route.global_exempt;
    if (bot_auth && options_.bot_token.empty())
        return Error(ErrorKind::unavailable, "discord.not_configured", {}, "no bot token");
    auth::ClientRequest request{.method = call.route.method, .url = options_.api_base + call.url_path};
    request.headers.emplace_back("User-Agent", options_.user_agent);
    if (bot_auth) request.headers.emplace_back("Authorization", "Bot " + options_.bot_token);
    if (!call.body.empty()) {
        request.headers.emplace_back("Content-Type", "application/json");
        request.body = call.body;
    } else if (call.route.method == "PUT") {
        request.headers.emplace_back("Content-Length", "0");  // curl sends none for a bodiless PUT
    }
    for (const auto& header : call.extra_headers) request.headers.push_back(header);

    const auto route_key = call.route.key();
    int attempt = 0;
    auto retry_or = [&](const Error& last) -> std::optional<Error> {
        if (attempt >= options_.max_retries) return last;
        ++attempt;
        {
            std::lock_guard lock(mutex_);
            ++stats_.retries;
        }
        return std::nullopt;
    };
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (unauthorized_) return unauthorized_error();
        }
        auto permit = limiter_.acquire(call.route);
        if (!permit) return permit.error();
        {
            std::lock_guard lock(mutex_);
            if (unauthorized_) {  // a 401 arrived while this call waited
                limiter_.release(*permit);
                return unauthorized_error();
            }
            ++stats_.requests;
        }
        auto response = transport_(request);
        if (!response) {
            limiter_.release(*permit);
            auto failed = Error(ErrorKind::unavailable, "discord.unavailable", {{"discord_code", "0"}},
                                route_key + ": " + response.error().code + " " + response.error().detail);
            if (auto give_up = retry_or(failed)) return *give_up;
            clock_.sleep_for(milliseconds(250) * (1 << std::min(attempt, 6)));
            continue;
        }
        const auto headers = RateLimitHeaders::from(*response);
        limiter_.observe(*permit, headers, response->status == 429);
        const int status = response->status;
        if (status >= 200 && status < 300) return std::move(*response);

        const auto body = parse_error_body(response->body);
        if (status == 429) {
            double wait_s = 1.0;
            if (body.retry_after)
                wait_s = *body.retry_after;
            else if (auto header = response->header("retry-after"); header && parse_double(*header))
                wait_s = *parse_double(*header);
            wait_s = std::clamp(wait_s, 0.0, 86'400.0);
            const bool global = headers.global || body.global;
            limiter_.throttled(*permit, to_millis(wait_s), global);
            {
                std::lock_guard lock(mutex_);
                ++stats_.throttled;
                if (headers.scope != "shared") count_invalid();
            }
            auto limited =
                Error(ErrorKind::rate_limited, "discord.rate_limited",
                      {{"retry_after", seconds_text(wait_s)}, {"discord_code", std::to_string(body.code)}},
                      route_key + (global ? ": global 429" : ": 429"));
            if (auto give_up = retry_or(limited)) return *give_up;
            continue;  // the limiter holds the retry until the bucket (or everyone) may go again
        }
        if (status == 401 || status == 403) {
            std::lock_guard lock(mutex_);
            count_invalid();
            if (status == 401 && bot_auth) unauthorized_ = true;
        }
        auto error = answer_error(status, body, route_key);
        if (status >= 500) {
            if (auto give_up = retry_or(error)) return *give_up;
            clock_.sleep_for(milliseconds(250) * (1 << std::min(attempt, 6)));
            continue;
        }
        return error;
    }
}

Result<GatewayInfo> RestClient::gateway_bot() {
    auto response = execute({.route = {"GET", "/gateway/bot", "", false}, .url_path = "/gateway/bot"});
    if (!response) return response.error();
    auto o = answer_object(*response);
    if (!o) return o.error();
    GatewayInfo info;
    info.url = json::text(*o, "url");
    if (info.url.empty()) return bad_answer("gateway/bot without url");
    info.shards = static_cast<int>(json::integer_or(*o, "shards", 1));
    if (const auto* limit = json::object(*o, "session_start_limit")) {
        info.session_start_remaining = json::integer_or(*limit, "remaining", 0);
        info.session_start_reset_after_ms = json::integer_or(*limit, "reset_after", 0);
        info.max_concurrency = static_cast<int>(json::integer_or(*limit, "max_concurrency", 1));
    }
    return info;
}

Result<User> RestClient::me() {
    auto response = execute({.route = {"GET", "/users/@me", "", false}, .url_path = "/users/@me"});
    if (!response) return response.error();
    auto o = answer_object(*response);
    if (!o) return o.error();
    User user{json::text(*o, "id"), json::text(*o, "username"), json::boolean_or(*o, "bot", false)};
    if (user.id.empty()) return bad_answer("user without id");
    return user;
}

Result<std::string> RestClient::open_dm(const std::string& user_id) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = dm_channels_.find(user_id); it != dm_channels_.end()) {
            ++stats_.dm_cache_hits;
            return it->second;
        }
    }
    boost::json::object body{{"recipient_id", user_id}};
    auto response = execute({.route = {"POST", "/users/@me/channels", "", false},
                             .url_path = "/users/@me/channels",
                             .body = boost::json::serialize(body)});
    if (!response) return response.error();
    auto o = answer_object(*response);
    if (!o) return o.error();
    auto channel = json::text(*o, "id");
    if (channel.empty()) return bad_answer("DM channel without id");
    std::lock_guard lock(mutex_);
    if (options_.dm_channel_cache > 0 && dm_channels_.emplace(user_id, channel).second) {
        dm_order_.push_back(user_id);
        while (dm_order_.size() > options_.dm_channel_cache) {
            dm_channels_.erase(dm_order_.front());
            dm_order_.pop_front();
        }
    }
    return channel;
}

Result<std::string> RestClient::create_message(const std::string& channel_id, const MessageDraft& draft) {
    boost::json::object body;
    body["content"] = draft.content;
    if (!draft.embeds_json.empty()) {
        auto embeds = caller_json(draft.embeds_json, "embeds");
        if (!embeds) return embeds.error();
        body["embeds"] = std::move(*embeds);
    }
    if (!draft.nonce.empty()) {
        body["nonce"] = draft.nonce;
        if (draft.enforce_nonce) body["enforce_nonce"] = true;
    }
    auto response = execute({.route = {"POST", "/channels/{channel}/messages", channel_id, false},
                             .url_path = "/channels/" + path_part(channel_id) + "/messages",
                             .body = boost::json::serialize(body)});
    if (!response) return response.error();
    return message_id(*response);
}

Status RestClient::edit_message(const std::string& channel_id, const std::string& message_id,
                                const std::string& content) {
    boost::json::object body{{"content", content}};
    auto response =
        execute({.route = {"PATCH", "/channels/{channel}/messages/{message}", channel_id, false},
                 .url_path = "/channels/" + path_part(channel_id) + "/messages/" + path_part(message_id),
                 .body = boost::json::serialize(body)});
    if (!response) return response.error();
    return Status{};
}

Status RestClient::add_role(const std::string& guild_id, const std::string& user_id,
                            const std::string& role_id, const std::string& reason) {
    Call call{.route = {"PUT", "/guilds/{guild}/members/{user}/roles/{role}", guild_id, false},
              .url_path = "/guilds/" + path_part(guild_id) + "/members/" + path_part(user_id) + "/roles/" +
                          path_part(role_id)};
    if (!reason.empty()) call.extra_headers.emplace_back("X-Audit-Log-Reason", auth::url_encode(reason));
    auto response = execute(call);
    if (!response) return response.error();
    return Status{};
}

Status RestClient::remove_role(const std::string& guild_id, const std::string& user_id,
                               const std::string& role_id, const std::string& reason) {
    Call call{.route = {"DELETE", "/guilds/{guild}/members/{user}/roles/{role}", guild_id, false},
              .url_path = "/guilds/" + path_part(guild_id) + "/members/" + path_part(user_id) + "/roles/" +
                          path_part(role_id)};
    if (!reason.empty()) call.extra_headers.emplace_back("X-Audit-Log-Reason", auth::url_encode(reason));
    auto response = execute(call);
    if (!response) return response.error();
    return Status{};
}

Result<GuildMember> RestClient::guild_member(const std::string& guild_id, const std::string& user_id) {
    auto response =
        execute({.route = {"GET", "/guilds/{guild}/members/{user}", guild_id, false},
                 .url_path = "/guilds/" + path_part(guild_id) + "/members/" + path_part(user_id)});
    if (!response) return response.error();
    auto o = answer_object(*response);
    if (!o) return o.error();
    GuildMember member;
    if (const auto* user = json::object(*o, "user")) {
        member.user_id = json::text(*user, "id");
        member.username = json::text(*user, "username");
    }
    if (member.user_id.empty()) return bad_answer("member without user id");
    member.nickname = json::text(*o, "nick");
    if (const auto* roles = json::array(*o, "roles"))
        for (const auto& r : *roles)
            if (r.is_string()) member.role_ids.emplace_back(r.get_string());
    return member;
}

Result<std::vector<Role>> RestClient::guild_roles(const std::string& guild_id) {
    auto response = execute({.route = {"GET", "/guilds/{guild}/roles", guild_id, false},
                             .url_path = "/guilds/" + path_part(guild_id) + "/roles"});
    if (!response) return response.error();
    auto value = parse_answer(*response);
    if (!value) return value.error();
    if (!value->is_array()) return bad_answer("roles not an array");
    std::vector<Role> roles;
    for (const auto& item : value->get_array()) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        Role role{json::text(o, "id"), json::text(o, "name"), json::integer_or(o, "position", 0),
                  json::boolean_or(o, "managed", false)};
        if (!role.id.empty()) roles.push_back(std::move(role));
    }
    return roles;
}

Result<std::vector<RegisteredCommand>> RestClient::overwrite_guild_commands(
    const std::string& application_id, const std::string& guild_id, const std::string& commands_json) {
    auto commands = caller_json(commands_json, "commands");
    if (!commands) return commands.error();
    if (!commands->is_array())
        return Error(ErrorKind::invalid_input, "discord.bad_request", {{"discord_code", "0"}},
                     "commands must be a JSON array");
    auto response =
        execute({.route = {"PUT", "/applications/{application}/guilds/{guild}/commands", guild_id, false},
                 .url_path = "/applications/" + path_part(application_id) + "/guilds/" + path_part(guild_id) +
                             "/commands",
                 .body = boost::json::serialize(*commands)});
    if (!response) return response.error();
    auto value = parse_answer(*response);
    if (!value) return value.error();
    if (!value->is_array()) return bad_answer("commands not an array");
    std::vector<RegisteredCommand> out;
    for (const auto& item : value->get_array())
        if (item.is_object())
            out.push_back({json::text(item.get_object(), "id"), json::text(item.get_object(), "name")});
    return out;
}

Status RestClient::interaction_callback(const std::string& interaction_id, const std::string& token, int type,
                                        const std::string& data_json) {
    boost::json::object body{{"type", type}};
    if (!data_json.empty()) {
        auto data = caller_json(data_json, "data");
        if (!data) return data.error();
        body["data"] = std::move(*data);
    }
    auto response = execute(
        {.route = {"POST", "/interactions/{interaction}/{token}/callback", interaction_id, true},
         .url_path = "/interactions/" + path_part(interaction_id) + "/" + path_part(token) + "/callback",
         .body = boost::json::serialize(body)});
    if (!response) return response.error();
    return Status{};
}

Result<std::string> RestClient::edit_original(const std::string& application_id, const std::string& token,
                                              const std::string& data_json) {
    auto data = caller_json(data_json, "data");
    if (!data) return data.error();
    auto response = execute({.route = {"PATCH", "/webhooks/{application}/{token}/messages/@original",
                                       application_id + token, true},
                             .url_path = "/webhooks/" + path_part(application_id) + "/" + path_part(token) +
                                         "/messages/@original",
                             .body = boost::json::serialize(*data)});
    if (!response) return response.error();
    return message_id(*response);
}

Result<std::string> RestClient::followup(const std::string& application_id, const std::string& token,
                                         const std::string& data_json) {
    auto data = caller_json(data_json, "data");
    if (!data) return data.error();
    auto response =
        execute({.route = {"POST", "/webhooks/{application}/{token}", application_id + token, true},
                 .url_path = "/webhooks/" + path_part(application_id) + "/" + path_part(token) + "?wait=true",
                 .body = boost::json::serialize(*data)});
    if (!response) return response.error();
    return message_id(*response);
}

}  // namespace pitwall::integrations::discord
