#include "platform/auth/permissions.hpp"

#include <gtest/gtest.h>

namespace pitwall::auth {
namespace {

TEST(Permissions, EachRoleHoldsWhatTheRolesBelowHold) {
    const std::array roles{Role::guest, Role::member, Role::admin, Role::owner};
    for (const auto& p : kPermissions) {
        bool held_below = false;
        for (Role r : roles) {
            const bool held = allows(r, p.name);
            if (held_below) {
                EXPECT_TRUE(held) << role_name(r) << " lost " << p.name;
            }
            held_below = held_below || held;
        }
    }
}

TEST(Permissions, Table) {
    EXPECT_TRUE(allows(std::nullopt, kPublic));
    EXPECT_FALSE(allows(std::nullopt, kSignedIn));
    EXPECT_TRUE(allows(Role::guest, kSignedIn));
    EXPECT_FALSE(allows(Role::guest, "team.view"));
    EXPECT_TRUE(allows(Role::member, "team.view"));
    EXPECT_FALSE(allows(Role::member, "planner.edit"));
    EXPECT_TRUE(allows(Role::admin, "planner.edit"));
    EXPECT_FALSE(allows(Role::admin, "role_mapping.edit"));
    EXPECT_TRUE(allows(Role::owner, "role_mapping.edit"));
    EXPECT_FALSE(allows(Role::owner, "planner.edti"));  // typo: never allowed
    EXPECT_FALSE(is_known_permission("planner.edti"));
}

TEST(Roles, ParseAndRank) {
    EXPECT_EQ(parse_role("admin"), Role::admin);
    EXPECT_EQ(parse_role("Admin"), std::nullopt);
    EXPECT_EQ(higher(Role::member, Role::admin), Role::admin);
    EXPECT_EQ(higher(Role::owner, Role::guest), Role::owner);
}

}  // namespace
}  // namespace pitwall::auth
