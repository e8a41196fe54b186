#include "features/planner/routes.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "features/events/events.hpp"
#include "features/planner/jres.hpp"
#include "features/planner/service.hpp"
#include "features/planner/solver.hpp"
#include "platform/auth/permissions.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/http/router.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/web/page.hpp"

namespace pitwall::planner {
namespace {

using http::Method;
using http::Request;
using http::Response;

constexpr std::size_t kMaxPostBytes = 64 * 1024;  // the largest post: an edit of every stint
constexpr std::size_t kMaxEdits = 500;            // stints per crew are far fewer
constexpr std::int64_t kMaxIndex = 10'000;        // crew and stint numbers
constexpr int kMaxDepth = 8;                      // our bodies nest three levels
constexpr std::int64_t kJresTimeBudgetMs = 500;   // an iteration budget: deterministic
constexpr std::size_t kJresMaxBody = kJresMaxBytes;

using TextOf = std::function<std::string(const Error&)>;

std::int64_t now_seconds(const Clock& clock) {
    const auto ms = clock.now_ms();
    return ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
}

TextOf text_for(const Request& r) {
    return [&r](const Error& error) {
        return r.catalog ? r.catalog->error_text(r.locale, error, r.time_zone) : error.code;
    };
}

// --- request bodies ------------------------------------------------------------------------------

Error bad_field(std::string field) {
    return Error(ErrorKind::invalid_input, "planner.bad_request", {{"field", std::move(field)}});
}

Result<boost::json::object> json_body(const Request& r) {
    boost::json::parse_options options;
    options.max_depth = kMaxDepth;
    boost::system::error_code ec;
    auto value = boost::json::parse(r.body, ec, {}, options);
    if (ec || !value.is_object()) return bad_field("body");
    return std::move(value.as_object());
}

// Integers as JSON integers (or doubles without a fraction, as some clients send them).
std::optional<std::int64_t> as_integer(const boost::json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return std::nullopt;
        return static_cast<std::int64_t>(v.get_uint64());
    }
    if (v.is_double()) {
        const double d = v.get_double();
        if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) > 9.0e15) return std::nullopt;
        return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
}

// A required integer in [min, max].
Result<std::int64_t> integer_field(const boost::json::object& o, std::string_view name, std::int64_t min,
                                   std::int64_t max, std::string_view path = {}) {
    const std::string field = path.empty() ? std::string(name) : std::string(path) + "." + std::string(name);
    const auto* v = o.if_contains(name);
    if (!v) return bad_field(field);
    auto n = as_integer(*v);
    if (!n || *n < min || *n > max) return bad_field(field);
    return *n;
}

// An optional integer in [min, max]: absent or null is nullopt.
Result<std::optional<std::int64_t>> optional_integer(const boost::json::object& o, std::string_view name,
                                                     std::int64_t min, std::int64_t max,
                                                     std::string_view path = {}) {
    const auto* v = o.if_contains(name);
    if (!v || v->is_null()) return std::optional<std::int64_t>();
    auto n = integer_field(o, name, min, max, path);
    if (!n) return n.error();
    return std::optional<std::int64_t>(*n);
}

Result<bool> boolean_field(const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (!v || !v->is_bool()) return bad_field(std::string(name));
    return v->get_bool();
}

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();
// Unix seconds a race day can be recorded at: 2000-01-01 .. 2100-01-01.
constexpr std::int64_t kMinTime = 946'684'800;
constexpr std::int64_t kMaxTime = 4'102'444'800;

// "edits": [{"stint": N, "driver": id?, "spotter": id | null?}]. A missing driver keeps the stint's
// driver; a missing spotter keeps the spotter, null (or 0) clears it.
Result<std::vector<StintEdit>> parse_edits(const boost::json::object& o) {
    const auto* v = o.if_contains("edits");
    if (!v || !v->is_array() || v->get_array().size() > kMaxEdits) return bad_field("edits");
    std::vector<StintEdit> edits;
    const auto& list = v->get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string path = "edits[" + std::to_string(i) + "]";
        if (!list[i].is_object()) return bad_field(path);
        const auto& e = list[i].get_object();
        StintEdit edit;
        auto stint = integer_field(e, "stint", 0, kMaxIndex, path);
        if (!stint) return stint.error();
        edit.stint = static_cast<int>(*stint);
        auto driver = optional_integer(e, "driver", 1, kMaxId, path);
        if (!driver) return driver.error();
        edit.driver = *driver;
        if (const auto* s = e.if_contains("spotter")) {
            if (s->is_null()) {
                edit.spotter = 0;
            } else {
                auto spotter = integer_field(e, "spotter", 0, kMaxId, path);
                if (!spotter) return spotter.error();
                edit.spotter = *spotter;
            }
        }
        edits.push_back(edit);
    }
    return edits;
}

// --- the plan as the API shows it ------------------------------------------------------------------

boost::json::value optional_value(const std::optional<std::int64_t>& v) {
    return v ? boost::json::value(*v) : boost::json::value(nullptr);
}

boost::json::object args_json(const std::vector<std::pair<std::string, std::string>>& args) {
    boost::json::object out;
    for (const auto& [name, value] : args) out[name] = value;
    return out;
}

boost::json::object violation_json(const Violation& v, const TextOf& text) {
    return boost::json::object{
        {"code", v.code},
        {"text", text(v.to_error())},
        {"member", optional_value(v.member)},
        {"stint", v.stint ? boost::json::value(*v.stint) : boost::json::value(nullptr)},
        {"args", args_json(v.args)}};
}

boost::json::array violations_json(const std::vector<Violation>& violations, const TextOf& text) {
    boost::json::array out;
    for (const auto& v : violations) out.push_back(violation_json(v, text));
    return out;
}

// GET /api/events/{id}/plan and every successful mutation: Planner::plan_json with every violation,
// solve error and stage-1 reason rendered in the viewer's language and zone ("text"), plus what the
// pages decide on: published, published_is_current, violations (count over the crews), publishable.
// Times are Unix seconds.
boost::json::value plan_value(const Request& r, const EventPlan& plan) {
    boost::system::error_code ec;
    auto value = boost::json::parse(Planner::plan_json(plan, text_for(r)), ec);
    if (ec || !value.is_object()) value = boost::json::object{};
    std::size_t violations = 0;
    for (const auto& crew : plan.crews) violations += crew.violations.size() + (crew.solve_error ? 1 : 0);
    auto& o = value.as_object();
    o["published"] = plan.published();
    o["published_is_current"] = plan.published_is_current();
    o["violations"] = violations;
    o["publishable"] = !plan.crews.empty() && violations == 0;
    return value;
}

Response plan_response(const Request& r, const Result<EventPlan>& plan) {
    if (!plan) return http::error_response(r, plan.error());
    return Response::json(200, boost::json::serialize(plan_value(r, *plan)));
}

Response attachment(std::string body, std::string_view content_type, const std::string& filename) {
    auto response = Response::text(200, std::move(body), content_type);
    response.headers.set("Content-Disposition", "attachment; filename=\"" + filename + "\"");
    response.headers.set("Cache-Control", "no-store");
    return response;
}

// --- the planner page ------------------------------------------------------------------------------

std::string number_text(double value) {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc() ? std::string(buffer, end) : std::string();
}

std::string optional_text(const std::optional<int>& value) {
    return value ? std::to_string(*value) : std::string();
}

boost::json::object settings_form(const Settings& s) {
    return boost::json::object{{"lap_s", number_text(s.lap_s)},
                               {"pit_loss_s", number_text(s.pit_loss_s)},
                               {"fuel_tank", number_text(s.fuel_tank)},
                               {"fuel_per_lap", number_text(s.fuel_per_lap)},
                               {"crews", std::to_string(s.crews)},
                               {"min_drivers", std::to_string(s.min_drivers)},
                               {"max_drivers", std::to_string(s.max_drivers)},
                               {"fair_share", s.fair_share},
                               {"max_consecutive", std::to_string(s.max_consecutive)},
                               {"min_rest_hours", number_text(s.min_rest_hours)},
                               {"min_seat_min", optional_text(s.min_seat_min)},
                               {"max_seat_min", optional_text(s.max_seat_min)},
                               {"irating_min", optional_text(s.irating_min)},
                               {"irating_max", optional_text(s.irating_max)},
                               {"spotters", s.spotters},
                               {"mode_balanced", s.mode == BalanceMode::balanced},
                               {"mode_tiered", s.mode == BalanceMode::tiered},
                               {"car_id", s.car_id ? std::to_string(*s.car_id) : std::string()},
                               {"car_name", s.car_name},
                               {"time_budget_ms", std::to_string(s.time_budget_ms)}};
}

// {"stint": "{stint}", ...}: the labels of web/templates/plan_labels keep their placeholders for the
// page's script (the event page passes the same).
boost::json::object label_placeholders() {
    boost::json::object out;
    for (const char* name :
         {"car", "number", "stint", "name", "start", "end", "role", "count", "total", "spread", "changes"})
        out[name] = std::string("{") + name + "}";
    return out;
}

boost::json::object planner_page_data(const events::Event& e, const EventPlan& plan) {
    constexpr std::int64_t kMs = 1000;
    return boost::json::object{
        {"event", boost::json::object{{"id", e.id},
                                      {"name", e.name},
                                      {"track", e.track},
                                      {"starts_at", e.starts_at * kMs},
                                      {"ends_at", e.ends_at() * kMs},
                                      {"registered", e.registered},
                                      {"duration", boost::json::object{{"hours", e.duration_min / 60},
                                                                       {"minutes", e.duration_min % 60}}}}},
        {"settings", settings_form(plan.settings)},
        {"ph", label_placeholders()},
        {"topics", events::Events::topic(e.id)}};
}

// --- wiring ----------------------------------------------------------------------------------------

using JsonHandler = std::function<Response(Request&, const boost::json::object&, std::int64_t event_id)>;

void add_post(http::Router& router, std::string pattern, JsonHandler handler,
              std::size_t max_body = kMaxPostBytes) {
    router.must_add({.method = Method::post,
                     .pattern = std::move(pattern),
                     .permission = "planner.edit",
                     .handler =
                         [handler = std::move(handler)](Request& r) {
                             auto body = json_body(r);
                             if (!body) return http::error_response(r, body.error());
                             return handler(r, *body, r.int_param("id"));
                         },
                     .max_body_bytes = max_body});
}

Result<std::int64_t> revision_of(const boost::json::object& o) {
    return integer_field(o, "revision", 0, kMaxId);
}

}  // namespace

void add_routes(http::Router& router, PlannerDeps deps) {
    const PlannerDeps d = deps;

    router.must_add({.method = Method::get,
                     .pattern = "/events/{id:int}/planner",
                     .permission = "planner.edit",
                     .handler = [d](Request& r) {
                         const auto id = r.int_param("id");
                         auto event = d.events.get(id);
                         if (!event) return web::error_page(d.shell, r, event.error());
                         auto plan = d.planner.plan(id);
                         if (!plan) return web::error_page(d.shell, r, plan.error());
                         return web::render_page(d.shell, r, "planner", "planner.title", "events",
                                                 planner_page_data(*event, *plan));
                     }});

    router.must_add(
        {.method = Method::get,
         .pattern = "/api/events/{id:int}/plan",
         .permission = "team.view",
         .handler = [d](Request& r) { return plan_response(r, d.planner.plan(r.int_param("id"))); }});

    router.must_add({.method = Method::get,
                     .pattern = "/api/events/{id:int}/plan.json",
                     .permission = "team.view",
                     .handler = [d](Request& r) {
                         const auto id = r.int_param("id");
                         auto plan = d.planner.plan(id);
                         if (!plan) return http::error_response(r, plan.error());
                         return attachment(Planner::plan_json(*plan), "application/json",
                                           "event-" + std::to_string(id) + "-plan.json");
                     }});

    router.must_add({.method = Method::get,
                     .pattern = "/api/events/{id:int}/plan.csv",
                     .permission = "team.view",
                     .handler = [d](Request& r) {
                         const auto id = r.int_param("id");
                         auto plan = d.planner.plan(id);
                         if (!plan) return http::error_response(r, plan.error());
                         return attachment(Planner::plan_csv(*plan), "text/csv; charset=utf-8",
                                           "event-" + std::to_string(id) + "-plan.csv");
                     }});

    // A member's iCal feed: the URL is the credential (HMAC of the member and the feed's generation),
    // so calendar apps can poll it without a session. Wrong or revoked tokens are a plain 404.
    router.must_add({.method = Method::get,
                     .pattern = "/calendar/{user:int}/{token}",
                     .permission = std::string(http::kPublic),
                     .handler = [d](Request& r) {
                         std::string_view token = r.param("token");
                         if (token.ends_with(".ics")) token.remove_suffix(4);
                         auto feed = d.planner.ical_feed(r.int_param("user"), token);
                         if (!feed) return http::error_response(r, feed.error());
                         auto response =
                             Response::text(200, std::move(*feed), "text/calendar; charset=utf-8");
                         response.headers.set("Cache-Control", "private, max-age=300");
                         response.headers.set("Referrer-Policy", "no-referrer");
                         return response;
                     }});
    // The viewer's own feed URL (created on first use); POST rotates it (the old URL stops working).
    router.must_add(
        {.method = Method::get,
         .pattern = "/api/me/calendar",
         .permission = "event.register",
         .handler = [d](Request& r) {
             auto url = d.planner.ical_url(r.principal.user_id);
             if (!url) return http::error_response(r, url.error());
             auto response = Response::json(200, boost::json::serialize(boost::json::object{{"url", *url}}));
             response.headers.set("Cache-Control", "no-store");
             return response;
         }});
    router.must_add({.method = Method::post,
                     .pattern = "/api/me/calendar/rotate",
                     .permission = "event.register",
                     .handler =
                         [d](Request& r) {
                             auto url = d.planner.rotate_ical(r.principal.user_id);
                             if (!url) return http::error_response(r, url.error());
                             auto response = Response::json(
                                 200, boost::json::serialize(boost::json::object{{"url", *url}}));
                             response.headers.set("Cache-Control", "no-store");
                             return response;
                         },
                     .max_body_bytes = 1024});

    // The body is the settings object itself (parse_settings names a bad field).
    add_post(router, "/api/events/{id:int}/plan/settings",
             [d](Request& r, const boost::json::object&, std::int64_t id) {
                 auto settings = parse_settings(r.body);
                 if (!settings) return http::error_response(r, settings.error());
                 if (auto saved = d.planner.save_settings(id, *settings); !saved)
                     return http::error_response(r, saved.error());
                 return plan_response(r, d.planner.plan(id));
             });

    add_post(router, "/api/events/{id:int}/plan/crews",
             [d](Request& r, const boost::json::object& o, std::int64_t id) {
                 auto revision = revision_of(o);
                 if (!revision) return http::error_response(r, revision.error());
                 return plan_response(r, d.planner.form_crews(id, *revision));
             });

    add_post(router, "/api/events/{id:int}/plan/stints",
             [d](Request& r, const boost::json::object& o, std::int64_t id) {
                 auto revision = revision_of(o);
                 if (!revision) return http::error_response(r, revision.error());
                 auto crew = optional_integer(o, "crew", 0, kMaxIndex);
                 if (!crew) return http::error_response(r, crew.error());
                 std::optional<int> which;
                 if (*crew) which = static_cast<int>(**crew);
                 return plan_response(r, d.planner.assign_stints(id, which, *revision));
             });

    // Live validation while a chip is dragged: nothing is stored.
    add_post(router, "/api/events/{id:int}/plan/preview",
             [d](Request& r, const boost::json::object& o, std::int64_t id) {
                 auto crew = integer_field(o, "crew", 0, kMaxIndex);
                 if (!crew) return http::error_response(r, crew.error());
                 auto edits = parse_edits(o);
                 if (!edits) return http::error_response(r, edits.error());
                 auto violations = d.planner.preview(id, static_cast<int>(*crew), *edits);
                 if (!violations) return http::error_response(r, violations.error());
                 return Response::json(200, boost::json::serialize(boost::json::object{
                                                {"violations", violations_json(*violations, text_for(r))}}));
             });

    add_post(router, "/api/events/{id:int}/plan/edit",
             [d](Request& r, const boost::json::object& o, std::int64_t id) {
                 auto revision = revision_of(o);
                 if (!revision) return http::error_response(r, revision.error());
                 auto crew = integer_field(o, "crew", 0, kMaxIndex);
                 if (!crew) return http::error_response(r, crew.error());
                 auto edits = parse_edits(o);
                 if (!edits) return http::error_response(r, edits.error());
                 return plan_response(r, d.planner.edit(id, static_cast<int>(*crew), *edits, *revision));
             });

    add_post(router, "/api/events/{id:int}/plan/lock",
             [d](Request& r, const boost::json::object& o, std::int64_t id) {
                 auto revision = revision_of(o);
                 if (!revision) return http::error_response(r, revision.error());
                 auto crew = integer_field(o, "crew", 0, kMaxIndex);
                 if (!crew) return http::error_response(r, crew.error());
                 auto stint = integer_field(o, "stint", 0, kMaxIndex);
                 if (!stint) return http::error_response(r, stint.error());
                 auto locked = boolean_field(o, "locked");
                 if (!locked) return http::error_response(r, locked.error());
                 return plan_response(r, d.planner.set_locked(id, static_cast<int>(*crew),
                                                              static_cast<int>(*stint), *locked, *revision));
             });

    add_post(router, "/api/events/{id:int}/plan/move",
             [d](Request& r, const boost::json::object& o, std::int64_t id) {
                 auto revision = revision_of(o);
                 if (!revision) return http::error_response(r, revision.error());
                 auto user = integer_field(o, "user_id", 1, kMaxId);
                 if (!user) return http::error_response(r, user.error());
                 if (!o.contains("crew")) return http::error_response(r, bad_field("crew"));
                 auto crew = optional_integer(o, "crew", 0, kMaxIndex);
                 if (!crew) return http::error_response(r, crew.error());
                 auto as_driver = boolean_field(o, "as_driver");
                 if (!as_driver) return http::error_response(r, as_driver.error());
                 std::optional<int> to;
                 if (*crew) to = static_cast<int>(**crew);
                 return plan_response(r, d.planner.move_member(id, *user, to, *as_driver, *revision));
             });

    // {"publish": {revision, dms_queued, announced, edited}} over the plan.
    add_post(router, "/api/events/{id:int}/plan/publish",
             [d](Request& r, const boost::json::object&, std::int64_t id) {
                 auto outcome = d.planner.publish(id);
                 if (!outcome) return http::error_response(r, outcome.error());
                 auto plan = d.planner.plan(id);
                 if (!plan) return http::error_response(r, plan.error());
                 auto value = plan_value(r, *plan);
                 value.as_object()["publish"] = boost::json::object{{"revision", outcome->revision},
                                                                    {"dms_queued", outcome->dms_queued},
                                                                    {"announced", outcome->announced},
                                                                    {"edited", outcome->edited}};
                 return Response::json(200, boost::json::serialize(value));
             });

    add_post(router, "/api/events/{id:int}/plan/green-flag",
             [d](Request& r, const boost::json::object& o, std::int64_t id) {
                 auto at = optional_integer(o, "at", kMinTime, kMaxTime);
                 if (!at) return http::error_response(r, at.error());
                 return plan_response(r, d.planner.green_flag(id, at->value_or(now_seconds(d.clock))));
             });

    add_post(router, "/api/events/{id:int}/plan/pit",
             [d](Request& r, const boost::json::object& o, std::int64_t id) {
                 auto crew = integer_field(o, "crew", 0, kMaxIndex);
                 if (!crew) return http::error_response(r, crew.error());
                 auto at = optional_integer(o, "at", kMinTime, kMaxTime);
                 if (!at) return http::error_response(r, at.error());
                 return plan_response(
                     r, d.planner.pit_now(id, static_cast<int>(*crew), at->value_or(now_seconds(d.clock))));
             });

    // A JRES file solved on its own (nothing stored): {"plan": [{stint, starts_at, ends_at, laps,
    // driver: {id, name}, spotter: {id, name} | null}], "score", "violations"}; an infeasible file is
    // the error naming the member and the rule.
    router.must_add(
        {.method = Method::post,
         .pattern = "/api/planner/jres",
         .permission = "planner.edit",
         .handler =
             [](Request& r) {
                 auto jres = parse_jres(r.body);
                 if (!jres) return http::error_response(r, jres.error());
                 auto input = to_plan_input(*jres);
                 if (!input) return http::error_response(r, input.error());
                 auto solved = solve(*input, {.time_budget_ms = kJresTimeBudgetMs});
                 if (!solved) return http::error_response(r, solved.error());
                 auto person = [&](std::optional<MemberId> id) -> boost::json::value {
                     if (!id || *id == 0) return nullptr;
                     const auto* m = input->member(*id);
                     return boost::json::object{{"id", *id}, {"name", m ? m->name : std::string()}};
                 };
                 boost::json::array stints;
                 for (const auto& stint : solved->plan.stints) {
                     std::optional<MemberId> driver, spotter;
                     for (const auto& a : solved->plan.assignments)
                         if (a.stint == stint.index) {
                             driver = a.driver;
                             spotter = a.spotter;
                         }
                     stints.push_back(boost::json::object{{"stint", stint.index},
                                                          {"starts_at", stint.start},
                                                          {"ends_at", stint.end},
                                                          {"laps", stint.laps},
                                                          {"driver", person(driver)},
                                                          {"spotter", person(spotter)}});
                 }
                 const auto& s = solved->score;
                 return Response::json(
                     200, boost::json::serialize(boost::json::object{
                              {"plan", std::move(stints)},
                              {"score", boost::json::object{{"spread", s.spread},
                                                            {"driver_changes", s.driver_changes},
                                                            {"preferred_bonus", s.preferred_bonus},
                                                            {"total", s.total}}},
                              {"violations", violations_json(validate(*input, solved->plan), text_for(r))}}));
             },
         .max_body_bytes = kJresMaxBody});
}

}  // namespace pitwall::planner
