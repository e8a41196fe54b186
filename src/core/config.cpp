#include "core/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>
#include <sys/stat.h>

#include <toml++/toml.h>

extern char** environ;

namespace pitwall {
namespace {

enum class Type { string, integer, boolean };

struct Field {
    std::string_view key;
    Type type;
    bool secret = false;
    std::int64_t min = 0;
    std::int64_t max = 0;
    std::vector<std::string_view> choices;  // allowed strings; empty: any
    std::function<std::string*(Config&)> string_ref;
    std::function<std::int64_t*(Config&)> integer_ref;
    std::function<bool*(Config&)> boolean_ref;
};

template <typename Section>
struct In {
    Section Config::*section;
};

Field text(std::string_view key, std::string Config::*m, std::vector<std::string_view> choices = {}) {
    return Field{
        .key = key, .type = Type::string, .choices = std::move(choices), .string_ref = [m](Config& c) {
            return &(c.*m);
        }};
}
// M may be a base of S (provider sections share ProviderConfig's members).
template <typename S, typename M>
Field text(std::string_view key, In<S> in, std::string M::*m, std::vector<std::string_view> choices = {}) {
    return Field{
        .key = key, .type = Type::string, .choices = std::move(choices), .string_ref = [in, m](Config& c) {
            return &((c.*in.section).*m);
        }};
}
template <typename S, typename M>
Field secret(std::string_view key, In<S> in, std::string M::*m) {
    auto f = text(key, in, m);
    f.secret = true;
    return f;
}
template <typename S>
Field integer(std::string_view key, In<S> in, std::int64_t S::*m, std::int64_t min, std::int64_t max) {
    return Field{
        .key = key, .type = Type::integer, .min = min, .max = max, .integer_ref = [in, m](Config& c) {
            return &((c.*in.section).*m);
        }};
}
Field boolean(std::string_view key, bool Config::*m) {
    return Field{.key = key, .type = Type::boolean, .boolean_ref = [m](Config& c) { return &(c.*m); }};
}
template <typename S>
Field boolean(std::string_view key, In<S> in, bool S::*m) {
    return Field{.key = key, .type = Type::boolean, .boolean_ref = [in, m](Config& c) {
                     return &((c.*in.section).*m);
                 }};
}

constexpr std::int64_t kMiB = 1024 * 1024;

const std::vector<Field>& schema() {
    static const std::vector<Field> fields = [] {
        In<HttpConfig> http{&Config::http};
        In<WebSocketConfig> ws{&Config::websocket};
        In<LogConfig> log{&Config::log};
        In<SqlConfig> sql{&Config::sql};
        In<KvConfig> kv{&Config::kv};
        In<SecretsConfig> secrets{&Config::secrets};
        In<AuthConfig> auth{&Config::auth};
        In<DiscordConfig> discord{&Config::discord};
        In<IracingConfig> iracing{&Config::iracing};
        In<Garage61Config> garage61{&Config::garage61};
        In<SyncConfig> sync{&Config::sync};
        In<BridgeConfig> bridge{&Config::bridge};
        In<DmConfig> dm{&Config::dm};
        In<BotConfig> bot{&Config::bot};
        auto fields = std::vector<Field>{
            text("data_dir", &Config::data_dir),
            text("locales_dir", &Config::locales_dir),
            boolean("demo", &Config::demo),
            text("http.listen", http, &HttpConfig::listen),
            integer("http.io_threads", http, &HttpConfig::io_threads, 0, 256),
            integer("http.worker_threads", http, &HttpConfig::worker_threads, 0, 1024),
            integer("http.max_header_bytes", http, &HttpConfig::max_header_bytes, 1024, kMiB),
            integer("http.max_body_bytes", http, &HttpConfig::max_body_bytes, 1024, 1024 * kMiB),
            integer("http.header_timeout_s", http, &HttpConfig::header_timeout_s, 1, 600),
            integer("http.body_timeout_s", http, &HttpConfig::body_timeout_s, 1, 3600),
            integer("http.idle_timeout_s", http, &HttpConfig::idle_timeout_s, 1, 3600),
            integer("http.max_connections", http, &HttpConfig::max_connections, 1, 1'000'000),
            integer("http.shutdown_grace_s", http, &HttpConfig::shutdown_grace_s, 0, 600),
            text("http.static_dir", http, &HttpConfig::static_dir),
            text("http.templates_dir", http, &HttpConfig::templates_dir),
            boolean("http.trust_proxy", http, &HttpConfig::trust_proxy),
            text("http.public_url", http, &HttpConfig::public_url),
            integer("websocket.max_message_bytes", ws, &WebSocketConfig::max_message_bytes, 128, 16 * kMiB),
            integer("websocket.send_queue_max", ws, &WebSocketConfig::send_queue_max, 1, 100'000),
            integer("websocket.ping_interval_s", ws, &WebSocketConfig::ping_interval_s, 1, 3600),
            integer("websocket.max_topics", ws, &WebSocketConfig::max_topics, 1, 10'000),
            text("log.level", log, &LogConfig::level, {"trace", "debug", "info", "warn", "error", "off"}),
            text("log.format", log, &LogConfig::format, {"text", "json"}),
            boolean("log.access_log", log, &LogConfig::access_log),
            text("sql.engine", sql, &SqlConfig::engine, {"sqlite", "postgres"}),
            text("sql.sqlite_file", sql, &SqlConfig::sqlite_file),
            integer("sql.busy_timeout_ms", sql, &SqlConfig::busy_timeout_ms, 0, 600'000),
            integer("sql.readers", sql, &SqlConfig::readers, 1, 64),
            secret("sql.postgres_url", sql, &SqlConfig::postgres_url),
            integer("sql.pool_size", sql, &SqlConfig::pool_size, 1, 512),
            text("sql.migrations_dir", sql, &SqlConfig::migrations_dir),
            text("kv.engine", kv, &KvConfig::engine, {"embedded", "redis"}),
            text("kv.embedded_file", kv, &KvConfig::embedded_file),
            secret("kv.redis_url", kv, &KvConfig::redis_url),
            integer("kv.pool_size", kv, &KvConfig::pool_size, 1, 512),
            integer("auth.session_ttl_h", auth, &AuthConfig::session_ttl_h, 1, 24 * 365),
            integer("auth.preauth_ttl_s", auth, &AuthConfig::preauth_ttl_s, 30, 3600),
            integer("auth.provider_timeout_s", auth, &AuthConfig::provider_timeout_s, 1, 120),
            text("discord.client_id", discord, &DiscordConfig::client_id),
            secret("discord.client_secret", discord, &DiscordConfig::client_secret),
            text("discord.authorize_url", discord, &DiscordConfig::authorize_url),
            text("discord.token_url", discord, &DiscordConfig::token_url),
            text("discord.api_base", discord, &DiscordConfig::api_base),
            text("discord.guild_id", discord, &DiscordConfig::guild_id),
            secret("discord.bot_token", discord, &DiscordConfig::bot_token),
            integer("discord.rate_limit", discord, &DiscordConfig::rate_limit, 1, 10'000),
            integer("discord.rate_window_s", discord, &DiscordConfig::rate_window_s, 1, 3600),
            text("iracing.client_id", iracing, &IracingConfig::client_id),
            secret("iracing.client_secret", iracing, &IracingConfig::client_secret),
            text("iracing.authorize_url", iracing, &IracingConfig::authorize_url),
            text("iracing.token_url", iracing, &IracingConfig::token_url),
            text("iracing.api_base", iracing, &IracingConfig::api_base),
            text("iracing.profile_url", iracing, &IracingConfig::profile_url),
            text("iracing.revoke_url", iracing, &IracingConfig::revoke_url),
            text("iracing.service_username", iracing, &IracingConfig::service_username),
            secret("iracing.service_password", iracing, &IracingConfig::service_password),
            integer("iracing.rate_limit", iracing, &IracingConfig::rate_limit, 1, 100'000),
            integer("iracing.rate_window_s", iracing, &IracingConfig::rate_window_s, 1, 3600),
            integer("iracing.maintenance_backoff_s", iracing, &IracingConfig::maintenance_backoff_s, 1,
                    86'400),
            integer("iracing.league_id", iracing, &IracingConfig::league_id, 0, 1'000'000'000),
            integer("iracing.league_season_id", iracing, &IracingConfig::league_season_id, 0, 1'000'000'000),
            text("garage61.client_id", garage61, &Garage61Config::client_id),
            secret("garage61.client_secret", garage61, &Garage61Config::client_secret),
            text("garage61.issuer", garage61, &Garage61Config::issuer),
            text("garage61.authorize_url", garage61, &Garage61Config::authorize_url),
            text("garage61.token_url", garage61, &Garage61Config::token_url),
            text("garage61.userinfo_url", garage61, &Garage61Config::userinfo_url),
            text("garage61.jwks_url", garage61, &Garage61Config::jwks_url),
            text("garage61.api_base", garage61, &Garage61Config::api_base),
            integer("garage61.rate_limit", garage61, &Garage61Config::rate_limit, 1, 100'000),
            integer("garage61.rate_window_s", garage61, &Garage61Config::rate_window_s, 1, 3600),
            boolean("sync.scheduler", sync, &SyncConfig::scheduler),
            text("sync.node_id", sync, &SyncConfig::node_id),
            integer("sync.leader_ttl_s", sync, &SyncConfig::leader_ttl_s, 2, 3600),
            integer("sync.tick_ms", sync, &SyncConfig::tick_ms, 50, 60'000),
            integer("sync.max_concurrent", sync, &SyncConfig::max_concurrent, 1, 32),
            integer("sync.job_timeout_s", sync, &SyncConfig::job_timeout_s, 1, 86'400),
            integer("sync.keep_runs_days", sync, &SyncConfig::keep_runs_days, 1, 3650),
            integer("sync.http_timeout_s", sync, &SyncConfig::http_timeout_s, 1, 600),
            integer("bridge.heartbeat_s", bridge, &BridgeConfig::heartbeat_s, 1, 300),
            integer("bridge.handshake_skew_s", bridge, &BridgeConfig::handshake_skew_s, 1, 600),
            integer("bridge.resume_window_s", bridge, &BridgeConfig::resume_window_s, 1, 86'400),
            integer("bridge.max_frame_bytes", bridge, &BridgeConfig::max_frame_bytes, 4096, 16 * 1024 * 1024),
            integer("bridge.max_unacked", bridge, &BridgeConfig::max_unacked, 8, 100'000),
            integer("dm.max_attempts", dm, &DmConfig::max_attempts, 1, 100),
            integer("dm.backoff_base_s", dm, &DmConfig::backoff_base_s, 1, 3600),
            integer("dm.backoff_max_s", dm, &DmConfig::backoff_max_s, 1, 86'400),
            integer("dm.visibility_s", dm, &DmConfig::visibility_s, 1, 3600),
            integer("dm.in_flight_max", dm, &DmConfig::in_flight_max, 1, 10'000),
            integer("dm.keep_days", dm, &DmConfig::keep_days, 1, 3650),
            text("bot.server_url", bot, &BotConfig::server_url),
            text("bot.id", bot, &BotConfig::id),
            text("bot.application_id", bot, &BotConfig::application_id),
            integer("bot.intents", bot, &BotConfig::intents, 0, 1 << 26),
            integer("bot.dm_workers", bot, &BotConfig::dm_workers, 1, 64),
            text("bot.public_url", bot, &BotConfig::public_url),
            text("bot.announce_locale", bot, &BotConfig::announce_locale),
            secret("secrets.token_key", secrets, &SecretsConfig::token_key),
            secret("secrets.token_key_previous", secrets, &SecretsConfig::token_key_previous),
            secret("secrets.cron_secret", secrets, &SecretsConfig::cron_secret),
            secret("secrets.bridge_secret", secrets, &SecretsConfig::bridge_secret),
        };
        // jobs.<name>: one schedule per sync job (validated as cron by the scheduler at start-up).
        static std::vector<std::string> job_keys;
        for (const auto& job : job_defaults()) job_keys.push_back("jobs." + std::string(job.name));
        for (std::size_t i = 0; i < job_keys.size(); ++i) {
            const std::string name(job_defaults()[i].name);
            fields.push_back(Field{.key = job_keys[i], .type = Type::string, .string_ref = [name](Config& c) {
                                       return &c.sync.schedules[name];
                                   }});
        }
        return fields;
    }();
    return fields;
}

std::string env_name(std::string_view key) {
    std::string out = "PITWALL_";
    for (char c : key)
        out += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

const Field* find_field(std::string_view key) {
    for (const auto& f : schema())
        if (f.key == key) return &f;
    return nullptr;
}

Error config_error(std::string code, std::string_view key,
                   std::vector<std::pair<std::string, std::string>> more = {}) {
    std::vector<std::pair<std::string, std::string>> args{{"key", std::string(key)}};
    for (auto& a : more) args.push_back(std::move(a));
    return Error(ErrorKind::invalid_input, "config." + std::move(code), std::move(args));
}

std::string_view type_name(Type t) {
    switch (t) {
        case Type::string:
            return "string";
        case Type::integer:
            return "integer";
        case Type::boolean:
            return "boolean";
    }
    return "?";
}

Status check_range(const Field& f, std::int64_t v) {
    if (v < f.min || v > f.max)
        return config_error(
            "out_of_range", f.key,
            {{"value", std::to_string(v)}, {"min", std::to_string(f.min)}, {"max", std::to_string(f.max)}});
    return {};
}

Status check_choice(const Field& f, const std::string& v) {
    if (f.choices.empty() || std::find(f.choices.begin(), f.choices.end(), v) != f.choices.end()) return {};
    std::string allowed;
    for (auto c : f.choices) allowed += (allowed.empty() ? "" : ", ") + std::string(c);
    return config_error("bad_choice", f.key, {{"value", v}, {"allowed", allowed}});
}

// A secret read from a file: it must be a regular file no one but the owner can read or write.
Result<std::string> read_secret_file(const Field& f, const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return config_error("secret_file_missing", std::string(f.key) + "_file", {{"path", path}});
    if ((st.st_mode & 077) != 0)
        return config_error("secret_file_mode", std::string(f.key) + "_file", {{"path", path}});
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string value = ss.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    return value;
}

// Assigns a value given as text (environment variable).
Status assign_text(Config& config, const Field& f, const std::string& raw) {
    switch (f.type) {
        case Type::string: {
            if (auto s = check_choice(f, raw); !s) return s;
            *f.string_ref(config) = raw;
            return {};
        }
        case Type::integer: {
            std::int64_t v = 0;
            auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
            if (ec != std::errc() || ptr != raw.data() + raw.size() || raw.empty())
                return config_error("wrong_type", f.key, {{"expected", "integer"}, {"value", raw}});
            if (auto s = check_range(f, v); !s) return s;
            *f.integer_ref(config) = v;
            return {};
        }
        case Type::boolean: {
            if (raw == "true" || raw == "1" || raw == "yes")
                *f.boolean_ref(config) = true;
            else if (raw == "false" || raw == "0" || raw == "no")
                *f.boolean_ref(config) = false;
            else
                return config_error("wrong_type", f.key, {{"expected", "boolean"}, {"value", raw}});
            return {};
        }
    }
    return {};
}

Status assign_node(Config& config, const Field& f, const toml::node& node) {
    switch (f.type) {
        case Type::string:
            if (auto v = node.value_exact<std::string>()) {
                if (auto s = check_choice(f, *v); !s) return s;
                *f.string_ref(config) = *v;
                return {};
            }
            break;
        case Type::integer:
            if (auto v = node.value_exact<std::int64_t>()) {
                if (auto s = check_range(f, *v); !s) return s;
                *f.integer_ref(config) = *v;
                return {};
            }
            break;
        case Type::boolean:
            if (auto v = node.value_exact<bool>()) {
                *f.boolean_ref(config) = *v;
                return {};
            }
            break;
    }
    return config_error("wrong_type", f.key, {{"expected", std::string(type_name(f.type))}});
}

Status apply_table(Config& config, const toml::table& table, const std::string& prefix) {
    for (const auto& [k, node] : table) {
        std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
        if (const auto* sub = node.as_table()) {
            if (auto s = apply_table(config, *sub, key); !s) return s;
            continue;
        }
        if (const Field* f = find_field(key)) {
            if (f->secret) return config_error("secret_in_file", key, {{"env", env_name(key)}});
            if (auto s = assign_node(config, *f, node); !s) return s;
            continue;
        }
        constexpr std::string_view suffix = "_file";
        if (key.size() > suffix.size() && key.ends_with(suffix)) {
            const Field* f = find_field(std::string_view(key).substr(0, key.size() - suffix.size()));
            if (f && f->secret) {
                auto path = node.value_exact<std::string>();
                if (!path) return config_error("wrong_type", key, {{"expected", "string"}});
                auto value = read_secret_file(*f, *path);
                if (!value) return value.error();
                *f->string_ref(config) = std::move(*value);
                continue;
            }
        }
        return config_error("unknown_key", key);
    }
    return {};
}

Status apply_environment(Config& config, const std::map<std::string, std::string>& env) {
    for (const auto& [name, raw] : env) {
        if (!name.starts_with("PITWALL_")) continue;
        bool known = false;
        for (const auto& f : schema()) {
            const std::string var = env_name(f.key);
            if (name == var) {
                known = true;
                if (auto s = assign_text(config, f, raw); !s) return s;
            } else if (f.secret && name == var + "_FILE") {
                known = true;
                auto value = read_secret_file(f, raw);
                if (!value) return value.error();
                *f.string_ref(config) = std::move(*value);
            }
        }
        if (!known) return config_error("unknown_env", name);
    }
    return {};
}

Status validate(const Config& c) {
    if (auto listen = parse_listen_address(c.http.listen); !listen) return listen.error();
    if (c.data_dir.empty()) return config_error("empty", "data_dir");
    if (c.sql.engine == "postgres" && c.sql.postgres_url.empty())
        return config_error("required", "sql.postgres_url", {{"env", env_name("sql.postgres_url")}});
    if (c.kv.engine == "redis" && c.kv.redis_url.empty())
        return config_error("required", "kv.redis_url", {{"env", env_name("kv.redis_url")}});
    if (!c.secrets.token_key.empty() && c.secrets.token_key.size() < 32)
        return config_error("secret_too_short", "secrets.token_key", {{"min", "32"}});
    return {};
}

}  // namespace

const std::vector<JobDefault>& job_defaults() {
    // Spread over the hour so the team's jobs do not all wake at minute 0; upstream budgets are
    // 240 iRacing requests per minute and a small Garage61 bucket.
    static const std::vector<JobDefault> jobs{
        {"iracing-members", "*/30 * * * *"},
        {"iracing-irating-history", "15 4 * * *"},
        {"iracing-recent-races", "5 */2 * * *"},
        {"iracing-weekly-schedule", "20 0 * * *"},
        {"iracing-league-results", "40 */6 * * *"},
        {"garage61-laps", "25 */3 * * *"},
        {"garage61-cars", "45 3 * * *"},
        {"subscription-audit", "50 5 * * MON"},  // subscriptions change slowly; weekly
        {"discord-role-sync", "*/15 * * * *"},
        {"cache-warm", "*/10 * * * *"},
        {"stint-reminders", "* * * * *"},
        {"dm-queue-sweeper", "* * * * *"},
        {"token-refresh", "*/5 * * * *"},
        {"housekeeping", "30 2 * * *"},
    };
    return jobs;
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return config_error("bad_listen", "http.listen", {{"value", std::string(text)}});
    std::string_view host = text.substr(0, colon);
    std::string_view port_text = text.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535)
        return config_error("bad_listen", "http.listen", {{"value", std::string(text)}});
    return ListenAddress{std::string(host), static_cast<std::uint16_t>(port)};
}

Result<Config> parse_config_text(std::string_view toml_text, const ConfigSources& sources) {
    Config config;
    for (const auto& job : job_defaults()) config.sync.schedules[std::string(job.name)] = job.schedule;
    if (!toml_text.empty()) {
        toml::table table;
        try {
            table = toml::parse(toml_text, sources.file_path.value_or("config"));
        } catch (const toml::parse_error& e) {
            const auto& where = e.source().begin;
            return config_error("syntax", sources.file_path.value_or("config"),
                                {{"line", std::to_string(where.line)},
                                 {"column", std::to_string(where.column)},
                                 {"reason", std::string(e.description())}});
        }
        if (auto s = apply_table(config, table, ""); !s) return s.error();
    }
    if (auto s = apply_environment(config, sources.environment); !s) return s.error();
    if (auto s = validate(config); !s) return s.error();
    return config;
}

Result<Config> load_config(const ConfigSources& sources) {
    std::string text;
    if (sources.file_path) {
        std::ifstream in(*sources.file_path, std::ios::binary);
        if (!in) return config_error("file_unreadable", *sources.file_path);
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    return parse_config_text(text, sources);
}

std::vector<ConfigKey> config_keys() {
    std::vector<ConfigKey> keys;
    for (const auto& f : schema())
        keys.push_back({std::string(f.key), std::string(type_name(f.type)), f.secret, env_name(f.key)});
    return keys;
}

std::vector<std::pair<std::string, std::string>> effective_config(const Config& config) {
    Config copy = config;  // the accessors take a mutable Config
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& f : schema()) {
        std::string shown;
        switch (f.type) {
            case Type::string: {
                const std::string& v = *f.string_ref(copy);
                shown = f.secret ? (v.empty() ? "(unset)" : "****") : "\"" + v + "\"";
                break;
            }
            case Type::integer:
                shown = std::to_string(*f.integer_ref(copy));
                break;
            case Type::boolean:
                shown = *f.boolean_ref(copy) ? "true" : "false";
                break;
        }
        out.emplace_back(std::string(f.key), std::move(shown));
    }
    return out;
}

std::map<std::string, std::string> pitwall_environment() {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry(*e);
        if (!entry.starts_with("PITWALL_")) continue;
        auto eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    return env;
}

}  // namespace pitwall
