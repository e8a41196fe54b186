// Roles and permissions, enumerated in one place. Every route declares one permission (a name from
// kPermissions); each role holds a set; `allows(role, permission)` is the only check there is.
// Owner > Admin > Member > Guest: each role holds every permission of the roles below it.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace pitwall::auth {

enum class Role { guest, member, admin, owner };

[[nodiscard]] std::string_view role_name(Role role);
[[nodiscard]] std::optional<Role> parse_role(std::string_view name);
// Highest of two roles (Discord role mapping: highest wins).
[[nodiscard]] Role higher(Role a, Role b);

// Anyone, signed in or not.
inline constexpr std::string_view kPublic = "public";
// Any signed-in account, guests included (own profile, sign-out, own settings).
inline constexpr std::string_view kSignedIn = "signed_in";

struct PermissionSpec {
    std::string_view name;
    Role minimum;  // the lowest role that holds it
};

inline constexpr std::array kPermissions = {
    PermissionSpec{kPublic, Role::guest},
    PermissionSpec{kSignedIn, Role::guest},
    PermissionSpec{"team.view", Role::member},  // roster, events, schedules of the team
    PermissionSpec{"event.register", Role::member},
    PermissionSpec{"gallery.upload", Role::member},
    PermissionSpec{"event.manage", Role::admin},
    PermissionSpec{"planner.edit", Role::admin},
    PermissionSpec{"gallery.moderate", Role::admin},
    PermissionSpec{"league.edit", Role::admin},
    PermissionSpec{"cup.edit", Role::admin},
    PermissionSpec{"member.manage", Role::admin},
    PermissionSpec{"sync.view", Role::admin},
    PermissionSpec{"sync.run", Role::admin},
    PermissionSpec{"dm.view", Role::admin},    // the DM queue monitor (/admin/dm): counts, messages, errors
    PermissionSpec{"dm.manage", Role::admin},  // retry or discard a queued DM from the monitor
    PermissionSpec{"role_mapping.edit", Role::owner},
    PermissionSpec{"settings.edit", Role::owner},
};

[[nodiscard]] bool is_known_permission(std::string_view permission);
// False for an unknown permission (a route can never be opened by a typo).
[[nodiscard]] bool allows(std::optional<Role> role, std::string_view permission);
// Whether the permission needs a signed-in account at all (decides 401 versus 403).
[[nodiscard]] bool needs_sign_in(std::string_view permission);

}  // namespace pitwall::auth
