#include "features/events/routes.hpp"

#include <charconv>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "features/events/events.hpp"
#include "features/events/views.hpp"
#include "platform/auth/permissions.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/http/router.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/web/page.hpp"

namespace pitwall::events {
namespace {

using http::Method;
using http::Request;
using http::Response;

constexpr std::size_t kMaxFormBytes = 16 * 1024;  // the largest form: 49 hours, each available and preferred

std::string form(const Request& r, std::string_view name) {
    return http::form_field(r.body, name).value_or("");
}

// Every value of a repeated field (hour=...&hour=...), in order; nullopt on a malformed escape.
std::optional<std::vector<std::string>> form_values(std::string_view body, std::string_view name) {
    std::vector<std::string> out;
    while (!body.empty()) {
        const auto amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        const auto eq = pair.find('=');
        auto key = http::percent_decode(pair.substr(0, eq), true);
        if (!key) return std::nullopt;
        if (*key != name) continue;
        auto value = http::percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
        if (!value) return std::nullopt;
        out.push_back(std::move(*value));
    }
    return out;
}

// A checkbox of the registration form: absent is false, ticked sends "1"; nullopt for anything else.
std::optional<bool> checkbox(const Request& r, std::string_view name) {
    auto value = http::form_field(r.body, name);
    if (!value) return false;
    if (*value == "1") return true;
    return std::nullopt;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

std::int64_t now_seconds(const Clock& clock) {
    const auto ms = clock.now_ms();
    return ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
}

bool may(const Request& r, std::string_view permission) {
    return auth::allows(auth::parse_role(r.principal.role), permission);
}

// {"stint": "{stint}", ...}: labels rendered with these keep their placeholders for the page's script.
boost::json::object label_placeholders() {
    boost::json::object out;
    for (const char* name :
         {"car", "number", "stint", "name", "start", "end", "role", "count", "total", "spread", "changes"})
        out[name] = std::string("{") + name + "}";
    return out;
}

Response back_to(std::int64_t event_id) {
    return Response::redirect("/events/" + std::to_string(event_id), 303);
}

Response new_event_page(const EventsDeps& d, const Request& r, const EventForm& form,
                        std::optional<Error> error) {
    std::optional<std::string> message;
    int status = 200;
    if (error) {
        status = http::status_for(error->kind);
        message = r.catalog ? r.catalog->error_text(r.locale, *error, r.time_zone) : error->code;
    }
    // The earliest start the form offers: the next whole minute, in the viewer's zone.
    const std::string min_start = utc_to_local(now_seconds(d.clock) + 60, r.time_zone);
    return web::render_page(d.shell, r, "event_new", "events.new_title", "events",
                            new_event_data(form, std::move(message), min_start), status);
}

}  // namespace

void add_routes(http::Router& router, EventsDeps deps) {
    const EventsDeps d = deps;

    router.must_add(
        {.method = Method::get, .pattern = "/events", .permission = "team.view", .handler = [d](Request& r) {
             auto all = d.events.list_all();
             if (!all) return web::error_page(d.shell, r, all.error());
             auto mine = d.events.roles_of(r.principal.user_id);
             if (!mine) return web::error_page(d.shell, r, mine.error());
             return web::render_page(d.shell, r, "events", "events.title", "events",
                                     list_data(*all, *mine, now_seconds(d.clock), may(r, "event.manage")));
         }});

    router.must_add({.method = Method::get,
                     .pattern = "/events/{id:int}",
                     .permission = "team.view",
                     .handler = [d](Request& r) {
                         const auto id = r.int_param("id");
                         auto event = d.events.get(id);
                         if (!event) return web::error_page(d.shell, r, event.error());
                         auto registrations = d.events.registrations(id);
                         if (!registrations) return web::error_page(d.shell, r, registrations.error());
                         auto coverage = d.events.coverage(id);
                         if (!coverage) return web::error_page(d.shell, r, coverage.error());
                         auto hours = d.events.member_hours(id, r.principal.user_id);
                         if (!hours) return web::error_page(d.shell, r, hours.error());
                         const EventPage page{*event,
                                              *registrations,
                                              *coverage,
                                              hours->available,
                                              r.principal.user_id,
                                              now_seconds(d.clock),
                                              may(r, "event.register"),
                                              hours->preferred};
                         auto data = event_data(page);
                         // The plan section (web/static/js/plan.js): whose itinerary, the planner
                         // link, and the placeholders its labels keep (web/templates/plan_labels).
                         data["viewer_id"] = r.principal.user_id;
                         data["can_plan"] = may(r, "planner.edit");
                         data["ph"] = label_placeholders();
                         return web::render_page(d.shell, r, "event", "events.event_title", "events",
                                                 std::move(data));
                     }});

    router.must_add({.method = Method::post,
                     .pattern = "/events/{id:int}/registration",
                     .permission = "event.register",
                     .handler =
                         [d](Request& r) {
                             const auto id = r.int_param("id");
                             // Without a note field the stored note stays; an empty one clears it. The
                             // planner's checkboxes count only in a form that says it has them
                             // (options=1): an unticked box is not sent, and a form without them keeps
                             // what is stored.
                             RegistrationOptions options{.note = http::form_field(r.body, "note")};
                             if (auto marker = http::form_field(r.body, "options")) {
                                 const auto captain = checkbox(r, "captain_volunteer");
                                 const auto avoid_night = checkbox(r, "avoid_night");
                                 if (*marker != "1" || !captain || !avoid_night)
                                     return web::error_page(
                                         d.shell, r, Error(ErrorKind::invalid_input, "events.bad_options"));
                                 options.captain_volunteer = *captain;
                                 options.avoid_night = *avoid_night;
                             }
                             auto change = d.events.register_member(id, r.principal.user_id, form(r, "role"),
                                                                    Source::web, std::move(options));
                             if (!change) return web::error_page(d.shell, r, change.error());
                             return back_to(id);
                         },
                     .max_body_bytes = kMaxFormBytes});

    router.must_add({.method = Method::post,
                     .pattern = "/events/{id:int}/registration/delete",
                     .permission = "event.register",
                     .handler =
                         [d](Request& r) {
                             const auto id = r.int_param("id");
                             auto change = d.events.unregister(id, r.principal.user_id, Source::web);
                             if (!change) return web::error_page(d.shell, r, change.error());
                             return back_to(id);
                         },
                     .max_body_bytes = kMaxFormBytes});

    // The viewer's hours: one checkbox per race hour (hour=<Unix seconds>), and one for the hours they
    // prefer (preferred=<Unix seconds>, each also an available hour); none ticked clears them.
    router.must_add(
        {.method = Method::post,
         .pattern = "/events/{id:int}/availability",
         .permission = "event.register",
         .handler =
             [d](Request& r) {
                 const auto id = r.int_param("id");
                 const Error bad_hours(ErrorKind::invalid_input, "events.bad_hours");
                 std::vector<std::int64_t> hours, preferred;
                 for (auto [field, out] : {std::pair{"hour", &hours}, std::pair{"preferred", &preferred}}) {
                     auto values = form_values(r.body, field);
                     if (!values) return web::error_page(d.shell, r, bad_hours);
                     for (const auto& v : *values) {
                         auto hour = parse_int(v);
                         if (!hour) return web::error_page(d.shell, r, bad_hours);
                         out->push_back(*hour);
                     }
                 }
                 if (auto s = d.events.set_availability(id, r.principal.user_id, std::move(hours),
                                                        std::move(preferred));
                     !s)
                     return web::error_page(d.shell, r, s.error());
                 return back_to(id);
             },
         .max_body_bytes = kMaxFormBytes});

    router.must_add({.method = Method::get,
                     .pattern = "/api/events/{id:int}",
                     .permission = "team.view",
                     .handler = [d](Request& r) {
                         const auto id = r.int_param("id");
                         auto event = d.events.get(id);
                         if (!event) return http::error_response(r, event.error());
                         auto registrations = d.events.registrations(id);
                         if (!registrations) return http::error_response(r, registrations.error());
                         auto coverage = d.events.coverage(id);
                         if (!coverage) return http::error_response(r, coverage.error());
                         return Response::json(
                             200, boost::json::serialize(event_json(*event, *registrations, *coverage)));
                     }});

    router.must_add({.method = Method::get,
                     .pattern = "/events/new",
                     .permission = "event.manage",
                     .handler = [d](Request& r) {
                         return new_event_page(d, r, EventForm{.duration_min = "360"}, std::nullopt);
                     }});

    router.must_add(
        {.method = Method::post,
         .pattern = "/events",
         .permission = "event.manage",
         .handler =
             [d](Request& r) {
                 const EventForm typed{form(r, "name"),           form(r, "track"),
                                       form(r, "car_class"),      form(r, "starts_at"),
                                       form(r, "duration_min"),   form(r, "discord_channel_id"),
                                       form(r, "discord_role_id")};
                 EventDraft draft{
                     typed.name,           typed.track, typed.car_class, 0, 0, typed.discord_channel_id,
                     typed.discord_role_id};
                 auto starts = local_to_utc(typed.starts_local, r.time_zone);
                 if (!starts)
                     return new_event_page(d, r, typed, Error(ErrorKind::invalid_input, "events.bad_start"));
                 draft.starts_at = *starts;
                 auto duration = parse_int(typed.duration_min);
                 if (!duration)
                     return new_event_page(d, r, typed,
                                           Error(ErrorKind::invalid_input, "events.bad_duration"));
                 draft.duration_min = *duration;
                 auto created = d.events.create(draft, r.principal.user_id);
                 if (!created) return new_event_page(d, r, typed, created.error());
                 return back_to(created->id);
             },
         .max_body_bytes = kMaxFormBytes});
}

}  // namespace pitwall::events
