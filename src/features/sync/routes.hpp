// The sync feature's routes:
//   GET  /admin/sync                      sync.view   jobs, schedules, live runs, audit findings
//   GET  /api/admin/sync/runs             sync.view   recent runs as JSON (?job=&limit=)
//   POST /admin/sync/jobs/{name}/run      sync.run    "run now" (form, CSRF) -> back to the page
//   POST /api/cron/{name}                 public      external trigger; Authorization: Bearer <cron secret>
//   GET  /api/members/{id}/iracing        team.view   live iRacing record + recent races (cached)
//   GET  /api/schedule/race-guide         team.view   the sessions of the next hours (cached)
#pragma once

#include <string>

#include "core/config.hpp"

namespace pitwall::http {
class Router;
}
namespace pitwall::jobs {
class Scheduler;
}
namespace pitwall::store {
class Database;
}
namespace pitwall::web {
struct Shell;
}

namespace pitwall::sync {

class SyncLog;
class SyncService;

struct RouteDeps {
    const Config& config;
    jobs::Scheduler& scheduler;
    SyncLog& log;
    SyncService& service;
    store::Database& sql;
    const web::Shell& shell;
};

void add_routes(http::Router& router, const RouteDeps& deps);

}  // namespace pitwall::sync
