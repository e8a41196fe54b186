// The landing page: the team at a glance, rendered from web/templates/home.mustache. The full web
// shell (sessions, navigation by role) builds on it.
#pragma once

namespace pitwall::store {
class Database;
}
namespace pitwall::http {
class Router;
}
namespace pitwall::web {
struct Shell;
}

namespace pitwall::home {

struct HomeDeps {
    store::Database& sql;
    const web::Shell& shell;
};

void add_routes(http::Router& router, HomeDeps deps);

}  // namespace pitwall::home
