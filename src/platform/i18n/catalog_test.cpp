#include "platform/i18n/catalog.hpp"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

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

TEST(ShippedCatalogs, PlaceholdersAgreeBetweenLanguages) {
    auto c = shipped();
    std::regex arg(R"(\{([a-z_]+)\})");
    auto args_of = [&](const std::string& text) {
        std::set<std::string> out;
        for (std::sregex_iterator it(text.begin(), text.end(), arg), end; it != end; ++it)
            out.insert((*it)[1]);
        return out;
    };
    for (const auto& key : c.keys("en")) {
        // Raw patterns: format with no arguments leaves placeholders as written.
        EXPECT_EQ(args_of(c.text("en", key)), args_of(c.text("tr", key))) << key;
    }
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
    EXPECT_EQ(c.text("tr", "a.only_en"), "x");
    EXPECT_EQ(c.text("tr", "no.such.key"), "no.such.key");
    EXPECT_EQ(format("{unknown} {name", {{"name", "x"}}), "{unknown} {name");
    EXPECT_FALSE(Catalog::from_json({{"tr", "{}"}}).ok());    // fallback missing
    EXPECT_FALSE(Catalog::from_json({{"en", "[1,2"}}).ok());  // malformed
}

}  // namespace
}  // namespace pitwall::i18n
