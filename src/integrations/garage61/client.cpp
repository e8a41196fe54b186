#include "integrations/garage61/client.hpp"

#include <boost/json.hpp>

#include "core/json.hpp"
#include "core/log.hpp"
#include "platform/auth/http_client.hpp"

namespace pitwall::integrations::garage61 {
namespace {

using boost::json::array;
using boost::json::object;
using namespace std::chrono_literals;

Error g61_error(ErrorKind kind, std::string code, std::string detail = {}) {
    return Error(kind, "garage61." + std::move(code), {}, std::move(detail));
}

Result<boost::json::value> parse(std::string_view text) {
    return json::parse(text, "garage61.bad_answer", ErrorKind::unavailable);
}

// {items:[...]} (list endpoints) or a bare array.
const array* items(const boost::json::value& v) {
    if (v.is_array()) return &v.get_array();
    if (v.is_object()) return json::array(v.get_object(), "items");
    return nullptr;
}

Team team_of(const object& o) {
    return {json::text(o, "id"), json::text(o, "name"), json::text(o, "slug"), json::text(o, "role")};
}
Car car_of(const object& o) {
    return {json::integer_or(o, "id", 0), json::text(o, "name"), json::text(o, "platform"),
            json::integer_or(o, "platform_id", 0)};
}
Track track_of(const object& o) {
    return {json::integer_or(o, "id", 0), json::text(o, "name"), json::text(o, "variant"),
            json::text(o, "platform"), json::integer_or(o, "platform_id", 0)};
}

std::string join(const std::vector<std::int64_t>& ids) {
    std::string out;
    for (auto id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
    return out;
}
std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ",") + auth::url_encode(p);
    return out;
}

constexpr upstream::CachePolicy kCatalogPolicy{.ttl = std::chrono::hours(24),
                                               .stale_for = std::chrono::hours(24 * 6)};
constexpr upstream::CachePolicy kAccountPolicy{.ttl = std::chrono::minutes(30),
                                               .stale_for = std::chrono::hours(2)};

}  // namespace

Client::Client(const auth::HttpClient& http, upstream::RateGovernor& governor, upstream::Cache* cache,
               const Clock& clock, ClientOptions options)
    : http_(http), governor_(governor), cache_(cache), clock_(clock), options_(std::move(options)) {}

ClientStats Client::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

Result<std::string> Client::get(std::string_view path, TokenSource& tokens,
                                const CallOptions& options) const {
    auto token = tokens.access_token();
    if (!token) return token.error();
    bool refreshed = false;
    int throttled = 0;
    const std::string url = options_.api_base + std::string(path);
    for (;;) {
        if (auto granted = governor_.acquire(options.priority, options.deadline); !granted)
            return granted.error();
        {
            std::lock_guard lock(mutex_);
            ++stats_.requests;
        }
        auto response = http_.request(
            {.method = "GET",
             .url = url,
             .headers = {{"Authorization", "Bearer " + *token}, {"Accept", "application/json"}}});
        if (!response) return g61_error(ErrorKind::unavailable, "unavailable", response.error().code);
        const int status = response->status;
        const std::string trace(response->header("x-g61-trace").value_or(""));
        if (status == 200) return std::move(response->body);
        if (status == 401) {
            {
                std::lock_guard lock(mutex_);
                ++stats_.unauthorized;
            }
            if (refreshed) return g61_error(ErrorKind::unauthorized, "unauthorized", "trace " + trace);
            refreshed = true;
            token = tokens.refresh_after_unauthorized(*token);
            if (!token) return token.error();
            continue;
        }
        if (status == 429) {
            {
                std::lock_guard lock(mutex_);
                ++stats_.throttled;
            }
            std::int64_t wait_s = 5;
            if (auto v = parse(response->body); v && v->is_object())
                if (const auto* details = json::object(v->get_object(), "details"))
                    wait_s =
                        std::clamp<std::int64_t>(json::integer_or(*details, "retryAfterSeconds", 5), 1, 3600);
            governor_.observe_throttled(clock_.now() + std::chrono::seconds(wait_s));
            if (++throttled > options_.max_throttle_retries)
                return Error(ErrorKind::rate_limited, "garage61.rate_limited", {}, "429 retries exhausted");
            continue;
        }
        log::warn("garage61: status {} for {} (trace {})", status, path.substr(0, path.find('?')), trace);
        if (status == 403) return g61_error(ErrorKind::forbidden, "forbidden", trace);
        if (status == 404) return g61_error(ErrorKind::not_found, "not_found", trace);
        if (status >= 500)
            return g61_error(ErrorKind::unavailable, "unavailable", "status " + std::to_string(status));
        return g61_error(ErrorKind::invalid_input, "bad_request", response->body.substr(0, 200));
    }
}

Result<std::string> Client::read(std::string_view path, TokenSource& tokens, const CallOptions& options,
                                 const upstream::CachePolicy& policy, std::string_view scope) const {
    if (!cache_) return get(path, tokens, options);
    return cache_->get("g61:" + std::string(path) + (scope.empty() ? "" : "#" + std::string(scope)), policy,
                       [this, path = std::string(path), tokens = &tokens, options]() {
                           return get(path, *tokens, options);
                       });
}

Result<Me> Client::me(TokenSource& tokens, const CallOptions& options) const {
    auto body = get("/me", tokens, options);  // identity: never from a cache shared between tokens
    if (!body) return body.error();
    return parse_me(*body);
}

Result<std::vector<Account>> Client::accounts(TokenSource& tokens, const CallOptions& options) const {
    auto body = get("/me/accounts", tokens, options);
    if (!body) return body.error();
    return parse_accounts(*body);
}

Result<std::vector<Team>> Client::teams(TokenSource& tokens, const CallOptions& options) const {
    auto body = get("/teams", tokens, options);
    if (!body) return body.error();
    return parse_teams(*body);
}

Result<std::vector<Car>> Client::cars(TokenSource& tokens, const CallOptions& options) const {
    auto body = read("/cars", tokens, options, kCatalogPolicy, {});
    if (!body) return body.error();
    return parse_cars(*body);
}

Result<std::vector<Track>> Client::tracks(TokenSource& tokens, const CallOptions& options) const {
    auto body = read("/tracks", tokens, options, kCatalogPolicy, {});
    if (!body) return body.error();
    return parse_tracks(*body);
}

Result<std::vector<Lap>> Client::laps(const LapQuery& query, TokenSource& tokens,
                                      const CallOptions& options) const {
    if (query.cars.empty() || query.tracks.empty())
        return Error(ErrorKind::invalid_input, "garage61.bad_request", {}, "cars and tracks are required");
    const int page_size = std::clamp(query.page_size, 1, 1000);
    std::string base = "/laps?cars=" + join(query.cars) + "&tracks=" + join(query.tracks);
    if (!query.teams.empty()) base += "&teams=" + join(query.teams);
    if (!query.extra_drivers.empty()) base += "&extraDrivers=" + join(query.extra_drivers);
    base += std::string("&group=") + (query.group == LapGrouping::none         ? "none"
                                      : query.group == LapGrouping::driver_car ? "driver-car"
                                                                               : "driver");
    if (query.after) base += "&after=" + auth::url_encode(*query.after);
    base += "&limit=" + std::to_string(page_size);

    std::vector<Lap> all;
    for (int page = 0; page < query.max_pages; ++page) {
        auto body = get(base + "&offset=" + std::to_string(all.size()), tokens, options);
        if (!body) return body.error();
        auto parsed = parse_lap_page(*body);
        if (!parsed) return parsed.error();
        {
            std::lock_guard lock(mutex_);
            ++stats_.pages;
        }
        const auto received = parsed->laps.size();
        for (auto& lap : parsed->laps) all.push_back(std::move(lap));
        if (received == 0 || static_cast<std::int64_t>(all.size()) >= parsed->total) return all;
    }
    log::warn("garage61: lap query stopped after {} pages", query.max_pages);
    return all;
}

Result<Me> parse_me(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    if (!v->is_object()) return g61_error(ErrorKind::unavailable, "bad_answer", "/me not an object");
    const auto& o = v->get_object();
    Me me;
    me.id = json::text(o, "id");
    if (me.id.empty()) return g61_error(ErrorKind::unavailable, "bad_answer", "/me without id");
    me.slug = json::text(o, "slug");
    me.first_name = json::text(o, "firstName");
    me.last_name = json::text(o, "lastName");
    me.subscription_plan = json::text(o, "subscriptionPlan");
    if (const auto* perms = json::array(o, "apiPermissions"))
        for (const auto& p : *perms)
            if (p.is_string()) me.api_permissions.emplace_back(p.get_string());
    if (const auto* teams = json::array(o, "teams"))
        for (const auto& t : *teams)
            if (t.is_object()) me.teams.push_back(team_of(t.get_object()));
    return me;
}

Result<std::vector<Account>> parse_accounts(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const auto* list = items(*v);
    if (!list) return g61_error(ErrorKind::unavailable, "bad_answer", "/me/accounts without items");
    std::vector<Account> out;
    for (const auto& a : *list)
        if (a.is_object())
            out.push_back({json::text(a.get_object(), "platform"), json::text(a.get_object(), "id"),
                           json::text(a.get_object(), "name")});
    return out;
}

Result<std::vector<Team>> parse_teams(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const auto* list = items(*v);
    if (!list) return g61_error(ErrorKind::unavailable, "bad_answer", "/teams without items");
    std::vector<Team> out;
    for (const auto& t : *list)
        if (t.is_object()) out.push_back(team_of(t.get_object()));
    return out;
}

Result<std::vector<Car>> parse_cars(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const auto* list = items(*v);
    if (!list) return g61_error(ErrorKind::unavailable, "bad_answer", "/cars without items");
    std::vector<Car> out;
    for (const auto& c : *list)
        if (c.is_object())
            if (auto car = car_of(c.get_object()); car.id > 0) out.push_back(std::move(car));
    return out;
}

Result<std::vector<Track>> parse_tracks(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const auto* list = items(*v);
    if (!list) return g61_error(ErrorKind::unavailable, "bad_answer", "/tracks without items");
    std::vector<Track> out;
    for (const auto& t : *list)
        if (t.is_object())
            if (auto track = track_of(t.get_object()); track.id > 0) out.push_back(std::move(track));
    return out;
}

Result<LapPage> parse_lap_page(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    const auto* list = items(*v);
    if (!list || !v->is_object())
        return g61_error(ErrorKind::unavailable, "bad_answer", "/laps without items");
    LapPage page;
    page.total = json::integer_or(v->get_object(), "total", 0);
    for (const auto& item : *list) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        Lap lap;
        lap.id = json::text(o, "id");
        if (lap.id.empty()) continue;
        if (const auto* d = json::object(o, "driver")) {
            lap.driver_id = json::text(*d, "id");
            lap.driver_slug = json::text(*d, "slug");
        }
        if (const auto* c = json::object(o, "car")) lap.car = car_of(*c);
        if (const auto* t = json::object(o, "track")) lap.track = track_of(*t);
        lap.lap_time_s = json::number(o, "lapTime").value_or(0);
        lap.start_time = json::text(o, "startTime");
        lap.clean = json::boolean_or(o, "clean", false);
        lap.session_type = static_cast<int>(json::integer_or(o, "sessionType", 0));
        page.laps.push_back(std::move(lap));
    }
    return page;
}

}  // namespace pitwall::integrations::garage61
