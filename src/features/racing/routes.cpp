#include "features/racing/routes.hpp"

#include <boost/json.hpp>

#include "features/racing/racing.hpp"
#include "features/racing/views.hpp"
#include "platform/http/router.hpp"
#include "platform/web/page.hpp"

namespace pitwall::racing {

void add_routes(http::Router& router, RacingDeps d) {
    router.must_add({.method = http::Method::get,
                     .pattern = "/schedule",
                     .permission = "team.view",
                     .handler = [d](http::Request& r) {
                         auto schedule = d.racing.schedule();
                         if (!schedule) return web::error_page(d.shell, r, schedule.error());
                         return web::render_page(d.shell, r, "schedule", "schedule.title", "schedule",
                                                 schedule_data(*schedule));
                     }});
}

}  // namespace pitwall::racing
