// The planner's routes on a migrated SQLite file with the demo team: every route declares the
// permission it should; bad bodies to every JSON post are a 400 with a localized message naming the
// field, never a 500; the plan API carries localized violation texts; the planner page renders in
// both languages.
#include "features/planner/routes.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "features/demo/seed.hpp"
#include "features/events/events.hpp"
#include "features/planner/service.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/http/router.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/migrate.hpp"
#include "platform/store/sql.hpp"
#include "platform/web/page.hpp"
#include "platform/web/templates.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::planner {
namespace {

const std::filesystem::path kSource = PITWALL_SOURCE_DIR;
constexpr std::int64_t kNowMs = 1774785600000;  // Sunday 2026-03-29 12:00 UTC

template <typename T>
T must(Result<T> result) {
    if (!result) throw std::runtime_error(result.error().code + ": " + result.error().detail);
    return std::move(result).value();
}

const i18n::Catalog& catalog() {
    static const i18n::Catalog c = must(i18n::Catalog::load(kSource / "locales"));
    return c;
}
const web::Templates& templates() {
    static const web::Templates t = must(web::Templates::load(kSource / "web" / "templates", catalog()));
    return t;
}

class PlannerRoutes : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = must(store::open_sqlite({(dir_.path() / "pitwall.db").string()}));
        must(store::migrate(*db_,
                            must(store::load_migrations(kSource / "migrations", store::Dialect::sqlite))));
        must(demo::seed_if_empty(*db_, clock_));
        events_ = std::make_unique<events::Events>(*db_, clock_);
        planner_ = std::make_unique<Planner>(
            *db_, catalog(), clock_, PlannerOptions{.public_url = "https://pitwall.test", .ical_key = "k"});
        add_routes(router_, {*planner_, *events_, shell_, clock_, catalog()});
        auto upcoming = must(events_->list_upcoming(1));
        ASSERT_FALSE(upcoming.empty());
        event_id_ = upcoming.front().id;
    }

    http::Response call(http::Method method, const std::string& path, std::string body = {},
                        std::string locale = "en") {
        http::Request r;
        r.method = method;
        r.target = path;
        r.path = path;
        r.body = std::move(body);
        r.locale = std::move(locale);
        r.time_zone = "Europe/Istanbul";
        r.catalog = &catalog();
        r.principal = {.user_id = 2, .role = "admin", .display_name = "Demo", .csrf_token = "t"};
        auto match = router_.match(method, r.path);
        if (match.outcome != http::MatchOutcome::found) throw std::runtime_error("no route for " + r.path);
        r.params = match.params;
        return match.route->handler(r);
    }
    std::string api(std::string_view tail) const {
        return "/api/events/" + std::to_string(event_id_) + "/plan" + std::string(tail);
    }

    test_support::TempDir dir_{"pitwall-planner-routes"};
    ManualClock clock_{kNowMs};
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<events::Events> events_;
    std::unique_ptr<Planner> planner_;
    web::Shell shell_{templates(), false};
    http::Router router_;
    std::int64_t event_id_ = 0;
};

TEST_F(PlannerRoutes, EveryRouteDeclaresItsPermission) {
    std::map<std::string, std::string> expected{
        {"GET /events/{id:int}/planner", "planner.edit"},
        {"GET /api/events/{id:int}/plan", "team.view"},
        {"GET /api/events/{id:int}/plan.json", "team.view"},
        {"GET /api/events/{id:int}/plan.csv", "team.view"},
        {"POST /api/planner/jres", "planner.edit"},
        {"GET /calendar/{user:int}/{token}", "public"},
        {"GET /api/me/calendar", "event.register"},
        {"POST /api/me/calendar/rotate", "event.register"},
    };
    for (const char* action :
         {"settings", "crews", "stints", "preview", "edit", "lock", "move", "publish", "green-flag", "pit"})
        expected["POST /api/events/{id:int}/plan/" + std::string(action)] = "planner.edit";
    std::map<std::string, std::string> actual;
    for (const auto& route : router_.routes())
        actual[std::string(http::method_name(route->method)) + " " + route->pattern] = route->permission;
    EXPECT_EQ(actual, expected);
}

TEST_F(PlannerRoutes, BadBodiesAreLocalized400sNamingTheField) {
    struct Case {
        std::string tail, body, field;
    };
    const std::vector<Case> cases{
        {"/settings", "not json", "body"},
        {"/settings", "[1,2]", "body"},
        {"/crews", "{}", "revision"},
        {"/crews", R"({"revision":"1"})", "revision"},
        {"/crews", R"({"revision":-1})", "revision"},
        {"/stints", R"({"revision":0,"crew":"a"})", "crew"},
        {"/preview", R"({"crew":0})", "edits"},
        {"/preview", R"({"crew":0,"edits":{}})", "edits"},
        {"/preview", R"({"crew":0,"edits":[1]})", "edits[0]"},
        {"/preview", R"({"crew":0,"edits":[{"driver":3}]})", "edits[0].stint"},
        {"/edit", R"({"revision":0,"crew":0,"edits":[{"stint":0,"driver":true}]})", "edits[0].driver"},
        {"/edit", R"({"revision":0,"crew":1e300,"edits":[]})", "crew"},
        {"/lock", R"({"revision":0,"crew":0,"stint":0})", "locked"},
        {"/move", R"({"revision":0,"user_id":4,"as_driver":true})", "crew"},
        {"/move", R"({"revision":0,"user_id":4,"crew":null,"as_driver":"yes"})", "as_driver"},
        {"/green-flag", R"({"at":"now"})", "at"},
        {"/pit", R"({"crew":0,"at":12})", "at"},
        {"/pit", "{\"crew\":" + std::string(100, '[') + "}", "body"},
    };
    for (const auto& c : cases) {
        for (const std::string locale : {"en", "tr"}) {
            auto response = call(http::Method::post, api(c.tail), c.body, locale);
            ASSERT_EQ(response.status, 400) << c.tail << " " << c.body << ": " << response.body;
            auto error = boost::json::parse(response.body).at("error").as_object();
            EXPECT_EQ(error.at("code").as_string(), "planner.bad_request") << c.body;
            const std::string message(error.at("message").as_string());
            EXPECT_NE(message.find("\"" + c.field + "\""), std::string::npos) << locale << ": " << message;
            EXPECT_EQ(message.find("error."), std::string::npos) << message;
        }
    }
    // The settings are the service's own parse: a wrong type names its field too.
    auto settings = call(http::Method::post, api("/settings"), R"({"lap_s":"fast"})");
    EXPECT_EQ(settings.status, 400) << settings.body;
    // A JRES body that is not one.
    auto jres = call(http::Method::post, "/api/planner/jres", "{}");
    EXPECT_EQ(jres.status, 400) << jres.body;
    EXPECT_NE(boost::json::parse(jres.body).at("error").at("code").as_string().find("planner.jres_"),
              std::string::npos);
}

TEST_F(PlannerRoutes, PlanAnswersCarryLocalizedTexts) {
    auto before = call(http::Method::get, api(""));
    ASSERT_EQ(before.status, 200) << before.body;
    auto plan = boost::json::parse(before.body).as_object();
    EXPECT_EQ(plan.at("crews").as_array().size(), 0u);
    EXPECT_EQ(plan.at("publishable").as_bool(), false);

    auto formed = call(http::Method::post, api("/crews"),
                       R"({"revision":)" + std::to_string(plan.at("revision").as_int64()) + "}");
    ASSERT_TRUE(formed.status == 200 || formed.status == 400) << formed.body;
    auto after = boost::json::parse(call(http::Method::get, api("")).body).as_object();
    for (const auto& issue : after.at("unassigned").as_array())
        EXPECT_FALSE(issue.at("text").as_string().empty()) << boost::json::serialize(issue);
    for (const auto& crew : after.at("crews").as_array())
        for (const auto& v : crew.at("violations").as_array())
            EXPECT_FALSE(v.at("text").as_string().empty()) << boost::json::serialize(v);

    // A stale revision is refused and says so.
    auto stale = call(http::Method::post, api("/crews"), R"({"revision":0})");
    if (after.at("revision").as_int64() != 0) {
        EXPECT_EQ(stale.status, 409) << stale.body;
        EXPECT_EQ(boost::json::parse(stale.body).at("error").at("code").as_string(), "planner.stale");
    }

    auto csv = call(http::Method::get, api(".csv"));
    EXPECT_EQ(csv.status, 200);
    EXPECT_NE(csv.headers.get("Content-Disposition")->find("attachment"), std::string::npos);
    auto json = call(http::Method::get, api(".json"));
    EXPECT_EQ(json.status, 200);
    EXPECT_NE(json.headers.get("Content-Disposition")->find(".json"), std::string::npos);
}

TEST_F(PlannerRoutes, AJresFileIsSolvedOnItsOwn) {
    std::ifstream in(kSource / "src/features/planner/testdata/jres/420.json", std::ios::binary);
    std::stringstream body;
    body << in.rdbuf();
    auto response = call(http::Method::post, "/api/planner/jres", body.str());
    ASSERT_EQ(response.status, 200) << response.body;
    auto answer = boost::json::parse(response.body).as_object();
    ASSERT_FALSE(answer.at("plan").as_array().empty());
    for (const auto& stint : answer.at("plan").as_array())
        EXPECT_FALSE(stint.at("driver").at("name").as_string().empty());
    EXPECT_TRUE(answer.at("violations").as_array().empty());
    EXPECT_TRUE(answer.at("score").as_object().contains("total"));
}

TEST_F(PlannerRoutes, TheCalendarUrlIsTheCredentialAndRotationRevokesIt) {
    auto shown = call(http::Method::get, "/api/me/calendar");
    ASSERT_EQ(shown.status, 200);
    const std::string url(boost::json::parse(shown.body).at("url").as_string());
    const std::string path = url.substr(std::string("https://pitwall.test").size());
    ASSERT_EQ(path.rfind("/calendar/2/", 0), 0U) << path;
    auto feed = call(http::Method::get, path);
    EXPECT_EQ(feed.status, 200);
    EXPECT_EQ(feed.headers.get("Content-Type").value_or(""), "text/calendar; charset=utf-8");
    EXPECT_NE(feed.body.find("BEGIN:VCALENDAR"), std::string::npos);
    auto forged =
        call(http::Method::get, "/calendar/2/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics", {}, "tr");
    EXPECT_EQ(forged.status, 404);
    EXPECT_NE(forged.body.find("takvim"), std::string::npos) << forged.body;
    auto rotated = call(http::Method::post, "/api/me/calendar/rotate");
    ASSERT_EQ(rotated.status, 200);
    EXPECT_EQ(call(http::Method::get, path).status, 404);
}

TEST_F(PlannerRoutes, UnknownEventsAre404s) {
    auto plan = call(http::Method::get, "/api/events/999999/plan");
    EXPECT_EQ(plan.status, 404) << plan.body;
    auto edit = call(http::Method::post, "/api/events/999999/plan/crews", R"({"revision":0})");
    EXPECT_EQ(edit.status, 404) << edit.body;
}

TEST_F(PlannerRoutes, ThePlannerPageRendersInBothLanguages) {
    for (const std::string locale : {"en", "tr"}) {
        auto page = call(http::Method::get, "/events/" + std::to_string(event_id_) + "/planner", {}, locale);
        ASSERT_EQ(page.status, 200) << page.body;
        EXPECT_NE(page.body.find("data-planner=\"" + std::to_string(event_id_) + "\""), std::string::npos);
        EXPECT_NE(page.body.find("<script src=\"/static/js/planner.js\" defer></script>"), std::string::npos);
        EXPECT_NE(page.body.find("data-l=\"stint\">" +
                                 std::string(locale == "en" ? "Stint {stint}" : "{stint}. stint")),
                  std::string::npos);
        EXPECT_NE(page.body.find("name=\"lap_s\""), std::string::npos);
    }
}

}  // namespace
}  // namespace pitwall::planner
