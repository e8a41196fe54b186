#include "features/identity/routes.hpp"

#include <functional>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <unicode/coll.h>
#include <unicode/timezone.h>

#include "features/identity/access.hpp"
#include "features/identity/providers.hpp"
#include "features/identity/users.hpp"
#include "features/racing/racing.hpp"
#include "features/racing/views.hpp"
#include "platform/auth/permissions.hpp"
#include "platform/auth/session.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/http/router.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/web/page.hpp"

namespace pitwall::identity {
namespace {

using http::Method;
using http::Request;
using http::Response;

constexpr std::string_view kSignedIn = auth::kSignedIn;

std::string cookie_value(const Request& r, std::string_view name) {
    return auth::read_cookie(r.headers.get("Cookie").value_or(""), name).value_or("");
}

std::string form(const Request& r, std::string_view name) {
    return http::form_field(r.body, name).value_or("");
}

bool valid_time_zone(std::string_view zone) {
    if (zone.empty() || zone.size() > 64) return false;
    auto tz = std::unique_ptr<icu::TimeZone>(icu::TimeZone::createTimeZone(
        icu::UnicodeString::fromUTF8(icu::StringPiece(zone.data(), static_cast<std::int32_t>(zone.size())))));
    icu::UnicodeString id;
    tz->getID(id);
    return id != icu::UnicodeString("Etc/Unknown");
}

Response see_other(std::string_view location) {
    return Response::redirect(location, 303);
}

// Starts a session for `user_id`, retiring whatever session this browser had.
Response signed_in_response(const IdentityDeps& d, const Request& r, std::int64_t user_id,
                            std::string_view to) {
    auto session = d.sessions.rotate(r.principal.session_id, user_id);
    if (!session) return web::error_page(d.shell, r, session.error());
    auto response = see_other(safe_return_path(to));
    response.headers.add("Set-Cookie", auth::set_cookie(kSessionCookie, session->id,
                                                        {.secure = r.secure, .max_age = d.sessions.ttl()}));
    response.headers.add(
        "Set-Cookie",
        auth::set_cookie(kPreAuthCookie, "",
                         {.secure = r.secure, .max_age = std::chrono::seconds(-1), .path = "/auth"}));
    return response;
}

Response begin(const IdentityDeps& d, Request& r, Provider p) {
    auto redirect =
        d.providers.begin(p, r.query_param("next").value_or(p == Provider::discord ? "/" : "/profile"),
                          p == Provider::discord ? 0 : r.principal.user_id);
    if (!redirect) return web::error_page(d.shell, r, redirect.error());
    auto response = Response::redirect(redirect->location, r.method == Method::get ? 302 : 303);
    response.headers.add("Set-Cookie",
                         auth::set_cookie(kPreAuthCookie, redirect->binder,
                                          {.secure = r.secure,
                                           .max_age = std::chrono::seconds(d.config.auth.preauth_ttl_s),
                                           .path = "/auth"}));
    return response;
}

// The provider sent the browser back with an error (the member said no, or the request was bad).
std::optional<Error> provider_error(const Request& r) {
    if (auto error = r.query_param("error")) {
        if (*error == "access_denied") return Error(ErrorKind::invalid_input, "auth.denied");
        return Error(ErrorKind::invalid_input, "auth.provider_error");
    }
    return std::nullopt;
}

Response callback(const IdentityDeps& d, Request& r, Provider p) {
    if (auto error = provider_error(r)) return web::error_page(d.shell, r, *error);
    const std::string code = r.query_param("code").value_or("");
    const std::string state = r.query_param("state").value_or("");
    const std::string binder = cookie_value(r, kPreAuthCookie);
    if (p == Provider::discord) {
        auto done = d.providers.complete_sign_in(code, state, binder);
        if (!done) return web::error_page(d.shell, r, done.error());
        return signed_in_response(d, r, done->user_id, done->return_to);
    }
    auto linked = d.providers.complete_link(p, code, state, binder, r.principal.user_id);
    if (!linked) return web::error_page(d.shell, r, linked.error());
    return see_other("/profile");
}

boost::json::array account_rows(const IdentityDeps& d, std::int64_t user_id) {
    boost::json::array rows;
    auto links = d.users.links(user_id);
    for (Provider p : {Provider::iracing, Provider::garage61}) {
        boost::json::object row{{"provider", provider_name(p)},
                                {"linked", false},
                                {"status", "unlinked"},
                                {"last_sync", nullptr},
                                {"available", d.providers.configured(p)}};
        if (links)
            for (const auto& a : *links)
                if (a.provider == provider_name(p)) {
                    row["linked"] = true;
                    row["status"] = a.status == "active" ? "ok" : a.status;
                    row["last_sync"] = a.last_sync_at ? boost::json::value(a.last_sync_at) : nullptr;
                    row["subject"] = a.subject;
                    row["display_name"] = a.display_name;
                    row["slug"] = a.slug;
                }
        rows.push_back(std::move(row));
    }
    return rows;
}

// The racing section of a member page; null when the racing feature is not wired in.
Result<boost::json::value> racing_section(const IdentityDeps& d, const Request& r, std::int64_t user_id) {
    if (!d.racing || !r.catalog) return boost::json::value(nullptr);
    auto data = d.racing->member(user_id);
    if (!data) return data.error();
    return boost::json::value(racing::section_data(*data, *r.catalog, {r.locale, r.time_zone}));
}

// Names in the viewer's collation: the SQL order is byte order, and a Turkish roster wants Ç after C
// and İ after I, not after Z.
void sort_by_name(std::vector<User>& users, const std::string& locale, SortDirection direction) {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Collator> collator(
        icu::Collator::createInstance(icu::Locale(locale.c_str()), status));
    if (U_FAILURE(status) || !collator) return;
    std::stable_sort(users.begin(), users.end(), [&](const User& a, const User& b) {
        UErrorCode s = U_ZERO_ERROR;
        const auto order = direction == SortDirection::ascending
                               ? collator->compareUTF8(a.display_name, b.display_name, s)
                               : collator->compareUTF8(b.display_name, a.display_name, s);
        return order == UCOL_LESS;
    });
}

std::string roster_href(RosterSort sort, SortDirection direction, std::string_view category) {
    return fmt::format("/members?sort={}&dir={}&category={}", sort_name(sort), direction_name(direction),
                       category);
}

// Header links of the sortable columns: the current column flips its direction, another starts in
// its natural one; aria-sort marks the current column.
boost::json::object roster_columns(const RosterOrder& order) {
    boost::json::object columns;
    for (auto sort :
         {RosterSort::name, RosterSort::irating, RosterSort::safety_rating, RosterSort::license}) {
        const bool current = sort == order.sort;
        const auto direction = !current                                      ? natural_direction(sort)
                               : order.direction == SortDirection::ascending ? SortDirection::descending
                                                                             : SortDirection::ascending;
        boost::json::object column{{"href", roster_href(sort, direction, order.category)}};
        if (current)
            column["aria_sort"] = order.direction == SortDirection::ascending ? "ascending" : "descending";
        columns[sort_name(sort)] = std::move(column);
    }
    return columns;
}

}  // namespace

bool demo_sign_in_enabled(const Config& config) {
    if (!config.demo) return false;
    auto listen = parse_listen_address(config.http.listen);
    if (!listen) return false;
    return listen->host == "::1" || listen->host == "localhost" || listen->host.starts_with("127.");
}

void add_routes(http::Router& router, IdentityDeps d) {
    const std::string pub(auth::kPublic);
    const std::string signed_in(kSignedIn);

    router.must_add(
        {.method = Method::get, .pattern = "/sign-in", .permission = pub, .handler = [d](Request& r) {
             boost::json::array demo_roles;
             if (demo_sign_in_enabled(d.config))
                 for (auto role : {"owner", "admin", "member", "guest"})
                     demo_roles.push_back(boost::json::object{{"role", role}});
             boost::json::object data{{"discord", d.providers.configured(Provider::discord)},
                                      {"demo_roles", std::move(demo_roles)},
                                      {"next", safe_return_path(r.query_param("next").value_or("/"))}};
             return web::render_page(d.shell, r, "sign_in", "sign_in.title", "", std::move(data));
         }});

    for (Provider p : {Provider::discord, Provider::iracing, Provider::garage61}) {
        const std::string base = "/auth/" + std::string(provider_name(p));
        const std::string permission = p == Provider::discord ? pub : signed_in;
        for (Method m : {Method::get, Method::post})
            router.must_add({.method = m,
                             .pattern = base + "/login",
                             .permission = permission,
                             .handler = [d, p](Request& r) { return begin(d, r, p); }});
        // Callbacks are public: the state proves which browser and which member began the flow, so a
        // forged or replayed callback is refused with 400 whoever sends it.
        router.must_add({.method = Method::get,
                         .pattern = base + "/callback",
                         .permission = pub,
                         .handler = [d, p](Request& r) { return callback(d, r, p); }});
    }

    // The member's own linked accounts: POST /profile/accounts/{provider}/{link|unlink|refresh}.
    auto account_action = [&](const std::string& action, std::function<Response(Request&, Provider)> act) {
        router.must_add({.method = Method::post,
                         .pattern = "/profile/accounts/{provider:slug}/" + action,
                         .permission = signed_in,
                         .handler = [d, act](Request& r) {
                             auto p = parse_provider(r.param("provider"));
                             if (!p || *p == Provider::discord)
                                 return web::error_page(d.shell, r,
                                                        Error(ErrorKind::not_found, "http.not_found"));
                             return act(r, *p);
                         }});
    };
    account_action("link", [d](Request& r, Provider p) { return begin(d, r, p); });
    account_action("unlink", [d](Request& r, Provider p) {
        if (auto s = d.providers.unlink(p, r.principal.user_id); !s)
            return web::error_page(d.shell, r, s.error());
        return see_other("/profile");
    });
    // "Refresh now": renews the tokens (the token-refresh job's path, with a margin that always refreshes).
    account_action("refresh", [d](Request& r, Provider p) {
        auto token = d.providers.access_token(p, r.principal.user_id, std::chrono::hours(24 * 365));
        if (!token) return web::error_page(d.shell, r, token.error());
        return see_other("/profile");
    });

    router.must_add(
        {.method = Method::post, .pattern = "/sign-out", .permission = signed_in, .handler = [d](Request& r) {
             if (auto s = d.sessions.destroy(r.principal.session_id); !s)
                 return web::error_page(d.shell, r, s.error());
             auto response = see_other("/");
             response.headers.add(
                 "Set-Cookie", auth::set_cookie(kSessionCookie, "",
                                                {.secure = r.secure, .max_age = std::chrono::seconds(-1)}));
             return response;
         }});

    router.must_add(
        {.method = Method::get, .pattern = "/profile", .permission = signed_in, .handler = [d](Request& r) {
             boost::json::array zones;
             for (const char* zone : {"UTC", "Europe/Istanbul", "Europe/London", "Europe/Berlin",
                                      "America/New_York", "America/Chicago", "America/Los_Angeles",
                                      "America/Sao_Paulo", "Australia/Sydney", "Asia/Tokyo"})
                 zones.push_back(boost::json::object{{"id", zone}, {"selected", r.time_zone == zone}});
             auto racing = racing_section(d, r, r.principal.user_id);
             if (!racing) return web::error_page(d.shell, r, racing.error());
             auto me = d.users.find(r.principal.user_id);
             if (!me) return web::error_page(d.shell, r, me.error());
             const std::string dm_status = *me ? (*me)->dm_status : "unknown";
             boost::json::object data{{"accounts", account_rows(d, r.principal.user_id)},
                                      {"time_zones", std::move(zones)},
                                      {"dm", boost::json::object{{"status", dm_status}}},
                                      {"racing", std::move(*racing)}};
             return web::render_page(d.shell, r, "profile", "profile.title", "profile", std::move(data));
         }});

    router.must_add({.method = Method::post,
                     .pattern = "/profile/time-zone",
                     .permission = signed_in,
                     .handler = [d](Request& r) {
                         const std::string zone = form(r, "time_zone");
                         if (!valid_time_zone(zone))
                             return web::error_page(
                                 d.shell, r, Error(ErrorKind::invalid_input, "identity.bad_time_zone"));
                         if (auto s = d.users.set_time_zone(r.principal.user_id, zone); !s)
                             return web::error_page(d.shell, r, s.error());
                         return see_other("/profile");
                     }});

    router.must_add({.method = Method::post,
                     .pattern = "/settings/locale",
                     .permission = pub,
                     .handler = [d](Request& r) {
                         const std::string locale = form(r, "locale");
                         if (!r.catalog || !r.catalog->supports(locale))
                             return web::error_page(d.shell, r,
                                                    Error(ErrorKind::invalid_input, "identity.bad_locale"));
                         if (r.principal.signed_in())
                             if (auto s = d.users.set_locale(r.principal.user_id, locale); !s)
                                 return web::error_page(d.shell, r, s.error());
                         auto response = see_other(safe_return_path(form(r, "return_to")));
                         response.headers.add(
                             "Set-Cookie",
                             auth::set_cookie(kLocaleCookie, locale,
                                              {.secure = r.secure, .max_age = std::chrono::hours(24 * 365)}));
                         return response;
                     }});

    router.must_add(
        {.method = Method::get, .pattern = "/members", .permission = "team.view", .handler = [d](Request& r) {
             const auto order =
                 parse_roster_order(r.query_param("sort"), r.query_param("dir"), r.query_param("category"));
             auto roster = d.users.roster(order);
             if (!roster) return web::error_page(d.shell, r, roster.error());
             if (order.sort == RosterSort::name) sort_by_name(*roster, r.locale, order.direction);
             boost::json::array members;
             const auto now = d.clock.now_ms();
             for (const auto& u : *roster) {
                 if (u.role == auth::Role::guest) continue;
                 const bool rated = !u.license_class.empty();
                 members.push_back(boost::json::object{
                     {"id", u.id},
                     {"name", u.display_name},
                     {"role", auth::role_name(u.role)},
                     {"time_zone", u.time_zone},
                     {"irating", rated ? boost::json::value(u.irating) : nullptr},
                     {"safety_rating", rated ? boost::json::value(u.safety_rating) : nullptr},
                     {"license_class", rated ? boost::json::value(u.license_class) : nullptr},
                     {"local_time", r.catalog->text(r.locale, "members.local_time",
                                                    {{"now", i18n::DateTime{now}}}, u.time_zone)}});
             }
             boost::json::array categories;
             for (auto category : racing::kCategories)
                 categories.push_back(
                     boost::json::object{{"id", category}, {"selected", category == order.category}});
             const auto count = static_cast<std::int64_t>(members.size());
             boost::json::object data{{"member_count", count},
                                      {"members", std::move(members)},
                                      {"categories", std::move(categories)},
                                      {"order", boost::json::object{{"sort", sort_name(order.sort)},
                                                                    {"dir", direction_name(order.direction)},
                                                                    {"category", order.category}}},
                                      {"columns", roster_columns(order)},
                                      {"topics", "roster"}};
             return web::render_page(d.shell, r, "members", "members.title", "members", std::move(data));
         }});

    // One member's page, read-only: who they are and their racing section. Guests are not on the team.
    router.must_add(
        {.method = Method::get,
         .pattern = "/members/{id:int}",
         .permission = "team.view",
         .handler = [d](Request& r) {
             auto user = d.users.find(r.int_param("id"));
             if (!user) return web::error_page(d.shell, r, user.error());
             if (!*user || (*user)->role == auth::Role::guest)
                 return web::error_page(d.shell, r, Error(ErrorKind::not_found, "http.not_found"));
             const auto& u = **user;
             auto racing = racing_section(d, r, u.id);
             if (!racing) return web::error_page(d.shell, r, racing.error());
             boost::json::object data{
                 {"member",
                  boost::json::object{
                      {"id", u.id},
                      {"name", u.display_name},
                      {"role", auth::role_name(u.role)},
                      {"time_zone", u.time_zone},
                      {"local_time",
                       r.catalog ? r.catalog->text(r.locale, "members.local_time",
                                                   {{"now", i18n::DateTime{d.clock.now_ms()}}}, u.time_zone)
                                 : std::string()}}},
                 {"racing", std::move(*racing)}};
             return web::render_page(d.shell, r, "member", "member.title", "members", std::move(data));
         }});

    // The Discord role -> site role mapping (JSON API; applied to every member at once).
    router.must_add({.method = Method::get,
                     .pattern = "/api/admin/role-mappings",
                     .permission = "role_mapping.edit",
                     .handler = [d](Request& r) {
                         auto mappings = d.users.role_mappings();
                         if (!mappings) return http::error_response(r, mappings.error());
                         boost::json::array out;
                         for (const auto& m : *mappings)
                             out.push_back(boost::json::object{{"discord_role_id", m.discord_role_id},
                                                               {"site_role", auth::role_name(m.role)},
                                                               {"label", m.label}});
                         return Response::json(
                             200, boost::json::serialize(boost::json::object{{"mappings", std::move(out)}}));
                     }});
    router.must_add(
        {.method = Method::put,
         .pattern = "/api/admin/role-mappings/{role_id:int}",
         .permission = "role_mapping.edit",
         .handler = [d](Request& r) {
             boost::system::error_code ec;
             auto body = boost::json::parse(r.body, ec);
             const boost::json::object* o = !ec && body.is_object() ? &body.get_object() : nullptr;
             const auto* role_value = o ? o->if_contains("site_role") : nullptr;
             auto role = role_value && role_value->is_string() ? auth::parse_role(role_value->get_string())
                                                               : std::nullopt;
             if (!role) return http::error_response(r, Error(ErrorKind::invalid_input, "identity.bad_role"));
             std::string label;
             if (const auto* l = o->if_contains("label"); l && l->is_string())
                 label = std::string(l->get_string()).substr(0, 100);
             if (auto s = d.users.put_role_mapping({std::string(r.param("role_id")), *role, label},
                                                   r.principal.user_id);
                 !s)
                 return http::error_response(r, s.error());
             return Response::empty(204);
         }});
    router.must_add({.method = Method::delete_,
                     .pattern = "/api/admin/role-mappings/{role_id:int}",
                     .permission = "role_mapping.edit",
                     .handler = [d](Request& r) {
                         if (auto s = d.users.delete_role_mapping(r.param("role_id"), r.principal.user_id);
                             !s)
                             return http::error_response(r, s.error());
                         return Response::empty(204);
                     }});

    if (demo_sign_in_enabled(d.config)) {
        router.must_add(
            {.method = Method::post, .pattern = "/auth/demo", .permission = pub, .handler = [d](Request& r) {
                 const std::string role = form(r, "role");
                 if (!auth::parse_role(role))
                     return web::error_page(d.shell, r, Error(ErrorKind::invalid_input, "identity.bad_role"));
                 auto row = d.users.demo_user(role);
                 if (!row) return web::error_page(d.shell, r, row.error());
                 if (!*row)
                     return web::error_page(d.shell, r, Error(ErrorKind::not_found, "identity.no_demo_user"));
                 return signed_in_response(d, r, **row, "/");
             }});
    }
}

}  // namespace pitwall::identity
