#include "integrations/iracing/client.hpp"

#include <charconv>
#include <cstdio>

#include <boost/json.hpp>
#include <boost/url.hpp>

#include "core/json.hpp"
#include "core/log.hpp"
#include "platform/auth/http_client.hpp"

namespace pitwall::integrations::iracing {
namespace {

using namespace std::chrono_literals;

Error iracing_error(ErrorKind kind, std::string code, std::string detail = {}) {
    return Error(kind, "iracing." + std::move(code), {}, std::move(detail));
}

std::optional<std::int64_t> header_int(const auth::ClientResponse& r, std::string_view name) {
    auto h = r.header(name);
    if (!h) return std::nullopt;
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(h->data(), h->data() + h->size(), v);
    if (ec != std::errc()) return std::nullopt;
    return v;
}

std::string host_of(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return {};
    return std::string(parsed->encoded_host_and_port());
}

// The chunk_info object, at the top level or under "data".
const boost::json::object* chunk_info(const boost::json::value& v) {
    if (!v.is_object()) return nullptr;
    if (const auto* c = json::object(v.get_object(), "chunk_info")) return c;
    if (const auto* data = json::object(v.get_object(), "data")) return json::object(*data, "chunk_info");
    return nullptr;
}

std::string cache_key(std::string_view endpoint, const Params& params, std::string_view scope) {
    std::string key = "ir:" + std::string(endpoint);
    char sep = '?';
    for (const auto& [k, v] : params) {
        key += sep + k + "=" + v;
        sep = '&';
    }
    if (!scope.empty()) key += "#" + std::string(scope);
    return key;
}

}  // namespace

struct Client::Answer {
    int status = 0;
    std::string body;
    std::optional<std::int64_t> reset_epoch_s;
};

Client::Client(const auth::HttpClient& http, upstream::RateGovernor& governor, upstream::Cache* cache,
               const Clock& clock, ClientOptions options)
    : http_(http), governor_(governor), cache_(cache), clock_(clock), options_(std::move(options)) {}

upstream::CachePolicy Client::policy_for(std::string_view endpoint) {
    using upstream::CachePolicy;
    auto minutes = [](int m) { return std::chrono::milliseconds(std::chrono::minutes(m)); };
    // Keyed by a 10-minute bucket of `from` (race_guide()); entry counts move, the sessions do not.
    if (endpoint == "season/race_guide") return CachePolicy{.ttl = minutes(5), .stale_for = minutes(10)};
    if (endpoint == "results/get")  // a finished subsession never changes
        return CachePolicy{.ttl = minutes(60 * 24 * 30), .negative_ttl = minutes(60)};
    if (endpoint == "car/get" || endpoint == "track/get")
        return CachePolicy{.ttl = minutes(60 * 24), .stale_for = minutes(60 * 24 * 6)};
    if (endpoint == "series/seasons")
        return CachePolicy{.ttl = minutes(60 * 6), .stale_for = minutes(60 * 18)};
    // A member's history and results change only when they race; iracing-members sees that (their
    // iRating or SR moves) and invalidates these keys (invalidate_member), so they can live long.
    if (endpoint == "member/chart_data" || endpoint == "stats/member_recent_races" ||
        endpoint == "stats/member_summary")
        return CachePolicy{
            .ttl = minutes(60 * 24), .stale_for = minutes(60 * 24 * 6), .negative_ttl = minutes(60)};
    if (endpoint == "lookup/drivers") return CachePolicy{.ttl = minutes(60), .negative_ttl = minutes(10)};
    // The roster's batches: iracing-members reads them every 30 minutes (its schedule); pages in
    // between are served what it read rather than asking iRacing again.
    if (endpoint == "member/get") return CachePolicy{.ttl = minutes(35), .stale_for = minutes(60)};
    // league/*, the rest: iRacing's own expirationSeconds of 900.
    return CachePolicy{.ttl = minutes(15), .stale_for = minutes(45), .negative_ttl = minutes(15)};
}

ClientStats Client::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

bool Client::in_maintenance() const {
    return clock_.now_ms() < maintenance_until_ms_.load();
}

Result<Client::Answer> Client::get_data(const std::string& url, const std::string& token,
                                        const CallOptions& options) const {
    if (auto granted = governor_.acquire(options.priority, options.deadline); !granted)
        return granted.error();
    {
        std::lock_guard lock(mutex_);
        ++stats_.data_requests;
    }
    auto response =
        http_.request({.method = "GET",
                       .url = url,
                       .headers = {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}}});
    if (!response) return iracing_error(ErrorKind::unavailable, "unavailable", response.error().code);
    Answer a{response->status, std::move(response->body), header_int(*response, "x-ratelimit-reset")};
    governor_.observe_headers(header_int(*response, "x-ratelimit-limit"),
                              header_int(*response, "x-ratelimit-remaining"), a.reset_epoch_s);
    return a;
}

Result<std::string> Client::get_unauthenticated(const std::string& url, bool& expired) const {
    // Signed S3 links must not carry the Authorization header (S3 refuses two auth mechanisms).
    auto response = http_.request({.method = "GET", .url = url, .headers = {}});
    if (!response) return iracing_error(ErrorKind::unavailable, "unavailable", response.error().code);
    if (response->status == 403 || response->status == 400) {
        expired = response->status == 403;
        return iracing_error(ErrorKind::unavailable, "unavailable",
                             "link status " + std::to_string(response->status) + " at " + host_of(url));
    }
    if (response->status != 200)
        return iracing_error(ErrorKind::unavailable, "unavailable",
                             "link status " + std::to_string(response->status));
    return std::move(response->body);
}

Result<std::string> Client::resolve(std::string body, const CallOptions&, bool& link_expired) const {
    auto value = json::parse(body, "iracing.bad_answer", ErrorKind::unavailable);
    if (!value) return value.error();
    // Rule (reference §2.2): follow a string `link`, otherwise `data_url`, otherwise the body is the payload.
    if (value->is_object()) {
        const auto& o = value->get_object();
        std::string link = json::text(o, "link");
        if (link.empty() && !json::object(o, "chunk_info")) link = json::text(o, "data_url");
        if (!link.empty()) {
            {
                std::lock_guard lock(mutex_);
                ++stats_.link_fetches;
            }
            auto payload = get_unauthenticated(link, link_expired);
            if (!payload) return payload.error();
            body = std::move(*payload);
            value = json::parse(body, "iracing.bad_answer", ErrorKind::unavailable);
            if (!value) return value.error();
        }
    }
    const auto* chunks = chunk_info(*value);
    if (!chunks) return body;
    // Chunked (reference §2.3): base_download_url + each file name, fetched without auth, in order,
    // concatenated into one array. No chunk files: an empty result.
    const std::string base = json::text(*chunks, "base_download_url");
    boost::json::array all;
    if (const auto* names = json::array(*chunks, "chunk_file_names")) {
        if (names->size() > 1000)
            return iracing_error(ErrorKind::unavailable, "bad_answer", "too many chunks");
        for (const auto& name : *names) {
            if (!name.is_string()) return iracing_error(ErrorKind::unavailable, "bad_answer", "chunk name");
            {
                std::lock_guard lock(mutex_);
                ++stats_.chunk_fetches;
            }
            auto chunk = get_unauthenticated(base + std::string(name.get_string()), link_expired);
            if (!chunk) return chunk.error();
            auto rows = json::parse(*chunk, "iracing.bad_answer", ErrorKind::unavailable);
            if (!rows) return rows.error();
            if (!rows->is_array())
                return iracing_error(ErrorKind::unavailable, "bad_answer", "chunk not an array");
            for (auto& row : rows->get_array()) all.push_back(std::move(row));
        }
    }
    return boost::json::serialize(all);
}

Result<std::string> Client::fetch_once(std::string_view endpoint, const Params& params, TokenSource& tokens,
                                       const CallOptions& options) const {
    boost::urls::url url(options_.api_base);
    url.set_path(url.path() + (url.path().ends_with('/') ? "" : "/") + "data/" + std::string(endpoint));
    for (const auto& [k, v] : params) url.params().append({k, v});
    const std::string target(url.buffer());

    auto token = tokens.access_token();
    if (!token) return token.error();
    bool refreshed = false;
    bool relinked = false;
    int throttled = 0;
    int server_errors = 0;
    for (;;) {
        if (in_maintenance())
            return iracing_error(ErrorKind::unavailable, "maintenance",
                                 "circuit open after Site Maintenance");
        auto answer = get_data(target, *token, options);
        if (!answer) return answer.error();
        const int status = answer->status;
        if (status == 200) {
            bool expired = false;
            auto resolved = resolve(std::move(answer->body), options, expired);
            if (resolved || !expired || relinked) return resolved;
            // The signed link expired before we fetched it: ask /data for a fresh one, once.
            relinked = true;
            std::lock_guard lock(mutex_);
            ++stats_.expired_links;
            continue;
        }
        if (status == 401) {
            {
                std::lock_guard lock(mutex_);
                ++stats_.unauthorized;
            }
            if (refreshed) return iracing_error(ErrorKind::unauthorized, "unauthorized", "401 after refresh");
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
            // Nobody sends until the window resets (+0.5 s, as iRacing's own clients do).
            const auto reset_ms =
                answer->reset_epoch_s ? *answer->reset_epoch_s * 1000 + 500 : clock_.now_ms() + 60'000;
            governor_.observe_throttled(SystemTime(std::chrono::milliseconds(reset_ms)));
            if (++throttled > options_.max_throttle_retries)
                return Error(ErrorKind::rate_limited, "iracing.rate_limited", {}, "429 retries exhausted");
            continue;  // acquire() waits for the reset
        }
        if (status == 503) {
            auto v = json::parse(answer->body, "iracing.bad_answer");
            if (v && v->is_object() && json::text(v->get_object(), "error") == "Site Maintenance") {
                {
                    std::lock_guard lock(mutex_);
                    ++stats_.maintenance;
                }
                maintenance_until_ms_ = clock_.now_ms() + options_.maintenance_backoff.count();
                log::warn("iracing: site maintenance; pausing upstream calls for {} s",
                          options_.maintenance_backoff.count() / 1000);
                return iracing_error(ErrorKind::unavailable, "maintenance", "503 Site Maintenance");
            }
        }
        if (status >= 500) {
            if (++server_errors > options_.max_server_retries)
                return iracing_error(ErrorKind::unavailable, "unavailable",
                                     "status " + std::to_string(status));
            clock_.sleep_for(options_.server_retry_backoff * server_errors);
            continue;
        }
        if (status == 404) return iracing_error(ErrorKind::not_found, "not_found", std::string(endpoint));
        if (status == 403) return iracing_error(ErrorKind::forbidden, "forbidden", std::string(endpoint));
        return iracing_error(ErrorKind::invalid_input, "bad_request",
                             std::string(endpoint) + " status " + std::to_string(status));
    }
}

Result<std::string> Client::fetch(std::string_view endpoint, const Params& params, TokenSource& tokens,
                                  const CallOptions& options) const {
    return fetch_once(endpoint, params, tokens, options);
}

Result<std::string> Client::read(std::string_view endpoint, const Params& params, TokenSource& tokens,
                                 const CallOptions& options, const upstream::CachePolicy& policy,
                                 std::string_view scope) const {
    if (!cache_) return fetch(endpoint, params, tokens, options);
    // A stale answer is refreshed in the background after this call returns: the fetcher owns copies
    // of everything but the token source, which must outlive the client (see TokenSource).
    return cache_->get(cache_key(endpoint, params, scope), policy,
                       [this, endpoint = std::string(endpoint), params, tokens = &tokens, options]() {
                           return fetch(endpoint, params, *tokens, options);
                       });
}

void Client::invalidate(std::string_view endpoint, const Params& params, std::string_view scope) const {
    if (cache_) (void)cache_->invalidate(cache_key(endpoint, params, scope));
}

void Client::invalidate_member(std::int64_t cust_id) const {
    const auto id = std::to_string(cust_id);
    invalidate("stats/member_recent_races", {{"cust_id", id}});
    invalidate("stats/member_summary", {{"cust_id", id}});
    for (int category = 1; category <= 6; ++category)
        invalidate("member/chart_data",
                   {{"cust_id", id}, {"category_id", std::to_string(category)}, {"chart_type", "1"}});
}

namespace {
std::string join(const std::vector<std::int64_t>& ids) {
    std::string out;
    for (auto id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
    return out;
}
}  // namespace

Result<std::vector<Member>> Client::members(const std::vector<std::int64_t>& cust_ids, TokenSource& tokens,
                                            const CallOptions& options) const {
    if (cust_ids.empty()) return std::vector<Member>{};
    auto body = read("member/get", {{"cust_ids", join(cust_ids)}, {"include_licenses", "true"}}, tokens,
                     options, policy_for("member/get"));
    if (!body) return body.error();
    return parse_members(*body);
}

Result<ChartData> Client::irating_history(std::int64_t cust_id, int category_id, TokenSource& tokens,
                                          const CallOptions& options) const {
    auto body = read("member/chart_data",
                     {{"cust_id", std::to_string(cust_id)},
                      {"category_id", std::to_string(category_id)},
                      {"chart_type", "1"}},
                     tokens, options, policy_for("member/chart_data"));
    if (!body) return body.error();
    return parse_chart(*body);
}

Result<std::vector<RecentRace>> Client::recent_races(std::int64_t cust_id, TokenSource& tokens,
                                                     const CallOptions& options) const {
    auto body = read("stats/member_recent_races", {{"cust_id", std::to_string(cust_id)}}, tokens, options,
                     policy_for("stats/member_recent_races"));
    if (!body) return body.error();
    return parse_recent_races(*body);
}

Result<MemberSummary> Client::member_summary(std::int64_t cust_id, TokenSource& tokens,
                                             const CallOptions& options) const {
    auto body = read("stats/member_summary", {{"cust_id", std::to_string(cust_id)}}, tokens, options,
                     policy_for("stats/member_summary"));
    if (!body) return body.error();
    return parse_member_summary(*body);
}

Result<std::vector<Season>> Client::seasons(TokenSource& tokens, const CallOptions& options) const {
    auto body =
        read("series/seasons", {{"include_series", "true"}}, tokens, options, policy_for("series/seasons"));
    if (!body) return body.error();
    return parse_seasons(*body);
}

Result<RaceGuide> Client::race_guide(SystemTime from, TokenSource& tokens, const CallOptions& options) const {
    // Keyed by a 10-minute bucket of `from`: page views within it share one answer (sessions start
    // every 15 minutes at the earliest, and the answer covers the next hours).
    const auto bucket = std::chrono::floor<std::chrono::minutes>(from);
    const auto rounded = bucket - std::chrono::minutes(bucket.time_since_epoch().count() % 10);
    auto body = read("season/race_guide", {{"from", api_time(rounded)}, {"include_end_after_from", "true"}},
                     tokens, options, policy_for("season/race_guide"));
    if (!body) return body.error();
    return parse_race_guide(*body);
}

Result<SubsessionResult> Client::result(std::int64_t subsession_id, TokenSource& tokens,
                                        const CallOptions& options) const {
    auto body = read("results/get", {{"subsession_id", std::to_string(subsession_id)}}, tokens, options,
                     policy_for("results/get"));
    if (!body) return body.error();
    return parse_result(*body);
}

Result<std::vector<LeagueSession>> Client::league_season_sessions(std::int64_t league_id,
                                                                  std::int64_t season_id, TokenSource& tokens,
                                                                  const CallOptions& options) const {
    auto body = read("league/season_sessions",
                     {{"league_id", std::to_string(league_id)}, {"season_id", std::to_string(season_id)}},
                     tokens, options, policy_for("league/season_sessions"));
    if (!body) return body.error();
    return parse_league_sessions(*body);
}

Result<std::vector<HostedSession>> Client::search_hosted(std::int64_t league_id, std::int64_t season_id,
                                                         SystemTime from, TokenSource& tokens,
                                                         const CallOptions& options) const {
    auto body = read("results/search_hosted",
                     {{"league_id", std::to_string(league_id)},
                      {"league_season_id", std::to_string(season_id)},
                      {"start_range_begin", api_time(from)}},
                     tokens, options, policy_for("results/search_hosted"));
    if (!body) return body.error();
    return parse_hosted_sessions(*body);
}

Result<std::vector<Car>> Client::cars(TokenSource& tokens, const CallOptions& options) const {
    auto body = read("car/get", {}, tokens, options, policy_for("car/get"));
    if (!body) return body.error();
    return parse_cars(*body);
}

Result<std::vector<Track>> Client::tracks(TokenSource& tokens, const CallOptions& options) const {
    auto body = read("track/get", {}, tokens, options, policy_for("track/get"));
    if (!body) return body.error();
    return parse_tracks(*body);
}

Result<std::vector<DriverMatch>> Client::lookup_drivers(std::string_view search_term, TokenSource& tokens,
                                                        const CallOptions& options) const {
    if (search_term.empty() || search_term.size() > 64)
        return Error(ErrorKind::invalid_input, "iracing.bad_request", {}, "search term length");
    auto body = read("lookup/drivers", {{"search_term", std::string(search_term)}}, tokens, options,
                     policy_for("lookup/drivers"));
    if (!body) return body.error();
    return parse_driver_matches(*body);
}

std::string api_time(SystemTime t) {
    const auto minutes = std::chrono::floor<std::chrono::minutes>(t);
    const auto day = std::chrono::floor<std::chrono::days>(minutes);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{minutes - day};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()));
    return buf;
}

}  // namespace pitwall::integrations::iracing
