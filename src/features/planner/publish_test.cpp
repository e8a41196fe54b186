// What publishing sends, as text, on the shipped catalogs: the Discord announcement (every driver and
// stint of a 3-crew 24 h plan under 2000 characters, then shorter forms as plans grow), itinerary lines
// in English and Turkish in the member's time zone (across New York's DST change), the iCal feed read
// back line by line (75-octet folding that never splits UTF-8, CRLF, TEXT escaping, UTC times) and
// the feed token.
#include "features/planner/publish.hpp"

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pitwall::planner {
namespace {

const std::filesystem::path kSource = PITWALL_SOURCE_DIR;

const i18n::Catalog& catalog() {
    static const i18n::Catalog c = [] {
        auto loaded = i18n::Catalog::load(kSource / "locales");
        EXPECT_TRUE(loaded.ok());
        return std::move(*loaded);
    }();
    return c;
}

constexpr std::int64_t kRaceStart = 1761998400;  // 2025-11-01 12:00 UTC (New York leaves DST next day)
constexpr std::int64_t kDay = 86400;

bool valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::size_t n = c < 0x80           ? 1
                              : (c >> 5) == 0x6  ? 2
                              : (c >> 4) == 0xE  ? 3
                              : (c >> 3) == 0x1E ? 4
                                                 : 0;
        if (n == 0 || i + n > text.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

// ICU puts a narrow no-break space before AM/PM; tests compare with plain spaces.
std::string plain_spaces(std::string text) {
    for (const std::string nbsp : {"\u202f", "\u00a0"}) {
        for (auto pos = text.find(nbsp); pos != std::string::npos; pos = text.find(nbsp))
            text.replace(pos, nbsp.size(), " ");
    }
    return text;
}

std::string snowflake(std::int64_t user) {
    return std::to_string(412345678901234000LL + user);
}

// `crews` crews of `drivers` drivers and 2 spotters over 24 h cut into `stints` stints; each driver
// drives `run` stints in a row. Every member has a Discord id but the last spotter of each crew.
struct Fixture {
    EventPlan plan;
    DiscordIds discord;
    AnnouncementEvent event{7, "Nürburgring 24h", "Nürburgring Combined", kRaceStart,
                            "https://pitwall.example/events/7"};
};

Fixture make(int crews, int drivers, int stints, int run) {
    static const char* kNames[] = {"Ayşe Yılmaz", "Mert Öztürk",  "Jonas Becker",  "Emily Clark",
                                   "Çağrı Şahin", "Lucas Moreau", "Ilse de Vries", "Gökhan Işık",
                                   "Sam O'Neil",  "Nina Kowalska"};
    Fixture f;
    f.plan.event_id = 7;
    std::int64_t next_user = 100;
    const std::int64_t length = kDay / stints;
    for (int c = 0; c < crews; ++c) {
        CrewRow crew;
        crew.crew = c;
        crew.car_number = std::to_string(11 + c);
        for (int d = 0; d < drivers + 2; ++d) {
            const std::int64_t user = next_user++;
            f.plan.members[user] =
                PlanMember{user, kNames[user % 10] + std::string(" ") + std::to_string(user), "UTC",
                           d < drivers ? "driver" : "spotter", std::nullopt};
            if (d < drivers + 1) f.discord[user] = snowflake(user);
            (d < drivers ? crew.drivers : crew.spotters).push_back(user);
        }
        crew.captain = crew.drivers.front();
        for (int s = 0; s < stints; ++s) {
            StintRow row;
            row.stint = s;
            row.starts_at = kRaceStart + s * length;
            row.ends_at = row.starts_at + length;
            row.driver = crew.drivers[static_cast<std::size_t>(s / run % drivers)];
            row.spotter = crew.spotters[static_cast<std::size_t>(s % 2)];
            crew.stints.push_back(row);
        }
        f.plan.crews.push_back(std::move(crew));
    }
    return f;
}

// Every stint number 1..n of a crew's section is covered by a run "`a–b`" or "`a`".
std::set<int> covered_stints(std::string_view section) {
    std::set<int> covered;
    static const std::regex run("`(\\d+)(?:–(\\d+))?`");
    const std::string text(section);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), run); it != std::sregex_iterator(); ++it) {
        const int first = std::stoi((*it)[1]);
        const int last = (*it)[2].matched ? std::stoi((*it)[2]) : first;
        for (int s = first; s <= last; ++s) covered.insert(s);
    }
    return covered;
}

std::vector<std::string> crew_sections(const std::string& text, const Fixture& f, std::string_view locale) {
    std::vector<std::string> sections;
    for (std::size_t c = 0; c < f.plan.crews.size(); ++c) {
        const std::string title =
            "**Car " + std::to_string(c + 1) + " · #" + f.plan.crews[c].car_number + "**";
        const auto begin = text.find(locale == "tr" ? "**" + std::to_string(c + 1) + ". araç" : title);
        EXPECT_NE(begin, std::string::npos) << title;
        if (begin == std::string::npos) return sections;
        const auto end = text.find("\n\n", begin);
        sections.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    }
    return sections;
}

// ---------------------------------------------------------------------------------------------
// Announcement

TEST(Announcement, SmallPlanListsEveryStintWithTimesAndMentions) {
    auto f = make(1, 3, 4, 1);
    const auto text = announcement(f.plan, f.event, catalog(), "en", "Europe/Istanbul", f.discord);
    EXPECT_NE(text.find("**Nürburgring 24h**"), std::string::npos) << text;
    EXPECT_NE(text.find("Nürburgring Combined"), std::string::npos);
    EXPECT_NE(text.find("<t:1761998400:F>"), std::string::npos);
    EXPECT_NE(text.find("<t:1761998400:R>"), std::string::npos);
    EXPECT_NE(text.find("**Car 1 · #11**"), std::string::npos);
    EXPECT_NE(text.find("Captain: <@" + snowflake(100) + ">"), std::string::npos) << text;
    EXPECT_NE(
        text.find("Drivers: <@" + snowflake(100) + ">, <@" + snowflake(101) + ">, <@" + snowflake(102) + ">"),
        std::string::npos);
    // The last spotter has no Discord id: written by name.
    EXPECT_NE(text.find("Spotters: <@" + snowflake(103) + ">, " + f.plan.members.at(104).name),
              std::string::npos)
        << text;
    const auto& crew = f.plan.crews[0];
    for (const auto& stint : crew.stints) {
        const std::string line =
            "Stint " + std::to_string(stint.stint + 1) + " · <t:" + std::to_string(stint.starts_at) +
            ":t>–<t:" + std::to_string(stint.ends_at) + ":t> · <@" + snowflake(*stint.driver) + ">";
        EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
    }
    // The full form needs no link.
    EXPECT_EQ(text.find(f.event.url), std::string::npos);
}

TEST(Announcement, NamesAreEscapedForDiscordMarkdown) {
    auto f = make(1, 2, 2, 1);
    f.plan.members[100].name = "*bold*_x_`y`";
    f.discord.clear();
    const auto text = announcement(f.plan, f.event, catalog(), "en", "UTC", f.discord);
    EXPECT_NE(text.find("Captain: \\*bold\\*\\_x\\_\\`y\\`"), std::string::npos) << text;
}

TEST(Announcement, ThreeCrewsOver24HoursFitWithEveryDriverAndStint) {
    for (const int run : {1, 2, 3}) {
        for (const char* locale : {"en", "tr"}) {
            SCOPED_TRACE(std::string(locale) + " run " + std::to_string(run));
            auto f = make(3, 5, 20, run);  // 60 stints
            const auto text = announcement(f.plan, f.event, catalog(), locale, "UTC", f.discord);
            EXPECT_LE(discord_length(text), kDiscordMessageLimit) << text;
            EXPECT_LE(text.size(), 2400u);  // mostly ASCII: bytes stay close to characters
            EXPECT_TRUE(valid_utf8(text));
            for (const auto& crew : f.plan.crews)
                for (const auto driver : crew.drivers)
                    EXPECT_NE(text.find("<@" + snowflake(driver) + ">"), std::string::npos) << driver;
            const auto sections = crew_sections(text, f, locale);
            ASSERT_EQ(sections.size(), 3u) << text;
            for (const auto& section : sections) {
                const auto covered = covered_stints(section);
                EXPECT_EQ(covered.size(), 20u) << section;
                if (!covered.empty()) {
                    EXPECT_EQ(*covered.begin(), 1);
                    EXPECT_EQ(*covered.rbegin(), 20);
                }
            }
            // Shortened: the link to the whole plan is there.
            EXPECT_NE(text.find(f.event.url), std::string::npos);
        }
    }
}

TEST(Announcement, RunsKeepTheirStartTimesWhenTheyFit) {
    auto f = make(3, 5, 20, 3);
    const auto text = announcement(f.plan, f.event, catalog(), "en", "UTC", f.discord);
    const auto& crew = f.plan.crews[1];
    const std::string first_run = "`1–3` <t:" + std::to_string(crew.stints[0].starts_at) + ":t> " +
                                  f.plan.members.at(*crew.stints[0].driver).name;
    EXPECT_NE(text.find(first_run), std::string::npos) << text;
}

TEST(Announcement, BigPlansShortenToSummariesWithTheLink) {
    auto f = make(5, 8, 40, 1);
    const auto text = announcement(f.plan, f.event, catalog(), "en", "UTC", f.discord);
    EXPECT_LE(discord_length(text), kDiscordMessageLimit);
    EXPECT_TRUE(text.ends_with("\n" + f.event.url) || text.ends_with(" " + f.event.url)) << text;
    for (const auto& crew : f.plan.crews) {
        EXPECT_NE(text.find("**Car " + std::to_string(crew.crew + 1) + " · #" + crew.car_number + "**"),
                  std::string::npos);
        for (const auto driver : crew.drivers)
            EXPECT_NE(text.find("<@" + snowflake(driver) + ">"), std::string::npos);
    }
    EXPECT_NE(text.find("40 stints, <t:1761998400:f>–<t:1762084800:f>"), std::string::npos) << text;
    EXPECT_EQ(text.find("`1`"), std::string::npos);  // no stint list any more
}

TEST(Announcement, BiggerPlansShortenToOneLinePerCrew) {
    auto f = make(6, 8, 40, 1);
    const auto text = announcement(f.plan, f.event, catalog(), "en", "UTC", f.discord);
    EXPECT_LE(discord_length(text), kDiscordMessageLimit);
    EXPECT_TRUE(text.ends_with(f.event.url)) << text;
    for (const auto& crew : f.plan.crews) {
        const std::string line = "**Car " + std::to_string(crew.crew + 1) + " · #" + crew.car_number +
                                 "** · captain <@" + snowflake(*crew.captain) + "> · 8 drivers · 40 stints";
        EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
    }
}

TEST(Announcement, HugePlansAreCutAtALineAndKeepTheLink) {
    auto f = make(60, 6, 30, 1);
    const auto text = announcement(f.plan, f.event, catalog(), "tr", "UTC", f.discord);
    EXPECT_LE(discord_length(text), kDiscordMessageLimit);
    EXPECT_TRUE(valid_utf8(text));
    EXPECT_NE(text.find("**1. araç · #11**"), std::string::npos) << text;
    EXPECT_TRUE(text.ends_with(f.event.url)) << text;
    EXPECT_NE(text.find("\n…\n"), std::string::npos);

    // An absurd event name alone over the limit: cut between characters.
    f.event.name.clear();
    for (int i = 0; i < 1500; ++i) f.event.name += "ğ🏁";
    const auto cut = announcement(f.plan, f.event, catalog(), "tr", "UTC", f.discord);
    EXPECT_LE(discord_length(cut), kDiscordMessageLimit);
    EXPECT_GE(discord_length(cut), kDiscordMessageLimit - 2);
    EXPECT_TRUE(valid_utf8(cut));
}

TEST(Announcement, DiscordLengthCountsUtf16Units) {
    EXPECT_EQ(discord_length("abc"), 3u);
    EXPECT_EQ(discord_length("ışİ"), 3u);
    EXPECT_EQ(discord_length("—"), 1u);
    EXPECT_EQ(discord_length("🏁"), 2u);
}

// ---------------------------------------------------------------------------------------------
// Itinerary

std::vector<Duty> dst_duties() {
    Duty saturday{7, "Nürburgring 24h", "Nürburgring", 0,   "11",
                  2, 1761998700,        1762002120,    true};  // 12:05–13:02Z
    Duty before{7, "Nürburgring 24h", "Nürburgring", 0,    "11",
                9, 1762059600,        1762062600,    false};  // 05:00–05:50Z
    Duty after{7,  "Nürburgring 24h", "Nürburgring", 0,   "11",
               11, 1762066800,        1762070400,    true};  // 07:00–08:00Z
    return {saturday, before, after};
}

TEST(Itinerary, EnglishInNewYorkAcrossTheDstChange) {
    const auto text = plain_spaces(itinerary_lines(dst_duties(), catalog(), {"en", "America/New_York"}));
    // 2025-11-02 06:00 UTC: EDT (UTC-4) becomes EST (UTC-5).
    EXPECT_EQ(text,
              "Stint 3 · drive · Sat 8:05 AM–9:02 AM\n"
              "Stint 10 · spot · Sun 1:00 AM–1:50 AM\n"
              "Stint 12 · drive · Sun 2:00 AM–3:00 AM");
}

TEST(Itinerary, TurkishInIstanbul) {
    const auto text = plain_spaces(itinerary_lines(dst_duties(), catalog(), {"tr", "Europe/Istanbul"}));
    EXPECT_EQ(text,
              "3. stint · sürüş · Cmt 15:05–16:02\n"
              "10. stint · gözcülük · Paz 08:00–08:50\n"
              "12. stint · sürüş · Paz 10:00–11:00");
}

TEST(Itinerary, IsTheStintsOfTheDmMessage) {
    const i18n::Viewer viewer{"tr", "Europe/Istanbul"};
    const auto lines = itinerary_lines(dst_duties(), catalog(), viewer);
    const auto dm =
        catalog().text(viewer, "planner.dm_itinerary",
                       {{"event", "Nürburgring 24h"}, {"stints", lines}, {"ical", "https://x/ical/t"}});
    EXPECT_NE(dm.find(lines), std::string::npos) << dm;
    EXPECT_NE(dm.find("https://x/ical/t"), std::string::npos);
    EXPECT_EQ(dm.find('{'), std::string::npos) << dm;
    EXPECT_TRUE(itinerary_lines({}, catalog(), viewer).empty());
}

// ---------------------------------------------------------------------------------------------
// iCal

// The physical lines of a feed; fails the test on a bare CR or LF.
std::vector<std::string> physical_lines(const std::string& feed) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < feed.size()) {
        const auto end = feed.find("\r\n", pos);
        EXPECT_NE(end, std::string::npos) << "the feed must end with CRLF";
        if (end == std::string::npos) break;
        std::string line = feed.substr(pos, end - pos);
        EXPECT_EQ(line.find('\r'), std::string::npos) << line;
        EXPECT_EQ(line.find('\n'), std::string::npos) << line;
        lines.push_back(std::move(line));
        pos = end + 2;
    }
    return lines;
}

// Content lines after unfolding (RFC 5545 3.1).
std::vector<std::string> unfold(const std::vector<std::string>& physical) {
    std::vector<std::string> lines;
    for (const auto& line : physical) {
        if (!line.empty() && line[0] == ' ' && !lines.empty())
            lines.back() += line.substr(1);
        else
            lines.push_back(line);
    }
    return lines;
}

std::string unescape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
            const char next = text[++i];
            out += next == 'n' || next == 'N' ? '\n' : next;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::vector<std::string> values(const std::vector<std::string>& lines, std::string_view name) {
    std::vector<std::string> out;
    const std::string prefix = std::string(name) + ":";
    for (const auto& line : lines)
        if (line.starts_with(prefix)) out.push_back(line.substr(prefix.size()));
    return out;
}

void expect_well_formed(const std::string& feed) {
    const auto physical = physical_lines(feed);
    for (const auto& line : physical) {
        EXPECT_LE(line.size(), 75u) << line;
        EXPECT_TRUE(valid_utf8(line)) << "a fold split a UTF-8 sequence: " << line;
    }
}

TEST(Ical, FeedReadsBack) {
    auto duties = dst_duties();
    duties[0].event_name =
        "İstanbul Dayanıklılık Şampiyonası: Gece Yarışı, 24 Saat; özel\\sürüm\nikinci satır ğüşöçı";
    duties[0].track = "Circuit de Spa-Francorchamps, Endurance";
    const auto feed =
        ical_feed(duties, catalog(), "tr", "Pitwall · Ayşe", "https://pitwall.example/", 1761900000);
    expect_well_formed(feed);
    const auto lines = unfold(physical_lines(feed));
    ASSERT_GE(lines.size(), 2u);
    EXPECT_EQ(lines.front(), "BEGIN:VCALENDAR");
    EXPECT_EQ(lines.back(), "END:VCALENDAR");
    EXPECT_EQ(values(lines, "VERSION"), std::vector<std::string>{"2.0"});
    EXPECT_EQ(values(lines, "PRODID").size(), 1u);
    EXPECT_EQ(values(lines, "CALSCALE"), std::vector<std::string>{"GREGORIAN"});
    EXPECT_EQ(values(lines, "X-WR-CALNAME"), std::vector<std::string>{"Pitwall · Ayşe"});
    EXPECT_EQ(values(lines, "BEGIN").size(), 1u + 2u * duties.size());  // calendar, events, alarms
    EXPECT_EQ(values(lines, "END").size(), 1u + 2u * duties.size());

    EXPECT_EQ(values(lines, "UID"),
              (std::vector<std::string>{"stint-7-0-2-drive@pitwall", "stint-7-0-9-spot@pitwall",
                                        "stint-7-0-11-drive@pitwall"}));
    EXPECT_EQ(values(lines, "DTSTAMP"), std::vector<std::string>(3, "20251031T084000Z"));
    EXPECT_EQ(values(lines, "DTSTART"),
              (std::vector<std::string>{"20251101T120500Z", "20251102T050000Z", "20251102T070000Z"}));
    EXPECT_EQ(values(lines, "DTEND"),
              (std::vector<std::string>{"20251101T130200Z", "20251102T055000Z", "20251102T080000Z"}));
    EXPECT_EQ(values(lines, "URL"), std::vector<std::string>(3, "https://pitwall.example/events/7"));
    EXPECT_EQ(values(lines, "TRIGGER"), std::vector<std::string>(3, "-PT30M"));
    EXPECT_EQ(values(lines, "ACTION"), std::vector<std::string>(3, "DISPLAY"));

    // The long Turkish summary was folded (it is far over 75 octets) and reads back exactly.
    const auto summaries = values(lines, "SUMMARY");
    ASSERT_EQ(summaries.size(), 3u);
    EXPECT_GT(summaries[0].size(), 75u);  // folded
    EXPECT_EQ(unescape(summaries[0]), "3. stint sürüşü — " + duties[0].event_name);
    EXPECT_NE(summaries[0].find("Şampiyonası: Gece"), std::string::npos);  // ':' needs no escape
    EXPECT_NE(summaries[0].find("Yarışı\\, 24 Saat\\; özel\\\\sürüm\\nikinci"), std::string::npos)
        << summaries[0];
    EXPECT_EQ(unescape(summaries[1]), "10. stint gözcülüğü — Nürburgring 24h");
    EXPECT_EQ(values(lines, "LOCATION").front(), "Circuit de Spa-Francorchamps\\, Endurance");
}

TEST(Ical, EnglishSummaries) {
    const auto lines = unfold(
        physical_lines(ical_feed(dst_duties(), catalog(), "en", "Pitwall", "https://p.example", 1761900000)));
    EXPECT_EQ(values(lines, "SUMMARY"),
              (std::vector<std::string>{"Drive stint 3 — Nürburgring 24h", "Spot stint 10 — Nürburgring 24h",
                                        "Drive stint 12 — Nürburgring 24h"}));
}

TEST(Ical, SameDutiesSameFeed) {
    const auto a = ical_feed(dst_duties(), catalog(), "en", "Pitwall", "https://p.example", 1761900000);
    const auto b = ical_feed(dst_duties(), catalog(), "en", "Pitwall", "https://p.example", 1761900000);
    EXPECT_EQ(a, b);
    const auto empty = ical_feed({}, catalog(), "en", "Pitwall", "https://p.example", 1761900000);
    expect_well_formed(empty);
    EXPECT_EQ(empty.find("BEGIN:VEVENT"), std::string::npos);
}

TEST(Ical, EscapesText) {
    EXPECT_EQ(ical_escape_text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
    EXPECT_EQ(ical_escape_text("tab\there\x01"), "tabhere");
    EXPECT_EQ(ical_escape_text("Ayşe: İ"), "Ayşe: İ");
}

TEST(Ical, FoldsAt75OctetsBetweenCharacters) {
    // 2-, 3- and 4-byte sequences at every offset against the fold points.
    for (const std::string unit : {"ş", "—", "🏁", "aş", "a—", "ab🏁"}) {
        for (int prefix = 0; prefix < 4; ++prefix) {
            std::string line = "SUMMARY:" + std::string(static_cast<std::size_t>(prefix), 'x');
            while (line.size() < 400) line += unit;
            const auto folded = ical_fold(line);
            SCOPED_TRACE(unit + " +" + std::to_string(prefix));
            const auto physical = physical_lines(folded);
            ASSERT_GT(physical.size(), 5u);
            for (std::size_t i = 0; i < physical.size(); ++i) {
                EXPECT_LE(physical[i].size(), 75u);
                if (i + 1 < physical.size()) {
                    EXPECT_GE(physical[i].size(), 72u);  // full but for a backoff
                }
                EXPECT_TRUE(valid_utf8(physical[i])) << physical[i];
                if (i > 0) {
                    EXPECT_EQ(physical[i][0], ' ');
                }
            }
            EXPECT_EQ(unfold(physical), std::vector<std::string>{line});
        }
    }
    EXPECT_EQ(ical_fold(std::string(75, 'a')), std::string(75, 'a') + "\r\n");
    EXPECT_EQ(ical_fold(std::string(76, 'a')), std::string(75, 'a') + "\r\n a\r\n");
}

TEST(Ical, UtcTimes) {
    EXPECT_EQ(ical_utc(0), "19700101T000000Z");
    EXPECT_EQ(ical_utc(951868799), "20000229T235959Z");
    EXPECT_EQ(ical_utc(1762059600), "20251102T050000Z");
    EXPECT_EQ(ical_utc(-1), "19691231T235959Z");
}

// ---------------------------------------------------------------------------------------------
// Token

TEST(IcalToken, KnownAnswerAndShape) {
    // python3: base64.urlsafe_b64encode(hmac.new(b"test-key", b"pitwall-ical|42|1",
    // sha256).digest()).rstrip(b"=")
    EXPECT_EQ(ical_token("test-key", 42, 1), "p-mFTwFPs1Pngi8oBYVdS8suQ2dF8o039fJHLt91sdc");
    const auto token = ical_token("k", 1, 0);
    EXPECT_EQ(token.size(), 43u);
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
}

TEST(IcalToken, StablePerUserAndGeneration) {
    EXPECT_EQ(ical_token("key", 42, 3), ical_token("key", 42, 3));
    EXPECT_NE(ical_token("key", 42, 3), ical_token("key", 42, 4));
    EXPECT_NE(ical_token("key", 42, 3), ical_token("key", 43, 3));
    EXPECT_NE(ical_token("key", 42, 3), ical_token("key2", 42, 3));
    // "1|23" and "12|3" must not collide.
    EXPECT_NE(ical_token("key", 1, 23), ical_token("key", 12, 3));
}

TEST(IcalToken, MatchesOnlyTheExactToken) {
    const auto token = ical_token("key", 42, 3);
    EXPECT_TRUE(ical_token_matches("key", 42, 3, token));
    EXPECT_FALSE(ical_token_matches("key", 42, 4, token));  // revoked by a new generation
    EXPECT_FALSE(ical_token_matches("key", 41, 3, token));
    EXPECT_FALSE(ical_token_matches("other", 42, 3, token));
    EXPECT_FALSE(ical_token_matches("key", 42, 3, ""));
    EXPECT_FALSE(ical_token_matches("key", 42, 3, token.substr(0, 42)));
    EXPECT_FALSE(ical_token_matches("key", 42, 3, token + "A"));
    EXPECT_FALSE(ical_token_matches("key", 42, 3, token + "="));
    for (std::size_t i = 0; i < token.size(); ++i) {
        std::string tampered = token;
        tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
        EXPECT_FALSE(ical_token_matches("key", 42, 3, tampered)) << i;
    }
}

}  // namespace
}  // namespace pitwall::planner
