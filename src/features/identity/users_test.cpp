// The roster's sort whitelist: query parameters only choose among fixed statements, and every
// statement runs and orders as documented on a real SQLite file with the shipped migrations.
#include "features/identity/users.hpp"

#include <filesystem>
#include <stdexcept>

#include <gtest/gtest.h>

#include "platform/store/migrate.hpp"
#include "platform/store/sql.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::identity {
namespace {

const std::filesystem::path kSource = PITWALL_SOURCE_DIR;

template <typename T>
T must(Result<T> result) {
    if (!result) throw std::runtime_error(result.error().code + ": " + result.error().detail);
    return std::move(result).value();
}

std::optional<std::string> q(const char* text) {
    return text ? std::optional<std::string>(text) : std::nullopt;
}

TEST(RosterOrder, UnknownOrMissingParametersFallBackToTheDefault) {
    const auto order = parse_roster_order(std::nullopt, std::nullopt, std::nullopt);
    EXPECT_EQ(order.sort, RosterSort::irating);
    EXPECT_EQ(order.direction, SortDirection::descending);
    EXPECT_EQ(order.category, "sports_car");
    for (const char* sort : {"", "IRATING", "irating; DROP TABLE users", "users.id", "0", "name "}) {
        const auto o = parse_roster_order(q(sort), q("sideways"), q("road' OR 1=1 --"));
        EXPECT_EQ(o.sort, RosterSort::irating) << sort;
        EXPECT_EQ(o.direction, SortDirection::descending) << sort;
        EXPECT_EQ(o.category, "sports_car") << sort;
    }
}

TEST(RosterOrder, KnownParametersAreTaken) {
    auto o = parse_roster_order(q("name"), std::nullopt, q("formula_car"));
    EXPECT_EQ(o.sort, RosterSort::name);
    EXPECT_EQ(o.direction, SortDirection::ascending);  // names start A to Z
    EXPECT_EQ(o.category, "formula_car");
    o = parse_roster_order(q("license"), q("asc"), q("dirt_oval"));
    EXPECT_EQ(o.sort, RosterSort::license);
    EXPECT_EQ(o.direction, SortDirection::ascending);
    EXPECT_EQ(o.category, "dirt_oval");
    o = parse_roster_order(q("safety_rating"), q("bogus"), q("oval"));
    EXPECT_EQ(o.direction, SortDirection::descending);  // ratings start highest first
    EXPECT_EQ(sort_name(o.sort), "safety_rating");
    EXPECT_EQ(direction_name(o.direction), "desc");
}

constexpr store::Statement kAddUser{
    "test.add_user",
    "INSERT INTO users (discord_id, username, global_name, site_role, created_at, updated_at) "
    "VALUES ($1, $1, $2, 'member', 0, 0) RETURNING id"};
constexpr store::Statement kAddRating{
    "test.add_rating",
    "INSERT INTO member_ratings (user_id, category, irating, safety_rating, license_class, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, 0)"};

class Roster : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = must(store::open_sqlite({(dir_.path() / "pitwall.db").string()}));
        must(store::migrate(*db_,
                            must(store::load_migrations(kSource / "migrations", store::Dialect::sqlite))));
        users_ = std::make_unique<Users>(*db_, clock_);
        // name, sports car (iRating, SR, class), formula car iRating
        rate(add("ada", "Ada"), "sports_car", 3100, 2.10, "A");
        rate(add("bob", "bob"), "sports_car", 1500, 4.80, "B");
        rate(add("cem", "Cem"), "sports_car", 2200, 3.90, "A");
        rate(add("dan", "Dan"), "sports_car", 2200, 1.20, "P");
        add("eve", "Eve");  // not rated in any category
        rate(4, "formula_car", 1800, 3.00, "C");
    }

    std::int64_t add(const std::string& id, const std::string& name) {
        return must(db_->execute(kAddUser, {id, name})).first().int64(0);
    }
    void rate(std::int64_t user, const std::string& category, std::int64_t irating, double sr,
              const std::string& license) {
        must(db_->execute(kAddRating, {user, category, irating, sr, license}));
    }
    std::vector<std::string> names(RosterSort sort, SortDirection direction,
                                   std::string category = "sports_car") {
        std::vector<std::string> out;
        for (const auto& u : must(users_->roster({sort, direction, std::move(category)})))
            out.push_back(u.display_name);
        return out;
    }

    test_support::TempDir dir_{"pitwall-roster"};
    std::unique_ptr<store::Database> db_;
    ManualClock clock_;
    std::unique_ptr<Users> users_;
};

using V = std::vector<std::string>;

TEST_F(Roster, EachSortAndDirectionOrdersAsDocumented) {
    using enum RosterSort;
    using enum SortDirection;
    EXPECT_EQ(names(name, ascending), (V{"Ada", "bob", "Cem", "Dan", "Eve"}));  // case-insensitive
    EXPECT_EQ(names(name, descending), (V{"Eve", "Dan", "Cem", "bob", "Ada"}));
    // Unrated members come last in both directions; ties go by name.
    EXPECT_EQ(names(irating, descending), (V{"Ada", "Cem", "Dan", "bob", "Eve"}));
    EXPECT_EQ(names(irating, ascending), (V{"bob", "Cem", "Dan", "Ada", "Eve"}));
    EXPECT_EQ(names(safety_rating, descending), (V{"bob", "Cem", "Ada", "Dan", "Eve"}));
    EXPECT_EQ(names(safety_rating, ascending), (V{"Dan", "Ada", "Cem", "bob", "Eve"}));
    // Licence: class first (P above A above B), then safety rating.
    EXPECT_EQ(names(license, descending), (V{"Dan", "Cem", "Ada", "bob", "Eve"}));
    EXPECT_EQ(names(license, ascending), (V{"bob", "Ada", "Cem", "Dan", "Eve"}));
}

TEST_F(Roster, TheCategoryPicksTheRatingsShown) {
    const auto roster = must(users_->roster({RosterSort::irating, SortDirection::descending, "formula_car"}));
    ASSERT_EQ(roster.size(), 5u);
    EXPECT_EQ(roster[0].display_name, "Dan");
    EXPECT_EQ(roster[0].irating, 1800);
    EXPECT_EQ(roster[0].license_class, "C");
    EXPECT_EQ(roster[1].license_class, "");  // the others have no formula rating
    // A category outside the whitelist (possible only by building the order by hand) is the default.
    EXPECT_EQ(names(RosterSort::irating, SortDirection::descending, "x' OR '1'='1"),
              names(RosterSort::irating, SortDirection::descending));
}

}  // namespace
}  // namespace pitwall::identity
