// Members as the identity feature stores them: upsert from Discord, the effective site role
// (granted floor raised by the Discord role mapping, highest wins), linked provider accounts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "platform/auth/permissions.hpp"

namespace pitwall::store {
class Database;
class Connection;
}  // namespace pitwall::store

namespace pitwall::identity {

struct DiscordProfile {
    std::string id;
    std::string username;
    std::string global_name;
    std::string avatar;
};

struct GuildMembership {
    bool member = false;
    std::string nickname;
    std::vector<std::string> role_ids;
};

struct RoleMapping {
    std::string discord_role_id;
    auth::Role role = auth::Role::guest;
    std::string label;
};

struct User {
    std::int64_t id = 0;
    std::string discord_id;
    std::string username;
    std::string display_name;  // nickname > global name > username
    auth::Role role = auth::Role::guest;
    std::string locale;
    std::string time_zone;
    bool guild_member = false;
    // Rating in one licence category (roster(): the order's category); 0 / empty when not synced yet.
    std::int64_t irating = 0;
    double safety_rating = 0;
    std::string license_class;
    // Whether the bot's DMs reach this member: "unknown", "open" or "closed" (find() only).
    std::string dm_status = "unknown";
};

struct LinkedAccount {
    std::string provider;  // "iracing" or "garage61"
    std::string subject;
    std::string display_name;
    std::string slug;
    std::string slug_source;
    std::string access_token;   // ciphertext
    std::string refresh_token;  // ciphertext
    std::int64_t access_expires_at = 0;
    std::int64_t refresh_expires_at = 0;
    std::string scope;
    std::string status = "active";
    std::int64_t last_sync_at = 0;
};

// How the roster is sorted. Each (sort, direction) pair is one fixed SQL statement: the query string
// only selects among them, it never reaches the SQL text.
enum class RosterSort { name, irating, safety_rating, license };
enum class SortDirection { ascending, descending };

struct RosterOrder {
    RosterSort sort = RosterSort::irating;
    SortDirection direction = SortDirection::descending;
    std::string category = "sports_car";  // the licence category whose ratings are shown and sorted
};

// From ?sort=name|irating|safety_rating|license&dir=asc|desc&category=<licence category>. Anything
// missing or unknown falls back (never an error): to iRating and sports car, and to the sort's natural
// direction (names A to Z, ratings highest first).
[[nodiscard]] RosterOrder parse_roster_order(const std::optional<std::string>& sort,
                                             const std::optional<std::string>& direction,
                                             const std::optional<std::string>& category);
[[nodiscard]] std::string_view sort_name(RosterSort sort);
[[nodiscard]] std::string_view direction_name(SortDirection direction);
[[nodiscard]] SortDirection natural_direction(RosterSort sort);

// The site role a Discord member gets: the highest mapped role among theirs (member of the guild
// with no mapped role: member); not in the guild: guest. A granted role is a floor.
[[nodiscard]] auth::Role role_for(const GuildMembership& membership, const std::vector<RoleMapping>& mappings,
                                  std::optional<auth::Role> granted);

// What one member update changed (the bot's GUILD_MEMBER_UPDATE).
struct MemberChange {
    std::int64_t user_id = 0;
    std::string role_before;
    std::string role_after;
};

class Users {
  public:
    Users(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

    // Creates or updates the member and recomputes the role in one transaction; returns the user id.
    [[nodiscard]] Result<std::int64_t> upsert_from_discord(const DiscordProfile& profile,
                                                           const GuildMembership& membership);
    // `pitwall user grant`: sets the granted floor (creating a placeholder member for a Discord id that
    // has not signed in yet) and recomputes the effective role.
    [[nodiscard]] Status grant(std::string_view discord_id, auth::Role role);
    [[nodiscard]] Result<std::optional<User>> find(std::int64_t id);
    [[nodiscard]] Result<std::optional<User>> find_by_discord(std::string_view discord_id);
    // /link: gives a site account without a Discord account this one. Errors: identity.discord_taken
    // (another member has it), identity.discord_already_linked (this member has another one).
    [[nodiscard]] Status attach_discord(std::int64_t user_id, std::string_view discord_id);
    // Every member with their rating in order.category; members without one come last either way,
    // then by name. The licence sort is class (R < D < C < B < A < P), then safety rating.
    [[nodiscard]] Result<std::vector<User>> roster(const RosterOrder& order = {});
    // The first demo member (seeded, discord id "demo-...") with that role.
    [[nodiscard]] Result<std::optional<std::int64_t>> demo_user(std::string_view role);
    [[nodiscard]] Status set_locale(std::int64_t id, std::string_view locale);
    [[nodiscard]] Status set_time_zone(std::int64_t id, std::string_view time_zone);

    [[nodiscard]] Result<std::vector<RoleMapping>> role_mappings();
    // Replaces one mapping and recomputes every member's role (applied live).
    [[nodiscard]] Status put_role_mapping(const RoleMapping& mapping, std::int64_t actor);
    [[nodiscard]] Status delete_role_mapping(std::string_view discord_role_id, std::int64_t actor);

    // discord-role-sync: the guild's complete member list (discord user id -> membership). Members
    // listed get their roles and nickname; known members missing from the list left the guild. Roles
    // are recomputed in the same transaction; returns how many site roles changed.
    [[nodiscard]] Result<std::int64_t> apply_guild_members(
        const std::vector<std::pair<std::string, GuildMembership>>& members);

    // One member's roles or nickname changed in Discord (or they left: member = false). Applied and
    // the site role recomputed at once; nullopt for a Discord user with no site account.
    [[nodiscard]] Result<std::optional<MemberChange>> apply_member_update(std::string_view discord_id,
                                                                          const GuildMembership& membership);

    [[nodiscard]] Status save_link(std::int64_t user_id, const LinkedAccount& account);
    [[nodiscard]] Result<std::vector<LinkedAccount>> links(std::int64_t user_id);
    [[nodiscard]] Result<std::optional<LinkedAccount>> link(std::int64_t user_id, std::string_view provider);
    [[nodiscard]] Status delete_link(std::int64_t user_id, std::string_view provider);

  private:
    [[nodiscard]] Status recompute_roles(store::Connection& c);
    store::Database& db_;
    const Clock& clock_;
};

}  // namespace pitwall::identity
