// pitwall-bot: the Discord node. Reads the same configuration file as the server ([bot], [discord],
// secrets.bridge_secret), connects to Discord (gateway + REST) and to the server's bridge, and runs
// until SIGTERM/SIGINT. No business logic here (docs/ARCHITECTURE.md, "apps").
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "apps/bot/bot_node.hpp"
#include "apps/bot/bridge_client.hpp"
#include "apps/common/components.hpp"
#include "core/log.hpp"
#include "core/version.hpp"
#include "features/bot/commands.hpp"
#include "integrations/discord/gateway.hpp"
#include "integrations/discord/rest.hpp"
#include "platform/auth/http_client.hpp"

using namespace pitwall;

namespace {
constexpr int kExitDiscordRefused = 3;  // Discord refused the bot for good (token, intents)
}

int main(int argc, char** argv) {
    CLI::App cli{"pitwall-bot: the Pitwall Discord node (gateway, slash commands, DMs, role sync)"};
    std::optional<std::string> config_path;
    cli.add_option("--config", config_path, "TOML configuration file (default: built-in defaults)");
    cli.set_version_flag("--version", std::string("pitwall-bot ") + pitwall::version);
    CLI11_PARSE(cli, argc, argv);

    auto config = apps::load_config_or_report(config_path);
    if (!config) return apps::kExitConfig;
    log::setup(config->log.level, config->log.format);
    auto catalog = apps::load_catalog_or_report(*config);
    if (!catalog) return apps::kExitConfig;
    for (const auto& [key, value] : {std::pair{"discord.bot_token", &config->discord.bot_token},
                                     std::pair{"discord.guild_id", &config->discord.guild_id},
                                     std::pair{"secrets.bridge_secret", &config->secrets.bridge_secret}})
        if (value->empty()) {
            std::fprintf(stderr, "pitwall-bot: configuration: %s: %s\n", key,
                         apps::describe(&*catalog,
                                        Error(ErrorKind::invalid_input, "bot.config_missing", {{"key", key}}))
                             .c_str());
            return apps::kExitConfig;
        }
    const Clock& clock = SystemClock::instance();

    // Block the stop signals in every thread; the main thread waits for them below.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    auth::HttpClient http({.total_timeout = std::chrono::seconds(config->sync.http_timeout_s)});
    integrations::discord::RestClient rest(
        http, clock,
        {.api_base = config->discord.api_base,
         .bot_token = config->discord.bot_token,
         .global_per_second = static_cast<int>(config->discord.rate_limit)});
    auto gateway_info = rest.gateway_bot();
    if (!gateway_info) {
        log::error("discord: GET /gateway/bot failed: {} {}", gateway_info.error().code,
                   gateway_info.error().detail);
        return integrations::discord::discord_code(gateway_info.error()) ||
                       gateway_info.error().code == "discord.unauthorized"
                   ? kExitDiscordRefused
                   : apps::kExitFailure;
    }

    bot::BotNode node({.guild_id = config->discord.guild_id,
                       .application_id = config->bot.application_id,
                       .commands_json = bot::command_definitions(*catalog),
                       .dm_workers = static_cast<std::size_t>(config->bot.dm_workers)},
                      rest, clock);
    bot::BridgeClient bridge(
        {.url = config->bot.server_url,
         .bot_id = config->bot.id,
         .secret = config->secrets.bridge_secret,
         .max_frame_bytes = static_cast<std::size_t>(config->bridge.max_frame_bytes),
         .max_unacked = static_cast<std::size_t>(config->bridge.max_unacked)},
        {.on_message = [&node](const bridge::Message& m) { node.on_bridge_message(m); },
         .on_state = [](bool up) { log::info("bridge: {}", up ? "connected" : "disconnected"); }},
        clock);
    node.attach(bridge);

    std::atomic<bool> fatal{false};
    integrations::discord::Gateway gateway(
        {.token = config->discord.bot_token,
         .intents = static_cast<int>(config->bot.intents),
         .url = gateway_info->url},
        {.on_dispatch = [&node](std::string_view type, std::string_view d) { node.on_dispatch(type, d); },
         .on_ready = [&node](const integrations::discord::GatewaySession& s) { node.on_ready(s); },
         .on_fatal =
             [&](const Error& error) {
                 log::error("discord gateway: {}", apps::describe(&*catalog, error));
                 fatal = true;
                 kill(getpid(), SIGTERM);
             }},
        clock);

    bridge.start();
    gateway.start();
    log::info("pitwall-bot {} running: bridge {}, guild {}", pitwall::version, config->bot.server_url,
              config->discord.guild_id);
    std::printf("pitwall-bot is running\n");
    std::fflush(stdout);

    int received = 0;
    sigwait(&signals, &received);
    log::info("pitwall-bot stopping ({})", received == SIGINT ? "SIGINT" : "SIGTERM");
    gateway.stop();
    node.stop();
    bridge.stop();
    return fatal ? kExitDiscordRefused : 0;
}
