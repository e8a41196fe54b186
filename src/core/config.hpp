// Configuration: one TOML file plus PITWALL_* environment overrides, checked against one schema
// (config.cpp, `schema()`), so that an unknown key, a wrong type or an out-of-range value stops
// start-up with one line naming the key. Secrets are read only from the environment or from a file
// of mode 0600 named by `<key>_file`; they are masked whenever the configuration is printed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace pitwall {

struct HttpConfig {
    std::string listen = "127.0.0.1:8080";
    std::int64_t io_threads = 0;      // 0: one per core
    std::int64_t worker_threads = 0;  // blocking pool for handlers (SQL, files); 0: two per core
    std::int64_t max_header_bytes = 16 * 1024;
    std::int64_t max_body_bytes = 1024 * 1024;
    std::int64_t header_timeout_s = 10;
    std::int64_t body_timeout_s = 30;
    std::int64_t idle_timeout_s = 60;
    std::int64_t max_connections = 10000;
    std::int64_t shutdown_grace_s = 10;
    std::string static_dir = "web/static";
    std::string templates_dir = "web/templates";
    bool trust_proxy = false;
    std::string public_url;
};

struct WebSocketConfig {
    std::int64_t max_message_bytes = 64 * 1024;
    std::int64_t send_queue_max = 256;
    std::int64_t ping_interval_s = 20;
    std::int64_t max_topics = 64;
};

struct LogConfig {
    std::string level = "info";
    std::string format = "text";
    bool access_log = true;
};

struct SqlConfig {
    std::string engine = "sqlite";
    std::string sqlite_file = "pitwall.db";
    std::int64_t busy_timeout_ms = 5000;
    std::int64_t readers = 4;
    std::string postgres_url;  // secret
    std::int64_t pool_size = 8;
    std::string migrations_dir = "migrations";
};

struct KvConfig {
    std::string engine = "embedded";
    std::string embedded_file = "kv.db";
    std::string redis_url;  // secret (may carry a password)
    std::int64_t pool_size = 8;
};

struct AuthConfig {
    std::int64_t session_ttl_h = 24 * 30;
    std::int64_t preauth_ttl_s = 600;  // an OAuth round trip must finish within this
    std::int64_t provider_timeout_s = 10;
};

// One OAuth provider. URLs default to the real services; tests point them at local peers.
struct ProviderConfig {
    std::string client_id;
    std::string client_secret;  // secret
    std::string authorize_url;
    std::string token_url;
    std::string api_base;
};

struct DiscordConfig : ProviderConfig {
    std::string guild_id;
    std::string bot_token;         // secret: the bot's token, for guild member lists (discord-role-sync)
    std::int64_t rate_limit = 40;  // REST requests per window the server allows itself
    std::int64_t rate_window_s = 1;
};

struct IracingConfig : ProviderConfig {
    std::string profile_url;
    std::string revoke_url;
    // The team's service account (password_limited grant) for background sync of public data.
    std::string service_username;
    std::string service_password;   // secret
    std::int64_t rate_limit = 240;  // /data requests per window (x-ratelimit-limit corrects it)
    std::int64_t rate_window_s = 60;
    std::int64_t maintenance_backoff_s = 300;  // after a 503 "Site Maintenance", calls wait this long
    std::int64_t league_id = 0;                // the team's league (iracing-league-results); 0: none
    std::int64_t league_season_id = 0;
};

struct Garage61Config : ProviderConfig {
    std::string issuer;  // OpenID Connect discovery at <issuer>/.well-known/openid-configuration
    std::string userinfo_url;
    std::string jwks_url;
    std::int64_t rate_limit = 30;  // requests per window (a continuously refilling bucket)
    std::int64_t rate_window_s = 60;
};

// The scheduler and its sync jobs.
struct SyncConfig {
    bool scheduler = true;             // false: this node never runs scheduled jobs (run-now still works)
    std::string node_id;               // empty: host name + process id
    std::int64_t leader_ttl_s = 15;    // the leader lock lapses this long after a node dies
    std::int64_t tick_ms = 1000;       // how often the scheduler looks at the clock
    std::int64_t max_concurrent = 2;   // jobs running at once on one node
    std::int64_t job_timeout_s = 600;  // per run; a job past it is told to stop
    std::int64_t keep_runs_days = 30;  // housekeeping deletes older sync log rows
    std::int64_t http_timeout_s = 20;  // one upstream request, redirects and link included
    // Five-field cron expressions (UTC) per job; "off" disables a job. Keys are the job names.
    std::map<std::string, std::string> schedules;
};

// The bridge between pitwall-server and pitwall-bot (docs/bridge.md).
struct BridgeConfig {
    std::int64_t heartbeat_s = 15;         // the bot heartbeats this often; two missed: reconnect
    std::int64_t handshake_skew_s = 30;    // an identify whose timestamp is further off is refused
    std::int64_t resume_window_s = 120;    // a dropped session stays resumable this long
    std::int64_t max_frame_bytes = 65536;  // larger frames are refused with an error frame
    std::int64_t max_unacked = 512;        // frames one side keeps for replay before it waits
};

// The DM queue: any feature's direct message to a member goes web -> KV -> bridge -> bot -> Discord.
struct DmConfig {
    std::int64_t max_attempts = 6;    // then the message is a dead letter
    std::int64_t backoff_base_s = 5;  // retry n waits base * 2^(n-1), jittered, capped at backoff_max_s
    std::int64_t backoff_max_s = 900;
    std::int64_t visibility_s = 60;    // a DM handed to the bot and not answered comes back after this
    std::int64_t in_flight_max = 128;  // DMs handed to the bot at once
    std::int64_t keep_days = 30;       // delivered, dead and discarded records are pruned after this
};

// pitwall-bot: the Discord node (reads the same file; discord.* and secrets.bridge_secret too).
struct BotConfig {
    std::string server_url = "ws://127.0.0.1:8080/bridge";  // the bridge endpoint of pitwall-server
    std::string id = "pitwall-bot";                         // names this bot in the handshake and logs
    std::string application_id;                             // the Discord application (slash commands)
    std::int64_t intents = 3;                               // GUILDS | GUILD_MEMBERS
    std::int64_t dm_workers = 8;                            // DMs sent to Discord in parallel
    std::string public_url;                                 // links in replies; empty: http.public_url
    std::string announce_locale = "en";                     // language of event announcements (channels)
};

struct SecretsConfig {
    std::string token_key;           // AES-256-GCM key for OAuth tokens at rest
    std::string token_key_previous;  // the key before the last rotation: decrypts, never encrypts
    std::string cron_secret;         // bearer secret of POST /api/cron/{job}
    std::string bridge_secret;       // HMAC key of the bot bridge handshake
};

struct Config {
    std::string data_dir = "./var";
    std::string locales_dir = "locales";
    bool demo = false;
    HttpConfig http;
    WebSocketConfig websocket;
    LogConfig log;
    SqlConfig sql;
    KvConfig kv;
    AuthConfig auth;
    DiscordConfig discord{{.authorize_url = "https://discord.com/oauth2/authorize",
                           .token_url = "https://discord.com/api/oauth2/token",
                           .api_base = "https://discord.com/api/v10"}};
    IracingConfig iracing{{.authorize_url = "https://oauth.iracing.com/oauth2/authorize",
                           .token_url = "https://oauth.iracing.com/oauth2/token",
                           .api_base = "https://members-ng.iracing.com"},
                          "https://oauth.iracing.com/oauth2/iracing/profile",
                          "https://oauth.iracing.com/oauth2/revoke/current"};
    Garage61Config garage61{{.authorize_url = "https://garage61.net/app/account/oauth",
                             .token_url = "https://garage61.net/api/oauth/token",
                             .api_base = "https://garage61.net/api/v1"},
                            "https://garage61.net",
                            "https://garage61.net/api/oauth/userinfo",
                            ""};
    SyncConfig sync;
    BridgeConfig bridge;
    DmConfig dm;
    BotConfig bot;
    SecretsConfig secrets;
};

// The sync jobs and their default schedules (UTC), in the order admins see them.
struct JobDefault {
    std::string_view name;
    std::string_view schedule;
};
[[nodiscard]] const std::vector<JobDefault>& job_defaults();

// One documented key of the schema (what `pitwall doctor` and the example file are checked against).
struct ConfigKey {
    std::string key;   // dotted, e.g. "http.listen"
    std::string type;  // "string", "integer", "boolean"
    bool secret = false;
    std::string env;  // the PITWALL_* variable that overrides it
};

// Source of the values: the TOML file (may be empty) and the environment (injected for tests).
struct ConfigSources {
    std::optional<std::string> file_path;  // --config FILE; none: defaults only
    std::map<std::string, std::string> environment;
};

// Parses, applies overrides, validates. The error's code is "config.*" (a locale key under "error.")
// with the argument "key" naming the offending key; the apps print it as one line and exit with 2.
[[nodiscard]] Result<Config> load_config(const ConfigSources& sources);
[[nodiscard]] Result<Config> parse_config_text(std::string_view toml_text, const ConfigSources& sources);

[[nodiscard]] std::vector<ConfigKey> config_keys();
// key = value lines of the effective configuration, secrets masked ("****" or "(unset)").
[[nodiscard]] std::vector<std::pair<std::string, std::string>> effective_config(const Config& config);

// host:port of http.listen (validated by load_config).
struct ListenAddress {
    std::string host;
    std::uint16_t port = 0;
};
[[nodiscard]] Result<ListenAddress> parse_listen_address(std::string_view text);

// The process environment as a map (only PITWALL_* variables).
[[nodiscard]] std::map<std::string, std::string> pitwall_environment();

}  // namespace pitwall
