#include "features/identity/users.hpp"

#include <map>
#include <set>

#include <boost/json.hpp>

#include "features/racing/racing.hpp"
#include "platform/store/sql.hpp"

namespace pitwall::identity {
namespace {

using store::Statement;

constexpr Statement kUpsertDiscord{
    "identity.upsert_discord",
    "INSERT INTO users (discord_id, username, global_name, avatar, nickname, discord_roles, guild_member, "
    "site_role, "
    "created_at, updated_at, last_login_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'guest', $8, $8, $8) "
    "ON CONFLICT (discord_id) DO UPDATE SET username = excluded.username, global_name = "
    "excluded.global_name, "
    "avatar = excluded.avatar, nickname = excluded.nickname, discord_roles = excluded.discord_roles, "
    "guild_member = excluded.guild_member, updated_at = excluded.updated_at, last_login_at = "
    "excluded.last_login_at "
    "RETURNING id"};
constexpr Statement kGrant{
    "identity.grant",
    "INSERT INTO users (discord_id, username, granted_role, site_role, created_at, updated_at) "
    "VALUES ($1, $1, $2, $2, $3, $3) "
    "ON CONFLICT (discord_id) DO UPDATE SET granted_role = excluded.granted_role, updated_at = "
    "excluded.updated_at"};
constexpr Statement kDemoUser{"identity.demo_user",
                              "SELECT id FROM users WHERE discord_id LIKE 'demo-%' AND site_role = $1 "
                              "ORDER BY id LIMIT 1"};
constexpr Statement kRoleInputs{"identity.role_inputs",
                                "SELECT id, discord_roles, guild_member, granted_role, site_role FROM users"};
constexpr Statement kSetRole{"identity.set_role",
                             "UPDATE users SET site_role = $2, updated_at = $3 WHERE id = $1"};
constexpr Statement kFindUser{"identity.find_user",
                              "SELECT id, COALESCE(discord_id, ''), username, COALESCE(nickname, "
                              "global_name, username), site_role, locale, "
                              "time_zone, guild_member, dm_status FROM users WHERE id = $1"};
// The roster: one statement per sort and direction ([RosterSort][SortDirection]), the category bound
// as $1. Members without a rating in the category sort last in both directions.
#define PITWALL_ROSTER_SELECT                                                                               \
    "SELECT id, COALESCE(discord_id, ''), username, COALESCE(nickname, global_name, username), site_role, " \
    "locale, time_zone, guild_member, COALESCE(r.irating, 0), COALESCE(r.safety_rating, 0), "               \
    "COALESCE(r.license_class, '') FROM users LEFT JOIN member_ratings r ON r.user_id = users.id AND "      \
    "r.category = $1 ORDER BY "
#define PITWALL_ROSTER_NAME "LOWER(COALESCE(nickname, global_name, username))"
#define PITWALL_ROSTER_CLASS                                                                                \
    "CASE r.license_class WHEN 'R' THEN 0 WHEN 'D' THEN 1 WHEN 'C' THEN 2 WHEN 'B' THEN 3 WHEN 'A' THEN 4 " \
    "WHEN 'P' THEN 5 ELSE -1 END"
constexpr Statement kRoster[4][2] = {
    {{"identity.roster_name_asc", PITWALL_ROSTER_SELECT PITWALL_ROSTER_NAME " ASC, users.id"},
     {"identity.roster_name_desc", PITWALL_ROSTER_SELECT PITWALL_ROSTER_NAME " DESC, users.id"}},
    {{"identity.roster_irating_asc",
      PITWALL_ROSTER_SELECT "r.user_id IS NULL, r.irating ASC, " PITWALL_ROSTER_NAME ", users.id"},
     {"identity.roster_irating_desc",
      PITWALL_ROSTER_SELECT "r.user_id IS NULL, r.irating DESC, " PITWALL_ROSTER_NAME ", users.id"}},
    {{"identity.roster_safety_rating_asc",
      PITWALL_ROSTER_SELECT "r.user_id IS NULL, r.safety_rating ASC, " PITWALL_ROSTER_NAME ", users.id"},
     {"identity.roster_safety_rating_desc",
      PITWALL_ROSTER_SELECT "r.user_id IS NULL, r.safety_rating DESC, " PITWALL_ROSTER_NAME ", users.id"}},
    {{"identity.roster_license_asc",
      PITWALL_ROSTER_SELECT "r.user_id IS NULL, " PITWALL_ROSTER_CLASS
                            " ASC, r.safety_rating ASC, " PITWALL_ROSTER_NAME ", users.id"},
     {"identity.roster_license_desc",
      PITWALL_ROSTER_SELECT "r.user_id IS NULL, " PITWALL_ROSTER_CLASS
                            " DESC, r.safety_rating DESC, " PITWALL_ROSTER_NAME ", users.id"}}};
#undef PITWALL_ROSTER_SELECT
#undef PITWALL_ROSTER_NAME
#undef PITWALL_ROSTER_CLASS
constexpr Statement kSetLocale{
    "identity.set_locale",
    "UPDATE users SET preferred_locale = $2, locale = $2, updated_at = $3 WHERE id = $1"};
constexpr Statement kSetTimeZone{"identity.set_time_zone",
                                 "UPDATE users SET time_zone = $2, updated_at = $3 WHERE id = $1"};
constexpr Statement kMappings{
    "identity.role_mappings",
    "SELECT discord_role_id, site_role, label FROM role_mappings ORDER BY discord_role_id"};
constexpr Statement kPutMapping{
    "identity.put_role_mapping",
    "INSERT INTO role_mappings (discord_role_id, site_role, label, updated_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (discord_role_id) DO UPDATE SET site_role = excluded.site_role, label = excluded.label, "
    "updated_at = excluded.updated_at"};
constexpr Statement kDeleteMapping{"identity.delete_role_mapping",
                                   "DELETE FROM role_mappings WHERE discord_role_id = $1"};
constexpr Statement kAudit{
    "identity.audit",
    "INSERT INTO audit_log (actor_user_id, action, target, before_json, after_json, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6)"};
constexpr Statement kSaveLink{
    "identity.save_link",
    "INSERT INTO linked_accounts (user_id, provider, subject, display_name, slug, slug_source, access_token, "
    "refresh_token, access_expires_at, refresh_expires_at, scope, status, last_sync_at, created_at, "
    "updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) "
    "ON CONFLICT (user_id, provider) DO UPDATE SET subject = excluded.subject, display_name = "
    "excluded.display_name, "
    "slug = excluded.slug, slug_source = excluded.slug_source, access_token = excluded.access_token, "
    "refresh_token = excluded.refresh_token, access_expires_at = excluded.access_expires_at, "
    "refresh_expires_at = excluded.refresh_expires_at, scope = excluded.scope, status = excluded.status, "
    "last_sync_at = excluded.last_sync_at, updated_at = excluded.updated_at"};
constexpr Statement kLinks{
    "identity.links",
    "SELECT provider, subject, display_name, COALESCE(slug, ''), COALESCE(slug_source, ''), "
    "COALESCE(access_token, ''), "
    "COALESCE(refresh_token, ''), COALESCE(access_expires_at, 0), COALESCE(refresh_expires_at, 0), scope, "
    "status, "
    "COALESCE(last_sync_at, 0) FROM linked_accounts WHERE user_id = $1 ORDER BY provider"};
constexpr Statement kDeleteLink{"identity.delete_link",
                                "DELETE FROM linked_accounts WHERE user_id = $1 AND provider = $2"};

std::string roles_json(const std::vector<std::string>& ids) {
    boost::json::array a;
    for (const auto& id : ids) a.emplace_back(id);
    return boost::json::serialize(a);
}

std::vector<std::string> parse_roles(std::string_view text) {
    std::vector<std::string> out;
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_array()) return out;
    for (const auto& e : v.get_array())
        if (e.is_string()) out.emplace_back(e.get_string());
    return out;
}

User user_from(const store::Row& r) {
    return User{r.int64(0),
                r.text(1),
                r.text(2),
                r.text(3),
                auth::parse_role(r.text(4)).value_or(auth::Role::guest),
                r.text(5),
                r.text(6),
                r.int64(7) != 0};
}

Result<std::vector<RoleMapping>> read_mappings(store::Connection& c) {
    auto rows = c.execute(kMappings);
    if (!rows) return rows.error();
    std::vector<RoleMapping> out;
    for (const auto& r : rows->rows)
        out.push_back({r.text(0), auth::parse_role(r.text(1)).value_or(auth::Role::guest), r.text(2)});
    return out;
}

constexpr std::pair<RosterSort, std::string_view> kSortNames[] = {
    {RosterSort::name, "name"},
    {RosterSort::irating, "irating"},
    {RosterSort::safety_rating, "safety_rating"},
    {RosterSort::license, "license"}};

}  // namespace

std::string_view sort_name(RosterSort sort) {
    for (const auto& [value, name] : kSortNames)
        if (value == sort) return name;
    return "irating";
}

std::string_view direction_name(SortDirection direction) {
    return direction == SortDirection::ascending ? "asc" : "desc";
}

SortDirection natural_direction(RosterSort sort) {
    return sort == RosterSort::name ? SortDirection::ascending : SortDirection::descending;
}

RosterOrder parse_roster_order(const std::optional<std::string>& sort,
                               const std::optional<std::string>& direction,
                               const std::optional<std::string>& category) {
    RosterOrder order;
    if (sort)
        for (const auto& [value, name] : kSortNames)
            if (*sort == name) order.sort = value;
    order.direction = natural_direction(order.sort);
    if (direction == "asc") order.direction = SortDirection::ascending;
    if (direction == "desc") order.direction = SortDirection::descending;
    if (category && racing::is_category(*category)) order.category = *category;
    return order;
}

auth::Role role_for(const GuildMembership& membership, const std::vector<RoleMapping>& mappings,
                    std::optional<auth::Role> granted) {
    auth::Role role = auth::Role::guest;
    if (membership.member) {
        role = auth::Role::member;
        for (const auto& id : membership.role_ids)
            for (const auto& m : mappings)
                if (m.discord_role_id == id) role = auth::higher(role, m.role);
    }
    return granted ? auth::higher(role, *granted) : role;
}

Status Users::recompute_roles(store::Connection& c) {
    auto mappings = read_mappings(c);
    if (!mappings) return mappings.error();
    auto rows = c.execute(kRoleInputs);
    if (!rows) return rows.error();
    const auto now = clock_.now_ms();
    for (const auto& r : rows->rows) {
        GuildMembership m{r.int64(2) != 0, "", parse_roles(r.text(1))};
        auto role = role_for(m, *mappings, r.is_null(3) ? std::nullopt : auth::parse_role(r.text(3)));
        if (auth::role_name(role) == r.text(4)) continue;
        if (auto s = c.execute(kSetRole, {r.int64(0), std::string(auth::role_name(role)), now}); !s)
            return s.error();
    }
    return {};
}

constexpr Statement kGuildMember{
    "identity.guild_member",
    "UPDATE users SET discord_roles = $2, guild_member = 1, nickname = $3, updated_at = $4 WHERE discord_id "
    "= $1 "
    "AND (discord_roles <> $2 OR guild_member <> 1 OR COALESCE(nickname, '') <> COALESCE($3, ''))"};
constexpr Statement kGuildMembers{
    "identity.guild_members",
    "SELECT discord_id FROM users WHERE guild_member = 1 AND discord_id IS NOT NULL"};
constexpr Statement kLeftGuild{
    "identity.left_guild",
    "UPDATE users SET guild_member = 0, discord_roles = '[]', updated_at = $2 WHERE "
    "discord_id = $1"};
constexpr Statement kRoleSnapshot{"identity.role_snapshot", "SELECT id, site_role FROM users"};

Result<std::int64_t> Users::apply_guild_members(
    const std::vector<std::pair<std::string, GuildMembership>>& members) {
    std::int64_t changed = 0;
    auto status = db_.write([&](store::Connection& c) -> Status {
        auto before = c.execute(kRoleSnapshot);
        if (!before) return before.error();
        std::map<std::int64_t, std::string> roles;
        for (const auto& r : before->rows) roles[r.int64(0)] = r.text(1);
        const auto now = clock_.now_ms();
        std::set<std::string> listed;
        for (const auto& [discord_id, m] : members) {
            listed.insert(discord_id);
            if (auto r = c.execute(kGuildMember,
                                   {discord_id, roles_json(m.role_ids),
                                    m.nickname.empty() ? store::Value(store::Null{}) : m.nickname, now});
                !r)
                return r.error();
        }
        auto current = c.execute(kGuildMembers);
        if (!current) return current.error();
        for (const auto& r : current->rows)
            if (!listed.contains(r.text(0)))
                if (auto left = c.execute(kLeftGuild, {r.text(0), now}); !left) return left.error();
        if (auto s = recompute_roles(c); !s) return s;
        auto after = c.execute(kRoleSnapshot);
        if (!after) return after.error();
        for (const auto& r : after->rows)
            if (roles[r.int64(0)] != r.text(1)) ++changed;
        return {};
    });
    if (!status) return status.error();
    return changed;
}

constexpr Statement kRoleOfDiscord{"identity.role_of_discord",
                                   "SELECT id, site_role FROM users WHERE discord_id = $1"};

Result<std::optional<MemberChange>> Users::apply_member_update(std::string_view discord_id,
                                                               const GuildMembership& membership) {
    std::optional<MemberChange> change;
    auto status = db_.write([&](store::Connection& c) -> Status {
        const std::string id(discord_id);
        auto before = c.execute(kRoleOfDiscord, {id});
        if (!before) return before.error();
        if (before->empty()) return {};  // not a site member yet: their first sign-in reads the guild
        const auto now = clock_.now_ms();
        auto updated =
            membership.member
                ? c.execute(
                      kGuildMember,
                      {id, roles_json(membership.role_ids),
                       membership.nickname.empty() ? store::Value(store::Null{}) : membership.nickname, now})
                : c.execute(kLeftGuild, {id, now});
        if (!updated) return updated.error();
        if (auto s = recompute_roles(c); !s) return s;
        auto after = c.execute(kRoleOfDiscord, {id});
        if (!after) return after.error();
        change = MemberChange{before->first().int64(0), before->first().text(1), after->first().text(1)};
        return {};
    });
    if (!status) return status.error();
    return change;
}

Result<std::int64_t> Users::upsert_from_discord(const DiscordProfile& p, const GuildMembership& m) {
    std::int64_t id = 0;
    auto status = db_.write([&](store::Connection& c) -> Status {
        auto row =
            c.execute(kUpsertDiscord,
                      {p.id, p.username, p.global_name.empty() ? store::Value(store::Null{}) : p.global_name,
                       p.avatar.empty() ? store::Value(store::Null{}) : p.avatar,
                       m.nickname.empty() ? store::Value(store::Null{}) : m.nickname, roles_json(m.role_ids),
                       std::int64_t{m.member ? 1 : 0}, clock_.now_ms()});
        if (!row) return row.error();
        id = row->first().int64(0);
        return recompute_roles(c);
    });
    if (!status) return status.error();
    return id;
}

Status Users::grant(std::string_view discord_id, auth::Role role) {
    return db_.write([&](store::Connection& c) -> Status {
        const auto now = clock_.now_ms();
        if (auto r = c.execute(kGrant, {std::string(discord_id), std::string(auth::role_name(role)), now});
            !r)
            return r.error();
        boost::json::object after{{"granted_role", auth::role_name(role)}};
        if (auto r = c.execute(kAudit, {store::Null{}, "user.grant", std::string(discord_id), store::Null{},
                                        boost::json::serialize(after), now});
            !r)
            return r.error();
        return recompute_roles(c);
    });
}

Result<std::optional<std::int64_t>> Users::demo_user(std::string_view role) {
    auto rows = db_.execute(kDemoUser, {std::string(role)});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(rows->first().int64(0));
}

Result<std::optional<User>> Users::find(std::int64_t id) {
    auto rows = db_.execute(kFindUser, {id});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<User>();
    auto user = user_from(rows->first());
    user.dm_status = rows->first().text(8);
    return std::optional<User>(std::move(user));
}

constexpr Statement kFindByDiscord{"identity.find_by_discord",
                                   "SELECT id, COALESCE(discord_id, ''), username, COALESCE(nickname, "
                                   "global_name, username), site_role, locale, "
                                   "time_zone, guild_member FROM users WHERE discord_id = $1"};
constexpr Statement kAttachDiscord{"identity.attach_discord",
                                   "UPDATE users SET discord_id = $2, updated_at = $3 WHERE id = $1 AND "
                                   "(discord_id IS NULL OR discord_id = $2)"};

Result<std::optional<User>> Users::find_by_discord(std::string_view discord_id) {
    auto rows = db_.execute(kFindByDiscord, {std::string(discord_id)});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<User>();
    return std::optional<User>(user_from(rows->first()));
}

Status Users::attach_discord(std::int64_t user_id, std::string_view discord_id) {
    return db_.write([&](store::Connection& c) -> Status {
        auto other = c.execute(kFindByDiscord, {std::string(discord_id)});
        if (!other) return other.error();
        if (!other->empty() && other->first().int64(0) != user_id)
            return Error(ErrorKind::conflict, "identity.discord_taken");
        auto updated = c.execute(kAttachDiscord, {user_id, std::string(discord_id), clock_.now_ms()});
        if (!updated) return updated.error();
        if (updated->affected == 0) return Error(ErrorKind::conflict, "identity.discord_already_linked");
        return recompute_roles(c);
    });
}

Result<std::vector<User>> Users::roster(const RosterOrder& order) {
    const auto& statement =
        kRoster[static_cast<std::size_t>(order.sort)][order.direction == SortDirection::ascending ? 0 : 1];
    const std::string category(racing::is_category(order.category) ? order.category
                                                                   : racing::kDefaultCategory);
    auto rows = db_.execute(statement, {category});
    if (!rows) return rows.error();
    std::vector<User> out;
    for (const auto& r : rows->rows) {
        auto user = user_from(r);
        user.irating = r.int64(8);
        user.safety_rating = r.real(9);
        user.license_class = r.text(10);
        out.push_back(std::move(user));
    }
    return out;
}

Status Users::set_locale(std::int64_t id, std::string_view locale) {
    auto r = db_.execute(kSetLocale, {id, std::string(locale), clock_.now_ms()});
    return r ? Status() : Status(r.error());
}

Status Users::set_time_zone(std::int64_t id, std::string_view time_zone) {
    auto r = db_.execute(kSetTimeZone, {id, std::string(time_zone), clock_.now_ms()});
    return r ? Status() : Status(r.error());
}

Result<std::vector<RoleMapping>> Users::role_mappings() {
    std::vector<RoleMapping> out;
    auto status = db_.read([&](store::Connection& c) -> Status {
        auto m = read_mappings(c);
        if (!m) return m.error();
        out = std::move(*m);
        return {};
    });
    if (!status) return status.error();
    return out;
}

Status Users::put_role_mapping(const RoleMapping& mapping, std::int64_t actor) {
    return db_.write([&](store::Connection& c) -> Status {
        const auto now = clock_.now_ms();
        boost::json::object after{{"site_role", auth::role_name(mapping.role)}, {"label", mapping.label}};
        if (auto r = c.execute(kPutMapping, {mapping.discord_role_id,
                                             std::string(auth::role_name(mapping.role)), mapping.label, now});
            !r)
            return r.error();
        if (auto r = c.execute(kAudit, {actor, "role_mapping.put", mapping.discord_role_id, store::Null{},
                                        boost::json::serialize(after), now});
            !r)
            return r.error();
        return recompute_roles(c);
    });
}

Status Users::delete_role_mapping(std::string_view discord_role_id, std::int64_t actor) {
    return db_.write([&](store::Connection& c) -> Status {
        if (auto r = c.execute(kDeleteMapping, {std::string(discord_role_id)}); !r) return r.error();
        if (auto r = c.execute(kAudit, {actor, "role_mapping.delete", std::string(discord_role_id),
                                        store::Null{}, store::Null{}, clock_.now_ms()});
            !r)
            return r.error();
        return recompute_roles(c);
    });
}

Status Users::save_link(std::int64_t user_id, const LinkedAccount& a) {
    auto r =
        db_.execute(kSaveLink, {user_id, a.provider, a.subject, a.display_name, a.slug, a.slug_source,
                                a.access_token, a.refresh_token, a.access_expires_at, a.refresh_expires_at,
                                a.scope, a.status, a.last_sync_at, clock_.now_ms()});
    return r ? Status() : Status(r.error());
}

Result<std::vector<LinkedAccount>> Users::links(std::int64_t user_id) {
    auto rows = db_.execute(kLinks, {user_id});
    if (!rows) return rows.error();
    std::vector<LinkedAccount> out;
    for (const auto& r : rows->rows)
        out.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6),
                       r.int64(7), r.int64(8), r.text(9), r.text(10), r.int64(11)});
    return out;
}

Result<std::optional<LinkedAccount>> Users::link(std::int64_t user_id, std::string_view provider) {
    auto all = links(user_id);
    if (!all) return all.error();
    for (auto& a : *all)
        if (a.provider == provider) return std::optional<LinkedAccount>(std::move(a));
    return std::optional<LinkedAccount>();
}

Status Users::delete_link(std::int64_t user_id, std::string_view provider) {
    auto r = db_.execute(kDeleteLink, {user_id, std::string(provider)});
    return r ? Status() : Status(r.error());
}

}  // namespace pitwall::identity
