#include "platform/http/router.hpp"

#include <gtest/gtest.h>

namespace pitwall::http {
namespace {

Handler named(std::string name) {
    return [name](Request&) { return Response::text(200, name); };
}

class RouterTest : public testing::Test {
  protected:
    void SetUp() override {
        for (auto [method, pattern] : std::vector<std::pair<Method, std::string>>{
                 {Method::get, "/"},
                 {Method::get, "/events"},
                 {Method::post, "/events"},
                 {Method::get, "/events/new"},
                 {Method::get, "/events/{id:int}"},
                 {Method::put, "/events/{id:int}"},
                 {Method::get, "/events/{id:int}/crews/{crew:slug}"},
                 {Method::get, "/members/{name}"},
                 {Method::get, "/static/{path*}"},
                 {Method::delete_, "/sessions/current"},
             })
            router_.must_add({.method = method,
                              .pattern = pattern,
                              .permission = "public",
                              .handler = named(std::string(method_name(method)) + " " + pattern)});
    }

    std::string run(Method m, std::string_view path) {
        auto match = router_.match(m, path);
        if (match.outcome != MatchOutcome::found) return "-";
        Request r;
        return match.route->handler(r).body;
    }

    Router router_;
};

struct Case {
    Method method;
    std::string path;
    std::string expected;  // handler name, or "-" when nothing matches
};

TEST_F(RouterTest, MatchesTable) {
    const std::vector<Case> cases = {
        {Method::get, "/", "GET /"},
        {Method::get, "/events", "GET /events"},
        {Method::post, "/events", "POST /events"},
        {Method::get, "/events/new", "GET /events/new"},  // literal beats {id:int}... and "new" is no int
        {Method::get, "/events/42", "GET /events/{id:int}"},
        {Method::put, "/events/42", "PUT /events/{id:int}"},
        {Method::get, "/events/4x2", "-"},
        {Method::get, "/events/-1", "-"},
        {Method::get, "/events/99999999999999999999", "-"},  // beyond 19 digits
        {Method::get, "/events/7/crews/car-1_a", "GET /events/{id:int}/crews/{crew:slug}"},
        {Method::get, "/events/7/crews/car%201", "-"},  // decoded space is not a slug
        {Method::get, "/members/ilg%C4%B1n", "GET /members/{name}"},
        {Method::get, "/members/", "-"},
        {Method::get, "/members/a/b", "-"},
        {Method::get, "/static/css/site.css", "GET /static/{path*}"},
        {Method::get, "/static/", "GET /static/{path*}"},
        {Method::head, "/events/42", "GET /events/{id:int}"},  // HEAD falls back to GET
        {Method::get, "/nope", "-"},
        {Method::get, "", "-"},
    };
    for (const auto& c : cases)
        EXPECT_EQ(run(c.method, c.path), c.expected) << method_name(c.method) << " " << c.path;
}

TEST_F(RouterTest, TypedParametersAreCapturedDecoded) {
    auto m = router_.match(Method::get, "/events/7/crews/gt3-red");
    ASSERT_EQ(m.outcome, MatchOutcome::found);
    Request r;
    r.params = m.params;
    EXPECT_EQ(r.int_param("id"), 7);
    EXPECT_EQ(r.param("crew"), "gt3-red");

    auto s = router_.match(Method::get, "/static/img/a%20b.png");
    ASSERT_EQ(s.outcome, MatchOutcome::found);
    r.params = s.params;
    EXPECT_EQ(r.param("path"), "img/a b.png");
}

TEST_F(RouterTest, EncodedSlashStaysInsideItsSegment) {
    auto m = router_.match(Method::get, "/members/a%2Fb");
    ASSERT_EQ(m.outcome, MatchOutcome::found);
    ASSERT_EQ(m.params.size(), 1u);
    EXPECT_EQ(m.params[0].second, "a/b");
}

TEST_F(RouterTest, MethodNotAllowedListsAllowedMethods) {
    auto m = router_.match(Method::delete_, "/events/42");
    ASSERT_EQ(m.outcome, MatchOutcome::method_not_allowed);
    std::vector<Method> expected{Method::get, Method::put, Method::head};
    EXPECT_EQ(m.allowed, expected);

    auto p = router_.match(Method::patch, "/events");
    ASSERT_EQ(p.outcome, MatchOutcome::method_not_allowed);
    EXPECT_EQ(p.allowed, (std::vector<Method>{Method::get, Method::post, Method::head}));
}

TEST_F(RouterTest, MalformedEscapesAreBadPaths) {
    EXPECT_EQ(router_.match(Method::get, "/members/%zz").outcome, MatchOutcome::bad_path);
    EXPECT_EQ(router_.match(Method::get, "/members/%4").outcome, MatchOutcome::bad_path);
    EXPECT_EQ(router_.match(Method::get, "/members/a%00b").outcome, MatchOutcome::bad_path);
    EXPECT_EQ(router_.match(Method::get, "relative").outcome, MatchOutcome::bad_path);
}

TEST(RouterAdd, RefusesBadDeclarations) {
    Router r;
    auto ok = [](Request&) { return Response::empty(204); };
    EXPECT_FALSE(r.add({.method = Method::get, .pattern = "/a", .permission = "", .handler = ok}).ok());
    EXPECT_FALSE(r.add({.method = Method::get, .pattern = "a", .permission = "public", .handler = ok}).ok());
    EXPECT_FALSE(
        r.add({.method = Method::get, .pattern = "/a/{x:float}", .permission = "public", .handler = ok})
            .ok());
    EXPECT_FALSE(
        r.add({.method = Method::get, .pattern = "/a/{rest*}/b", .permission = "public", .handler = ok})
            .ok());
    EXPECT_FALSE(
        r.add({.method = Method::get, .pattern = "/a/{Bad}", .permission = "public", .handler = ok}).ok());
    EXPECT_TRUE(
        r.add({.method = Method::get, .pattern = "/a/{id:int}", .permission = "public", .handler = ok}).ok());
    auto dup =
        r.add({.method = Method::get, .pattern = "/a/{id:int}", .permission = "public", .handler = ok});
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().arg("reason"), "duplicate route");
    EXPECT_THROW(r.must_add({.method = Method::get, .pattern = "/b", .permission = "", .handler = ok}),
                 std::logic_error);
}

}  // namespace
}  // namespace pitwall::http
