// Server-rendered pages: Mustache templates (web/templates/*.mustache), HTML-escaped by default.
//
// Data is a Boost.JSON object, so a page and its JSON API can share one builder and tests can write
// the data as JSON. Strings are escaped; numbers render as written (`1234`, no grouping); true/false
// show or hide a section; null and missing keys are false. Keys ending in `_html` hold trusted,
// pre-rendered HTML (an SVG we generate) and are the only ones a template may print with `{{{ }}}`
// (web/templates' lint test enforces it). Two root keys are reserved and set from the viewer:
// `locale` (for <html lang>) and `time_zone`; a key named `t` is dropped at every depth.
//
// Text comes from the catalog, never from the template: `{{#t}}nav.members{{/t}}` is the message
// `nav.members` in the viewer's language, escaped. Arguments name data paths:
// `{{#t}}home.team_size members=team.members zones=team.zones{{/t}}`; the key itself may use data,
// `{{#t}}role.{{role}}{{/t}}`. Dates are epoch milliseconds given to `{when, date, short}`-style
// arguments and appear in the viewer's time zone.
//
// Partials (`{{> layout_head}}`) are any other template, expanded when the templates load; a missing
// partial, a cycle or a syntax error stops loading. Rendering is thread-safe; copies are cheap.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/result.hpp"
#include "platform/i18n/catalog.hpp"

namespace pitwall::web {

class Templates {
  public:
    // Every <name>.mustache in `dir` (not recursive). `catalog` must outlive the Templates.
    [[nodiscard]] static Result<Templates> load(const std::filesystem::path& dir,
                                                const i18n::Catalog& catalog);
    [[nodiscard]] static Result<Templates> from_sources(
        const std::map<std::string, std::string>& name_to_source, const i18n::Catalog& catalog);

    // The page `name` rendered with `data` for `viewer`. Errors: web.template_missing,
    // web.template_failed (a bug in the template; the detail says what).
    [[nodiscard]] Result<std::string> render(std::string_view name, const boost::json::object& data,
                                             const i18n::Viewer& viewer) const;
    [[nodiscard]] bool has(std::string_view name) const;
    [[nodiscard]] std::vector<std::string> names() const;

  private:
    struct Impl;
    explicit Templates(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;  // immutable once loaded; copies share it
};

}  // namespace pitwall::web
