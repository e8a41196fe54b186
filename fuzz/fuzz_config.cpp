// Fuzzes configuration parsing: the input as TOML text (empty environment), then as PITWALL_* values
// over an empty file. Bad configuration must come back as a value (Result) whose error code is
// "config.*" and names the offending key (config.hpp); nothing may throw or crash.
//
// Environment mode: each input line (at most 32) sets one variable: `PITWALL_NAME=value` as written,
// otherwise the first byte picks a documented name (config_keys(), plus one unknown name) and the rest
// of the line is the value. *_FILE variables are left out so that the fuzzer never reads files.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "fuzz_check.hpp"

namespace {

const std::vector<std::string>& env_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& key : pitwall::config_keys()) out.push_back(key.env);
        out.push_back("PITWALL_NOT_A_KEY");
        return out;
    }();
    return names;
}

void check(const pitwall::Result<pitwall::Config>& result) {
    if (result.ok()) {
        // A configuration that passed validation has a listen address that parses.
        PITWALL_FUZZ_CHECK(pitwall::parse_listen_address(result->http.listen).ok());
        PITWALL_FUZZ_CHECK(!result->data_dir.empty());
        (void)pitwall::effective_config(*result);
        return;
    }
    const auto& error = result.error();
    PITWALL_FUZZ_CHECK(error.code.starts_with("config."));
    PITWALL_FUZZ_CHECK(!error.arg("key").empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);

    check(pitwall::parse_config_text(input, pitwall::ConfigSources{}));

    pitwall::ConfigSources sources;
    std::string_view rest = input;
    for (int line = 0; line < 32 && !rest.empty(); ++line) {
        auto newline = rest.find('\n');
        std::string_view entry = rest.substr(0, newline);
        rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
        if (entry.empty()) continue;
        auto eq = entry.find('=');
        std::string_view name = eq == std::string_view::npos ? std::string_view{} : entry.substr(0, eq);
        if (name.starts_with("PITWALL_") && !name.ends_with("_FILE")) {
            sources.environment[std::string(name)] = std::string(entry.substr(eq + 1));
        } else {
            const auto& names = env_names();
            sources.environment[names[static_cast<unsigned char>(entry.front()) % names.size()]] =
                std::string(entry.substr(1));
        }
    }
    check(pitwall::parse_config_text({}, sources));
    return 0;
}
