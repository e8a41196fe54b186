// Who is asking and may they: the identity middleware of the request pipeline.
//   1. session: the pw_session cookie -> session in KV -> the user's current role from SQL (a role
//      change applies on the next request, no re-login);
//   2. permission: the route's declared permission against the role (401 when signing in would help,
//      403 otherwise; HTML navigations to a page that needs sign-in are redirected to /sign-in);
//   3. CSRF: a state-changing request that carries cookies must carry the session's token (form field
//      `_csrf` or header `X-CSRF-Token`); anonymous visitors get a double-submit token in `pw_csrf`.
#pragma once

#include "platform/http/pipeline.hpp"

namespace pitwall::store {
class Database;
}
namespace pitwall::auth {
class SessionStore;
}
namespace pitwall::web {
struct Shell;
}

namespace pitwall::identity {

inline constexpr std::string_view kSessionCookie = "pw_session";
inline constexpr std::string_view kCsrfCookie = "pw_csrf";
inline constexpr std::string_view kLocaleCookie = "pw_locale";
inline constexpr std::string_view kTimeZoneCookie = "pw_tz";

struct AccessDeps {
    store::Database& sql;
    auth::SessionStore& sessions;
    const web::Shell& shell;  // HTML error pages for browsers; API callers get the JSON envelope
};

[[nodiscard]] http::Middleware access_middleware(AccessDeps deps);

}  // namespace pitwall::identity
