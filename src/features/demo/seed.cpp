#include "features/demo/seed.hpp"

#include <algorithm>
#include <array>
#include <random>
#include <string>

#include "platform/store/sql.hpp"

namespace pitwall::demo {
namespace {

constexpr store::Statement kCountUsers{"demo.count_users", "SELECT COUNT(*) FROM users"};
constexpr store::Statement kInsertUser{
    "demo.insert_user",
    "INSERT INTO users (discord_id, username, global_name, avatar, site_role, granted_role, guild_member, "
    "locale, "
    "time_zone, created_at, updated_at) VALUES ($1, $2, $3, NULL, $4, $4, $5, $6, $7, $8, $8) RETURNING id"};

struct Zone {
    const char* name;
    const char* locale;
};
constexpr std::array<Zone, 8> kZones{{{"Europe/Istanbul", "tr"},
                                      {"Europe/London", "en"},
                                      {"Europe/Berlin", "en"},
                                      {"America/New_York", "en"},
                                      {"America/Los_Angeles", "en"},
                                      {"America/Sao_Paulo", "en"},
                                      {"Australia/Sydney", "en"},
                                      {"Asia/Tokyo", "en"}}};
constexpr std::array<const char*, 30> kFirst{
    "Mert",  "Ece",  "Kaan", "Deniz", "Zeynep", "Emre",  "Selin", "Can",   "Oliver", "Amelia",
    "Lukas", "Mia",  "Noah", "Ava",   "Lucas",  "Sofia", "Ethan", "Chloe", "Mateo",  "Lara",
    "Kenji", "Yuki", "Jack", "Isla",  "Arda",   "Ilgın", "Tomás", "Ana",   "Felix",  "Hana"};
constexpr store::Statement kInsertRating{
    "demo.insert_rating",
    "INSERT INTO member_ratings (user_id, category, irating, safety_rating, license_class, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6)"};

// iRating of a club-level endurance team: most drivers 1500-3500, a few aliens, a few rookies.
std::int64_t demo_irating(std::mt19937& rng) {
    std::lognormal_distribution<double> dist(7.75, 0.35);  // median ~2300
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(dist(rng)), 700, 7500);
}

// Licence class follows experience; fast drivers are rarely below B.
std::string demo_class(std::int64_t irating, std::mt19937& rng) {
    const int roll = static_cast<int>(rng() % 100);
    if (irating > 3500) return roll < 85 ? "A" : "P";
    if (irating > 2200) return roll < 60 ? "A" : "B";
    if (irating > 1400) return roll < 50 ? "B" : "C";
    return roll < 70 ? "C" : "D";
}

constexpr std::array<const char*, 20> kLast{
    "Yılmaz", "Demir",  "Kaya", "Şahin",  "Çelik",  "Smith",  "Brown", "Müller",  "Schulz", "Silva",
    "Santos", "Tanaka", "Sato", "Walker", "Taylor", "Öztürk", "Aydın", "Johnson", "Moreau", "Rossi"};

}  // namespace

Result<int> seed_if_empty(store::Database& db, const Clock& clock) {
    int created = 0;
    auto status = db.write([&](store::Connection& c) -> Status {
        auto count = c.execute(kCountUsers);
        if (!count) return count.error();
        if (count->first().int64(0) > 0) return {};
        std::mt19937 rng(24);  // fixed: the same team on every machine
        const std::int64_t now = clock.now_ms();
        for (int i = 0; i < 60; ++i) {
            const auto& zone = kZones[static_cast<std::size_t>(i) % kZones.size()];
            std::string first = kFirst[static_cast<std::size_t>(i) % kFirst.size()];
            std::string last = kLast[rng() % kLast.size()];
            std::string role = i == 0 ? "owner" : i < 3 ? "admin" : i < 56 ? "member" : "guest";
            auto inserted = c.execute(kInsertUser, {std::string("demo-") + std::to_string(100000 + i),
                                                    "demo_" + std::to_string(i + 1), first + " " + last, role,
                                                    std::int64_t{role == "guest" ? 0 : 1},
                                                    std::string(zone.locale), std::string(zone.name), now});
            if (!inserted) return inserted.error();
            for (const char* category : {"sports_car", "formula_car"}) {
                const std::int64_t irating = demo_irating(rng);
                const double safety = 1.0 + static_cast<double>(rng() % 400) / 100.0;  // 1.00 .. 4.99
                auto rated = c.execute(kInsertRating, {inserted->first().int64(0), std::string(category),
                                                       irating, safety, demo_class(irating, rng), now});
                if (!rated) return rated.error();
            }
            ++created;
        }
        return {};
    });
    if (!status) return status.error();
    return created;
}

}  // namespace pitwall::demo
