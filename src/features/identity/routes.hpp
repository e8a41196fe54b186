// The identity feature's routes: sign-in with Discord, linking iRacing and Garage61, sign-out,
// profile, language and time-zone settings, the members roster and a member's page, the Discord role
// mapping API, and demo sign-in (demo mode on a loopback address only).
#pragma once

#include "core/clock.hpp"
#include "core/config.hpp"

namespace pitwall::http {
class Router;
}
namespace pitwall::web {
struct Shell;
}
namespace pitwall::auth {
class SessionStore;
}

namespace pitwall::racing {
class Racing;
}

namespace pitwall::identity {

class Users;
class Providers;

struct IdentityDeps {
    const Config& config;
    Users& users;
    Providers& providers;
    auth::SessionStore& sessions;
    const web::Shell& shell;
    const Clock& clock;
    // The racing section of /profile and /members/{id}; without it those pages show no racing data.
    const racing::Racing* racing = nullptr;
};

void add_routes(http::Router& router, IdentityDeps deps);

// Demo sign-in exists only in demo mode and only when the server listens on a loopback address.
[[nodiscard]] bool demo_sign_in_enabled(const Config& config);

}  // namespace pitwall::identity
