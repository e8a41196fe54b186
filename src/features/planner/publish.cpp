#include "features/planner/publish.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <utility>

#include "core/encoding.hpp"

namespace pitwall::planner {

namespace {

// ---------------------------------------------------------------------------------------------
// Discord

std::string discord_time(std::int64_t unix_seconds, char style) {
    return "<t:" + std::to_string(unix_seconds) + ":" + style + ">";
}

// Names and event texts are shown as written: Discord markdown characters are escaped (a backslash
// before any ASCII punctuation is an escape there), line breaks become spaces.
std::string plain(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '\\':
            case '*':
            case '_':
            case '~':
            case '`':
            case '|':
            case '<':
            case '>':
            case '[':
            case ']':
            case '#':
                out += '\\';
                out += c;
                break;
            case '\r':
            case '\n':
            case '\t':
                out += ' ';
                break;
            default:
                out += c;
        }
    }
    return out;
}

bool is_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

std::size_t utf16_units(unsigned char lead) {
    return lead >= 0xF0 ? 2 : 1;  // outside the BMP: a surrogate pair
}

// The longest prefix of `text` (in bytes, whole characters only) within `limit` UTF-16 units.
std::size_t prefix_within(std::string_view text, std::size_t limit) {
    std::size_t units = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (is_continuation(byte)) continue;
        units += utf16_units(byte);
        if (units > limit) return i;
    }
    return text.size();
}

class AnnouncementWriter {
  public:
    AnnouncementWriter(const EventPlan& plan, const AnnouncementEvent& event, const i18n::Catalog& catalog,
                       std::string_view locale, std::string_view time_zone, const DiscordIds& discord_ids)
        : plan_(plan),
          event_(event),
          catalog_(catalog),
          locale_(locale),
          time_zone_(time_zone),
          discord_ids_(discord_ids) {}

    enum class Form { full, compact, by_driver, summary, minimal };

    // The text in `form`; cut short (and so over the limit) once it cannot fit any more.
    std::string write(Form form) const {
        std::string out = heading();
        for (const auto& crew : plan_.crews) {
            if (form != Form::minimal && discord_length(out) > kDiscordMessageLimit) return out;
            out += "\n\n";
            if (form == Form::minimal) {
                out += minimal_crew(crew);
                continue;
            }
            if (form == Form::by_driver) {
                out += by_driver(crew);
                continue;
            }
            out += crew_lists(crew);
            if (form == Form::full) {
                for (const auto& stint : crew.stints) out += "\n" + full_stint(stint);
            } else if (form == Form::compact) {
                for (const auto& line : runs(crew)) out += "\n" + line;
            } else {
                out += "\n" + summary(crew);
            }
        }
        if (form != Form::full && !event_.url.empty()) out += "\n\n" + details();
        return out;
    }

    // The minimal form cut at a line boundary, the link kept.
    std::string truncated() const {
        const std::string text = write(Form::minimal);
        std::string tail = "\n" + text_of("planner.announce.more");
        if (!event_.url.empty()) tail += "\n" + details();
        std::string out;
        std::size_t pos = 0;
        while (pos < text.size()) {
            std::size_t end = text.find('\n', pos);
            if (end == std::string::npos) end = text.size();
            const std::string_view line(text.data() + pos, end - pos);
            const std::string candidate = out.empty() ? std::string(line) : out + "\n" + std::string(line);
            if (discord_length(candidate) + discord_length(tail) > kDiscordMessageLimit) break;
            out = candidate;
            pos = end + 1;
        }
        // A heading alone over the limit (an absurd event name): cut between characters.
        const std::size_t tail_length = discord_length(tail);
        if (out.empty() && tail_length < kDiscordMessageLimit)
            out = text.substr(0, prefix_within(text, kDiscordMessageLimit - tail_length));
        out += tail;
        out.resize(prefix_within(out, kDiscordMessageLimit));  // an absurd URL
        return out;
    }

  private:
    std::string text_of(std::string_view key, const i18n::Args& args = {}) const {
        return catalog_.text(locale_, key, args, time_zone_);
    }

    std::string name_of(std::int64_t user_id) const {
        const auto it = plan_.members.find(user_id);
        if (it == plan_.members.end() || it->second.name.empty()) return "#" + std::to_string(user_id);
        return plain(it->second.name);
    }

    // A mention when the member has a Discord id, else the name.
    std::string who(std::int64_t user_id) const {
        const auto it = discord_ids_.find(user_id);
        if (it != discord_ids_.end() && !it->second.empty() &&
            std::all_of(it->second.begin(), it->second.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return "<@" + it->second + ">";
        return name_of(user_id);
    }

    std::string who(const std::optional<std::int64_t>& user_id) const {
        return user_id ? who(*user_id) : text_of("planner.announce.nobody");
    }

    std::string list(const std::vector<std::int64_t>& users) const {
        if (users.empty()) return text_of("planner.announce.nobody");
        std::string out;
        for (const auto user : users) {
            if (!out.empty()) out += ", ";
            out += who(user);
        }
        return out;
    }

    std::string heading() const {
        return text_of("planner.announce.heading", {{"name", plain(event_.name)},
                                                    {"track", plain(event_.track)},
                                                    {"start", discord_time(event_.starts_at, 'F')},
                                                    {"relative", discord_time(event_.starts_at, 'R')}});
    }

    std::string crew_title(const CrewRow& crew) const {
        if (crew.car_number.empty()) return text_of("planner.announce.crew", {{"index", crew.crew + 1}});
        return text_of("planner.announce.crew_numbered",
                       {{"index", crew.crew + 1}, {"number", plain(crew.car_number)}});
    }

    std::string crew_lists(const CrewRow& crew) const {
        std::string out = crew_title(crew);
        out += "\n" + text_of("planner.announce.captain", {{"name", who(crew.captain)}});
        out += "\n" + text_of("planner.announce.drivers", {{"names", list(crew.drivers)}});
        if (!crew.spotters.empty())
            out += "\n" + text_of("planner.announce.spotters", {{"names", list(crew.spotters)}});
        return out;
    }

    std::string full_stint(const StintRow& stint) const {
        i18n::Args args = {{"stint", stint.stint + 1},
                           {"start", discord_time(stint.starts_at, 't')},
                           {"end", discord_time(stint.ends_at, 't')},
                           {"driver", who(stint.driver)}};
        if (!stint.spotter) return text_of("planner.announce.stint", args);
        args.emplace_back("spotter", who(stint.spotter));
        return text_of("planner.announce.stint_spotted", args);
    }

    // Consecutive stints of one driver as one line ("`4–6` <t:..:t> Name"), the driver by name (the lists
    // above mention them).
    std::vector<std::string> runs(const CrewRow& crew) const {
        std::vector<std::string> out;
        const auto& stints = crew.stints;
        for (std::size_t i = 0; i < stints.size();) {
            std::size_t j = i;
            while (j + 1 < stints.size() && stints[j + 1].driver == stints[i].driver) ++j;
            const std::string driver =
                stints[i].driver ? name_of(*stints[i].driver) : text_of("planner.announce.nobody");
            out.push_back(text_of("planner.announce.run", {{"range", range(stints[i].stint, stints[j].stint)},
                                                           {"start", discord_time(stints[i].starts_at, 't')},
                                                           {"driver", driver}}));
            i = j + 1;
        }
        return out;
    }

    // "`4`" or "`4–6`" (1-based).
    std::string range(int first, int last) const {
        if (first == last) return text_of("planner.announce.range_single", {{"first", first + 1}});
        return text_of("planner.announce.range", {{"first", first + 1}, {"last", last + 1}});
    }

    // Per driver the ranges of stints they drive: every driver and stint, no times.
    std::string by_driver(const CrewRow& crew) const {
        std::vector<std::int64_t> drivers = crew.drivers;
        for (const auto& stint : crew.stints)
            if (stint.driver && std::find(drivers.begin(), drivers.end(), *stint.driver) == drivers.end())
                drivers.push_back(*stint.driver);
        std::string out = crew_title(crew);
        out += "\n" + text_of("planner.announce.captain", {{"name", who(crew.captain)}});
        if (!crew.spotters.empty())
            out += "\n" + text_of("planner.announce.spotters", {{"names", list(crew.spotters)}});
        for (const auto driver : drivers) {
            std::string ranges;
            const auto& stints = crew.stints;
            for (std::size_t i = 0; i < stints.size(); ++i) {
                if (stints[i].driver != driver) continue;
                std::size_t j = i;
                while (j + 1 < stints.size() && stints[j + 1].driver == driver &&
                       stints[j + 1].stint == stints[j].stint + 1)
                    ++j;
                if (!ranges.empty()) ranges += ' ';
                ranges += range(stints[i].stint, stints[j].stint);
                i = j;
            }
            if (ranges.empty()) ranges = text_of("planner.announce.no_stints");
            out += "\n" +
                   text_of("planner.announce.driver_stints", {{"driver", who(driver)}, {"stints", ranges}});
        }
        return out;
    }

    std::string summary(const CrewRow& crew) const {
        if (crew.stints.empty()) return text_of("planner.announce.no_stints");
        return text_of("planner.announce.summary",
                       {{"count", static_cast<std::int64_t>(crew.stints.size())},
                        {"start", discord_time(crew.stints.front().starts_at, 'f')},
                        {"end", discord_time(crew.stints.back().ends_at, 'f')}});
    }

    std::string minimal_crew(const CrewRow& crew) const {
        return text_of("planner.announce.crew_minimal",
                       {{"crew", crew_title(crew)},
                        {"captain", who(crew.captain)},
                        {"drivers", static_cast<std::int64_t>(crew.drivers.size())},
                        {"stints", static_cast<std::int64_t>(crew.stints.size())}});
    }

    std::string details() const { return text_of("planner.announce.details", {{"url", event_.url}}); }

    const EventPlan& plan_;
    const AnnouncementEvent& event_;
    const i18n::Catalog& catalog_;
    std::string_view locale_;
    std::string_view time_zone_;
    const DiscordIds& discord_ids_;
};

// ---------------------------------------------------------------------------------------------
// iCalendar

constexpr std::size_t kIcalLineOctets = 75;

// Control characters are not allowed in property values (RFC 5545 3.1: CONTROL); URIs never hold them.
std::string without_controls(std::string_view text) {
    std::string out;
    for (const char c : text)
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) out += c;
    return out;
}

// Days since 1970-01-01 -> civil date (H. Hinnant's days_from_civil inverse).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) ++y;
}

std::string trimmed_base(std::string_view base_url) {
    std::string base = without_controls(base_url);
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::size_t discord_length(std::string_view text) {
    std::size_t units = 0;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (is_continuation(byte)) continue;
        units += utf16_units(byte);
    }
    return units;
}

std::string announcement(const EventPlan& plan, const AnnouncementEvent& event, const i18n::Catalog& catalog,
                         std::string_view locale, std::string_view time_zone, const DiscordIds& discord_ids) {
    using Form = AnnouncementWriter::Form;
    const AnnouncementWriter writer(plan, event, catalog, locale, time_zone, discord_ids);
    for (const Form form : {Form::full, Form::compact, Form::by_driver, Form::summary, Form::minimal}) {
        std::string text = writer.write(form);
        if (discord_length(text) <= kDiscordMessageLimit) return text;
    }
    return writer.truncated();
}

std::string itinerary_lines(const std::vector<Duty>& duties, const i18n::Catalog& catalog,
                            const i18n::Viewer& viewer) {
    std::string out;
    for (const auto& duty : duties) {
        if (!out.empty()) out += '\n';
        out += catalog.text(viewer, "planner.itinerary_line",
                            {{"stint", duty.stint + 1},
                             {"role", duty.driving ? "drive" : "spot"},
                             {"start", i18n::DateTime{duty.starts_at * 1000}},
                             {"end", i18n::DateTime{duty.ends_at * 1000}}});
    }
    return out;
}

std::string ical_escape_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case ';':
                out += "\\;";
                break;
            case ',':
                out += "\\,";
                break;
            case '\r':
                if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
                out += "\\n";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) out += c;
        }
    }
    return out;
}

std::string ical_fold(std::string_view line) {
    std::string out;
    out.reserve(line.size() + line.size() / 60 * 3 + 2);
    std::size_t pos = 0;
    std::size_t room = kIcalLineOctets;  // the first line; continuations spend one octet on the space
    while (line.size() - pos > room) {
        std::size_t cut = pos + room;
        while (cut > pos && is_continuation(static_cast<unsigned char>(line[cut]))) --cut;
        if (cut == pos) cut = pos + room;  // not UTF-8: never loop forever
        out.append(line.substr(pos, cut - pos));
        out += "\r\n ";
        pos = cut;
        room = kIcalLineOctets - 1;
    }
    out.append(line.substr(pos));
    out += "\r\n";
    return out;
}

std::string ical_utc(std::int64_t unix_seconds) {
    const std::int64_t days = (unix_seconds >= 0 ? unix_seconds : unix_seconds - 86399) / 86400;
    const std::int64_t second_of_day = unix_seconds - days * 86400;
    std::int64_t year = 0;
    unsigned month = 0, day = 0;
    civil_from_days(days, year, month, day);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04lld%02u%02uT%02d%02d%02dZ", static_cast<long long>(year), month, day,
                  static_cast<int>(second_of_day / 3600), static_cast<int>(second_of_day % 3600 / 60),
                  static_cast<int>(second_of_day % 60));
    return buf;
}

std::string ical_feed(const std::vector<Duty>& duties, const i18n::Catalog& catalog, std::string_view locale,
                      std::string_view calendar_name, std::string_view base_url, std::int64_t now) {
    const std::string base = trimmed_base(base_url);
    const std::string stamp = ical_utc(now);
    std::string out;
    const auto line = [&out](std::string_view name, std::string_view value) {
        std::string text(name);
        text += ':';
        text += value;
        out += ical_fold(text);
    };
    line("BEGIN", "VCALENDAR");
    line("VERSION", "2.0");
    line("PRODID", "-//Pitwall//Stint planner//EN");
    line("CALSCALE", "GREGORIAN");
    line("METHOD", "PUBLISH");
    line("X-WR-CALNAME", ical_escape_text(calendar_name));
    // Subscribed calendars poll: an hour keeps re-plans on race day reasonably fresh.
    line("REFRESH-INTERVAL;VALUE=DURATION", "PT1H");
    line("X-PUBLISHED-TTL", "PT1H");
    for (const auto& duty : duties) {
        const char* role = duty.driving ? "drive" : "spot";
        const std::string summary =
            catalog.text(locale, duty.driving ? "planner.ical.summary_drive" : "planner.ical.summary_spot",
                         {{"stint", duty.stint + 1}, {"event", duty.event_name}, {"car", duty.car_number}});
        const std::string url = base + "/events/" + std::to_string(duty.event_id);
        line("BEGIN", "VEVENT");
        line("UID", "stint-" + std::to_string(duty.event_id) + "-" + std::to_string(duty.crew) + "-" +
                        std::to_string(duty.stint) + "-" + role + "@pitwall");
        line("DTSTAMP", stamp);
        line("DTSTART", ical_utc(duty.starts_at));
        line("DTEND", ical_utc(std::max(duty.ends_at, duty.starts_at)));
        line("SUMMARY", ical_escape_text(summary));
        if (!duty.track.empty()) line("LOCATION", ical_escape_text(duty.track));
        line("DESCRIPTION", ical_escape_text(catalog.text(locale, "planner.ical.description",
                                                          {{"event", duty.event_name},
                                                           {"track", duty.track},
                                                           {"car", duty.car_number},
                                                           {"url", url}})));
        line("URL", url);
        line("TRANSP", "OPAQUE");
        line("BEGIN", "VALARM");
        line("ACTION", "DISPLAY");
        line("DESCRIPTION", ical_escape_text(summary));
        line("TRIGGER", "-PT30M");
        line("END", "VALARM");
        line("END", "VEVENT");
    }
    line("END", "VCALENDAR");
    return out;
}

namespace {

std::string ical_token_input(std::int64_t user_id, std::int64_t generation) {
    return "pitwall-ical|" + std::to_string(user_id) + "|" + std::to_string(generation);
}

}  // namespace

std::string ical_token(std::string_view key, std::int64_t user_id, std::int64_t generation) {
    return encoding::base64url(encoding::hmac_sha256(key, ical_token_input(user_id, generation)));
}

bool ical_token_matches(std::string_view key, std::int64_t user_id, std::int64_t generation,
                        std::string_view token) {
    return encoding::constant_time_equal(ical_token(key, user_id, generation), token);
}

}  // namespace pitwall::planner
