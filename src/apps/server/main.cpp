// pitwall-server: reads the configuration, builds the named components and runs them.
// No business logic here (docs/ARCHITECTURE.md, "apps").
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "apps/common/components.hpp"
#include "core/log.hpp"
#include "core/version.hpp"
#include "features/demo/seed.hpp"
#include "features/home/routes.hpp"
#include "features/identity/access.hpp"
#include "features/identity/providers.hpp"
#include "features/identity/routes.hpp"
#include "features/identity/users.hpp"
#include "features/racing/racing.hpp"
#include "features/racing/routes.hpp"
#include "features/sync/component.hpp"
#include "features/sync/routes.hpp"
#include "features/system/routes.hpp"
#include "platform/auth/session.hpp"
#include "platform/http/metrics.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/http/router.hpp"
#include "platform/http/server.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/store/migrate.hpp"
#include "platform/web/page.hpp"
#include "platform/web/templates.hpp"

using namespace pitwall;

int main(int argc, char** argv) {
    CLI::App cli{"pitwall-server: the Pitwall web platform (pages, JSON API, WebSocket hub, scheduler)"};
    std::optional<std::string> config_path;
    cli.add_option("--config", config_path, "TOML configuration file (default: built-in defaults)");
    cli.set_version_flag("--version", std::string("pitwall-server ") + pitwall::version);
    bool print_routes = false;
    cli.add_flag("--print-routes", print_routes,
                 "Print the route table (method, pattern, permission) as JSON lines and exit");
    CLI11_PARSE(cli, argc, argv);

    // Configuration and the components it names.
    auto config = apps::load_config_or_report(config_path);
    if (!config) return apps::kExitConfig;
    log::setup(config->log.level, config->log.format);
    auto catalog = apps::load_catalog_or_report(*config);
    if (!catalog) return apps::kExitConfig;
    auto templates = web::Templates::load(config->http.templates_dir, *catalog);
    if (!templates) {
        log::error("http.templates_dir: {}", apps::describe(&*catalog, templates.error()));
        return templates.error().code == "web.templates_unreadable" ? apps::kExitConfig : apps::kExitFailure;
    }
    const Clock& clock = SystemClock::instance();

    auto sql = apps::open_sql(*config);
    if (!sql) {
        log::error("sql store: {}", apps::describe(&*catalog, sql.error()));
        return apps::kExitFailure;
    }
    auto dialect = (*sql)->dialect();
    auto migrations = store::load_migrations(config->sql.migrations_dir, dialect);
    if (!migrations) {
        log::error("migrations: {}", apps::describe(&*catalog, migrations.error()));
        return apps::kExitFailure;
    }
    auto applied = store::migrate(**sql, *migrations);
    if (!applied) {
        log::error("migrations: {}", apps::describe(&*catalog, applied.error()));
        return apps::kExitFailure;
    }
    if (*applied > 0) log::info("applied {} migration(s)", *applied);

    auto kv = apps::open_kv(*config, clock);
    if (!kv) {
        log::error("kv store: {}", apps::describe(&*catalog, kv.error()));
        return apps::kExitFailure;
    }

    if (config->demo) {
        auto seeded = demo::seed_if_empty(**sql, clock);
        if (!seeded)
            log::warn("demo data: {}", apps::describe(&*catalog, seeded.error()));
        else if (*seeded > 0)
            log::info("demo data: seeded {} members", *seeded);
    }

    // HTTP: routes, middleware, WebSocket hub (relayed through KV pub/sub so every node delivers).
    http::Metrics metrics;
    http::WsHub hub(&*catalog, static_cast<std::size_t>(config->websocket.max_topics));
    auto relay = (*kv)->subscribe(
        "pw:ws", [&hub](std::string_view, std::string_view message) { hub.deliver_relayed(message); });
    if (relay) {
        hub.set_relay([&kv](std::string_view message) { return (*kv)->publish("pw:ws", message).ok(); });
    } else {
        log::warn("websocket relay unavailable, broadcasts stay on this node: {}", relay.error().detail);
    }

    http::Router router;
    system::SystemDeps system_deps{**sql, **kv, metrics, hub, config->http.static_dir};
    system::add_routes(router, system_deps);
    system::add_metrics(system_deps);
    // Identity: who is asking (sessions), what they may do (roles), the three OAuth providers.
    const web::Shell shell{*templates, identity::demo_sign_in_enabled(*config)};
    auth::SessionStore sessions(**kv, clock, std::chrono::hours(config->auth.session_ttl_h));
    identity::Users users(**sql, clock);
    identity::Providers providers(*config, users, **kv, clock);
    racing::Racing racing(**sql, clock);
    home::add_routes(router, {**sql, shell});
    identity::add_routes(router, {*config, users, providers, sessions, shell, clock, &racing});
    racing::add_routes(router, {racing, shell});
    // Sync: upstream clients, cache, rate governors, the 14 jobs and the scheduler (leader lock in KV).
    auto sync = sync::SyncComponent::create(*config, **sql, **kv, clock, users, &providers, &hub);
    if (!sync) {
        if (sync.error().code.starts_with("cron.")) {  // a schedule in [jobs]: a configuration error
            std::fprintf(stderr, "pitwall: configuration: %s: %s\n", sync.error().arg("key").c_str(),
                         apps::describe(&*catalog, sync.error()).c_str());
            return apps::kExitConfig;
        }
        log::error("sync: {}", apps::describe(&*catalog, sync.error()));
        return apps::kExitFailure;
    }
    sync::add_routes(router,
                     {*config, (*sync)->scheduler(), (*sync)->log(), (*sync)->service(), **sql, shell});

    if (print_routes) {
        for (const auto& route : router.routes())
            std::printf("{\"method\":\"%s\",\"pattern\":\"%s\",\"permission\":\"%s\"}\n",
                        std::string(http::method_name(route->method)).c_str(), route->pattern.c_str(),
                        route->permission.c_str());
        return 0;
    }

    http::Pipeline pipeline(router, metrics, *catalog,
                            {.default_max_body_bytes = static_cast<std::size_t>(config->http.max_body_bytes),
                             .access_log = config->log.access_log,
                             .trust_proxy = config->http.trust_proxy,
                             .form_action_origins = identity::provider_origins(*config)});
    pipeline.use(identity::access_middleware({**sql, sessions, shell}));

    auto listen = parse_listen_address(config->http.listen);
    http::Server server(
        {.host = listen->host,
         .port = listen->port,
         .io_threads = static_cast<std::size_t>(config->http.io_threads),
         .worker_threads = static_cast<std::size_t>(config->http.worker_threads),
         .max_header_bytes = static_cast<std::size_t>(config->http.max_header_bytes),
         .max_connections = static_cast<std::size_t>(config->http.max_connections),
         .header_timeout = std::chrono::seconds(config->http.header_timeout_s),
         .body_timeout = std::chrono::seconds(config->http.body_timeout_s),
         .idle_timeout = std::chrono::seconds(config->http.idle_timeout_s),
         .shutdown_grace = std::chrono::seconds(config->http.shutdown_grace_s),
         .ws_max_message_bytes = static_cast<std::size_t>(config->websocket.max_message_bytes),
         .ws_send_queue_max = static_cast<std::size_t>(config->websocket.send_queue_max),
         .ws_ping_interval = std::chrono::seconds(config->websocket.ping_interval_s)},
        pipeline, hub);
    server.add_websocket_path("/ws");
    if (auto s = server.listen(); !s) {
        log::error("{}", apps::describe(&*catalog, s.error()));
        return apps::kExitFailure;
    }
    const std::string host =
        listen->host.find(':') != std::string::npos ? "[" + listen->host + "]" : listen->host;
    server.on_started([&] {
        log::info("pitwall-server {} listening on http://{}:{} (sql={}, kv={})", pitwall::version, host,
                  server.port(), config->sql.engine, config->kv.engine);
        std::printf("Pitwall is running at http://%s:%u\n", host.c_str(), server.port());
        std::fflush(stdout);
    });
    (*sync)->start();
    server.run();
    (*sync)->stop();            // running jobs finish or are told to stop; the leader lock is released
    if (relay) relay->reset();  // unsubscribe before the stores close
    log::info("stopped");
    return 0;
}
