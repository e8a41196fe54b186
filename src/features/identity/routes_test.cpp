// The member pages through their routes, on the demo team (a migrated SQLite file, the demo seed,
// the shipped templates and catalogs): roster sorting from the query string, a member's page, the
// profile's racing section and the weekly schedule.
#include "features/identity/routes.hpp"

#include <filesystem>
#include <regex>
#include <stdexcept>

#include <gtest/gtest.h>
#include <unicode/coll.h>

#include "features/demo/seed.hpp"
#include "features/identity/providers.hpp"
#include "features/identity/users.hpp"
#include "features/racing/racing.hpp"
#include "features/racing/routes.hpp"
#include "platform/auth/session.hpp"
#include "platform/http/router.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/migrate.hpp"
#include "platform/store/sql.hpp"
#include "platform/web/page.hpp"
#include "platform/web/templates.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::identity {
namespace {

const std::filesystem::path kSource = PITWALL_SOURCE_DIR;
constexpr std::int64_t kNow = 1774785600000;  // Sunday 2026-03-29 12:00 UTC

template <typename T>
T must(Result<T> result) {
    if (!result) throw std::runtime_error(result.error().code + ": " + result.error().detail);
    return std::move(result).value();
}

class MemberPages : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = must(store::open_sqlite({(dir_.path() / "pitwall.db").string()}));
        must(store::migrate(*db_,
                            must(store::load_migrations(kSource / "migrations", store::Dialect::sqlite))));
        must(demo::seed_if_empty(*db_, clock_));
        kv_ = must(store::open_embedded_kv({(dir_.path() / "kv.db").string()}, clock_));
        users_ = std::make_unique<Users>(*db_, clock_);
        providers_ = std::make_unique<Providers>(config_, *users_, *kv_, clock_);
        sessions_ = std::make_unique<auth::SessionStore>(*kv_, clock_, std::chrono::hours(1));
        racing_ = std::make_unique<racing::Racing>(*db_, clock_);
        add_routes(router_, {config_, *users_, *providers_, *sessions_, shell_, clock_, racing_.get()});
        racing::add_routes(router_, {*racing_, shell_});
    }

    http::Response get(std::string_view target, std::string locale = "en") {
        http::Request r;
        r.target = target;
        const auto q = target.find('?');
        r.path = target.substr(0, q);
        r.query = q == std::string_view::npos ? "" : target.substr(q + 1);
        r.locale = std::move(locale);
        r.time_zone = "Europe/Istanbul";
        r.catalog = &catalog();
        r.principal = {.user_id = 4, .role = "member", .display_name = "Demo", .csrf_token = "t"};
        auto match = router_.match(http::Method::get, r.path);
        if (match.outcome != http::MatchOutcome::found) throw std::runtime_error("no route for " + r.path);
        r.params = match.params;
        return match.route->handler(r);
    }

    static const i18n::Catalog& catalog() {
        static const i18n::Catalog c = must(i18n::Catalog::load(kSource / "locales"));
        return c;
    }
    static const web::Templates& templates() {
        static const web::Templates t = must(web::Templates::load(kSource / "web" / "templates", catalog()));
        return t;
    }

    test_support::TempDir dir_{"pitwall-pages"};
    ManualClock clock_{kNow};
    Config config_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<store::Kv> kv_;
    std::unique_ptr<Users> users_;
    std::unique_ptr<Providers> providers_;
    std::unique_ptr<auth::SessionStore> sessions_;
    std::unique_ptr<racing::Racing> racing_;
    web::Shell shell_{templates(), false};
    http::Router router_;
};

std::vector<std::string> all(const std::string& text, const std::string& pattern) {
    std::vector<std::string> out;
    const std::regex re(pattern);
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) out.push_back((*it)[1]);
    return out;
}

TEST_F(MemberPages, RosterSortsFromTheQueryString) {
    auto page = get("/members?sort=name&dir=asc&category=formula_car", "tr");
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("aria-sort=\"ascending\"><a class=\"sort-link\" "
                             "href=\"/members?sort=name&amp;dir=desc&amp;category=formula_car\">"),
              std::string::npos);
    EXPECT_NE(page.body.find("<option value=\"formula_car\" selected>"), std::string::npos);
    const auto names = all(page.body, R"re(<a href="/members/\d+">([^<]*)</a>)re");
    ASSERT_EQ(names.size(), 56u);  // guests are not listed
    // In the viewer's collation (ICU), not byte order.
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Collator> turkish(icu::Collator::createInstance(icu::Locale("tr"), status));
    ASSERT_TRUE(U_SUCCESS(status));
    auto before = [&](const std::string& a, const std::string& b) {
        UErrorCode s = U_ZERO_ERROR;
        return turkish->compareUTF8(a, b, s) == UCOL_LESS;
    };
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end(), before));
    auto reversed =
        all(get("/members?sort=name&dir=desc", "tr").body, R"re(<a href="/members/\d+">([^<]*)</a>)re");
    std::reverse(reversed.begin(), reversed.end());
    EXPECT_TRUE(std::is_sorted(reversed.begin(), reversed.end(), before));

    auto ratings = get("/members?sort=irating&dir=desc");
    const auto iratings = all(ratings.body, R"re(data-label="iRating">(\d+)</td>)re");
    ASSERT_EQ(iratings.size(), 56u);
    for (std::size_t i = 1; i < iratings.size(); ++i)
        EXPECT_GE(std::stoi(iratings[i - 1]), std::stoi(iratings[i]));
}

TEST_F(MemberPages, UnknownSortParametersFallBackToTheDefault) {
    for (const char* target : {"/members?sort=irating%3B+DROP+TABLE+users&dir=up&category=road",
                               "/members?sort=&dir=&category=", "/members?category=%FF"}) {
        auto page = get(target);
        ASSERT_EQ(page.status, 200) << target;
        EXPECT_NE(page.body.find("aria-sort=\"descending\"><a class=\"sort-link\" "
                                 "href=\"/members?sort=irating&amp;dir=asc&amp;category=sports_car\">"),
                  std::string::npos)
            << target;
        EXPECT_NE(page.body.find("<option value=\"sports_car\" selected>"), std::string::npos) << target;
    }
}

TEST_F(MemberPages, AMembersPageShowsTheirRacing) {
    auto page = get("/members/2");
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\""), std::string::npos);
    EXPECT_NE(page.body.find("aria-label=\"Sports car iRating from "), std::string::npos);
    EXPECT_EQ(all(page.body, R"re(<span class="delta delta-(up|down|flat)">)re").size(), 10u);
    EXPECT_EQ(get("/members/57").status, 404);  // a guest
    EXPECT_EQ(get("/members/99999").status, 404);
    EXPECT_EQ(get("/members/9223372036854775807").status, 404);
}

TEST_F(MemberPages, TheProfileHasTheRacingSection) {
    auto page = get("/profile", "tr");
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("<h2 id=\"racing-heading\">Yarış</h2>"), std::string::npos);
    EXPECT_NE(page.body.find("Spor otomobil iRating: "), std::string::npos);
}

TEST_F(MemberPages, TheScheduleListsThisWeeksSeries) {
    auto page = get("/schedule");
    ASSERT_EQ(page.status, 200) << page.body;
    const auto series = all(page.body, R"re(<section class="card series">\s*<h2>([^<]*)</h2>)re");
    EXPECT_GE(series.size(), 10u);
    EXPECT_EQ(all(page.body, R"re(<li>(\w{3} \d{1,2}:\d\d[^<]{1,4}M)</li>)re").size(), series.size() * 6);
    EXPECT_NE(page.body.find("Times are in your time zone, Europe/Istanbul."), std::string::npos);
}

}  // namespace
}  // namespace pitwall::identity
