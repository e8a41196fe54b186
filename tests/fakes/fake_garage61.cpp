#include "fake_garage61.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include <boost/json.hpp>

#include "fake_host.hpp"
#include "fake_util.hpp"
#include "platform/http/pipeline.hpp"

namespace pitwall::fakes {
namespace json = boost::json;

namespace {

struct BadRequest {
    std::string message;
};

std::vector<std::int64_t> int_list(const http::Request& r, const char* name, bool required) {
    auto raw = r.query_param(name);
    if (!raw || raw->empty()) {
        if (required)
            throw BadRequest{std::string("operation FindLaps: decode params: query parameter \"") + name +
                             "\" not set"};
        return {};
    }
    std::vector<std::int64_t> out;
    for (const auto& item : util::split_list(*raw)) {
        auto v = util::parse_number<std::int64_t>(item);
        if (!v)
            throw BadRequest{std::string("operation FindLaps: decode params: query parameter \"") + name +
                             "\": parse int: \"" + item + "\""};
        out.push_back(*v);
    }
    if (out.empty() && required)
        throw BadRequest{std::string("operation FindLaps: decode params: query parameter \"") + name +
                         "\" not set"};
    return out;
}

BadRequest invalid_value(const char* name, std::string_view value) {
    return {std::string("operation FindLaps: decode params: query parameter \"") + name +
            "\": invalid value \"" + std::string(value) + "\""};
}

}  // namespace

struct FakeGarage61::Impl {
    Impl(std::shared_ptr<const FakeTeam> t, const Clock& c, Garage61Options o)
        : team(std::move(t)),
          clock(c),
          options(std::move(o)),
          host(load_catalog(options.locales_dir),
               {options.host, options.port, options.io_threads, options.worker_threads}) {}

    std::shared_ptr<const FakeTeam> team;
    const Clock& clock;
    Garage61Options options;
    FakeHost host;

    mutable std::mutex mutex;
    Garage61Stats stats;
    bool outage = false;
    std::unordered_map<std::string, std::int64_t> tokens;  // token -> cust_id
    std::uint64_t counter = 0;
    struct Bucket {
        double tokens;
        std::int64_t last_ms;
    };
    std::unordered_map<std::string, Bucket> buckets;

    std::string trace_locked() {
        const std::uint64_t n = ++counter;
        return util::hex(util::mix(team->seed ^ 0x61ULL, n), 16) + util::hex(util::mix(n, 0x61ULL), 16);
    }

    http::Response reply(int status, const json::value& body, const std::string& trace) {
        auto response = util::json(status, body);
        response.headers.set("X-G61-Trace", trace);
        return response;
    }

    void seed_tokens_locked() {
        for (const auto& m : team->members) tokens[m.garage61_token] = m.cust_id;
    }

    // ---- JSON ----

    json::object driver(const TeamMember& m) const {
        return {
            {"id", m.g61_id}, {"slug", m.g61_slug}, {"firstName", m.first_name}, {"lastName", m.last_name}};
    }
    json::object car(const Car& c) const {
        return {{"id", c.g61_id}, {"name", c.car_name}, {"platform", "iracing"}, {"platform_id", c.car_id}};
    }
    json::object track(const Track& t) const {
        return {{"id", t.g61_id},
                {"name", t.track_name},
                {"variant", t.config_name},
                {"platform", "iracing"},
                {"platform_id", t.track_id}};
    }
    std::string role(const TeamMember& m) const {
        return m.index == 0 ? "owner" : m.index < 3 ? "admin" : "member";
    }
    bool pro(const TeamMember& m) const {
        return util::mix(team->seed, static_cast<std::uint64_t>(m.cust_id)) % 3 == 0;
    }
    json::object team_object(const TeamMember* viewer) const {
        json::object o{{"id", team->g61_team_id}, {"name", team->team_name}, {"slug", team->g61_team_slug}};
        if (viewer) o["role"] = role(*viewer);
        return o;
    }

    // ---- endpoints ----

    json::value me(const TeamMember& m) const {
        return json::object{{"id", m.g61_id},
                            {"slug", m.g61_slug},
                            {"firstName", m.first_name},
                            {"lastName", m.last_name},
                            {"nickName", m.first_name},
                            {"subscriptionPlan", pro(m) ? "pro" : "free"},
                            {"apiPermissions", json::array{"driving_data"}},
                            {"teams", json::array{team_object(&m)}},
                            {"subscribedDataPacks", json::array{}},
                            {"subscribedDataPackGroups", json::array{}}};
    }

    json::value accounts(const TeamMember& m) const {
        return json::object{{"items", json::array{json::object{{"platform", "iracing"},
                                                               {"id", std::to_string(m.cust_id)},
                                                               {"name", m.display_name}}}},
                            {"total", 1}};
    }

    json::value team_detail(const TeamMember& viewer) const {
        json::object o = team_object(&viewer);
        json::array members;
        for (const auto& m : team->members) {
            json::object d = driver(m);
            d["role"] = role(m);
            members.push_back(std::move(d));
        }
        o["members"] = std::move(members);
        return o;
    }

    json::value cars() const {
        json::array items;
        for (const auto& c : team->cars) items.push_back(car(c));
        const auto total = static_cast<std::int64_t>(items.size());
        return json::object{{"items", std::move(items)}, {"total", total}};
    }

    json::value tracks() const {
        json::array items;
        for (const auto& t : team->tracks) items.push_back(track(t));
        const auto total = static_cast<std::int64_t>(items.size());
        return json::object{{"items", std::move(items)}, {"total", total}};
    }

    json::value laps(const http::Request& r, const TeamMember& me, std::int64_t now,
                     std::int64_t& returned) const {
        const auto track_ids = int_list(r, "tracks", true);
        const auto car_ids = int_list(r, "cars", true);
        LapQuery q;
        q.now_ms = now;
        q.history_days = options.lap_history_days;
        for (auto id : car_ids)
            if (const Car* c = team->car_by_g61_id(id)) q.cars.push_back(c->index);
        for (auto id : track_ids)
            if (const Track* t = team->track_by_g61_id(id)) q.tracks.push_back(t->index);

        std::set<const TeamMember*> drivers;
        auto drivers_raw = r.query_param("drivers"), extra_raw = r.query_param("extraDrivers"),
             teams_raw = r.query_param("teams");
        const bool any = (drivers_raw && !drivers_raw->empty()) || (extra_raw && !extra_raw->empty()) ||
                         (teams_raw && !teams_raw->empty());
        if (drivers_raw)
            for (const auto& d : util::split_list(*drivers_raw)) {
                if (d == "me")
                    drivers.insert(&me);
                else if (d != "following")
                    throw invalid_value("drivers", d);  // following: nobody is followed
            }
        if (extra_raw)
            for (const auto& slug : util::split_list(*extra_raw))
                if (const TeamMember* m = team->member_by_slug(slug))
                    drivers.insert(m);  // teammates are visible
        if (teams_raw)
            for (const auto& slug : util::split_list(*teams_raw))
                if (slug == team->g61_team_slug || slug == team->g61_team_id)
                    for (const auto& m : team->members) drivers.insert(&m);
        if (!any)
            for (const auto& m : team->members) drivers.insert(&m);
        for (const auto& m : team->members)  // stable order
            if (drivers.count(&m)) q.drivers.push_back(&m);

        std::string group = r.query_param("group").value_or("");
        if (group.empty()) group = "driver";
        if (group != "driver" && group != "driver-car" && group != "none")
            throw invalid_value("group", group);
        if (auto after = r.query_param("after"); after && !after->empty()) {
            auto t = parse_iso8601(*after);
            if (!t)
                throw BadRequest{
                    "operation FindLaps: decode params: query parameter \"after\": invalid date-time \"" +
                    *after + "\""};
            q.after_ms = *t;
        }
        q.include_unclean = util::parse_bool(r.query_param("unclean").value_or(""));
        for (auto v : [&] {
                 auto raw = r.query_param("sessionTypes");
                 std::vector<std::int64_t> out;
                 if (!raw || raw->empty()) return out;
                 for (const auto& item : util::split_list(*raw)) {
                     auto n = util::parse_number<std::int64_t>(item);
                     if (!n) throw invalid_value("sessionTypes", item);
                     out.push_back(*n);
                 }
                 return out;
             }())
            q.session_types.push_back(static_cast<int>(v));
        std::int64_t limit = 1000, offset = 0;
        if (auto raw = r.query_param("limit"); raw && !raw->empty()) {
            auto v = util::parse_number<std::int64_t>(*raw);
            if (!v)
                throw BadRequest{
                    "operation FindLaps: decode params: query parameter \"limit\": parse int: \"" + *raw +
                    "\""};
            limit = (*v <= 0 || *v > 1000) ? 1000 : *v;
        }
        if (auto raw = r.query_param("offset"); raw && !raw->empty()) {
            auto v = util::parse_number<std::int64_t>(*raw);
            if (!v)
                throw BadRequest{
                    "operation FindLaps: decode params: query parameter \"offset\": parse int: \"" + *raw +
                    "\""};
            offset = std::max<std::int64_t>(0, *v);
        }

        std::vector<Lap> found = q.cars.empty() || q.tracks.empty() || q.drivers.empty()
                                     ? std::vector<Lap>{}
                                     : find_laps(*team, q);
        std::sort(found.begin(), found.end(), [](const Lap& a, const Lap& b) {
            return a.lap_time != b.lap_time ? a.lap_time < b.lap_time : a.id < b.id;
        });
        std::vector<const Lap*> kept;
        std::set<std::pair<const TeamMember*, int>> seen;
        for (const auto& lap : found) {
            if (group == "driver" && !seen.insert({lap.driver, -1}).second) continue;
            if (group == "driver-car" && !seen.insert({lap.driver, lap.car}).second) continue;
            kept.push_back(&lap);
        }
        json::array items;
        for (std::size_t i = static_cast<std::size_t>(offset);
             i < kept.size() && static_cast<std::int64_t>(items.size()) < limit; ++i) {
            const Lap& lap = *kept[i];
            json::array sectors;
            for (double s : lap.sectors) sectors.push_back(s);
            items.push_back(json::object{{"id", lap.id},
                                         {"driver", driver(*lap.driver)},
                                         {"car", car(team->cars[static_cast<std::size_t>(lap.car)])},
                                         {"track", track(team->tracks[static_cast<std::size_t>(lap.track)])},
                                         {"lapTime", lap.lap_time},
                                         {"lapNumber", lap.lap_number},
                                         {"startTime", iso8601(lap.start_ms, true)},
                                         {"sectors", std::move(sectors)},
                                         {"clean", lap.clean},
                                         {"sessionType", lap.session_type},
                                         {"canViewTelemetry", pro(me)}});
        }
        returned = static_cast<std::int64_t>(items.size());
        return json::object{{"items", std::move(items)}, {"total", static_cast<std::int64_t>(kept.size())}};
    }

    // ---- HTTP ----

    http::Response handle(http::Request& r) {
        std::string endpoint(r.param("path"));
        while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
        std::string trace;
        std::int64_t cust = 0;
        const std::int64_t now = clock.now_ms();
        {
            std::lock_guard lock(mutex);
            trace = trace_locked();
            if (outage) {
                ++stats.outage;
                return reply(
                    503,
                    json::object{{"message", "Service temporarily unavailable, please try again later."},
                                 {"trace", trace}},
                    trace);
            }
            auto token = util::bearer(r);
            if (!token) {
                ++stats.unauthorized;
                return reply(
                    401,
                    json::object{
                        {"message",
                         "Missing authorization: supply a Bearer token in the Authorization header."},
                        {"trace", trace}},
                    trace);
            }
            auto it = tokens.find(*token);
            if (it == tokens.end()) {
                ++stats.unauthorized;
                return reply(
                    401,
                    json::object{
                        {"message", "Bad authentication: could not verify the token: invalid access token."},
                        {"trace", trace}},
                    trace);
            }
            cust = it->second;
            ++stats.calls;
            ++stats.by_endpoint[endpoint.empty() ? "(none)" : endpoint];
            auto& bucket = buckets
                               .try_emplace(options.bucket_per_token ? *token : std::string("*"),
                                            Bucket{static_cast<double>(options.bucket_capacity), now})
                               .first->second;
            const double rate = std::max(1e-9, options.refill_per_second);
            bucket.tokens =
                std::min<double>(options.bucket_capacity,
                                 bucket.tokens + static_cast<double>(now - bucket.last_ms) / 1000.0 * rate);
            bucket.last_ms = now;
            if (bucket.tokens < 1.0) {
                ++stats.rate_limited;
                const auto retry = static_cast<std::int64_t>(std::ceil((1.0 - bucket.tokens) / rate));
                return reply(
                    429,
                    json::object{
                        {"message", "Too many requests"},
                        {"details", json::object{{"retryAfterSeconds", std::max<std::int64_t>(1, retry)}}},
                        {"trace", trace}},
                    trace);
            }
            bucket.tokens -= 1.0;
        }
        const TeamMember* me = team->member_by_cust_id(cust);
        if (!me) {
            std::lock_guard lock(mutex);
            return reply(
                401, json::object{{"message", "Bad authentication: invalid access token."}, {"trace", trace}},
                trace);
        }
        try {
            if (endpoint == "me") return reply(200, this->me(*me), trace);
            if (endpoint == "me/accounts") return reply(200, accounts(*me), trace);
            if (endpoint == "teams")
                return reply(200, json::object{{"items", json::array{team_object(me)}}, {"total", 1}}, trace);
            if (endpoint == "teams/" + team->g61_team_slug || endpoint == "teams/" + team->g61_team_id)
                return reply(200, team_detail(*me), trace);
            if (endpoint == "cars") return reply(200, cars(), trace);
            if (endpoint == "tracks") return reply(200, tracks(), trace);
            if (endpoint == "laps") {
                std::int64_t returned = 0;
                auto body = laps(r, *me, now, returned);
                std::lock_guard lock(mutex);
                stats.laps_returned += returned;
                return reply(200, body, trace);
            }
        } catch (const BadRequest& bad) {
            std::lock_guard lock(mutex);
            ++stats.bad_requests;
            return reply(400, json::object{{"error_message", bad.message}}, trace);
        }
        return reply(404, json::object{{"message", "Not found"}, {"trace", trace}}, trace);
    }
};

FakeGarage61::FakeGarage61(std::shared_ptr<const FakeTeam> team, const Clock& clock, Garage61Options options)
    : impl_(std::make_unique<Impl>(std::move(team), clock, std::move(options))) {
    auto& i = *impl_;
    if (!i.team || i.team->members.empty())
        throw std::invalid_argument("FakeGarage61 needs a team with members");
    i.seed_tokens_locked();
    auto& router = i.host.router();
    using http::Method;
    auto add = [&](Method method, std::string pattern, http::Handler handler) {
        router.must_add({.method = method,
                         .pattern = std::move(pattern),
                         .permission = std::string(http::kPublic),
                         .handler = std::move(handler)});
    };
    add(Method::get, "/api/v1/{path*}", [&i](http::Request& r) { return i.handle(r); });

    add(Method::get, "/_control/stats", [this](http::Request&) {
        const auto s = stats();
        json::object by_endpoint;
        for (const auto& [k, v] : s.by_endpoint) by_endpoint[k] = v;
        std::lock_guard lock(impl_->mutex);
        return util::json(200, json::object{{"calls", s.calls},
                                            {"by_endpoint", std::move(by_endpoint)},
                                            {"rate_limited", s.rate_limited},
                                            {"unauthorized", s.unauthorized},
                                            {"bad_requests", s.bad_requests},
                                            {"outage", s.outage},
                                            {"laps_returned", s.laps_returned},
                                            {"outage_on", impl_->outage},
                                            {"bucket_capacity", impl_->options.bucket_capacity},
                                            {"refill_per_second", impl_->options.refill_per_second}});
    });
    add(Method::post, "/_control/reset", [this](http::Request&) {
        reset_stats();
        reset_limits();
        return util::json(200, json::object{{"ok", true}});
    });
    add(Method::post, "/_control/maintenance", [this](http::Request& r) {
        auto body = util::body_object(r);
        if (!body || !body->contains("on") || !(*body)["on"].is_bool())
            return util::json(400, json::object{{"error", "expected {\"on\":true|false}"}});
        set_outage((*body)["on"].as_bool());
        return util::json(200, json::object{{"ok", true}});
    });
    add(Method::post, "/_control/rate_limit", [this](http::Request& r) {
        auto body = util::body_object(r);
        if (!body) return util::json(400, json::object{{"error", "expected a JSON object"}});
        int capacity = impl_->options.bucket_capacity;
        double refill = impl_->options.refill_per_second;
        auto number = [&](const char* name) -> std::optional<double> {
            auto* v = body->if_contains(name);
            if (!v || !v->is_number()) return std::nullopt;
            return v->to_number<double>();
        };
        if (auto v = number("capacity")) capacity = static_cast<int>(*v);
        if (auto v = number("refill_per_s")) refill = *v;
        if (auto v = number("limit")) capacity = static_cast<int>(*v);  // the iRacing-style spelling
        if (auto w = number("window_s"); w && *w > 0) refill = capacity / *w;
        if (capacity < 0 || refill <= 0)
            return util::json(400, json::object{{"error", "capacity >= 0, refill_per_s > 0"}});
        set_rate_limit(capacity, refill);
        return util::json(200, json::object{{"ok", true}});
    });
    add(Method::post, "/_control/revoke_tokens", [this](http::Request&) {
        revoke_tokens();
        return util::json(200, json::object{{"ok", true}});
    });
    add(Method::get, "/_control/team",
        [&i](http::Request&) { return util::json(200, util::team_json(*i.team)); });
    add(Method::post, "/_control/tokens", [this](http::Request& r) {
        auto body = util::body_object(r);
        if (!body || !body->contains("cust_id") || !(*body)["cust_id"].is_int64())
            return util::json(400, json::object{{"error", "expected {\"cust_id\":N}"}});
        const std::int64_t cust = (*body)["cust_id"].as_int64();
        const TeamMember* m = impl_->team->member_by_cust_id(cust);
        if (!m) return util::json(404, json::object{{"error", "no such member"}});
        return util::json(200, json::object{{"access_token", issue_token(cust)},
                                            {"token_type", "bearer"},
                                            {"garage61_id", m->g61_id},
                                            {"garage61_slug", m->g61_slug}});
    });
    i.host.start();
}

FakeGarage61::~FakeGarage61() {
    impl_->host.stop();
}

std::string FakeGarage61::base_url() const {
    return impl_->host.url();
}
std::string FakeGarage61::api_url() const {
    return impl_->host.url() + "/api/v1";
}
std::string FakeGarage61::control_url() const {
    return impl_->host.url() + "/_control";
}
const FakeTeam& FakeGarage61::team() const {
    return *impl_->team;
}
const Garage61Options& FakeGarage61::options() const {
    return impl_->options;
}
Garage61Stats FakeGarage61::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}
void FakeGarage61::reset_stats() {
    std::lock_guard lock(impl_->mutex);
    impl_->stats = {};
}
void FakeGarage61::reset_limits() {
    std::lock_guard lock(impl_->mutex);
    impl_->buckets.clear();
}
void FakeGarage61::set_outage(bool on) {
    std::lock_guard lock(impl_->mutex);
    impl_->outage = on;
}
void FakeGarage61::set_rate_limit(int capacity, double refill_per_second) {
    std::lock_guard lock(impl_->mutex);
    impl_->options.bucket_capacity = capacity;
    impl_->options.refill_per_second = refill_per_second;
    impl_->buckets.clear();
}
void FakeGarage61::revoke_tokens() {
    std::lock_guard lock(impl_->mutex);
    impl_->tokens.clear();
}
std::string FakeGarage61::issue_token(std::int64_t cust_id) {
    if (!impl_->team->member_by_cust_id(cust_id)) throw std::invalid_argument("not a team member");
    std::lock_guard lock(impl_->mutex);
    std::string token = util::token("g61_at_", impl_->team->seed, ++impl_->counter);
    impl_->tokens[token] = cust_id;
    return token;
}
void FakeGarage61::add_token(std::string token, std::int64_t cust_id) {
    if (!impl_->team->member_by_cust_id(cust_id)) throw std::invalid_argument("not a team member");
    std::lock_guard lock(impl_->mutex);
    impl_->tokens[std::move(token)] = cust_id;
}

}  // namespace pitwall::fakes
