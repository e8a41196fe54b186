// Operational routes every node serves: liveness, readiness, Prometheus metrics, static assets and
// the /ws endpoint declaration. Each declares its permission like every other route.
#pragma once

#include <filesystem>

namespace pitwall::store {
class Database;
class Kv;
}  // namespace pitwall::store

namespace pitwall::http {
class Router;
class Metrics;
class WsHub;
}  // namespace pitwall::http

namespace pitwall::system {

struct SystemDeps {
    store::Database& sql;
    store::Kv& kv;
    http::Metrics& metrics;
    http::WsHub& hub;
    std::filesystem::path static_dir;
};

void add_routes(http::Router& router, SystemDeps deps);
// Registers the store and hub gauges on the metrics registry.
void add_metrics(SystemDeps deps);

}  // namespace pitwall::system
