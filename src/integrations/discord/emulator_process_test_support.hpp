// The Discord emulator (tests/node/discord/emulator-cli.mjs) as a child process, for the integration
// tests of the bot's REST and gateway clients. Test-only: included by *_test.cpp files.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "platform/auth/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::integrations::discord::testing {

inline std::optional<std::string> find_on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    if (path == nullptr) return std::nullopt;
    std::string_view rest(path);
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        const auto dir = rest.substr(0, colon);
        const auto candidate = std::filesystem::path(std::string(dir)) / program;
        if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    return std::nullopt;
}

// The emulator CLI as a child process; its one stdout line names the URLs.
class Emulator {
  public:
    static std::unique_ptr<Emulator> start(const std::string& config, std::string& why) {
        const auto script = std::filesystem::path(PITWALL_SOURCE_DIR) / "tests/node/discord/emulator-cli.mjs";
        if (!std::filesystem::exists(script)) {
            why = "the Discord emulator is missing: " + script.string();
            return nullptr;
        }
        const auto node = find_on_path("node");
        if (!node) {
            why = "node is not on PATH";
            return nullptr;
        }
        auto emulator = std::unique_ptr<Emulator>(new Emulator());
        const auto log = emulator->dir_.path() / "emulator.log";
        emulator->process_ = std::make_unique<test_support::ChildProcess>(test_support::SpawnOptions{
            .argv = {*node, script.string(), "--config", config},
            .log = log,
            .working_dir = std::filesystem::path(PITWALL_SOURCE_DIR) / "tests/node"});
        for (int i = 0; i < 300; ++i) {
            std::ifstream in(log);
            std::string line;
            while (std::getline(in, line)) {
                if (!line.starts_with("{\"api\"")) continue;
                auto v = boost::json::parse(line).as_object();
                emulator->api = std::string(v.at("api").as_string());
                emulator->gateway = std::string(v.at("gateway").as_string());
                emulator->control_base = std::string(v.at("control").as_string());
                return emulator;
            }
            if (!emulator->process_->running()) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        why = "the emulator did not start: " + test_support::log_tail(log);
        return nullptr;
    }

    ~Emulator() {
        if (process_) process_->stop(SIGTERM, std::chrono::seconds(3));
    }

    boost::json::value control(const std::string& method, const std::string& path,
                               const std::string& body = {}) {
        auth::ClientRequest request{.method = method, .url = control_base + path};
        if (!body.empty()) {
            request.headers.emplace_back("Content-Type", "application/json");
            request.body = body;
        }
        auto response = http_.request(request);
        if (!response || response->status >= 300) {
            ADD_FAILURE() << method << " " << path << ": "
                          << (response ? std::to_string(response->status) + " " + response->body
                                       : response.error().code);
            return nullptr;
        }
        if (response->body.empty()) return nullptr;
        return boost::json::parse(response->body);
    }

    std::int64_t stat(const std::string& name) {
        auto stats = control("GET", "/stats");
        if (!stats.is_object() || !stats.as_object().contains(name)) return -1;
        return stats.as_object().at(name).to_number<std::int64_t>();
    }

    std::string api, gateway, control_base;

  private:
    Emulator() = default;
    test_support::TempDir dir_{"pitwall-discord-emu"};
    std::unique_ptr<test_support::ChildProcess> process_;
    auth::HttpClient http_;
};

}  // namespace pitwall::integrations::discord::testing
