#include "integrations/discord/client.hpp"

#include <cmath>

#include <boost/json.hpp>

#include "core/json.hpp"
#include "platform/auth/http_client.hpp"

namespace pitwall::integrations::discord {
namespace {

Error discord_error(ErrorKind kind, std::string code, std::string detail = {}) {
    return Error(kind, "discord." + std::move(code), {}, std::move(detail));
}

}  // namespace

Client::Client(const auth::HttpClient& http, upstream::RateGovernor& governor, const Clock& clock,
               ClientOptions options)
    : http_(http), governor_(governor), clock_(clock), options_(std::move(options)) {}

Result<std::vector<GuildMember>> Client::guild_members(const std::string& guild_id) const {
    if (!configured()) return discord_error(ErrorKind::unavailable, "not_configured");
    std::vector<GuildMember> all;
    std::string after = "0";
    int throttled = 0;
    for (int page = 0; page < options_.max_pages;) {
        if (auto granted = governor_.acquire(upstream::Priority::background); !granted)
            return granted.error();
        ++requests_;
        auto response = http_.request({.method = "GET",
                                       .url = options_.api_base + "/guilds/" + auth::url_encode(guild_id) +
                                              "/members?limit=1000&after=" + after,
                                       .headers = {{"Authorization", "Bot " + options_.bot_token}}});
        if (!response) return discord_error(ErrorKind::unavailable, "unavailable", response.error().code);
        if (response->status == 429) {
            double retry_after = 1.0;
            if (auto v = json::parse(response->body, "discord.bad_answer"); v && v->is_object())
                retry_after = json::number(v->get_object(), "retry_after").value_or(1.0);
            const auto wait = std::chrono::milliseconds(
                static_cast<std::int64_t>(std::ceil(std::clamp(retry_after, 0.0, 3600.0) * 1000)));
            governor_.observe_throttled(clock_.now() + wait);
            if (++throttled > options_.max_throttle_retries)
                return discord_error(ErrorKind::rate_limited, "rate_limited");
            continue;
        }
        if (response->status == 401) return discord_error(ErrorKind::unauthorized, "unauthorized");
        if (response->status == 403) return discord_error(ErrorKind::forbidden, "forbidden");
        if (response->status != 200)
            return discord_error(ErrorKind::unavailable, "unavailable",
                                 "status " + std::to_string(response->status));
        auto members = parse_guild_members(response->body);
        if (!members) return members.error();
        ++page;
        const auto received = members->size();
        for (auto& m : *members) {
            after = m.user_id;  // ids are snowflakes in ascending order
            all.push_back(std::move(m));
        }
        if (received < 1000) return all;
    }
    return all;
}

Result<std::vector<GuildMember>> parse_guild_members(std::string_view text) {
    auto v = json::parse(text, "discord.bad_answer", ErrorKind::unavailable);
    if (!v) return v.error();
    if (!v->is_array()) return discord_error(ErrorKind::unavailable, "bad_answer", "members not an array");
    std::vector<GuildMember> out;
    for (const auto& item : v->get_array()) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        const auto* user = json::object(o, "user");
        if (!user) continue;
        GuildMember m{json::text(*user, "id"), json::text(*user, "username"), json::text(o, "nick"), {}};
        if (m.user_id.empty()) continue;
        if (const auto* roles = json::array(o, "roles"))
            for (const auto& r : *roles)
                if (r.is_string()) m.role_ids.emplace_back(r.get_string());
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace pitwall::integrations::discord
