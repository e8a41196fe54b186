// The planner's pages and JSON API (issue 6). Pages: /events/{id}/planner (planner.edit; the event
// page's crews and timeline come from events' own page plus web/static/js/plan.js). API, all under
// /api/events/{id}/plan: GET the plan (team.view; every violation and stage-1 reason carries its
// "text" in the viewer's language and zone), exports plan.csv and plan.json (team.view), and the
// planner's JSON posts (planner.edit, header X-CSRF-Token): settings, crews (stage 1), stints
// (stage 2), preview (live validation of a drag, nothing stored), edit, lock, move, publish,
// green-flag, pit. Mutations answer with the new plan, the same shape as GET; a stale revision is
// planner.stale (the page reloads the plan). POST /api/planner/jres solves a JRES file on its own.
//
// Bad input never reaches the service: bodies are bounded per route, must be JSON objects, and a
// field of the wrong type is planner.bad_request naming the field (400, localized).
#pragma once

namespace pitwall {
class Clock;
}
namespace pitwall::http {
class Router;
}
namespace pitwall::web {
struct Shell;
}
namespace pitwall::i18n {
class Catalog;
}
namespace pitwall::events {
class Events;
}

namespace pitwall::planner {

class Planner;

struct PlannerDeps {
    Planner& planner;
    events::Events& events;
    const web::Shell& shell;
    const Clock& clock;
    const i18n::Catalog& catalog;
};

void add_routes(http::Router& router, PlannerDeps deps);

}  // namespace pitwall::planner
