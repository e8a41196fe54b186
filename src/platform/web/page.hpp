// Rendering a page for a request: the layout data every template expects (locale, CSRF token,
// signed-in member, navigation by role, language switch) plus the page's own data, and HTML error
// pages for page routes (API routes keep the JSON envelope).
#pragma once

#include <string_view>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "platform/http/message.hpp"

namespace pitwall::web {

class Templates;

struct Shell {
    const Templates& templates;
    bool demo = false;
};

// The layout keys of web/templates/layout_head.mustache.
[[nodiscard]] boost::json::object layout_data(const Shell& shell, const http::Request& request,
                                              std::string_view title_key, std::string_view current);

// Renders `name` with layout + `data` (data wins on conflicts). A template failure is a 500 page.
[[nodiscard]] http::Response render_page(const Shell& shell, const http::Request& request,
                                         std::string_view name, std::string_view title_key,
                                         std::string_view current, boost::json::object data,
                                         int status = 200);

// The error template with the localized message of `error` and the status of its kind.
[[nodiscard]] http::Response error_page(const Shell& shell, const http::Request& request, const Error& error);

}  // namespace pitwall::web
