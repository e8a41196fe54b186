#include "platform/web/templates.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace pitwall::web {
namespace {

const std::filesystem::path kSource = PITWALL_SOURCE_DIR;
const std::filesystem::path kTemplates = kSource / "web" / "templates";
const std::filesystem::path kTestdata = kSource / "src" / "platform" / "web" / "testdata";

std::string read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const i18n::Catalog& shipped_catalog() {
    static const i18n::Catalog catalog = *i18n::Catalog::load(kSource / "locales");
    return catalog;
}

const Templates& shipped_templates() {
    static const Templates templates = [] {
        auto loaded = Templates::load(kTemplates, shipped_catalog());
        if (!loaded) {
            ADD_FAILURE() << loaded.error().code << " " << loaded.error().arg("name") << ": "
                          << loaded.error().arg("reason");
            std::abort();
        }
        return std::move(*loaded);
    }();
    return templates;
}

// ---------------------------------------------------------------------------------------------
// Rendered pages against golden files: testdata/<page>.json is the data a route passes (the data
// contract by example); testdata/<page>.<locale>.html what the browser gets. After an intended
// change, regenerate with PITWALL_UPDATE_GOLDEN=1 and review the diff.

const std::vector<std::string> kPages = {"home",   "sign_in",  "profile", "members",
                                         "member", "schedule", "error"};

boost::json::object page_data(const std::string& page, const std::string& locale) {
    auto data = boost::json::parse(read(kTestdata / (page + ".json"))).as_object();
    for (auto& entry : data["locales"].as_array()) {
        auto& option = entry.as_object();
        option["selected"] = option["code"].as_string() == locale;
    }
    if (page == "error")
        data["message"] = shipped_catalog().error_text(locale, Error(ErrorKind::not_found, "http.not_found"));
    return data;
}

TEST(ShippedTemplates, RenderAsTheGoldenFiles) {
    const bool update = std::getenv("PITWALL_UPDATE_GOLDEN") != nullptr;
    for (const auto& page : kPages) {
        for (const std::string locale : {"en", "tr"}) {
            auto html =
                shipped_templates().render(page, page_data(page, locale), {locale, "Europe/Istanbul"});
            ASSERT_TRUE(html.ok()) << page << ": " << html.error().detail;
            const auto golden = kTestdata / (page + "." + locale + ".html");
            if (update) {
                std::ofstream(golden, std::ios::binary) << *html;
                continue;
            }
            EXPECT_EQ(*html, read(golden)) << golden << " differs; PITWALL_UPDATE_GOLDEN=1 rewrites it";
        }
    }
}

TEST(ShippedTemplates, PagesDeclareTheirLanguageAndEscapeData) {
    auto tr = *shipped_templates().render("home", page_data("home", "tr"), {"tr", "Europe/Istanbul"});
    EXPECT_NE(tr.find("<html lang=\"tr\">"), std::string::npos);
    EXPECT_NE(tr.find("8 saat diliminde 56 üye"), std::string::npos);
    EXPECT_NE(tr.find("Ayşe &lt;Yılmaz&gt;"), std::string::npos);
    EXPECT_EQ(tr.find("<Yılmaz>"), std::string::npos);
    // Dates in the viewer's zone: 2026-03-29T00:30Z is 03:30 in Istanbul.
    EXPECT_NE(tr.find("29 Mar 2026 03:30"), std::string::npos);
    auto en = *shipped_templates().render("home", page_data("home", "en"), {"en", "America/New_York"});
    EXPECT_NE(en.find("<html lang=\"en\">"), std::string::npos);
    EXPECT_NE(en.find("56 members across 8 time zones"), std::string::npos);
    EXPECT_NE(en.find("Mar 28, 2026, 8:30\u202fPM"), std::string::npos);
}

TEST(ShippedTemplates, NavigationFollowsRoleFlags) {
    auto data = page_data("home", "en");
    auto visitor = data;
    visitor.erase("user");
    visitor["can"] = boost::json::object{};
    auto html = *shipped_templates().render("home", visitor, {"en", "UTC"});
    EXPECT_EQ(html.find("href=\"/members\""), std::string::npos);
    EXPECT_EQ(html.find("href=\"/admin/sync\""), std::string::npos);
    EXPECT_NE(html.find("href=\"/sign-in\""), std::string::npos);
    html = *shipped_templates().render("home", data, {"en", "UTC"});
    EXPECT_NE(html.find("href=\"/members\""), std::string::npos);
    EXPECT_NE(html.find("href=\"/admin/sync\""), std::string::npos);
    EXPECT_NE(html.find("action=\"/sign-out\""), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The lint: templates hold no user-visible literal text, use only keys both catalogs have (with
// the arguments the message expects), print unescaped only `*_html` data, and carry nothing the
// Content-Security-Policy (script-src 'self'; style-src 'self') would block.

const std::set<std::string> kVisibleAttributes = {"title",
                                                  "alt",
                                                  "placeholder",
                                                  "aria-label",
                                                  "aria-description",
                                                  "aria-placeholder",
                                                  "aria-roledescription",
                                                  "aria-valuetext",
                                                  "data-label",
                                                  "label"};

bool has_letter(std::string_view text) {
    // Entities (&middot;, &#160;) are punctuation; any other letter, ASCII or not, is literal text.
    static const std::regex entity(R"(&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);)");
    const std::string without = std::regex_replace(std::string(text), entity, "");
    return std::any_of(without.begin(), without.end(),
                       [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || (c & 0x80); });
}

std::vector<std::string> lint_translation_call(const std::string& call, const i18n::Catalog& catalog) {
    std::vector<std::string> problems;
    std::istringstream in(call);
    std::string key;
    in >> key;
    std::set<std::string> given;
    for (std::string token; in >> token;) {
        auto eq = token.find('=');
        if (eq == std::string::npos ||
            !std::regex_match(token.substr(eq + 1), std::regex(R"([A-Za-z0-9_.]+)")))
            problems.push_back("{{#t}}" + call + ": argument " + token + " is not name=data.path");
        else
            given.insert(token.substr(0, eq));
    }
    if (auto brace = key.find("{{"); brace != std::string::npos) {
        // A key built from data (role.{{role}}): some key must start with its fixed part.
        const std::string prefix = key.substr(0, brace);
        for (const std::string locale : {"en", "tr"}) {
            const auto keys = catalog.keys(locale);
            if (!std::any_of(keys.begin(), keys.end(), [&](const auto& k) { return k.starts_with(prefix); }))
                problems.push_back("{{#t}}" + call + ": no " + locale + " key starts with " + prefix);
        }
        return problems;
    }
    for (const std::string locale : {"en", "tr"}) {
        auto pattern = catalog.pattern(locale, key);
        if (!pattern) {
            problems.push_back("{{#t}}" + call + ": " + locale + ".json has no " + key);
            continue;
        }
        auto names = i18n::argument_names(*pattern);
        if (!names || std::set<std::string>(names->begin(), names->end()) != given)
            problems.push_back("{{#t}}" + call + ": arguments differ from the " + locale + " message");
    }
    return problems;
}

std::vector<std::string> lint(std::string source, const i18n::Catalog& catalog) {
    std::vector<std::string> problems;
    source = std::regex_replace(source, std::regex(R"(\{\{![\s\S]*?\}\})"), "");
    if (source.find("{{=") != std::string::npos) problems.push_back("changes the Mustache delimiters");

    // Translation calls become \x01 (translated text), after checking each one.
    static const std::regex call(R"(\{\{#t\}\}([\s\S]*?)\{\{/t\}\})");
    for (std::sregex_iterator it(source.begin(), source.end(), call), end; it != end; ++it)
        for (auto& p : lint_translation_call((*it)[1].str(), catalog)) problems.push_back(std::move(p));
    source = std::regex_replace(source, call, "\x01");

    // Every other tag goes; unescaped output only for *_html data.
    static const std::regex tag(R"(\{\{(\{?)([#^/>&]?)\s*([^}]*?)\s*\}?\}\})");
    for (std::sregex_iterator it(source.begin(), source.end(), tag), end; it != end; ++it) {
        const std::string raw = (*it)[1], kind = (*it)[2], name = (*it)[3];
        if ((raw == "{" || kind == "&") && !name.ends_with("_html"))
            problems.push_back("{{{" + name + "}}} prints unescaped data whose name does not end in _html");
        if (name == "t") problems.push_back("`t` used other than as {{#t}}key{{/t}}: " + it->str());
    }
    source = std::regex_replace(source, tag, "");

    // The HTML that remains: text between tags and visible attributes must carry no letters.
    std::size_t i = 0;
    while (i < source.size()) {
        if (source.compare(i, 4, "<!--") == 0) {
            i = source.find("-->", i);
            i = i == std::string::npos ? source.size() : i + 3;
            continue;
        }
        if (source[i] == '<' && i + 1 < source.size() &&
            (std::isalpha(static_cast<unsigned char>(source[i + 1])) || source[i + 1] == '/' ||
             source[i + 1] == '!')) {
            std::size_t end = i + 1;
            char quote = 0;
            for (; end < source.size(); ++end) {
                if (quote) {
                    if (source[end] == quote) quote = 0;
                } else if (source[end] == '"' || source[end] == '\'') {
                    quote = source[end];
                } else if (source[end] == '>') {
                    break;
                }
            }
            const std::string element = source.substr(i + 1, end - i - 1);
            if (element.starts_with("/") || element.starts_with("!")) {  // closing tag, doctype
                i = end + 1;
                continue;
            }
            static const std::regex name_re(R"(^([a-zA-Z0-9]+))");
            std::smatch name;
            std::regex_search(element, name, name_re);
            const std::string tag_name = name.empty() ? "" : std::string(name[1]);
            static const std::regex attribute(
                R"re(([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?)re");
            std::map<std::string, std::string> attributes;
            const std::string rest = element.substr(name.empty() ? 0 : name.length());
            for (std::sregex_iterator it(rest.begin(), rest.end(), attribute), e; it != e; ++it)
                attributes[(*it)[1]] = (*it)[2].matched ? (*it)[2] : (*it)[3].matched ? (*it)[3] : (*it)[4];
            for (const auto& [attr, value] : attributes) {
                if (attr == "style" || attr.starts_with("on"))
                    problems.push_back("<" + tag_name + " " + attr + "=...> is blocked by the CSP");
                const bool submit_value = attr == "value" && tag_name == "input" &&
                                          (attributes["type"] == "submit" || attributes["type"] == "button" ||
                                           attributes["type"] == "reset");
                if ((kVisibleAttributes.contains(attr) || submit_value) && has_letter(value))
                    problems.push_back("<" + tag_name + " " + attr + "=\"" + value + "\"> is literal text");
            }
            if (tag_name == "style") problems.push_back("<style> is blocked by the CSP");
            if (tag_name == "script") {
                if (!attributes.contains("src")) problems.push_back("inline <script> is blocked by the CSP");
                const auto close = source.find("</script>", end);
                if (close == std::string::npos || source.find_first_not_of(" \t\r\n", end + 1) != close)
                    problems.push_back("<script> has a body");
            }
            i = end + 1;
            continue;
        }
        const std::size_t next = source.find('<', i + 1);
        const std::string text = source.substr(i, next == std::string::npos ? std::string::npos : next - i);
        std::string visible;
        for (char c : text)
            if (c != '\x01') visible += c;
        if (has_letter(visible)) {
            std::string shown = visible.substr(visible.find_first_not_of(" \t\r\n"), 60);
            problems.push_back("literal text: \"" + shown + "\"");
        }
        i = next == std::string::npos ? source.size() : next;
    }
    return problems;
}

TEST(TemplateLint, ShippedTemplatesHoldNoLiteralText) {
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(kTemplates)) {
        if (entry.path().extension() != ".mustache") continue;
        ++files;
        for (const auto& problem : lint(read(entry.path()), shipped_catalog()))
            ADD_FAILURE() << entry.path().filename().string() << ": " << problem;
    }
    EXPECT_GE(files, 9u);
}

TEST(TemplateLint, CatchesWhatItShould) {
    const auto& c = shipped_catalog();
    EXPECT_EQ(lint("<p>{{#t}}nav.home{{/t}} &middot; {{count}}</p>", c).size(), 0u);
    EXPECT_EQ(lint("<p>Hello</p>", c).size(), 1u);
    EXPECT_EQ(lint("<p>Güle güle</p>", c).size(), 1u);
    EXPECT_EQ(lint("{{#user}}Welcome{{/user}}", c).size(), 1u);
    EXPECT_EQ(lint("<a aria-label=\"Close\" href=\"/x\">{{#t}}nav.home{{/t}}</a>", c).size(), 1u);
    EXPECT_EQ(lint("<a aria-label=\"{{#t}}nav.menu{{/t}}\" href=\"/x\"></a>", c).size(), 0u);
    EXPECT_EQ(lint("<input type=\"submit\" value=\"Go\">", c).size(), 1u);
    EXPECT_EQ(lint("<input type=\"hidden\" name=\"role\" value=\"owner\">", c).size(), 0u);
    EXPECT_EQ(lint("{{#t}}no.such.key{{/t}}", c).size(), 2u);
    EXPECT_EQ(lint("{{#t}}home.team_size members=team.members{{/t}}", c).size(), 2u);  // zones missing
    EXPECT_EQ(lint("{{#t}}role.{{role}}{{/t}}", c).size(), 0u);
    EXPECT_EQ(lint("{{{name}}}", c).size(), 1u);
    EXPECT_EQ(lint("{{{chart_html}}}", c).size(), 0u);
    EXPECT_EQ(lint("{{t}}", c).size(), 1u);
    EXPECT_EQ(lint("<script>alert(1)</script>", c).size(), 3u);  // no src, a body, and the text
    EXPECT_EQ(lint("<p style=\"color:red\" onclick=\"x()\"></p>", c).size(), 2u);
    EXPECT_EQ(lint("{{! a comment with words }}<br>", c).size(), 0u);
}

// ---------------------------------------------------------------------------------------------
// The engine

i18n::Catalog small_catalog() {
    return *i18n::Catalog::from_json(
        {{"en", R"({"greet":"Hello {name}","laps":"{count, plural, one {# lap} other {# laps}}",
                    "tag":"<b>bold</b> & {name}","role":{"owner":"Owner"},
                    "starts":"{when, time, short}"})"},
         {"tr", R"({"greet":"Merhaba {name}","laps":"{count, plural, one {# tur} other {# tur}}",
                    "tag":"<b>kalın</b> & {name}","role":{"owner":"Sahip"},
                    "starts":"{when, time, short}"})"}});
}

std::string render(const Templates& templates, std::string_view name, std::string_view json,
                   const i18n::Viewer& viewer = {}) {
    auto html = templates.render(name, boost::json::parse(json).as_object(), viewer);
    return html ? *html : "ERROR " + html.error().code + " " + html.error().detail;
}

TEST(Templates, TranslatesWithArgumentsFromData) {
    auto catalog = small_catalog();
    auto templates = *Templates::from_sources(
        {{"page",
          "{{#t}}greet name=user.name{{/t}}|{{#items}}{{#t}}laps count=n{{/t}};{{/items}}|"
          "{{#t}}role.{{role}}{{/t}}|{{#t}}starts when=at{{/t}}|{{locale}}"}},
        catalog);
    const auto data =
        R"({"user":{"name":"Ece"},"items":[{"n":1},{"n":3}],"role":"owner","at":1774744200000})";
    EXPECT_EQ(render(templates, "page", data, {"en", "UTC"}),
              "Hello Ece|1 lap;3 laps;|Owner|12:30\u202fAM|en");
    EXPECT_EQ(render(templates, "page", data, {"tr", "Europe/Istanbul"}),
              "Merhaba Ece|1 tur;3 tur;|Sahip|03:30|tr");
}

TEST(Templates, EscapesDataAndMessagesButNotHtmlData) {
    auto catalog = small_catalog();
    auto templates = *Templates::from_sources(
        {{"page", "<p title=\"{{name}}\">{{name}}</p>{{#t}}tag name=name{{/t}}{{{chart_html}}}"}}, catalog);
    EXPECT_EQ(
        render(templates, "page", R"({"name":"\"><script>x</script>","chart_html":"<svg></svg>"})"),
        "<p title=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\">&quot;&gt;&lt;script&gt;x&lt;/script&gt;</p>"
        "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;&gt;&lt;script&gt;x&lt;/script&gt;<svg></svg>");
    // A message or a value is never parsed as a template.
    EXPECT_EQ(render(templates, "page", R"({"name":"{{chart_html}}","chart_html":""})"),
              "<p title=\"{{chart_html}}\">{{chart_html}}</p>&lt;b&gt;bold&lt;/b&gt; &amp; {{chart_html}}");
}

TEST(Templates, ReservedKeysComeFromTheViewer) {
    auto catalog = small_catalog();
    auto templates =
        *Templates::from_sources({{"page", "{{locale}} {{time_zone}} {{#t}}greet name=x{{/t}}"}}, catalog);
    // A data key `t` would shadow the translation lambda: it is dropped.
    EXPECT_EQ(render(templates, "page", R"({"locale":"xx","t":"oops","x":"A"})", {"tr", "Europe/Istanbul"}),
              "tr Europe/Istanbul Merhaba A");
    EXPECT_EQ(render(templates, "page", R"({"nested":{"t":1},"x":"B"})"), "en UTC Hello B");
}

TEST(Templates, ValuesRenderAsWritten) {
    auto catalog = small_catalog();
    auto templates = *Templates::from_sources(
        {{"page", "{{n}} {{r}} {{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{#nil}}Z{{/nil}}{{^nil}}-{{/nil}}"}},
        catalog);
    EXPECT_EQ(render(templates, "page", R"({"n":1234,"r":1.5,"yes":true,"no":false,"nil":null})"),
              "1234 1.5 Y-");
}

TEST(Templates, PartialsAreExpandedAtLoad) {
    auto catalog = small_catalog();
    auto templates = *Templates::from_sources(
        {{"page", "[{{> head}}]{{x}}"}, {"head", "<{{> inner}}>"}, {"inner", "{{x}}!"}}, catalog);
    EXPECT_EQ(render(templates, "page", R"({"x":"a"})"), "[<a!>]a");
    EXPECT_TRUE(templates.has("inner"));
    EXPECT_EQ(templates.names(), (std::vector<std::string>{"head", "inner", "page"}));

    auto missing = Templates::from_sources({{"page", "{{> nowhere}}"}}, catalog);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, "web.template_invalid");
    EXPECT_FALSE(Templates::from_sources({{"a", "{{> b}}"}, {"b", "{{> a}}"}}, catalog).ok());  // a cycle
    EXPECT_FALSE(Templates::from_sources({{"a", "{{#open}}"}}, catalog).ok());
    EXPECT_FALSE(Templates::from_sources({{"a", "{{=<% %>=}}"}}, catalog).ok());
    EXPECT_FALSE(Templates::from_sources({{"Bad-Name", ""}}, catalog).ok());
}

TEST(Templates, RenderErrorsAreValues) {
    auto catalog = small_catalog();
    auto templates = *Templates::from_sources({{"page", "{{t}}"}, {"ok", "fine"}}, catalog);
    auto missing = templates.render("nope", {}, {});
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, "web.template_missing");
    auto failed = templates.render("page", {}, {});
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code, "web.template_failed");
    // The failure does not stick to the Templates: other pages still render.
    EXPECT_EQ(templates.render("ok", {}, {}).value(), "fine");
}

TEST(Templates, LoadFailsOnAMissingDirectory) {
    auto catalog = small_catalog();
    auto loaded = Templates::load(kSource / "no" / "such" / "dir", catalog);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().code, "web.templates_unreadable");
}

TEST(Templates, RendersConcurrently) {
    const auto data = page_data("members", "tr");
    const std::string expected = *shipped_templates().render("members", data, {"tr", "Europe/Istanbul"});
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i)
                if (shipped_templates().render("members", data, {"tr", "Europe/Istanbul"}).value() !=
                    expected)
                    ++wrong;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace pitwall::web
