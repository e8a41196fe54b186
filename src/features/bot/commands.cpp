#include "features/bot/commands.hpp"

#include <algorithm>
#include <charconv>
#include <memory>

#include <boost/json.hpp>
#include <unicode/timezone.h>

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "features/events/events.hpp"
#include "features/identity/users.hpp"
#include "features/notify/dm_queue.hpp"
#include "features/planner/publish.hpp"
#include "features/planner/service.hpp"
#include "features/racing/racing.hpp"
#include "platform/auth/permissions.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::bot {
namespace {

constexpr store::Statement kInsertCode{
    "bot.link_code_insert",
    "INSERT INTO link_codes (code_hash, discord_id, discord_username, expires_at, created_at) "
    "VALUES ($1, $2, $3, $4, $5)"};
constexpr store::Statement kTakeCode{"bot.link_code_take",
                                     "DELETE FROM link_codes WHERE code_hash = $1 RETURNING discord_id, "
                                     "discord_username, expires_at"};
constexpr store::Statement kPreferredLocale{"bot.preferred_locale",
                                            "SELECT COALESCE(preferred_locale, '') FROM users WHERE id = $1"};
constexpr store::Statement kPruneCodes{"bot.link_code_prune", "DELETE FROM link_codes WHERE expires_at < $1"};

std::int64_t now_ms(const Clock& clock) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
}

// Discord sends locales like "tr", "en-US", "en-GB"; the site speaks "tr" and "en".
std::string language_of(const i18n::Catalog& catalog, std::string_view discord_locale) {
    const std::string base(discord_locale.substr(0, discord_locale.find('-')));
    return catalog.supports(base) ? base : "en";
}

std::optional<std::string> text_option(const bridge::Command& c, const std::string& name) {
    auto it = c.options.find(name);
    if (it == c.options.end()) return std::nullopt;
    if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
    if (const auto* n = std::get_if<std::int64_t>(&it->second)) return std::to_string(*n);
    return std::nullopt;
}

std::optional<std::int64_t> int_option(const bridge::Command& c, const std::string& name) {
    auto it = c.options.find(name);
    if (it == c.options.end()) return std::nullopt;
    if (const auto* n = std::get_if<std::int64_t>(&it->second)) return *n;
    if (const auto* s = std::get_if<std::string>(&it->second)) {
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
        if (ec == std::errc() && p == s->data() + s->size()) return v;
    }
    return std::nullopt;
}

// The member's local hour of day (0-23) at a UTC instant.
int local_hour(const icu::TimeZone& zone, std::int64_t epoch_s) {
    UErrorCode status = U_ZERO_ERROR;
    std::int32_t raw = 0, dst = 0;
    zone.getOffset(static_cast<UDate>(epoch_s) * 1000.0, false, raw, dst, status);
    const std::int64_t local = epoch_s + (U_SUCCESS(status) ? (raw + dst) / 1000 : 0);
    return static_cast<int>(((local / 3600) % 24 + 24) % 24);
}

// "18-24,0-2" / "9" / "all" / "none" -> which local hours of the day (ranges end-exclusive, may wrap).
std::optional<std::array<bool, 24>> parse_hours(std::string_view text) {
    std::array<bool, 24> hours{};
    std::string lowered;
    for (char ch : text)
        if (ch != ' ') lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lowered == "all" || lowered == "hepsi") {
        hours.fill(true);
        return hours;
    }
    if (lowered == "none" || lowered == "yok") return hours;
    std::string_view rest = lowered;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view part = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (part.empty()) return std::nullopt;
        int from = 0, to = 0;
        const auto dash = part.find('-');
        auto parse = [](std::string_view s, int& out) {
            auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
            return ec == std::errc() && p == s.data() + s.size();
        };
        if (dash == std::string_view::npos) {
            if (!parse(part, from) || from < 0 || from > 23) return std::nullopt;
            to = from + 1;
        } else if (!parse(part.substr(0, dash), from) || !parse(part.substr(dash + 1), to) || from < 0 ||
                   from > 23 || to < 0 || to > 24 || from == to) {
            return std::nullopt;
        }
        for (int h = from; h != to; h = (h + 1) % 24) {
            hours[static_cast<std::size_t>(h)] = true;
            if (to == 24 && h == 23) break;
        }
    }
    return hours;
}

class Reply {
  public:
    Reply(const i18n::Catalog& catalog, std::string locale, std::string time_zone)
        : catalog_(catalog), locale_(std::move(locale)), time_zone_(std::move(time_zone)) {}
    [[nodiscard]] std::string text(std::string_view key, const i18n::Args& args = {}) const {
        return catalog_.text(locale_, key, args, time_zone_);
    }
    [[nodiscard]] std::string error(const Error& e) const {
        return catalog_.error_text(locale_, e, time_zone_);
    }
    [[nodiscard]] const std::string& time_zone() const { return time_zone_; }
    [[nodiscard]] i18n::Viewer viewer() const { return {locale_, time_zone_}; }
    [[nodiscard]] const i18n::Catalog& catalog() const { return catalog_; }

  private:
    const i18n::Catalog& catalog_;
    std::string locale_;
    std::string time_zone_;
};

}  // namespace

Result<std::string> create_link_code(store::Database& sql, const Clock& clock, const std::string& discord_id,
                                     const std::string& username, std::chrono::minutes ttl) {
    const auto now = now_ms(clock);
    (void)sql.execute(kPruneCodes, {now});
    // 10 characters from an alphabet without look-alikes (no 0/O, 1/I/L): easy to type, 50 bits.
    static constexpr std::string_view kAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    const std::string bytes = random::bytes(10);
    std::string code;
    for (unsigned char b : bytes) code += kAlphabet[b % kAlphabet.size()];
    code.insert(5, "-");
    auto inserted = sql.execute(
        kInsertCode, {encoding::hex(encoding::sha256(code)), discord_id, username,
                      now + std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count(), now});
    if (!inserted) return inserted.error();
    return code;
}

Result<LinkCode> redeem_link_code(store::Database& sql, const Clock& clock, std::string_view code) {
    std::string normalized;
    for (char ch : code)
        if (ch != ' ') normalized += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (normalized.size() == 10 && normalized.find('-') == std::string::npos) normalized.insert(5, "-");
    if (normalized.size() != 11) return Error(ErrorKind::invalid_input, "bot.link_code_invalid");
    auto taken = sql.execute(kTakeCode, {encoding::hex(encoding::sha256(normalized))});
    if (!taken) return taken.error();
    if (taken->empty() || taken->first().int64(2) < now_ms(clock))
        return Error(ErrorKind::invalid_input, "bot.link_code_invalid");
    return LinkCode{taken->first().text(0), taken->first().text(1)};
}

bridge::CommandResult Commands::handle(const bridge::Command& c) {
    bridge::CommandResult result{.ref = c.ref, .content = {}, .ephemeral = true};
    auto member = d_.users.find_by_discord(c.discord_user_id);
    std::string locale = language_of(d_.catalog, c.locale);
    std::string time_zone = "UTC";
    if (member && *member) {
        // The language the member chose on the site wins; otherwise the one their Discord client speaks.
        if (auto chosen = d_.sql.execute(kPreferredLocale, {(*member)->id}); chosen && !chosen->empty()) {
            const std::string preferred = chosen->first().text(0);
            if (!preferred.empty() && d_.catalog.supports(preferred)) locale = preferred;
        }
        time_zone = (*member)->time_zone;
    }
    const Reply reply(d_.catalog, locale, time_zone);
    if (!member) {
        result.content = reply.error(member.error());
        return result;
    }
    const std::int64_t now_s = now_ms(d_.clock) / 1000;

    if (c.name == "link") {
        if (*member) {
            result.content = reply.text("bot.link.already", {{"name", (*member)->display_name}});
            return result;
        }
        auto code = create_link_code(d_.sql, d_.clock, c.discord_user_id, c.username, d_.link_code_ttl);
        if (!code) {
            result.content = reply.error(code.error());
            return result;
        }
        result.content =
            reply.text("bot.link.code", {{"code", *code},
                                         {"url", d_.public_url + "/link"},
                                         {"minutes", static_cast<std::int64_t>(d_.link_code_ttl.count())}});
        return result;
    }
    // Every other command needs a site account.
    if (!*member) {
        result.content = reply.text("bot.not_linked", {{"url", d_.public_url + "/sign-in"}});
        return result;
    }
    const identity::User& user = **member;

    if (c.name == "whoami") {
        auto links = d_.users.links(user.id);
        std::string linked;
        if (links)
            for (const auto& l : *links)
                linked += (linked.empty() ? "" : ", ") + reply.text("provider." + l.provider);
        auto dm = d_.dms.member_dm_status(user.id);
        result.content = reply.text(
            "bot.whoami", {{"name", user.display_name},
                           {"role", reply.text("role." + std::string(auth::role_name(user.role)))},
                           {"linked", linked.empty() ? reply.text("bot.none") : linked},
                           {"dm", reply.text("bot.dm_status." + (dm ? *dm : std::string("unknown")))},
                           {"time_zone", user.time_zone}});
        return result;
    }

    if (c.name == "next") {
        auto next = d_.events.next_registration(user.id, now_s);
        if (!next) {
            result.content = reply.error(next.error());
        } else if (!*next) {
            result.content = reply.text("bot.next.none");
        } else {
            const auto& e = (*next)->event;
            result.content = reply.text(
                "bot.next.event",
                {{"name", e.name},
                 {"track", e.track},
                 {"start", i18n::DateTime{e.starts_at * 1000}},
                 {"role", reply.text("events.role." + std::string(events::role_name((*next)->role)))},
                 {"url", d_.public_url + "/events/" + std::to_string(e.id)}});
            std::vector<planner::Duty> stints;
            if (d_.planner) {
                auto duties = d_.planner->duties(user.id, now_s);
                if (!duties) {
                    result.content = reply.error(duties.error());
                    return result;
                }
                for (auto& duty : *duties)
                    if (duty.event_id == e.id) stints.push_back(std::move(duty));
            }
            result.content +=
                "\n" +
                (stints.empty()
                     ? reply.text("bot.next.no_stints")
                     : reply.text(
                           "bot.next.stints",
                           {{"stints", planner::itinerary_lines(stints, reply.catalog(), reply.viewer())}}));
        }
        return result;
    }

    if (c.name == "register") {
        auto event_id = int_option(c, "event");
        const std::string role = text_option(c, "role").value_or("driver");
        if (!event_id) {
            auto upcoming = d_.events.list_upcoming(10);
            std::string list;
            if (upcoming)
                for (const auto& e : *upcoming)
                    if (e.open_at(now_s))
                        list += "\n" +
                                reply.text("bot.event_line", {{"id", e.id},
                                                              {"name", e.name},
                                                              {"start", i18n::DateTime{e.starts_at * 1000}}});
            result.content =
                reply.text("bot.register.pick") + (list.empty() ? "\n" + reply.text("bot.no_events") : list);
            return result;
        }
        auto change = role == "none"
                          ? d_.events.unregister(*event_id, user.id, events::Source::discord)
                          : d_.events.register_member(*event_id, user.id, role, events::Source::discord);
        if (!change) {
            result.content = reply.error(change.error());
            return result;
        }
        const auto& e = change->event;
        result.content = reply.text(
            "bot.register." + std::string(events::change_name(change->kind)),
            {{"name", e.name},
             {"role",
              change->role ? reply.text("events.role." + std::string(events::role_name(*change->role))) : ""},
             {"count", e.registered},
             {"url", d_.public_url + "/events/" + std::to_string(e.id)}});
        result.ephemeral = false;  // registrations are team news
        return result;
    }

    if (c.name == "availability") {
        auto event_id = int_option(c, "event");
        auto hours_text = text_option(c, "hours");
        if (!event_id) {
            result.content = reply.text("bot.availability.usage");
            return result;
        }
        auto event = d_.events.get(*event_id);
        if (!event) {
            result.content = reply.error(event.error());
            return result;
        }
        std::unique_ptr<icu::TimeZone> zone(
            icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(user.time_zone)));
        if (hours_text) {
            auto wanted = parse_hours(*hours_text);
            if (!wanted) {
                result.content = reply.text("bot.availability.bad_hours", {{"hours", *hours_text}});
                return result;
            }
            std::vector<std::int64_t> hours;
            for (std::int64_t h = event->first_hour(); h < event->ends_at(); h += events::kHourSeconds)
                if ((*wanted)[static_cast<std::size_t>(local_hour(*zone, h))]) hours.push_back(h);
            if (auto saved = d_.events.set_availability(*event_id, user.id, hours); !saved) {
                result.content = reply.error(saved.error());
                return result;
            }
        }
        auto mine = d_.events.availability(*event_id, user.id);
        if (!mine) {
            result.content = reply.error(mine.error());
            return result;
        }
        const auto total =
            (event->ends_at() - event->first_hour() + events::kHourSeconds - 1) / events::kHourSeconds;
        result.content = reply.text(hours_text ? "bot.availability.saved" : "bot.availability.current",
                                    {{"name", event->name},
                                     {"hours", static_cast<std::int64_t>(mine->size())},
                                     {"total", total},
                                     {"time_zone", user.time_zone},
                                     {"url", d_.public_url + "/events/" + std::to_string(event->id)}});
        return result;
    }

    if (c.name == "schedule") {
        std::string out = reply.text("bot.schedule.events_heading");
        auto upcoming = d_.events.list_upcoming(10);
        int shown = 0;
        if (upcoming)
            for (const auto& e : *upcoming)
                if (e.starts_at < now_s + 7 * 24 * 3600) {
                    out +=
                        "\n" + reply.text("bot.event_line", {{"id", e.id},
                                                             {"name", e.name},
                                                             {"start", i18n::DateTime{e.starts_at * 1000}}});
                    ++shown;
                }
        if (shown == 0) out += "\n" + reply.text("bot.no_events");
        auto schedule = d_.racing.schedule();
        if (schedule && !schedule->series.empty()) {
            out += "\n\n" + reply.text("bot.schedule.series_heading");
            int n = 0;
            for (const auto& s : schedule->series) {
                if (++n > 8) break;
                i18n::Args args{
                    {"series", s.series_name}, {"track", s.track_name}, {"members", s.members_raced}};
                if (!s.sessions.empty()) args.emplace_back("next", i18n::DateTime{s.sessions.front()});
                out += "\n" + reply.text(s.sessions.empty() ? "bot.schedule.series_line"
                                                            : "bot.schedule.series_line_next",
                                         args);
            }
        }
        result.content = out.size() > 1900 ? out.substr(0, 1900) : out;
        return result;
    }

    if (c.name == "stats") {
        std::int64_t whose = user.id;
        std::string name = user.display_name;
        if (auto other = text_option(c, "member"); other && *other != c.discord_user_id) {
            auto found = d_.users.find_by_discord(*other);
            if (!found || !*found) {
                result.content = reply.text("bot.stats.unknown_member");
                return result;
            }
            whose = (*found)->id;
            name = (*found)->display_name;
        }
        auto racing = d_.racing.member(whose);
        if (!racing) {
            result.content = reply.error(racing.error());
            return result;
        }
        if (racing->ratings.empty()) {
            result.content = reply.text("bot.stats.none", {{"name", name}});
            return result;
        }
        std::string out = reply.text("bot.stats.heading", {{"name", name}});
        for (const auto& r : racing->ratings)
            out += "\n" +
                   reply.text("bot.stats.line", {{"category", reply.text("racing.category." + r.category)},
                                                 {"irating", r.irating},
                                                 {"license", r.license_class},
                                                 {"sr", r.safety_rating}});
        result.content = out;
        return result;
    }

    result.content = reply.text("bot.unknown_command", {{"name", c.name}});
    return result;
}

}  // namespace pitwall::bot
