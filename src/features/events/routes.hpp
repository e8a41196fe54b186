// The events pages and API: /events (list), /events/{id} (details, the viewer's registration and
// hours, the registrations and the hour-by-hour coverage, live over /ws topic "event:<id>"),
// /events/new + POST /events (event.manage), the registration and availability forms
// (event.register), and GET /api/events/{id}.
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

namespace pitwall::events {

class Events;

struct EventsDeps {
    Events& events;
    const web::Shell& shell;
    const Clock& clock;
};

void add_routes(http::Router& router, EventsDeps deps);

}  // namespace pitwall::events
