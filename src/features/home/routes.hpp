// The landing page: the team at a glance. Server-rendered and localized; the full web shell
// (templates, navigation by role) builds on it.
#pragma once

namespace pitwall::store {
class Database;
}
namespace pitwall::http {
class Router;
}

namespace pitwall::home {

struct HomeDeps {
    store::Database& sql;
};

void add_routes(http::Router& router, HomeDeps deps);

}  // namespace pitwall::home
