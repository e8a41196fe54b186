// The racing feature's pages: the weekly schedule (/schedule). A member's racing section is part of
// the identity pages (/profile, /members/{id}), which read it through Racing::member and
// section_data.
#pragma once

namespace pitwall::http {
class Router;
}
namespace pitwall::web {
struct Shell;
}

namespace pitwall::racing {

class Racing;

struct RacingDeps {
    const Racing& racing;
    const web::Shell& shell;
};

void add_routes(http::Router& router, RacingDeps deps);

}  // namespace pitwall::racing
