#include "platform/i18n/catalog.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace pitwall::i18n {
namespace {

const std::filesystem::path kSource = PITWALL_SOURCE_DIR;

Catalog shipped() {
    auto c = Catalog::load(kSource / "locales");
    EXPECT_TRUE(c.ok());
    return std::move(*c);
}

TEST(ShippedCatalogs, EnglishAndTurkishHaveTheSameKeys) {
    auto c = shipped();
    ASSERT_TRUE(c.supports("en"));
    ASSERT_TRUE(c.supports("tr"));
    auto en = c.keys("en"), tr = c.keys("tr");
    std::set<std::string> en_set(en.begin(), en.end()), tr_set(tr.begin(), tr.end());
    for (const auto& k : en_set) EXPECT_TRUE(tr_set.contains(k)) << "tr.json lacks " << k;
    for (const auto& k : tr_set) EXPECT_TRUE(en_set.contains(k)) << "en.json lacks " << k;
}

// Argument names come from ICU's own parser, so `{count, plural, one {# lap} other {# laps}}` yields
// `count` and never mistakes branch text such as `{laps}` for an argument.
TEST(ShippedCatalogs, PlaceholdersAgreeBetweenLanguages) {
    auto c = shipped();
    for (const auto& key : c.keys("en")) {
        auto en = argument_names(c.pattern("en", key).value_or(""));
        auto tr = argument_names(c.pattern("tr", key).value_or(""));
        ASSERT_TRUE(en && tr) << key;
        EXPECT_EQ(*en, *tr) << key;
    }
}

TEST(ShippedCatalogs, EveryMessageCompilesWithIcu) {
    auto c = shipped();
    for (const auto& problem : c.broken()) ADD_FAILURE() << problem;
    for (const auto& locale : c.locales())
        for (const auto& key : c.keys(locale))
            EXPECT_TRUE(argument_names(*c.pattern(locale, key)).has_value()) << locale << " " << key;
}

// Every error code the code can produce has a message in both languages.
TEST(ShippedCatalogs, EveryErrorCodeInTheSourceHasAMessage) {
    auto c = shipped();
    std::set<std::string> codes;
    const std::vector<std::pair<std::regex, std::string>> patterns = {
        {std::regex(R"(ErrorKind::[a-z_]+,\s*"([a-z0-9_]+\.[a-z0-9_.]+)\")"), ""},
        {std::regex(R"(config_error\(\s*"([a-z_]+)\")"), "config."},
        {std::regex(R"(error_response\([a-z_]+,\s*\d{3},\s*"([a-z0-9_.]+)\")"), ""},
        {std::regex(R"(reject_and_close\(\d{3},\s*"([a-z0-9_.]+)\")"), ""},
        {std::regex(R"(error_frame\([a-z_]+,\s*"([a-z0-9_.]+)\")"), ""},
    };
    for (const auto& entry : std::filesystem::recursive_directory_iterator(kSource / "src")) {
        const auto name = entry.path().filename().string();
        if (entry.path().extension() != ".cpp" || name.ends_with("_test.cpp")) continue;
        std::ifstream in(entry.path());
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        for (const auto& [re, prefix] : patterns)
            for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
                codes.insert(prefix + (*it)[1].str());
    }
    ASSERT_GT(codes.size(), 20u);  // the scan itself works
    for (const auto& code : codes)
        for (const auto& locale : {"en", "tr"})
            EXPECT_TRUE(c.has(locale, "error." + code)) << locale << ": error." << code;
}

TEST(Catalog, NegotiatesAcceptLanguage) {
    auto c = shipped();
    EXPECT_EQ(c.negotiate(""), "en");
    EXPECT_EQ(c.negotiate("tr"), "tr");
    EXPECT_EQ(c.negotiate("tr-TR,tr;q=0.9,en-US;q=0.8"), "tr");
    EXPECT_EQ(c.negotiate("de-DE,tr;q=0.5,en;q=0.7"), "en");
    EXPECT_EQ(c.negotiate("de, fr"), "en");
    EXPECT_EQ(c.negotiate("TR"), "tr");
    EXPECT_EQ(c.negotiate("en;q=0, tr;q=0.1"), "tr");
    EXPECT_EQ(c.negotiate("tr;q=abc"), "en");
    EXPECT_EQ(c.negotiate(std::string(100000, ',')), "en");
}

TEST(Catalog, FormatsArgumentsAndFallsBack) {
    auto c = *Catalog::from_json({{"en", R"({"a":{"b":"Hello {name}, {count} laps","only_en":"x"}})"},
                                  {"tr", R"({"a":{"b":"Merhaba {name}, {count} tur"}})"}});
    EXPECT_EQ(c.text("tr", "a.b", {{"name", "İlgın"}, {"count", "3"}}), "Merhaba İlgın, 3 tur");
    EXPECT_EQ(c.text("tr", "a.b", {{"name", std::string("Ece")}, {"count", 3}}), "Merhaba Ece, 3 tur");
    EXPECT_EQ(c.text("tr", "a.only_en"), "x");
    EXPECT_EQ(c.text("tr", "no.such.key"), "no.such.key");
    EXPECT_EQ(format("{unknown} {name}", {{"name", "x"}}), "{unknown} x");
    EXPECT_EQ(format("{unknown} {name", {{"name", "x"}}), "{unknown} {name");  // not a pattern: as written
    EXPECT_FALSE(Catalog::from_json({{"tr", "{}"}}).ok());                     // fallback missing
    EXPECT_FALSE(Catalog::from_json({{"en", "[1,2"}}).ok());                   // malformed
}

Catalog laps() {
    return *Catalog::from_json({{"en", R"({"laps":"{count, plural, one {# lap} other {# laps}} left",
                    "place":"{n, selectordinal, one {#st} two {#nd} few {#rd} other {#th}}",
                    "role":"{role, select, owner {Owner} admin {Admin} other {Member}}",
                    "fuel":"{litres, number} l",
                    "starts":"{when, date, short} {when, time, short}",
                    "nested":"{count, plural, one {one race on {when, date, ::yMMMd}} other {# races from {when, date, ::yMMMd}}}",
                    "plain":"at {when}"})"},
                                {"tr", R"({"laps":"{count, plural, one {# tur} other {# tur}} kaldı",
                    "place":"{n, selectordinal, other {#.}}",
                    "role":"{role, select, owner {Sahip} admin {Yönetici} other {Üye}}",
                    "fuel":"{litres, number} l",
                    "starts":"{when, date, short} {when, time, short}",
                    "nested":"{count, plural, one {{when, date, ::yMMMd} tarihinde bir yarış} other {{when, date, ::yMMMd} tarihinden itibaren # yarış}}",
                    "plain":"{when} itibarıyla"})"}});
}

TEST(Catalog, PluralsFollowEachLanguage) {
    auto c = laps();
    EXPECT_EQ(c.text("en", "laps", {{"count", 1}}), "1 lap left");
    EXPECT_EQ(c.text("en", "laps", {{"count", 0}}), "0 laps left");
    EXPECT_EQ(c.text("en", "laps", {{"count", 2}}), "2 laps left");
    EXPECT_EQ(c.text("en", "laps", {{"count", 1234}}), "1,234 laps left");
    EXPECT_EQ(c.text("tr", "laps", {{"count", 1}}), "1 tur kaldı");
    EXPECT_EQ(c.text("tr", "laps", {{"count", 1234}}), "1.234 tur kaldı");
    EXPECT_EQ(c.text("en", "laps", {{"count", 1.5}}), "1.5 laps left");
    EXPECT_EQ(c.text("tr", "laps", {{"count", 1.5}}), "1,5 tur kaldı");
    // Text that spells a number works where the pattern needs one (Error arguments are text).
    EXPECT_EQ(c.text("en", "laps", {{"count", "1"}}), "1 lap left");
    EXPECT_EQ(c.text("en", "place", {{"n", 2}}), "2nd");
    EXPECT_EQ(c.text("en", "place", {{"n", 23}}), "23rd");
    EXPECT_EQ(c.text("tr", "place", {{"n", 2}}), "2.");
}

TEST(Catalog, SelectAndNumber) {
    auto c = laps();
    EXPECT_EQ(c.text("en", "role", {{"role", "admin"}}), "Admin");
    EXPECT_EQ(c.text("tr", "role", {{"role", "owner"}}), "Sahip");
    EXPECT_EQ(c.text("tr", "role", {{"role", "guest"}}), "Üye");
    EXPECT_EQ(c.text("tr", "role", {{"role", 7}}), "Üye");  // a number where text is expected
    EXPECT_EQ(c.text("en", "fuel", {{"litres", 1234.5}}), "1,234.5 l");
    EXPECT_EQ(c.text("tr", "fuel", {{"litres", 1234.5}}), "1.234,5 l");
}

// 2026-03-29T00:30Z: 03:30 on the 29th in Istanbul (UTC+3), 20:30 on the 28th in New York (EDT).
constexpr std::int64_t kNightOfDstChange = 1774744200000;

TEST(Catalog, DatesAreShownInTheViewersTimeZone) {
    auto c = laps();
    const Args when{{"when", DateTime{kNightOfDstChange}}};
    EXPECT_EQ(c.text("tr", "starts", when, "Europe/Istanbul"), "29.03.2026 03:30");
    EXPECT_EQ(c.text("tr", "starts", when, "America/New_York"), "28.03.2026 20:30");
    EXPECT_EQ(c.text("tr", "starts", when), "29.03.2026 00:30");  // UTC by default
    EXPECT_EQ(c.text(Viewer{"en", "America/New_York"}, "starts", when), "3/28/26 8:30\u202fPM");
    EXPECT_EQ(c.text(Viewer{"en", "Europe/Istanbul"}, "starts", when), "3/29/26 3:30\u202fAM");
    EXPECT_EQ(c.text("en", "starts", when, "Not/AZone"), "3/29/26 12:30\u202fAM");  // unknown: UTC
    // Dates nested in plural branches use the viewer's zone too.
    EXPECT_EQ(
        c.text("en", "nested", {{"count", 1}, {"when", DateTime{kNightOfDstChange}}}, "America/New_York"),
        "one race on Mar 28, 2026");
    EXPECT_EQ(
        c.text("tr", "nested", {{"count", 3}, {"when", DateTime{kNightOfDstChange}}}, "Europe/Istanbul"),
        "29 Mar 2026 tarihinden itibaren 3 yarış");
    // A point in time given to a plain argument: short date and time.
    EXPECT_EQ(c.text("tr", "plain", when, "Europe/Istanbul"), "29.03.2026 03:30 itibarıyla");
    // Epoch milliseconds as a number or as text work too.
    EXPECT_EQ(c.text("tr", "starts", {{"when", kNightOfDstChange}}, "Europe/Istanbul"), "29.03.2026 03:30");
    EXPECT_EQ(c.text("tr", "starts", {{"when", std::to_string(kNightOfDstChange)}}, "Europe/Istanbul"),
              "29.03.2026 03:30");
}

TEST(Catalog, MissingOrUnusableArgumentsShowTheirName) {
    auto c = laps();
    EXPECT_EQ(c.text("en", "laps"), "{count} left");
    EXPECT_EQ(c.text("en", "laps", {{"count", "many"}}), "{count} left");
    EXPECT_EQ(c.text("en", "starts"), "{when} {when}");
    EXPECT_EQ(c.text("en", "starts", {{"when", "soon"}}), "{when} {when}");
    EXPECT_EQ(c.text("en", "role"), "{role}");
    EXPECT_EQ(c.text("en", "nested", {{"when", DateTime{0}}}), "{count}");
}

TEST(Catalog, ABrokenPatternIsShownAsWrittenAndReported) {
    auto c = *Catalog::from_json({{"en", R"({"ok":"fine {x}","no_other":"{n, plural, one {#}}",
                                            "bad_type":"{n, colour}","open":"{oops"})"}});
    EXPECT_EQ(c.broken().size(), 3u);
    EXPECT_EQ(c.text("en", "ok", {{"x", 1}}), "fine 1");
    EXPECT_EQ(c.text("en", "no_other", {{"n", 1}}), "{n, plural, one {#}}");
    EXPECT_EQ(c.text("en", "bad_type", {{"n", 1}}), "{n, colour}");
    EXPECT_EQ(c.text("en", "open"), "{oops");
}

TEST(Catalog, ErrorArgumentsThatSpellNumbersDrivePlurals) {
    auto c = *Catalog::from_json(
        {{"en", R"({"error":{"x":{"few":"{key}: at least {min, plural, one {# byte} other {# bytes}}"}}})"}});
    Error e(ErrorKind::invalid_input, "x.few", {{"key", "secrets.cron_secret"}, {"min", "1"}});
    EXPECT_EQ(c.error_text("en", e), "secrets.cron_secret: at least 1 byte");
    e.args[1].second = "32";
    EXPECT_EQ(c.error_text("en", e), "secrets.cron_secret: at least 32 bytes");
}

TEST(Catalog, ShippedTeamSizeIsPluralised) {
    auto c = shipped();
    EXPECT_EQ(c.text("en", "home.team_size", {{"members", 1}, {"zones", 1}}), "1 member across 1 time zone");
    EXPECT_EQ(c.text("en", "home.team_size", {{"members", 56}, {"zones", 8}}),
              "56 members across 8 time zones");
    EXPECT_EQ(c.text("tr", "home.team_size", {{"members", 56}, {"zones", 8}}), "8 saat diliminde 56 üye");
}

TEST(Catalog, FormatsConcurrentlyFromManyThreads) {
    auto c = laps();
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            const char* zone = t % 2 ? "Europe/Istanbul" : "America/New_York";
            const char* expected = t % 2 ? "29.03.2026 03:30" : "28.03.2026 20:30";
            for (int i = 0; i < 500; ++i) {
                if (c.text("tr", "starts", {{"when", DateTime{kNightOfDstChange}}}, zone) != expected)
                    ++wrong;
                if (c.text("en", "laps", {{"count", i}}) !=
                    std::to_string(i) + (i == 1 ? " lap left" : " laps left"))
                    ++wrong;
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST(Casing, TurkishDottedAndDotlessI) {
    EXPECT_EQ(upper("tr", "istanbul ılık"), "İSTANBUL ILIK");
    EXPECT_EQ(lower("tr", "İSTANBUL ILIK"), "istanbul ılık");
    EXPECT_EQ(upper("en", "istanbul"), "ISTANBUL");
    EXPECT_EQ(lower("en", "ILIK"), "ilik");
    EXPECT_EQ(upper("tr", "şöför çiğ"), "ŞÖFÖR ÇİĞ");
    EXPECT_EQ(upper("de", "straße"), "STRASSE");
    EXPECT_EQ(upper("tr", ""), "");
}

}  // namespace
}  // namespace pitwall::i18n
