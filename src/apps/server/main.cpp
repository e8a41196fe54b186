// pitwall-server: reads the configuration, builds the named components and runs them.
// No business logic here (docs/ARCHITECTURE.md, "apps").
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "apps/common/components.hpp"
#include "core/encoding.hpp"
#include "core/log.hpp"
#include "core/version.hpp"
#include "features/bot/bridge_server.hpp"
#include "features/bot/commands.hpp"
#include "features/bot/routes.hpp"
#include "features/demo/seed.hpp"
#include "features/events/events.hpp"
#include "features/events/routes.hpp"
#include "features/home/routes.hpp"
#include "features/identity/access.hpp"
#include "features/identity/providers.hpp"
#include "features/identity/routes.hpp"
#include "features/identity/users.hpp"
#include "features/notify/dm_queue.hpp"
#include "features/notify/routes.hpp"
#include "features/planner/routes.hpp"
#include "features/planner/service.hpp"
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
#include "platform/http/ws_endpoint.hpp"
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

    bool demo_seeded = false;
    if (config->demo) {
        auto seeded = demo::seed_if_empty(**sql, clock);
        demo_seeded = seeded && *seeded > 0;
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
    // The DM queue: any feature's direct message to a member (SQL record + KV queue "dm"); the bridge
    // hands it to the bot. Status changes are broadcast on /ws topic "admin:dm".
    notify::DmQueue dm_queue(**sql, **kv, *catalog, clock,
                             {.max_attempts = static_cast<int>(config->dm.max_attempts),
                              .backoff_base = std::chrono::seconds(config->dm.backoff_base_s),
                              .backoff_max = std::chrono::seconds(config->dm.backoff_max_s),
                              .visibility = std::chrono::seconds(config->dm.visibility_s),
                              .keep = std::chrono::hours(24 * config->dm.keep_days)},
                             &hub);

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
    // Events: registrations from the site and the bot, broadcast on /ws topics "event:<id>".
    events::Events events(**sql, clock, &hub);
    events::add_routes(router, {events, shell, clock});
    // The race planner (issue 6): crews and stints of the events, changes broadcast on "event:<id>".
    const std::string public_url =
        config->http.public_url.empty() ? "http://" + config->http.listen : config->http.public_url;
    // iCal URLs carry HMAC(user, generation) under a key of their own, derived from the token key.
    planner::Planner planner(
        **sql, *catalog, clock,
        {.public_url = public_url,
         .announce_locale = config->bot.announce_locale,
         .ical_key = encoding::hmac_sha256(config->secrets.token_key, "pitwall-ical-key")},
        &hub, &dm_queue);
    if (demo_seeded) {
        auto planned = demo::plan_events(planner, events);
        if (!planned)
            log::warn("demo plans: {}", apps::describe(&*catalog, planned.error()));
        else
            log::info("demo data: planned {} events", *planned);
    }
    planner::add_routes(router, {planner, events, shell, clock, *catalog});

    // The bot bridge: /bridge (HMAC handshake, sequenced frames, resume) and the dispatcher feeding the
    // bot from the "dm" and "bot" queues. Slash commands are answered here, the single source of truth.
    bot::Commands commands({.catalog = *catalog,
                            .clock = clock,
                            .sql = **sql,
                            .users = users,
                            .events = events,
                            .racing = racing,
                            .dms = dm_queue,
                            .public_url = public_url,
                            .planner = &planner});
    bot::BridgeServer bridge({.secret = config->secrets.bridge_secret,
                              .heartbeat = std::chrono::seconds(config->bridge.heartbeat_s),
                              .handshake_skew = std::chrono::seconds(config->bridge.handshake_skew_s),
                              .resume_window = std::chrono::seconds(config->bridge.resume_window_s),
                              .max_frame_bytes = static_cast<std::size_t>(config->bridge.max_frame_bytes),
                              .max_unacked = static_cast<std::size_t>(config->bridge.max_unacked),
                              .dm_in_flight_max = static_cast<std::size_t>(config->dm.in_flight_max)},
                             clock, dm_queue, **kv, users, commands, &hub);
    bot::add_routes(router, {bridge, **sql, users, shell, clock});
    // Publishing a plan posts (or edits) the event's announcement through the bot.
    planner.set_announcer(
        [&bridge](std::string channel, std::string content, std::optional<std::string> edit) {
            return bridge.announce(std::move(channel), std::move(content), std::move(edit));
        });
    bridge.on_announce_result([&planner](const bridge::AnnounceResult& result) {
        if (result.error) log::warn("announcement {} failed: {}", result.id, *result.error);
        planner.announce_result(result.id, result.message_id);
    });
    notify::add_routes(router,
                       {dm_queue, **kv, **sql, shell, [&bridge] { return bridge.status().connected; }});
    // A registration (site or Discord) gives or takes the event's Discord role, through the bot.
    events.on_change([&](const events::RegistrationChange& change) {
        if (!change.event.discord_role_id) return;
        auto member = users.find(change.user_id);
        if (!member || !*member || (*member)->discord_id.empty()) return;
        const bool registered = change.kind != events::ChangeKind::removed;
        std::vector<std::string> role{*change.event.discord_role_id};
        auto queued = bridge.apply_roles(
            (*member)->discord_id, registered ? role : std::vector<std::string>{},
            registered ? std::vector<std::string>{} : role, "Pitwall: " + change.event.name);
        if (!queued)
            log::warn("event role for member {} not queued: {}", change.user_id, queued.error().detail);
    });
    // Sync: upstream clients, cache, rate governors, the 14 jobs and the scheduler (leader lock in KV).
    auto sync =
        sync::SyncComponent::create(*config, **sql, **kv, clock, users, &providers, &hub,
                                    {.dm_sweep = [&dm_queue] { return dm_queue.sweep(); },
                                     .stint_reminders = [&planner] { return planner.send_reminders(); }});
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
    server.add_websocket_endpoint("/bridge", bridge.endpoint());
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
    bridge.start();
    server.run();
    bridge.stop();
    (*sync)->stop();            // running jobs finish or are told to stop; the leader lock is released
    if (relay) relay->reset();  // unsubscribe before the stores close
    log::info("stopped");
    return 0;
}
