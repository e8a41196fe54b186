#include "core/config.hpp"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include <gtest/gtest.h>

namespace pitwall {
namespace {

Result<Config> parse(std::string_view toml, std::map<std::string, std::string> env = {}) {
    return parse_config_text(toml, {.file_path = std::nullopt, .environment = std::move(env)});
}

TEST(Config, DefaultsWithoutFileOrEnvironment) {
    auto c = parse("");
    ASSERT_TRUE(c.ok()) << c.error().code;
    EXPECT_EQ(c->http.listen, "127.0.0.1:8080");
    EXPECT_EQ(c->data_dir, "./var");
    EXPECT_EQ(c->sql.engine, "sqlite");
    EXPECT_EQ(c->kv.engine, "embedded");
    EXPECT_EQ(c->http.max_header_bytes, 16 * 1024);
    EXPECT_EQ(c->http.max_body_bytes, 1024 * 1024);
}

TEST(Config, FileValuesApply) {
    auto c = parse(
        "data_dir = \"/srv/pitwall\"\n[http]\nlisten = \"0.0.0.0:9000\"\nio_threads = 3\n[log]\nformat = "
        "\"json\"\n");
    ASSERT_TRUE(c.ok()) << c.error().code;
    EXPECT_EQ(c->data_dir, "/srv/pitwall");
    EXPECT_EQ(c->http.listen, "0.0.0.0:9000");
    EXPECT_EQ(c->http.io_threads, 3);
    EXPECT_EQ(c->log.format, "json");
}

TEST(Config, EnvironmentOverridesFile) {
    auto c = parse(
        "[http]\nlisten = \"0.0.0.0:9000\"\n",
        {{"PITWALL_HTTP_LISTEN", "127.0.0.1:0"}, {"PITWALL_DATA_DIR", "/tmp/x"}, {"PITWALL_DEMO", "true"}});
    ASSERT_TRUE(c.ok()) << c.error().code;
    EXPECT_EQ(c->http.listen, "127.0.0.1:0");
    EXPECT_EQ(c->data_dir, "/tmp/x");
    EXPECT_TRUE(c->demo);
}

struct BadCase {
    std::string name;
    std::string toml;
    std::map<std::string, std::string> env;
    std::string code;
    std::string key;
};

class ConfigRejects : public testing::TestWithParam<BadCase> {};

TEST_P(ConfigRejects, WithOneErrorNamingTheKey) {
    const auto& p = GetParam();
    auto c = parse(p.toml, p.env);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, p.code);
    EXPECT_EQ(c.error().arg("key"), p.key);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigRejects,
    testing::Values(
        BadCase{"unknown_key", "[http]\nlisen = \"x:1\"\n", {}, "config.unknown_key", "http.lisen"},
        BadCase{"unknown_section", "[htp]\nlisten = \"x:1\"\n", {}, "config.unknown_key", "htp.listen"},
        BadCase{"wrong_type", "[http]\nio_threads = \"four\"\n", {}, "config.wrong_type", "http.io_threads"},
        BadCase{"float_for_int", "[http]\nio_threads = 2.5\n", {}, "config.wrong_type", "http.io_threads"},
        BadCase{"bool_type", "demo = 1\n", {}, "config.wrong_type", "demo"},
        BadCase{"out_of_range",
                "[http]\nmax_header_bytes = 10\n",
                {},
                "config.out_of_range",
                "http.max_header_bytes"},
        BadCase{"bad_choice", "[sql]\nengine = \"mysql\"\n", {}, "config.bad_choice", "sql.engine"},
        BadCase{"secret_in_file",
                "[secrets]\ncron_secret = \"hunter2\"\n",
                {},
                "config.secret_in_file",
                "secrets.cron_secret"},
        BadCase{"bad_listen", "[http]\nlisten = \"localhost\"\n", {}, "config.bad_listen", "http.listen"},
        BadCase{"bad_port", "[http]\nlisten = \"127.0.0.1:70000\"\n", {}, "config.bad_listen", "http.listen"},
        BadCase{
            "env_bad_int", "", {{"PITWALL_HTTP_IO_THREADS", "many"}}, "config.wrong_type", "http.io_threads"},
        BadCase{
            "env_range", "", {{"PITWALL_HTTP_IO_THREADS", "-1"}}, "config.out_of_range", "http.io_threads"},
        BadCase{"env_unknown", "", {{"PITWALL_HTTP_LISTN", "x"}}, "config.unknown_env", "PITWALL_HTTP_LISTN"},
        BadCase{"postgres_needs_url",
                "[sql]\nengine = \"postgres\"\n",
                {},
                "config.required",
                "sql.postgres_url"},
        BadCase{"redis_needs_url", "[kv]\nengine = \"redis\"\n", {}, "config.required", "kv.redis_url"},
        BadCase{"syntax", "[http\nlisten=", {}, "config.syntax", "config"},
        BadCase{"short_key",
                "",
                {{"PITWALL_SECRETS_TOKEN_KEY", "short"}},
                "config.secret_too_short",
                "secrets.token_key"}),
    [](const auto& info) { return info.param.name; });

class SecretFile : public testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("pitwall-config-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        path_ = dir_ / "cron";
        std::ofstream(path_) << "s3cret-value\n";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_, path_;
};

TEST_F(SecretFile, ReadFromAPrivateFileAndMasked) {
    ::chmod(path_.c_str(), 0600);
    auto c = parse("[secrets]\ncron_secret_file = \"" + path_.string() + "\"\n");
    ASSERT_TRUE(c.ok()) << c.error().code;
    EXPECT_EQ(c->secrets.cron_secret, "s3cret-value");
    for (const auto& [key, shown] : effective_config(*c)) {
        EXPECT_EQ(shown.find("s3cret"), std::string::npos) << key;
        if (key == "secrets.cron_secret") {
            EXPECT_EQ(shown, "****");
        }
        if (key == "secrets.bridge_secret") {
            EXPECT_EQ(shown, "(unset)");
        }
    }
}

TEST_F(SecretFile, RefusedWhenOthersCanReadIt) {
    ::chmod(path_.c_str(), 0644);
    auto c = parse("[secrets]\ncron_secret_file = \"" + path_.string() + "\"\n");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, "config.secret_file_mode");
    EXPECT_EQ(c.error().arg("key"), "secrets.cron_secret_file");
}

TEST_F(SecretFile, EnvironmentFileVariant) {
    ::chmod(path_.c_str(), 0600);
    auto c = parse("", {{"PITWALL_SECRETS_BRIDGE_SECRET_FILE", path_.string()}});
    ASSERT_TRUE(c.ok()) << c.error().code;
    EXPECT_EQ(c->secrets.bridge_secret, "s3cret-value");
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(Config, JobSchedulesHaveDefaultsAndOverrides) {
    auto c = parse_config_text("[jobs]\nhousekeeping = \"off\"\n",
                               {.environment = {{"PITWALL_JOBS_CACHE_WARM", "*/5 * * * *"}}});
    ASSERT_TRUE(c.ok()) << c.error().code;
    EXPECT_EQ(c->sync.schedules.size(), job_defaults().size());
    EXPECT_EQ(c->sync.schedules.at("housekeeping"), "off");
    EXPECT_EQ(c->sync.schedules.at("cache-warm"), "*/5 * * * *");
    EXPECT_EQ(c->sync.schedules.at("iracing-members"), "*/30 * * * *");
    auto unknown = parse_config_text("[jobs]\nno-such-job = \"* * * * *\"\n", {});
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, "config.unknown_key");
    EXPECT_EQ(unknown.error().arg("key"), "jobs.no-such-job");
}

// The example file is the operator's reference: it must load, and document every key.
TEST(Config, ExampleFileLoadsAndDocumentsEveryKey) {
    const auto path = std::filesystem::path(PITWALL_SOURCE_DIR) / "config/pitwall.example.toml";
    auto c = load_config({.file_path = path.string(), .environment = {}});
    ASSERT_TRUE(c.ok()) << c.error().code << " " << c.error().arg("key");

    // Collect "key" lines (commented or not) per [section].
    std::set<std::string> documented;
    std::string section;
    std::istringstream lines(read_file(path));
    std::regex section_re(R"(^\s*#?\s*\[([a-z0-9_]+)\]\s*$)");
    std::regex key_re(R"(^\s*#?\s*([a-z0-9_-]+)\s*=)");
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (std::regex_match(line, m, section_re))
            section = m[1];
        else if (std::regex_search(line, m, key_re))
            documented.insert(section.empty() ? m[1].str() : section + "." + m[1].str());
    }
    for (const auto& key : config_keys()) {
        const std::string expected = key.secret ? key.key + "_file" : key.key;
        EXPECT_TRUE(documented.contains(expected)) << expected << " is not documented in the example";
    }
}

TEST(ListenAddress, ParsesHostAndPort) {
    auto a = parse_listen_address("127.0.0.1:8080");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 8080);
    auto v6 = parse_listen_address("[::1]:0");
    ASSERT_TRUE(v6.ok());
    EXPECT_EQ(v6->host, "::1");
    EXPECT_FALSE(parse_listen_address(":80").ok());
    EXPECT_FALSE(parse_listen_address("host:").ok());
    EXPECT_FALSE(parse_listen_address("host:8o").ok());
}

}  // namespace
}  // namespace pitwall
