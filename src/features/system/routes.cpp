#include "features/system/routes.hpp"

#include <memory>

#include <boost/json.hpp>

#include "platform/http/metrics.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/http/router.hpp"
#include "platform/http/static_files.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::system {

using http::Execution;
using http::Method;
using http::Request;
using http::Response;

void add_routes(http::Router& router, SystemDeps deps) {
    router.must_add({.method = Method::get,
                     .pattern = "/healthz",
                     .permission = std::string(http::kPublic),
                     .handler = [](Request&) { return Response::json(200, R"({"status":"ok"})"); },
                     .execution = Execution::immediate});

    router.must_add({.method = Method::get,
                     .pattern = "/readyz",
                     .permission = std::string(http::kPublic),
                     .handler = [&sql = deps.sql, &kv = deps.kv](Request& request) {
                         auto sql_ok = sql.ping();
                         auto kv_ok = kv.ping();
                         if (!sql_ok) return http::error_response(request, sql_ok.error());
                         if (!kv_ok) return http::error_response(request, kv_ok.error());
                         boost::json::object body{
                             {"status", "ready"},
                             {"sql", sql.dialect() == store::Dialect::sqlite ? "sqlite" : "postgres"},
                             {"kv", kv.engine()}};
                         return Response::json(200, boost::json::serialize(body));
                     }});

    router.must_add({.method = Method::get,
                     .pattern = "/metrics",
                     .permission = std::string(http::kPublic),
                     .handler =
                         [&metrics = deps.metrics](Request&) {
                             return Response::text(200, metrics.render(),
                                                   "text/plain; version=0.0.4; charset=utf-8");
                         },
                     .execution = Execution::immediate});

    auto files = std::make_shared<http::StaticFiles>(deps.static_dir);
    router.must_add({.method = Method::get,
                     .pattern = "/static/{path*}",
                     .permission = std::string(http::kPublic),
                     .handler = [files](Request& request) {
                         auto response = files->serve(request.param("path"), request);
                         if (response.status == 404)
                             return http::error_response(request, 404, "http.not_found");
                         return response;
                     }});

    // The WebSocket endpoint: upgrades are taken over by the server; a plain GET gets 426.
    router.must_add({.method = Method::get,
                     .pattern = "/ws",
                     .permission = std::string(http::kPublic),
                     .handler =
                         [](Request& request) {
                             auto response = http::error_response(request, 426, "http.upgrade_required");
                             response.headers.set("Upgrade", "websocket");
                             return response;
                         },
                     .execution = Execution::immediate});
}

void add_metrics(SystemDeps deps) {
    auto& m = deps.metrics;
    m.add_callback("pitwall_websocket_connections", "Open WebSocket connections.", "gauge",
                   [&hub = deps.hub] { return static_cast<double>(hub.connections()); });
    m.add_callback("pitwall_sql_statements_total", "SQL statements executed.", "counter",
                   [&sql = deps.sql] { return static_cast<double>(sql.stats().statements); });
    m.add_callback("pitwall_sql_transactions_total", "SQL write transactions.", "counter",
                   [&sql = deps.sql] { return static_cast<double>(sql.stats().transactions); });
    m.add_callback("pitwall_sql_errors_total", "SQL statements that failed.", "counter",
                   [&sql = deps.sql] { return static_cast<double>(sql.stats().errors); });
    m.add_callback("pitwall_kv_reads_total", "KV read operations.", "counter",
                   [&kv = deps.kv] { return static_cast<double>(kv.stats().reads); });
    m.add_callback("pitwall_kv_writes_total", "KV write operations.", "counter",
                   [&kv = deps.kv] { return static_cast<double>(kv.stats().writes); });
    m.add_callback("pitwall_kv_errors_total", "KV operations that failed.", "counter",
                   [&kv = deps.kv] { return static_cast<double>(kv.stats().errors); });
}

}  // namespace pitwall::system
