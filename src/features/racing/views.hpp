// Template data for the racing pages: the racing section of a member page
// (web/templates/racing_section.mustache, on /profile and /members/{id}) and /schedule.
#pragma once

#include <boost/json/object.hpp>

#include "features/racing/racing.hpp"
#include "platform/i18n/catalog.hpp"

namespace pitwall::racing {

// {ratings, chart_html (null without history), legend, results, has_results}: see
// racing_section.mustache. The chart's summary and month
// labels are in the viewer's language; month labels are calendar months (history days have no zone).
[[nodiscard]] boost::json::object section_data(const MemberRacing& racing, const i18n::Catalog& catalog,
                                               const i18n::Viewer& viewer);

// The chart alone ("" without history), for section_data and tests.
[[nodiscard]] std::string history_chart(const std::vector<CategoryHistory>& history,
                                        const i18n::Catalog& catalog, const i18n::Viewer& viewer);

// {series, raced_only}: see schedule.mustache.
[[nodiscard]] boost::json::object schedule_data(const Schedule& schedule);

}  // namespace pitwall::racing
