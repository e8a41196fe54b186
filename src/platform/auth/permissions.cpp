#include "platform/auth/permissions.hpp"

#include <algorithm>

namespace pitwall::auth {

std::string_view role_name(Role role) {
    switch (role) {
        case Role::guest:
            return "guest";
        case Role::member:
            return "member";
        case Role::admin:
            return "admin";
        case Role::owner:
            return "owner";
    }
    return "guest";
}

std::optional<Role> parse_role(std::string_view name) {
    for (Role r : {Role::guest, Role::member, Role::admin, Role::owner})
        if (role_name(r) == name) return r;
    return std::nullopt;
}

Role higher(Role a, Role b) {
    return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

namespace {
const PermissionSpec* find(std::string_view permission) {
    auto it = std::find_if(kPermissions.begin(), kPermissions.end(),
                           [&](const PermissionSpec& p) { return p.name == permission; });
    return it == kPermissions.end() ? nullptr : &*it;
}
}  // namespace

bool is_known_permission(std::string_view permission) {
    return find(permission) != nullptr;
}

bool allows(std::optional<Role> role, std::string_view permission) {
    const PermissionSpec* spec = find(permission);
    if (!spec) return false;
    if (spec->name == kPublic) return true;
    if (!role) return false;  // not signed in
    return static_cast<int>(*role) >= static_cast<int>(spec->minimum);
}

bool needs_sign_in(std::string_view permission) {
    return permission != kPublic;
}

}  // namespace pitwall::auth
