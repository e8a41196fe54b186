// The part of Discord's REST API v10 the server itself calls with the bot token: the guild member
// list (discord-role-sync). 429 answers carry retry_after (seconds, fractional) in the JSON body;
// the governor holds every caller for that long. The bot (its own process) has the full client.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "platform/upstream/rate_governor.hpp"

namespace pitwall::auth {
class HttpClient;
}

namespace pitwall::integrations::discord {

struct GuildMember {
    std::string user_id;
    std::string username;
    std::string nickname;
    std::vector<std::string> role_ids;
};

struct ClientOptions {
    std::string api_base = "https://discord.com/api/v10";
    std::string bot_token;
    int max_throttle_retries = 3;
    int max_pages = 100;  // 1000 members per page
};

struct ClientStats {
    std::uint64_t requests = 0;  // HTTP requests sent to Discord
};

class Client {
  public:
    Client(const auth::HttpClient& http, upstream::RateGovernor& governor, const Clock& clock,
           ClientOptions options);

    [[nodiscard]] bool configured() const { return !options_.bot_token.empty(); }
    // Every member of the guild. Errors: discord.unauthorized, discord.forbidden (missing the
    // GUILD_MEMBERS intent or not in the guild), discord.rate_limited, discord.unavailable.
    [[nodiscard]] Result<std::vector<GuildMember>> guild_members(const std::string& guild_id) const;
    [[nodiscard]] ClientStats stats() const { return {requests_.load()}; }

  private:
    const auth::HttpClient& http_;
    upstream::RateGovernor& governor_;
    const Clock& clock_;
    ClientOptions options_;
    mutable std::atomic<std::uint64_t> requests_{0};
};

[[nodiscard]] Result<std::vector<GuildMember>> parse_guild_members(std::string_view json);

}  // namespace pitwall::integrations::discord
