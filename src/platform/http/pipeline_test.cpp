#include "platform/http/pipeline.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "platform/http/metrics.hpp"
#include "platform/i18n/catalog.hpp"

namespace pitwall::http {
namespace {

i18n::Catalog test_catalog() {
    return *i18n::Catalog::from_json(
        {{"en", R"({"error":{"http":{"not_found":"Nothing here","method_not_allowed":"Wrong method",
                    "internal":"Something went wrong","bad_request":"Bad"},"demo":{"nope":"No {what}"}}})"},
         {"tr", R"({"error":{"http":{"not_found":"Burada bir şey yok","method_not_allowed":"Yanlış yöntem",
                    "internal":"Bir şeyler ters gitti","bad_request":"Kötü"},"demo":{"nope":"{what} yok"}}})"}});
}

class PipelineTest : public testing::Test {
  protected:
    PipelineTest() : catalog_(test_catalog()), pipeline_(router_, metrics_, catalog_, {.access_log = false}) {
        router_.must_add({.method = Method::get,
                          .pattern = "/hello/{name}",
                          .permission = "public",
                          .handler = [](Request& r) {
                              return Response::text(200, "hi " + std::string(r.param("name")));
                          }});
        router_.must_add(
            {.method = Method::post,
             .pattern = "/upload",
             .permission = "public",
             .handler = [](Request& r) { return Response::text(200, std::to_string(r.body.size())); },
             .max_body_bytes = 10});
        router_.must_add({.method = Method::get,
                          .pattern = "/fail",
                          .permission = "public",
                          .handler = [](Request&) -> Response {
                              throw Failure(Error(ErrorKind::not_found, "demo.nope", {{"what", "X"}}));
                          }});
        router_.must_add({.method = Method::get,
                          .pattern = "/crash",
                          .permission = "public",
                          .handler = [](Request&) -> Response {
                              throw std::runtime_error("secret internal detail /etc/passwd");
                          }});
    }

    Response get(std::string target, std::string accept_language = "", Method method = Method::get) {
        Request r;
        r.method = method;
        r.target = std::move(target);
        if (!accept_language.empty()) r.headers.set("Accept-Language", accept_language);
        EXPECT_TRUE(pipeline_.prepare(r));
        return pipeline_.handle(r, pipeline_.plan(r.method, r.target));
    }

    static boost::json::object envelope(const Response& r) {
        return boost::json::parse(r.body).as_object().at("error").as_object();
    }

    Router router_;
    Metrics metrics_;
    i18n::Catalog catalog_;
    Pipeline pipeline_;
};

TEST_F(PipelineTest, RunsTheHandlerWithParameters) {
    auto r = get("/hello/d%C3%BCnya?x=1");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hi dünya");
}

TEST_F(PipelineTest, NotFoundIsALocalizedJsonEnvelope) {
    auto en = get("/missing");
    EXPECT_EQ(en.status, 404);
    EXPECT_EQ(en.headers.get("Content-Type"), "application/json; charset=utf-8");
    EXPECT_EQ(envelope(en).at("code").as_string(), "http.not_found");
    EXPECT_EQ(envelope(en).at("message").as_string(), "Nothing here");

    auto tr = get("/missing", "tr-TR,tr;q=0.9,en;q=0.5");
    EXPECT_EQ(envelope(tr).at("message").as_string(), "Burada bir şey yok");
    EXPECT_EQ(tr.headers.get("Content-Language"), "tr");
}

TEST_F(PipelineTest, MethodNotAllowedCarriesAllow) {
    auto r = get("/upload");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.headers.get("Allow"), "POST");
    EXPECT_EQ(envelope(r).at("code").as_string(), "http.method_not_allowed");
}

TEST_F(PipelineTest, FailureMapsToItsStatusAndMessage) {
    auto r = get("/fail", "tr");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(envelope(r).at("code").as_string(), "demo.nope");
    EXPECT_EQ(envelope(r).at("message").as_string(), "X yok");
}

TEST_F(PipelineTest, UnexpectedExceptionIsA500WithoutDetails) {
    auto r = get("/crash");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.body.find("passwd"), std::string::npos);
    EXPECT_EQ(envelope(r).at("message").as_string(), "Something went wrong");
}

TEST_F(PipelineTest, SecurityHeadersOnEveryResponse) {
    for (const auto& r : {get("/hello/x"), get("/missing"), get("/crash")}) {
        EXPECT_TRUE(r.headers.get("Content-Security-Policy")->find("frame-ancestors 'none'") !=
                    std::string_view::npos);
        EXPECT_EQ(r.headers.get("X-Content-Type-Options"), "nosniff");
        EXPECT_EQ(r.headers.get("Referrer-Policy"), "strict-origin-when-cross-origin");
        EXPECT_EQ(r.headers.get("X-Request-Id")->size(), 16u);
        EXPECT_FALSE(r.headers.has("Strict-Transport-Security"));  // plain HTTP here
    }
}

TEST_F(PipelineTest, BodyLimitComesFromTheRoute) {
    EXPECT_EQ(pipeline_.plan(Method::post, "/upload").max_body_bytes, 10u);
    EXPECT_EQ(pipeline_.plan(Method::get, "/hello/x?y").max_body_bytes, 1024u * 1024u);
}

TEST_F(PipelineTest, MiddlewareRunsInOrderAndSeesTheRoute) {
    std::string seen;
    pipeline_.use([&](Request& r, const Next& next) {
        seen += "a:" + r.route + ";";
        return next(r);
    });
    pipeline_.use([&](Request& r, const Next& next) -> Response {
        seen += "b;";
        if (r.param("name") == "blocked") return Response::empty(403);
        return next(r);
    });
    EXPECT_EQ(get("/hello/x").status, 200);
    EXPECT_EQ(seen, "a:/hello/{name};b;");
    EXPECT_EQ(get("/hello/blocked").status, 403);
}

TEST_F(PipelineTest, MetricsCountRequestsByRouteAndStatus) {
    (void)get("/hello/a");
    (void)get("/hello/b");
    (void)get("/nowhere/at/all");
    auto text = metrics_.render();
    EXPECT_NE(text.find(R"(pitwall_http_requests_total{route="/hello/{name}",method="GET",status="200"} 2)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(R"(pitwall_http_requests_total{route="unmatched",method="GET",status="404"} 1)"),
              std::string::npos);
    EXPECT_NE(
        text.find(R"(pitwall_http_request_duration_seconds_count{route="/hello/{name}",method="GET"} 2)"),
        std::string::npos);
}

TEST_F(PipelineTest, ForwardedHeadersOnlyWithTrustProxy) {
    Request r;
    r.target = "/hello/x";
    r.remote_address = "10.0.0.1";
    r.headers.set("X-Forwarded-Proto", "https");
    r.headers.set("X-Forwarded-For", "203.0.113.9, 10.0.0.1");
    ASSERT_TRUE(pipeline_.prepare(r));
    EXPECT_FALSE(r.secure);
    EXPECT_EQ(r.remote_address, "10.0.0.1");

    Pipeline trusting(router_, metrics_, catalog_, {.access_log = false, .trust_proxy = true});
    ASSERT_TRUE(trusting.prepare(r));
    EXPECT_TRUE(r.secure);
    EXPECT_EQ(r.remote_address, "203.0.113.9");
    auto response = trusting.handle(r, trusting.plan(r.method, r.target));
    EXPECT_TRUE(response.headers.has("Strict-Transport-Security"));
}

}  // namespace
}  // namespace pitwall::http

namespace pitwall::http {
namespace {

TEST(PipelineImmediate, AddedMiddlewareDoesNotRunForImmediateRoutes) {
    Router router;
    Metrics metrics;
    auto catalog = *i18n::Catalog::from_json({{"en", "{}"}});
    router.must_add({.method = Method::get,
                     .pattern = "/fast",
                     .permission = "public",
                     .handler = [](Request&) { return Response::empty(204); },
                     .execution = Execution::immediate});
    router.must_add(
        {.method = Method::get, .pattern = "/slow", .permission = "public", .handler = [](Request&) {
             return Response::empty(204);
         }});
    Pipeline pipeline(router, metrics, catalog, {.access_log = false});
    int calls = 0;
    pipeline.use([&](Request& r, const Next& next) {
        ++calls;
        return next(r);
    });
    for (const char* target : {"/fast", "/slow"}) {
        Request r;
        r.target = target;
        ASSERT_TRUE(pipeline.prepare(r));
        EXPECT_EQ(pipeline.handle(r, pipeline.plan(r.method, r.target)).status, 204);
    }
    EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace pitwall::http
