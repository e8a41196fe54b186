// The DM queue monitor and the admins' messages to members:
//   GET  /admin/dm                 dm.view    counts per status, the KV queue, recent messages (?status=),
//                                             live over /ws topic "admin:dm" (web/static/js/dm.js)
//   GET  /api/admin/dm             dm.view    the same as JSON: {counts, queue:{ready,delayed}, messages}
//                                             (?status=, ?limit= up to 200)
//   POST /admin/dm/{id}/retry      dm.manage  a failed, dead or discarded message goes out again (form, CSRF)
//   POST /admin/dm/{id}/discard    dm.manage  a pending, failed or dead message is never sent (form, CSRF)
//   POST /api/admin/dm/messages    dm.manage  a message from the admins to members, one DM each (JSON, CSRF)
#pragma once

#include <functional>

namespace pitwall::http {
class Router;
}
namespace pitwall::store {
class Database;
class Kv;
}  // namespace pitwall::store
namespace pitwall::web {
struct Shell;
}

namespace pitwall::notify {

class DmQueue;

struct RouteDeps {
    DmQueue& queue;
    store::Kv& kv;         // the queue's ready/delayed counts
    store::Database& sql;  // the recipients of a message to every member
    const web::Shell& shell;
    std::function<bool()> bot_connected;  // whether a bot holds a bridge session on this node
};

void add_routes(http::Router& router, const RouteDeps& deps);

}  // namespace pitwall::notify
