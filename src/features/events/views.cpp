#include "features/events/views.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include <boost/json.hpp>
#include <unicode/gregocal.h>
#include <unicode/timezone.h>

namespace pitwall::events {
namespace {

constexpr std::int64_t kMs = 1000;

std::string_view status_of(const Event& e, std::int64_t now) {
    if (e.open_at(now)) return "open";
    return e.finished_at(now) ? "finished" : "running";
}

boost::json::object summary(const Event& e, std::int64_t now, std::optional<Role> my_role) {
    return boost::json::object{
        {"id", e.id},
        {"name", e.name},
        {"track", e.track},
        {"car_class", e.car_class.empty() ? boost::json::value(nullptr) : boost::json::value(e.car_class)},
        {"starts_at", e.starts_at * kMs},
        {"ends_at", e.ends_at() * kMs},
        {"duration", boost::json::object{{"hours", e.duration_min / 60}, {"minutes", e.duration_min % 60}}},
        {"registered", e.registered},
        {"status", status_of(e, now)},
        {"open", e.open_at(now)},
        {"my_role", my_role ? boost::json::value(role_name(*my_role)) : boost::json::value(nullptr)}};
}

std::unique_ptr<icu::GregorianCalendar> calendar_in(std::string_view time_zone) {
    UErrorCode status = U_ZERO_ERROR;
    auto* zone = icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(
        icu::StringPiece(time_zone.data(), static_cast<std::int32_t>(time_zone.size()))));
    auto calendar = std::make_unique<icu::GregorianCalendar>(zone, status);  // adopts the zone
    if (U_FAILURE(status)) return nullptr;
    return calendar;
}

// Digits at text[at, at + n) as a number; -1 when any is not a digit.
int digits(std::string_view text, std::size_t at, std::size_t n) {
    if (at + n > text.size()) return -1;
    int value = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (text[i] < '0' || text[i] > '9') return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

}  // namespace

boost::json::object list_data(const std::vector<Event>& events, const std::map<std::int64_t, Role>& my_roles,
                              std::int64_t now, bool can_manage) {
    std::vector<const Event*> upcoming, past;
    for (const auto& e : events) (e.finished_at(now) ? past : upcoming).push_back(&e);
    std::sort(upcoming.begin(), upcoming.end(), [](const Event* a, const Event* b) {
        return a->starts_at != b->starts_at ? a->starts_at < b->starts_at : a->id < b->id;
    });
    std::sort(past.begin(), past.end(), [](const Event* a, const Event* b) {
        return a->starts_at != b->starts_at ? a->starts_at > b->starts_at : a->id > b->id;
    });
    auto rows = [&](const std::vector<const Event*>& list) {
        boost::json::array out;
        for (const Event* e : list) {
            auto mine = my_roles.find(e->id);
            out.push_back(
                summary(*e, now, mine != my_roles.end() ? std::optional(mine->second) : std::nullopt));
        }
        return out;
    };
    return boost::json::object{{"upcoming", rows(upcoming)},
                               {"past", rows(past)},
                               {"has_upcoming", !upcoming.empty()},
                               {"has_past", !past.empty()},
                               {"can_manage", can_manage}};
}

boost::json::object event_data(const EventPage& page) {
    const Event& e = page.event;
    const Registration* mine = nullptr;
    boost::json::array registrations;
    for (const auto& r : page.registrations) {
        if (r.user_id == page.viewer_id) mine = &r;
        registrations.push_back(boost::json::object{{"user_id", r.user_id},
                                                    {"name", r.name},
                                                    {"role", role_name(r.role)},
                                                    {"source", source_name(r.source)},
                                                    {"note", r.note},
                                                    {"time_zone", r.time_zone}});
    }
    const bool open = e.open_at(page.now);
    const bool can_change = open && page.can_register;

    boost::json::array roles;
    for (Role role : {Role::driver, Role::spotter, Role::both})
        roles.push_back(
            boost::json::object{{"id", role_name(role)}, {"selected", mine && mine->role == role}});

    boost::json::array coverage;
    for (const auto& h : page.coverage)
        coverage.push_back(boost::json::object{
            {"hour", h.hour_start},
            {"at", h.hour_start * kMs},
            {"available", h.available},
            {"drivers", h.drivers},
            {"spotters", h.spotters},
            {"preferred", h.preferred},
            {"mine", std::binary_search(page.my_hours.begin(), page.my_hours.end(), h.hour_start)},
            {"mine_preferred",
             std::binary_search(page.my_preferred.begin(), page.my_preferred.end(), h.hour_start)}});

    boost::json::object me{
        {"registered", mine != nullptr},
        {"role", mine ? boost::json::value(role_name(mine->role)) : boost::json::value(nullptr)},
        {"note", mine ? mine->note : std::string()},
        {"captain_volunteer", mine && mine->captain_volunteer},
        {"avoid_night", mine && mine->avoid_night},
        {"can_change", can_change},
        {"can_set_hours", can_change && mine != nullptr}};
    const bool has_registrations = !registrations.empty();
    return boost::json::object{
        {"event", summary(e, page.now, mine ? std::optional(mine->role) : std::nullopt)},
        {"me", std::move(me)},
        {"roles", std::move(roles)},
        {"registrations", std::move(registrations)},
        {"has_registrations", has_registrations},
        {"coverage", std::move(coverage)},
        {"coverage_max", std::max<std::int64_t>(e.registered, 1)},
        {"topics", Events::topic(e.id)}};
}

boost::json::object event_json(const Event& e, const std::vector<Registration>& registrations,
                               const std::vector<HourCoverage>& coverage) {
    boost::json::array people;
    for (const auto& r : registrations)
        people.push_back(boost::json::object{{"user_id", r.user_id},
                                             {"name", r.name},
                                             {"role", role_name(r.role)},
                                             {"source", source_name(r.source)},
                                             {"note", r.note},
                                             {"time_zone", r.time_zone},
                                             {"captain_volunteer", r.captain_volunteer},
                                             {"avoid_night", r.avoid_night},
                                             {"created_at", r.created_at},
                                             {"updated_at", r.updated_at}});
    boost::json::array hours;
    for (const auto& h : coverage)
        hours.push_back(boost::json::object{{"hour_start", h.hour_start},
                                            {"available", h.available},
                                            {"drivers", h.drivers},
                                            {"spotters", h.spotters},
                                            {"preferred", h.preferred}});
    auto optional_text = [](const std::optional<std::string>& text) {
        return text ? boost::json::value(*text) : boost::json::value(nullptr);
    };
    return boost::json::object{
        {"event", boost::json::object{{"id", e.id},
                                      {"name", e.name},
                                      {"track", e.track},
                                      {"car_class", e.car_class},
                                      {"starts_at", e.starts_at},
                                      {"ends_at", e.ends_at()},
                                      {"duration_min", e.duration_min},
                                      {"discord_channel_id", optional_text(e.discord_channel_id)},
                                      {"discord_role_id", optional_text(e.discord_role_id)},
                                      {"registered", e.registered}}},
        {"registrations", std::move(people)},
        {"coverage", std::move(hours)}};
}

boost::json::object new_event_data(const EventForm& form, std::optional<std::string> error,
                                   std::string min_start) {
    return boost::json::object{{"form", boost::json::object{{"name", form.name},
                                                            {"track", form.track},
                                                            {"car_class", form.car_class},
                                                            {"starts_local", form.starts_local},
                                                            {"duration_min", form.duration_min},
                                                            {"discord_channel_id", form.discord_channel_id},
                                                            {"discord_role_id", form.discord_role_id}}},
                               {"error", error ? boost::json::value(*error) : boost::json::value(nullptr)},
                               {"min_start", std::move(min_start)}};
}

std::optional<std::int64_t> local_to_utc(std::string_view text, std::string_view time_zone) {
    // YYYY-MM-DDTHH:MM, optionally :SS (browsers send seconds when the step asks for them).
    if (text.size() != 16 && text.size() != 19) return std::nullopt;
    if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != ' ') || text[13] != ':')
        return std::nullopt;
    const int year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
    const int hour = digits(text, 11, 2), minute = digits(text, 14, 2);
    int second = 0;
    if (text.size() == 19) {
        if (text[16] != ':') return std::nullopt;
        second = digits(text, 17, 2);
    }
    if (year < 1970 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 59)
        return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year(year),
                                           std::chrono::month(static_cast<unsigned>(month)),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok()) return std::nullopt;
    auto calendar = calendar_in(time_zone);
    if (!calendar) return std::nullopt;
    calendar->clear();
    calendar->set(year, month - 1, day, hour, minute, second);
    UErrorCode status = U_ZERO_ERROR;
    const UDate ms = calendar->getTime(status);
    if (U_FAILURE(status)) return std::nullopt;
    return static_cast<std::int64_t>(ms) / kMs;
}

std::string utc_to_local(std::int64_t seconds, std::string_view time_zone) {
    auto calendar = calendar_in(time_zone);
    if (!calendar) return {};
    UErrorCode status = U_ZERO_ERROR;
    calendar->setTime(static_cast<UDate>(seconds) * kMs, status);
    const int year = calendar->get(UCAL_YEAR, status), month = calendar->get(UCAL_MONTH, status) + 1,
              day = calendar->get(UCAL_DATE, status), hour = calendar->get(UCAL_HOUR_OF_DAY, status),
              minute = calendar->get(UCAL_MINUTE, status);
    if (U_FAILURE(status)) return {};
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d", year, month, day, hour, minute);
    return buffer;
}

}  // namespace pitwall::events
