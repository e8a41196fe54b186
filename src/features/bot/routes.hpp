// The bot feature's routes:
//   GET  /bridge          public     the bot's WebSocket (upgrades go to BridgeServer); plain GET: 426
//   GET  /link            signed_in  confirm a /link code from Discord (?code= prefilled)
//   POST /link            signed_in  redeem the code: this account gets that Discord account (CSRF)
//   GET  /api/admin/bot   dm.view    whether a bot is connected, its session and DMs in flight
#pragma once

namespace pitwall::http {
class Router;
}
namespace pitwall::store {
class Database;
}
namespace pitwall::identity {
class Users;
}
namespace pitwall::web {
struct Shell;
}
namespace pitwall {
class Clock;
}

namespace pitwall::bot {

class BridgeServer;

struct RouteDeps {
    BridgeServer& bridge;
    store::Database& sql;
    identity::Users& users;
    const web::Shell& shell;
    const Clock& clock;
};

void add_routes(http::Router& router, const RouteDeps& deps);

}  // namespace pitwall::bot
