// The slash commands, answered by the server (the single source of truth) for the bot:
//   /link                         a one-time code that links this Discord account to a site account
//   /whoami                       who the site thinks I am: name, role, linked accounts, DM status
//   /next                         my next registered event and my stints in it once published
//   /availability event hours     my available hours for an event, in my time zone ("18-24,0-2", all, none)
//   /register event role          register for an event as driver, spotter or both (withdraw: role none)
//   /schedule                     this week: the team's events and the series members race
//   /stats [member]               iRating / safety rating per licence category
// Replies are in the member's language (site setting, else Discord's locale) and time zone.
// The command list the bot registers with Discord comes from command_definitions().
#pragma once

#include <chrono>
#include <string>

#include "core/clock.hpp"
#include "features/bot/bridge_server.hpp"

namespace pitwall::i18n {
class Catalog;
}
namespace pitwall::identity {
class Users;
}
namespace pitwall::events {
class Events;
}
namespace pitwall::racing {
class Racing;
}
namespace pitwall::store {
class Database;
}
namespace pitwall::notify {
class DmQueue;
}

namespace pitwall::planner {
class Planner;
}

namespace pitwall::bot {

struct CommandDeps {
    const i18n::Catalog& catalog;
    const Clock& clock;
    store::Database& sql;
    identity::Users& users;
    events::Events& events;
    racing::Racing& racing;
    notify::DmQueue& dms;
    std::string public_url;  // for links in replies
    std::chrono::minutes link_code_ttl{10};
    const planner::Planner* planner = nullptr;  // /next lists the member's published stints
};

class Commands final : public CommandHandler {
  public:
    explicit Commands(CommandDeps deps) : d_(std::move(deps)) {}
    [[nodiscard]] bridge::CommandResult handle(const bridge::Command& command) override;

  private:
    CommandDeps d_;
};

// The application commands as Discord's bulk-overwrite JSON array, names and descriptions in English
// with Turkish localizations from the catalogs.
[[nodiscard]] std::string command_definitions(const i18n::Catalog& catalog);

// /link codes: created for a Discord user, redeemed once by a signed-in member within the TTL.
// Only the SHA-256 of a code is stored.
struct LinkCode {
    std::string discord_id;
    std::string discord_username;
};
[[nodiscard]] Result<std::string> create_link_code(store::Database& sql, const Clock& clock,
                                                   const std::string& discord_id, const std::string& username,
                                                   std::chrono::minutes ttl);
// Consumes the code (deleted whether or not it is still valid). Error bot.link_code_invalid.
[[nodiscard]] Result<LinkCode> redeem_link_code(store::Database& sql, const Clock& clock,
                                                std::string_view code);

}  // namespace pitwall::bot
