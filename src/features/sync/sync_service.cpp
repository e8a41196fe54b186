#include "features/sync/sync_service.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include <boost/json.hpp>

#include "core/log.hpp"
#include "features/identity/providers.hpp"
#include "features/identity/users.hpp"
#include "features/sync/sync_log.hpp"
#include "integrations/discord/client.hpp"
#include "integrations/garage61/client.hpp"
#include "integrations/iracing/client.hpp"
#include "integrations/iracing/service_account.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/store/kv.hpp"
#include "platform/store/sql.hpp"
#include "platform/upstream/cache.hpp"

namespace pitwall::sync {
namespace {

namespace ir = integrations::iracing;
namespace g61 = integrations::garage61;
using jobs::JobContext;
using jobs::JobOutcome;

constexpr store::Statement kLinked{"sync.linked",
                                   "SELECT user_id, subject, COALESCE(slug, ''), status, "
                                   "COALESCE(access_expires_at, 0) FROM linked_accounts "
                                   "WHERE provider = $1 ORDER BY user_id"};
constexpr store::Statement kTouchLink{
    "sync.touch_link", "UPDATE linked_accounts SET last_sync_at = $3 WHERE user_id = $1 AND provider = $2"};
constexpr store::Statement kUpsertRating{
    "sync.upsert_rating",
    "INSERT INTO member_ratings (user_id, category, irating, safety_rating, license_class, updated_at) "
    "VALUES ($1, "
    "$2, $3, $4, $5, $6) ON CONFLICT (user_id, category) DO UPDATE SET irating = excluded.irating, "
    "safety_rating = "
    "excluded.safety_rating, license_class = excluded.license_class, updated_at = excluded.updated_at"};
// Categories whose current iRating differs from the newest stored history point (or that have none):
// the only charts worth fetching again.
constexpr store::Statement kRatedCategories{"sync.rated_categories",
                                            "SELECT r.category FROM member_ratings r WHERE r.user_id = $1 "
                                            "AND r.irating <> COALESCE((SELECT h.irating "
                                            "FROM irating_history h WHERE h.user_id = r.user_id AND "
                                            "h.category = r.category ORDER BY h.day DESC LIMIT 1), "
                                            "-1) ORDER BY r.category"};
constexpr store::Statement kCurrentRatings{
    "sync.current_ratings", "SELECT category, irating, safety_rating FROM member_ratings WHERE user_id = $1"};
constexpr store::Statement kUpsertHistory{"sync.upsert_history",
                                          "INSERT INTO irating_history (user_id, category, day, irating) "
                                          "VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, "
                                          "category, day) DO UPDATE SET irating = excluded.irating"};
constexpr store::Statement kInsertResult{"sync.insert_result",
                                         "INSERT INTO race_results (user_id, subsession_id, series_id, "
                                         "series_name, track_name, car_id, started_at, "
                                         "start_position, finish_position, laps, incidents, irating_before, "
                                         "irating_after, strength_of_field) VALUES "
                                         "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON "
                                         "CONFLICT (user_id, subsession_id) DO NOTHING"};
constexpr store::Statement kUnposted{
    "sync.unposted_results",
    "SELECT r.user_id, r.subsession_id, r.series_name, r.track_name, r.finish_position, r.irating_after - "
    "r.irating_before, COALESCE(u.nickname, u.global_name, u.username) FROM race_results r JOIN users u ON "
    "u.id = "
    "r.user_id WHERE r.posted_at IS NULL ORDER BY r.started_at LIMIT 200"};
constexpr store::Statement kMarkPosted{
    "sync.mark_posted", "UPDATE race_results SET posted_at = $3 WHERE user_id = $1 AND subsession_id = $2"};
constexpr store::Statement kUpsertWeek{
    "sync.upsert_week",
    "INSERT INTO series_weeks (season_id, race_week, series_id, series_name, category, track_name, "
    "week_start, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (season_id, race_week) DO UPDATE SET "
    "series_id = excluded.series_id, series_name = excluded.series_name, category = excluded.category, "
    "track_name "
    "= excluded.track_name, week_start = excluded.week_start, updated_at = excluded.updated_at"};
constexpr store::Statement kUpsertSession{
    "sync.upsert_session",
    "INSERT INTO series_sessions (season_id, series_id, starts_at, ends_at, entry_count) VALUES ($1, $2, $3, "
    "$4, "
    "$5) ON CONFLICT (season_id, starts_at) DO UPDATE SET ends_at = excluded.ends_at, entry_count = "
    "excluded.entry_count"};
constexpr store::Statement kPruneSessions{"sync.prune_sessions",
                                          "DELETE FROM series_sessions WHERE ends_at < $1"};
constexpr store::Statement kUpsertLeagueSession{
    "sync.upsert_league_session",
    "INSERT INTO league_sessions (league_id, season_id, session_id, subsession_id, launch_at, track_name, "
    "has_results, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (league_id, season_id, "
    "session_id) DO UPDATE SET subsession_id = excluded.subsession_id, launch_at = excluded.launch_at, "
    "track_name "
    "= excluded.track_name, has_results = excluded.has_results, updated_at = excluded.updated_at"};
constexpr store::Statement kLeagueResultCount{"sync.league_result_count",
                                              "SELECT COUNT(*) FROM league_results WHERE subsession_id = $1"};
constexpr store::Statement kInsertLeagueResult{
    "sync.insert_league_result",
    "INSERT INTO league_results (subsession_id, cust_id, display_name, finish_position, laps, incidents, "
    "best_lap_ms, car_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (subsession_id, cust_id) DO "
    "NOTHING"};
constexpr store::Statement kLatestLap{"sync.latest_lap",
                                      "SELECT COALESCE(MAX(driven_at), 0) FROM garage61_laps"};
constexpr store::Statement kInsertLap{
    "sync.insert_lap",
    "INSERT INTO garage61_laps (lap_id, user_id, car_id, car_name, track_name, lap_time_ms, clean, "
    "session_type, "
    "driven_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (lap_id) DO NOTHING"};
constexpr store::Statement kUpsertMemberCar{
    "sync.upsert_member_car",
    "INSERT INTO member_cars (user_id, car_id, car_name, laps, best_lap_ms, last_driven_at) VALUES ($1, $2, "
    "$3, "
    "(SELECT COUNT(*) FROM garage61_laps WHERE user_id = $1 AND car_id = $2), $4, $5) ON CONFLICT (user_id, "
    "car_id) "
    "DO UPDATE SET car_name = excluded.car_name, laps = excluded.laps, best_lap_ms = excluded.best_lap_ms, "
    "last_driven_at = MAX(member_cars.last_driven_at, excluded.last_driven_at)",
    "INSERT INTO member_cars (user_id, car_id, car_name, laps, best_lap_ms, last_driven_at) VALUES ($1, $2, "
    "$3, "
    "(SELECT COUNT(*) FROM garage61_laps WHERE user_id = $1 AND car_id = $2), $4, $5) ON CONFLICT (user_id, "
    "car_id) "
    "DO UPDATE SET car_name = excluded.car_name, laps = excluded.laps, best_lap_ms = excluded.best_lap_ms, "
    "last_driven_at = GREATEST(member_cars.last_driven_at, excluded.last_driven_at)"};
constexpr store::Statement kClearFindings{"sync.clear_findings", "DELETE FROM audit_findings"};
constexpr store::Statement kInsertFinding{"sync.insert_finding",
                                          "INSERT INTO audit_findings (user_id, kind, detail, found_at) "
                                          "VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, "
                                          "kind) DO UPDATE SET detail = excluded.detail"};
constexpr store::Statement kLeftGuild{"sync.left_guild",
                                      "SELECT DISTINCT l.user_id FROM linked_accounts l JOIN users u ON u.id "
                                      "= l.user_id WHERE u.guild_member = 0"};
constexpr store::Statement kExpiringLinks{"sync.expiring_links",
                                          "SELECT user_id, provider FROM linked_accounts WHERE status = "
                                          "'active' AND access_expires_at IS NOT NULL AND "
                                          "access_expires_at < $1 AND refresh_token IS NOT NULL"};
constexpr store::Statement kOptimize{"sync.optimize", "PRAGMA optimize"};
constexpr store::Statement kSnapshot{"sync.snapshot", "VACUUM INTO $1"};

std::int64_t ms(SystemTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bool known_category(std::string_view c) {
    return c == "oval" || c == "sports_car" || c == "formula_car" || c == "dirt_oval" || c == "dirt_road";
}

int category_id(std::string_view c) {
    if (c == "oval") return 1;
    if (c == "dirt_oval") return 3;
    if (c == "dirt_road") return 4;
    if (c == "sports_car") return 5;
    if (c == "formula_car") return 6;
    return 0;
}

std::string day_text(SystemTime t) {
    const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buf;
}

// Set by iracing-members when a member's ratings moved; cleared by iracing-recent-races.
std::string raced_key(std::int64_t user_id) {
    return "pw:sync:raced:" + std::to_string(user_id);
}
// When iracing-recent-races last read a member: everyone is read at least once a day regardless.
std::string races_read_key(std::int64_t user_id) {
    return "pw:sync:races_read:" + std::to_string(user_id);
}
constexpr std::int64_t kDayMs = 86'400'000;
// Marks of what members looked at in the last hour: cache-warm keeps only those answers warm (no
// point refreshing the race guide every ten minutes at four in the morning).
constexpr std::string_view kHotRaceGuide = "pw:sync:hot:race_guide";
constexpr std::string_view kHotMembers = "pw:sync:hot:members";
constexpr auto kHotFor = std::chrono::hours(1);
// Everyone's recent races are read at least this often, also when their ratings did not move.
constexpr std::int64_t kRacesSweepMs = 7 * kDayMs;

ir::CallOptions background(const JobContext& ctx) {
    return {.priority = upstream::Priority::background, .deadline = ctx.deadline()};
}

// Stops a job politely when its deadline passed or the scheduler stops: what was done is kept.
Error stopped() {
    return Error(ErrorKind::unavailable, "jobs.deadline");
}

}  // namespace

// Counts what one run cost: upstream requests and cache hits between start and end (approximate
// when two jobs run at once on one node, which max_concurrent allows).
struct SyncService::Counter {
    const SyncDeps& deps;
    std::uint64_t iracing_start = deps.iracing.stats().data_requests;
    std::uint64_t garage61_start = deps.garage61.stats().requests;
    std::uint64_t discord_start = deps.discord.stats().requests;
    std::uint64_t hits_start = deps.cache ? deps.cache->stats().saved() : 0;

    JobOutcome outcome(std::int64_t items, std::string note = {}) const {
        JobOutcome o;
        o.items = items;
        o.upstream_calls = static_cast<std::int64_t>(deps.iracing.stats().data_requests - iracing_start +
                                                     deps.garage61.stats().requests - garage61_start +
                                                     deps.discord.stats().requests - discord_start);
        o.cache_hits = static_cast<std::int64_t>((deps.cache ? deps.cache->stats().saved() : 0) - hits_start);
        o.note = std::move(note);
        return o;
    }
};

// ---------------------------------------------------------------------------------------------------
// Member token sources

class MemberTokens::Source final : public integrations::TokenSource {
  public:
    Source(identity::Providers* providers, const Fallback* fallback, std::string provider,
           std::int64_t user_id)
        : providers_(providers), fallback_(fallback), provider_(std::move(provider)), user_id_(user_id) {}

    Result<std::string> access_token() override { return get(std::chrono::minutes(2)); }
    Result<std::string> refresh_after_unauthorized(std::string_view) override {
        // A margin longer than any token lifetime forces the refresh (one per account, across nodes).
        return get(std::chrono::hours(24 * 365));
    }

  private:
    Result<std::string> get(std::chrono::seconds margin) {
        if (providers_) {
            auto p = identity::parse_provider(provider_);
            if (!p) return Error(ErrorKind::internal, "auth.not_linked", {{"provider", provider_}});
            return providers_->access_token(*p, user_id_, margin);
        }
        if (fallback_ && *fallback_) return (*fallback_)(provider_, user_id_);
        return Error(ErrorKind::unavailable, "auth.not_linked", {{"provider", provider_}});
    }

    identity::Providers* providers_;
    const Fallback* fallback_;
    std::string provider_;
    std::int64_t user_id_;
};

MemberTokens::MemberTokens(identity::Providers* providers, Fallback fallback)
    : providers_(providers), fallback_(std::move(fallback)) {}

integrations::TokenSource& MemberTokens::of(std::string_view provider, std::int64_t user_id) {
    std::lock_guard lock(mutex_);
    auto& slot = sources_[{std::string(provider), user_id}];
    if (!slot) slot = std::make_unique<Source>(providers_, &fallback_, std::string(provider), user_id);
    return *slot;
}

// ---------------------------------------------------------------------------------------------------

SyncService::SyncService(SyncDeps deps, MemberTokens::Fallback token_fallback)
    : deps_(deps), tokens_(deps.providers, std::move(token_fallback)) {}
SyncService::~SyncService() = default;

const std::vector<std::string>& SyncService::job_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& job : job_defaults()) out.emplace_back(job.name);
        return out;
    }();
    return names;
}

Status SyncService::register_jobs(jobs::Scheduler& scheduler) {
    using Method = Result<JobOutcome> (SyncService::*)(JobContext&);
    static const std::map<std::string, Method, std::less<>> methods{
        {"iracing-members", &SyncService::iracing_members},
        {"iracing-irating-history", &SyncService::iracing_irating_history},
        {"iracing-recent-races", &SyncService::iracing_recent_races},
        {"iracing-weekly-schedule", &SyncService::iracing_weekly_schedule},
        {"iracing-league-results", &SyncService::iracing_league_results},
        {"garage61-laps", &SyncService::garage61_laps},
        {"garage61-cars", &SyncService::garage61_cars},
        {"subscription-audit", &SyncService::subscription_audit},
        {"discord-role-sync", &SyncService::discord_role_sync},
        {"cache-warm", &SyncService::cache_warm},
        {"stint-reminders", &SyncService::stint_reminders},
        {"dm-queue-sweeper", &SyncService::dm_queue_sweeper},
        {"token-refresh", &SyncService::token_refresh},
        {"housekeeping", &SyncService::housekeeping},
    };
    auto* self = this;
    for (const auto& name : job_names()) {
        const auto& text = deps_.config.sync.schedules.at(name);
        const bool enabled = text != "off";
        auto cron = jobs::CronExpression::parse(enabled ? text : "0 0 1 1 *");
        if (!cron) {
            auto error = cron.error();
            error.args.insert(error.args.begin(), {"key", "jobs." + name});
            return error;
        }
        const Method method = methods.at(name);
        if (auto added =
                scheduler.add({.name = name,
                               .schedule = *cron,
                               .timeout = std::chrono::seconds(deps_.config.sync.job_timeout_s),
                               .enabled = enabled,
                               .run = [self, method](JobContext& ctx) { return (self->*method)(ctx); }});
            !added)
            return added.error();
    }
    return {};
}

Result<std::vector<LinkedMember>> SyncService::linked(std::string_view provider) const {
    auto rows = deps_.sql.execute(kLinked, {std::string(provider)});
    if (!rows) return rows.error();
    std::vector<LinkedMember> out;
    for (const auto& r : rows->rows) out.push_back({r.int64(0), r.text(1), r.text(2), r.text(3), r.int64(4)});
    return out;
}

Result<integrations::TokenSource*> SyncService::team_token(std::string_view provider) {
    if (provider == "iracing" && deps_.service_account && deps_.service_account->configured())
        return static_cast<integrations::TokenSource*>(deps_.service_account);
    auto members = linked(provider);
    if (!members) return members.error();
    for (const auto& m : *members)
        if (m.status == "active") return &tokens_.of(provider, m.user_id);
    return Error(ErrorKind::unavailable, "sync.no_token", {{"provider", std::string(provider)}});
}

namespace {
// The roster in member/get batches of 50, sorted, so the job, the audit, cache-warm and live answers
// ask for the same batches and share their cache entries.
std::vector<std::vector<std::int64_t>> batches_of(std::vector<std::int64_t> ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::vector<std::vector<std::int64_t>> out;
    for (std::size_t at = 0; at < ids.size(); at += 50)
        out.emplace_back(ids.begin() + static_cast<std::ptrdiff_t>(at),
                         ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), at + 50)));
    return out;
}

std::vector<std::int64_t> cust_ids(const std::vector<LinkedMember>& members) {
    std::vector<std::int64_t> ids;
    for (const auto& m : members)
        if (auto id = std::strtoll(m.subject.c_str(), nullptr, 10); id > 0) ids.push_back(id);
    return ids;
}
}  // namespace

Result<std::string> SyncService::live_member_json(std::int64_t user_id) {
    auto members = linked("iracing");
    if (!members) return members.error();
    std::int64_t cust_id = 0;
    for (const auto& m : *members)
        if (m.user_id == user_id) cust_id = std::strtoll(m.subject.c_str(), nullptr, 10);
    if (cust_id <= 0) return Error(ErrorKind::not_found, "sync.not_linked");
    (void)deps_.kv.set(kHotMembers, "1", kHotFor);
    auto token = team_token("iracing");
    if (!token) return token.error();
    const ir::CallOptions interactive{.priority = upstream::Priority::interactive};
    std::vector<std::int64_t> batch;
    for (auto& b : batches_of(cust_ids(*members)))
        if (std::binary_search(b.begin(), b.end(), cust_id)) batch = std::move(b);
    auto found = deps_.iracing.members(batch, **token, interactive);
    if (!found) return found.error();
    auto races = deps_.iracing.recent_races(cust_id, **token, interactive);
    if (!races) return races.error();
    auto summary = deps_.iracing.member_summary(cust_id, **token, interactive);
    if (!summary) return summary.error();
    boost::json::object out{
        {"user_id", user_id},
        {"cust_id", cust_id},
        {"this_year", boost::json::object{{"official_sessions", summary->official_sessions},
                                          {"official_wins", summary->official_wins},
                                          {"league_sessions", summary->league_sessions},
                                          {"league_wins", summary->league_wins}}}};
    boost::json::array licenses;
    for (const auto& m : *found)
        if (m.cust_id == cust_id) {
            out["display_name"] = m.display_name;
            for (const auto& l : m.licenses)
                licenses.push_back(
                    boost::json::object{{"category", l.category},
                                        {"irating", l.irating},
                                        {"safety_rating", l.safety_rating},
                                        {"class", std::string(ir::license_class(l.group_id))}});
        }
    out["licenses"] = std::move(licenses);
    boost::json::array recent;
    for (const auto& r : *races)
        recent.push_back(
            boost::json::object{{"subsession_id", r.subsession_id},
                                {"series", r.series_name},
                                {"track", r.track_name},
                                {"started_at", ir::parse_iso_time_ms(r.session_start_time).value_or(0)},
                                {"start_position", r.start_position},
                                {"finish_position", r.finish_position},
                                {"incidents", r.incidents},
                                {"irating_change", r.newi_rating - r.oldi_rating}});
    out["recent_races"] = std::move(recent);
    return boost::json::serialize(out);
}

Result<std::string> SyncService::live_race_guide_json() {
    (void)deps_.kv.set(kHotRaceGuide, "1", kHotFor);
    auto token = team_token("iracing");
    if (!token) return token.error();
    const ir::CallOptions interactive{.priority = upstream::Priority::interactive};
    auto guide = deps_.iracing.race_guide(deps_.clock.now(), **token, interactive);
    if (!guide) return guide.error();
    auto seasons = deps_.iracing.seasons(**token, interactive);
    if (!seasons) return seasons.error();
    std::map<std::int64_t, std::string> names;
    for (const auto& s : *seasons) names[s.series_id] = s.series_name;
    boost::json::array sessions;
    const auto now = deps_.clock.now_ms();
    for (const auto& g : guide->sessions) {
        const auto starts = ir::parse_iso_time_ms(g.start_time).value_or(0);
        if (starts < now) continue;
        auto name = names.find(g.series_id);
        sessions.push_back(boost::json::object{{"series_id", g.series_id},
                                               {"series", name == names.end() ? std::string() : name->second},
                                               {"starts_at", starts},
                                               {"entry_count", g.entry_count}});
    }
    return boost::json::serialize(boost::json::object{{"sessions", std::move(sessions)}});
}

// 1. iRating, SR and licence per category for every linked member, 50 per member/get call.
Result<JobOutcome> SyncService::iracing_members(JobContext& ctx) {
    Counter counter{deps_};
    auto members = linked("iracing");
    if (!members) return members.error();
    if (members->empty()) return counter.outcome(0, "no linked iRacing accounts");
    auto token = team_token("iracing");
    if (!token) return token.error();
    std::map<std::int64_t, std::int64_t> user_of;  // cust_id -> user_id
    for (const auto& m : *members)
        if (auto id = std::strtoll(m.subject.c_str(), nullptr, 10); id > 0) user_of[id] = m.user_id;
    std::int64_t updated = 0;
    std::int64_t done = 0;
    std::vector<std::pair<std::int64_t, std::int64_t>> raced_members;  // user_id, cust_id
    const auto now = deps_.clock.now_ms();
    for (const auto& batch : batches_of(cust_ids(*members))) {
        if (ctx.should_stop()) return stopped();
        auto found = deps_.iracing.members(batch, **token, background(ctx));
        if (!found) return found.error();
        auto written = deps_.sql.write([&](store::Connection& c) -> Status {
            for (const auto& member : *found) {
                auto user = user_of.find(member.cust_id);
                if (user == user_of.end()) continue;
                // iRating or SR moved in any category (or first sync): the member raced. Their
                // results, summary and charts are due, and cached copies are stale.
                auto before = c.execute(kCurrentRatings, {user->second});
                if (!before) return before.error();
                std::map<std::string, std::pair<std::int64_t, double>> old_ratings;
                for (const auto& r : before->rows) old_ratings[r.text(0)] = {r.int64(1), r.real(2)};
                bool raced = old_ratings.empty();
                for (const auto& l : member.licenses) {
                    if (!known_category(l.category)) continue;
                    auto it = old_ratings.find(l.category);
                    if (it == old_ratings.end() || it->second.first != l.irating ||
                        std::abs(it->second.second - l.safety_rating) > 0.005)
                        raced = true;
                }
                if (raced) raced_members.push_back({user->second, member.cust_id});
                for (const auto& l : member.licenses) {
                    if (!known_category(l.category)) continue;
                    if (auto s =
                            c.execute(kUpsertRating, {user->second, l.category, l.irating, l.safety_rating,
                                                      std::string(ir::license_class(l.group_id)), now});
                        !s)
                        return s.error();
                }
                if (auto s = c.execute(kTouchLink, {user->second, std::string("iracing"), now}); !s)
                    return s.error();
                ++updated;
            }
            return {};
        });
        if (!written) return written.error();
        done += static_cast<std::int64_t>(batch.size());
        ctx.progress({done, static_cast<std::int64_t>(user_of.size()), {}});
    }
    for (const auto& [user_id, cust_id] : raced_members) {
        deps_.iracing.invalidate_member(cust_id);
        if (auto s = deps_.kv.set(raced_key(user_id), "1"); !s) return s.error();
    }
    return counter.outcome(updated, std::to_string(raced_members.size()) + " raced");
}

// 2. iRating history per rated category, for the profile chart.
Result<JobOutcome> SyncService::iracing_irating_history(JobContext& ctx) {
    Counter counter{deps_};
    auto members = linked("iracing");
    if (!members) return members.error();
    auto token = team_token("iracing");
    if (!token)
        return members->empty() ? Result<JobOutcome>(counter.outcome(0)) : Result<JobOutcome>(token.error());
    std::int64_t points = 0;
    std::int64_t done = 0;
    for (const auto& m : *members) {
        if (ctx.should_stop()) return stopped();
        const auto cust_id = std::strtoll(m.subject.c_str(), nullptr, 10);
        auto categories = deps_.sql.execute(kRatedCategories, {m.user_id});
        if (!categories) return categories.error();
        for (const auto& row : categories->rows) {
            const auto category = row.text(0);
            auto chart =
                deps_.iracing.irating_history(cust_id, category_id(category), **token, background(ctx));
            if (!chart) {
                if (chart.error().kind == ErrorKind::not_found) continue;
                return chart.error();
            }
            auto written = deps_.sql.write([&](store::Connection& c) -> Status {
                for (const auto& p : chart->points)
                    if (auto s = c.execute(kUpsertHistory, {m.user_id, category, p.day, p.value}); !s)
                        return s.error();
                return {};
            });
            if (!written) return written.error();
            points += static_cast<std::int64_t>(chart->points.size());
        }
        ctx.progress({++done, static_cast<std::int64_t>(members->size()), {}});
    }
    return counter.outcome(points);
}

// 3. Members' new official results; new ones go to the results feed (WebSocket topic "results").
Result<JobOutcome> SyncService::iracing_recent_races(JobContext& ctx) {
    Counter counter{deps_};
    auto members = linked("iracing");
    if (!members) return members.error();
    auto token = team_token("iracing");
    if (!token)
        return members->empty() ? Result<JobOutcome>(counter.outcome(0)) : Result<JobOutcome>(token.error());
    std::int64_t added = 0;
    std::int64_t done = 0;
    std::int64_t skipped = 0;
    const auto started = deps_.clock.now_ms();
    for (const auto& m : *members) {
        if (ctx.should_stop()) return stopped();
        // Due: the member raced since the last read (iracing-members saw their ratings move), or
        // was not read for a week (races that moved nothing, e.g. unofficial ones).
        auto raced = deps_.kv.get(raced_key(m.user_id));
        auto read_at = deps_.kv.get(races_read_key(m.user_id));
        if (!raced) return raced.error();
        if (!read_at) return read_at.error();
        const bool stale =
            !*read_at || std::strtoll((*read_at)->c_str(), nullptr, 10) < started - kRacesSweepMs;
        if (!*raced && !stale) {
            ++skipped;
            continue;
        }
        auto races = deps_.iracing.recent_races(std::strtoll(m.subject.c_str(), nullptr, 10), **token,
                                                background(ctx));
        if (!races) {
            if (races.error().kind == ErrorKind::not_found) continue;
            return races.error();
        }
        auto written = deps_.sql.write([&](store::Connection& c) -> Status {
            for (const auto& r : *races) {
                auto inserted = c.execute(
                    kInsertResult,
                    {m.user_id, r.subsession_id, r.series_id, r.series_name, r.track_name, r.car_id,
                     ir::parse_iso_time_ms(r.session_start_time).value_or(0), std::int64_t{r.start_position},
                     std::int64_t{r.finish_position}, std::int64_t{r.laps}, std::int64_t{r.incidents},
                     r.oldi_rating, r.newi_rating, r.strength_of_field});
                if (!inserted) return inserted.error();
                added += inserted->affected;
            }
            return {};
        });
        if (!written) return written.error();
        (void)deps_.kv.del(raced_key(m.user_id));
        if (auto s = deps_.kv.set(races_read_key(m.user_id), std::to_string(started)); !s) return s.error();
        ctx.progress({++done, static_cast<std::int64_t>(members->size()), {}});
    }
    // The results feed: announce what has not been announced yet (the bot posts these to Discord).
    auto unposted = deps_.sql.execute(kUnposted);
    if (!unposted) return unposted.error();
    const auto now = deps_.clock.now_ms();
    for (const auto& r : unposted->rows) {
        if (deps_.hub) {
            boost::json::object o{{"type", "result"},
                                  {"user_id", r.int64(0)},
                                  {"subsession_id", r.int64(1)},
                                  {"series", r.text(2)},
                                  {"track", r.text(3)},
                                  {"finish_position", r.int64(4)},
                                  {"irating_delta", r.int64(5)},
                                  {"member", r.text(6)}};
            deps_.hub->broadcast("results", boost::json::serialize(o));
        }
        if (auto s = deps_.sql.execute(kMarkPosted, {r.int64(0), r.int64(1), now}); !s) return s.error();
    }
    return counter.outcome(added, std::to_string(done) + " read, " + std::to_string(skipped) +
                                      " unchanged, " + std::to_string(unposted->rows.size()) + " posted");
}

// 4. Series schedules of the season's weeks and the sessions of the coming days.
Result<JobOutcome> SyncService::iracing_weekly_schedule(JobContext& ctx) {
    Counter counter{deps_};
    auto token = team_token("iracing");
    if (!token) return counter.outcome(0, "no iRacing token");
    auto seasons = deps_.iracing.seasons(**token, background(ctx));
    if (!seasons) return seasons.error();
    const auto now = deps_.clock.now();
    std::int64_t rows = 0;
    auto written = deps_.sql.write([&](store::Connection& c) -> Status {
        for (const auto& s : *seasons)
            for (const auto& w : s.schedules) {
                if (auto r = c.execute(
                        kUpsertWeek,
                        {s.season_id, std::int64_t{w.race_week_num}, s.series_id, s.series_name,
                         std::string(ir::category_key(w.category_id)),
                         w.config_name.empty() ? w.track_name : w.track_name + " - " + w.config_name,
                         w.start_date, ms(now)});
                    !r)
                    return r.error();
                ++rows;
            }
        return {};
    });
    if (!written) return written.error();
    // The race guide covers a few hours from `from`: walk the next 24 hours in 3-hour steps.
    std::int64_t sessions = 0;
    for (int step = 0; step < 8; ++step) {
        if (ctx.should_stop()) return stopped();
        auto guide = deps_.iracing.race_guide(now + std::chrono::hours(3 * step), **token, background(ctx));
        if (!guide) return guide.error();
        auto stored = deps_.sql.write([&](store::Connection& c) -> Status {
            for (const auto& g : guide->sessions) {
                auto starts = ir::parse_iso_time_ms(g.start_time);
                if (!starts) continue;
                auto ends = ir::parse_iso_time_ms(g.end_time).value_or(*starts + 3'600'000);
                if (auto r = c.execute(kUpsertSession, {g.season_id, g.series_id, *starts, ends,
                                                        std::int64_t{g.entry_count}});
                    !r)
                    return r.error();
                ++sessions;
            }
            return {};
        });
        if (!stored) return stored.error();
    }
    if (auto pruned = deps_.sql.execute(kPruneSessions, {ms(now) - 86'400'000}); !pruned)
        return pruned.error();
    return counter.outcome(rows + sessions, std::to_string(sessions) + " sessions");
}

// 5. The team league's sessions and the results of those that ran.
Result<JobOutcome> SyncService::iracing_league_results(JobContext& ctx) {
    Counter counter{deps_};
    const auto league = deps_.config.iracing.league_id;
    const auto season = deps_.config.iracing.league_season_id;
    if (league <= 0 || season <= 0) return counter.outcome(0, "no league configured");
    auto token = team_token("iracing");
    if (!token) return token.error();
    auto sessions = deps_.iracing.league_season_sessions(league, season, **token, background(ctx));
    if (!sessions) return sessions.error();
    const auto now = deps_.clock.now_ms();
    std::int64_t imported = 0;
    for (const auto& s : *sessions) {
        if (ctx.should_stop()) return stopped();
        if (auto r = deps_.sql.execute(
                kUpsertLeagueSession,
                {league, season, s.session_id,
                 s.subsession_id > 0 ? store::Value(s.subsession_id) : store::Value(store::Null{}),
                 ir::parse_iso_time_ms(s.launch_at).value_or(0), s.track_name,
                 std::int64_t{s.has_results ? 1 : 0}, now});
            !r)
            return r.error();
        if (!s.has_results || s.subsession_id <= 0) continue;
        auto have = deps_.sql.execute(kLeagueResultCount, {s.subsession_id});
        if (!have) return have.error();
        if (have->first().int64(0) > 0) continue;  // results of a finished session never change
        auto result = deps_.iracing.result(s.subsession_id, **token, background(ctx));
        if (!result) {
            if (result.error().kind == ErrorKind::not_found) continue;
            return result.error();
        }
        auto written = deps_.sql.write([&](store::Connection& c) -> Status {
            auto insert = [&](const ir::ResultRow& row) -> Status {
                if (row.cust_id <= 0) return {};
                store::Value best = row.best_lap_time > 0 ? store::Value(row.best_lap_time / 10)
                                                          : store::Value(store::Null{});
                auto r = c.execute(
                    kInsertLeagueResult,
                    {s.subsession_id, row.cust_id, row.display_name, std::int64_t{row.finish_position},
                     std::int64_t{row.laps_complete}, std::int64_t{row.incidents}, best, row.car_id});
                if (!r) return r.error();
                imported += r->affected;
                return {};
            };
            for (const auto& row : result->race) {
                if (auto s2 = insert(row); !s2) return s2;
                for (const auto& driver : row.driver_results)
                    if (auto s2 = insert(driver); !s2) return s2;
            }
            return {};
        });
        if (!written) return written.error();
    }
    return counter.outcome(imported);
}

// What both Garage61 jobs start from: linked members by Garage61 id, the team token, and a lap query
// over every car and track of the catalogue (the API requires both lists).
Result<SyncService::TeamLaps> SyncService::team_laps(const JobContext& ctx) {
    auto members = linked("garage61");
    if (!members) return members.error();
    TeamLaps team;
    for (const auto& m : *members) team.user_of[m.subject] = m.user_id;
    if (team.user_of.empty()) return team;
    auto token = team_token("garage61");
    if (!token) return token.error();
    team.token = *token;
    auto cars = deps_.garage61.cars(*team.token, {.deadline = ctx.deadline()});
    if (!cars) return cars.error();
    auto tracks = deps_.garage61.tracks(*team.token, {.deadline = ctx.deadline()});
    if (!tracks) return tracks.error();
    for (const auto& c : *cars) team.query.cars.push_back(c.id);
    for (const auto& t : *tracks) team.query.tracks.push_back(t.id);
    return team;
}

// 6. New laps of members since the newest stored lap: one team-wide query (the token's owner plus
// teammates), paged, instead of one query per member.
Result<JobOutcome> SyncService::garage61_laps(JobContext& ctx) {
    Counter counter{deps_};
    auto team = team_laps(ctx);
    if (!team) return team.error();
    if (team->user_of.empty()) return counter.outcome(0, "no linked Garage61 accounts");
    auto& [user_of, token, query] = *team;
    auto latest = deps_.sql.execute(kLatestLap);
    if (!latest) return latest.error();
    // Incremental by `after`: from the newest stored lap, minus an overlap for laps that were still
    // being driven (or uploaded late) at the last run; stored laps are skipped by id. The first run
    // goes back 90 days, not the whole history.
    const auto newest = latest->first().int64(0);
    const auto from = newest > 0 ? newest - 2 * 3'600'000 : deps_.clock.now_ms() - 90 * kDayMs;
    const auto in_day = ((from % 86'400'000) + 86'400'000) % 86'400'000;
    char clock_text[48];
    std::snprintf(clock_text, sizeof clock_text, "T%02lld:%02lld:%02lldZ",
                  static_cast<long long>(in_day / 3'600'000), static_cast<long long>(in_day / 60'000 % 60),
                  static_cast<long long>(in_day / 1000 % 60));
    query.after = day_text(SystemTime(std::chrono::milliseconds(from))) + clock_text;
    auto laps = deps_.garage61.laps(query, *token, {.deadline = ctx.deadline()});
    if (!laps) return laps.error();
    std::int64_t added = 0;
    auto written = deps_.sql.write([&](store::Connection& c) -> Status {
        for (const auto& lap : *laps) {
            auto user = user_of.find(lap.driver_id);
            if (user == user_of.end()) continue;  // a teammate who has not linked Pitwall
            auto r = c.execute(
                kInsertLap,
                {lap.id, user->second, lap.car.platform_id, lap.car.name,
                 lap.track.variant.empty() ? lap.track.name : lap.track.name + " - " + lap.track.variant,
                 static_cast<std::int64_t>(lap.lap_time_s * 1000.0), std::int64_t{lap.clean ? 1 : 0},
                 std::int64_t{lap.session_type}, ir::parse_iso_time_ms(lap.start_time).value_or(0)});
            if (!r) return r.error();
            added += r->affected;
        }
        return {};
    });
    if (!written) return written.error();
    return counter.outcome(added);
}

// 7. Which cars each member drives: personal bests per driver and car (group=driver-car) over every
// car and track, for the planner's car-ownership checks.
Result<JobOutcome> SyncService::garage61_cars(JobContext& ctx) {
    Counter counter{deps_};
    auto team = team_laps(ctx);
    if (!team) return team.error();
    if (team->user_of.empty()) return counter.outcome(0, "no linked Garage61 accounts");
    auto& [user_of, token, query] = *team;
    query.group = g61::LapGrouping::driver_car;
    auto bests = deps_.garage61.laps(query, *token, {.deadline = ctx.deadline()});
    if (!bests) return bests.error();
    // Best per (member, car) over all tracks.
    std::map<std::pair<std::int64_t, std::int64_t>, const g61::Lap*> best;
    for (const auto& lap : *bests) {
        auto user = user_of.find(lap.driver_id);
        if (user == user_of.end() || lap.car.platform_id <= 0) continue;
        auto& slot = best[{user->second, lap.car.platform_id}];
        if (!slot || ir::parse_iso_time_ms(lap.start_time) > ir::parse_iso_time_ms(slot->start_time))
            slot = &lap;
    }
    auto written = deps_.sql.write([&](store::Connection& c) -> Status {
        for (const auto& [key, lap] : best)
            if (auto r = c.execute(kUpsertMemberCar, {key.first, key.second, lap->car.name,
                                                      static_cast<std::int64_t>(lap->lap_time_s * 1000.0),
                                                      ir::parse_iso_time_ms(lap->start_time).value_or(0)});
                !r)
                return r.error();
        return {};
    });
    if (!written) return written.error();
    return counter.outcome(static_cast<std::int64_t>(best.size()));
}

// 8. Linked accounts still valid, iRacing account active, Garage61 plan, member still in the guild.
Result<JobOutcome> SyncService::subscription_audit(JobContext& ctx) {
    Counter counter{deps_};
    struct Finding {
        std::int64_t user_id;
        std::string kind;
        std::string detail;
    };
    std::vector<Finding> findings;
    auto iracing = linked("iracing");
    if (!iracing) return iracing.error();
    std::vector<std::int64_t> ids;
    std::map<std::int64_t, std::int64_t> user_of;
    for (const auto& m : *iracing) {
        if (m.status != "active") {
            findings.push_back({m.user_id, "iracing_token", m.status});
            continue;
        }
        const auto id = std::strtoll(m.subject.c_str(), nullptr, 10);
        ids.push_back(id);
        user_of[id] = m.user_id;
    }
    if (!ids.empty()) {
        auto token = team_token("iracing");
        if (!token) return token.error();
        std::set<std::int64_t> seen;
        for (const auto& batch : batches_of(cust_ids(*iracing))) {  // the job's batches: shared cache keys
            if (ctx.should_stop()) return stopped();
            auto found = deps_.iracing.members(batch, **token, background(ctx));
            if (!found) return found.error();
            for (const auto& m : *found) seen.insert(m.cust_id);
        }
        // member/get silently drops ids it cannot return: a closed or inactive account.
        for (auto id : ids)
            if (!seen.contains(id)) findings.push_back({user_of[id], "iracing_inactive", std::to_string(id)});
    }
    auto garage61 = linked("garage61");
    if (!garage61) return garage61.error();
    for (const auto& m : *garage61) {
        if (ctx.should_stop()) return stopped();
        if (m.status != "active") {
            findings.push_back({m.user_id, "garage61_token", m.status});
            continue;
        }
        auto me = deps_.garage61.me(tokens_.of("garage61", m.user_id), {.deadline = ctx.deadline()});
        if (!me) {
            if (me.error().kind == ErrorKind::unauthorized || me.error().code == "auth.link_expired")
                findings.push_back({m.user_id, "garage61_token", me.error().code});
            else if (me.error().kind != ErrorKind::unavailable && me.error().kind != ErrorKind::rate_limited)
                findings.push_back({m.user_id, "garage61_token", me.error().code});
            else
                return me.error();
            continue;
        }
        if (me->subscription_plan.empty() || me->subscription_plan == "free")
            findings.push_back({m.user_id, "garage61_plan",
                                me->subscription_plan.empty() ? "unknown" : me->subscription_plan});
    }
    auto left = deps_.sql.execute(kLeftGuild);
    if (!left) return left.error();
    for (const auto& r : left->rows) findings.push_back({r.int64(0), "left_guild", {}});
    const auto now = deps_.clock.now_ms();
    auto written = deps_.sql.write([&](store::Connection& c) -> Status {
        if (auto r = c.execute(kClearFindings); !r) return r.error();
        for (const auto& f : findings)
            if (auto r = c.execute(kInsertFinding, {f.user_id, f.kind, f.detail, now}); !r) return r.error();
        return {};
    });
    if (!written) return written.error();
    return counter.outcome(static_cast<std::int64_t>(iracing->size() + garage61->size()),
                           std::to_string(findings.size()) + " findings");
}

// 9. Discord roles -> site roles for every member (the guild's member list with the bot token).
Result<JobOutcome> SyncService::discord_role_sync(JobContext&) {
    Counter counter{deps_};
    if (!deps_.discord.configured() || deps_.config.discord.guild_id.empty())
        return counter.outcome(0, "no bot token or guild configured");
    auto members = deps_.discord.guild_members(deps_.config.discord.guild_id);
    if (!members) return members.error();
    std::vector<std::pair<std::string, identity::GuildMembership>> memberships;
    for (auto& m : *members)
        memberships.push_back(
            {m.user_id, identity::GuildMembership{true, m.nickname, std::move(m.role_ids)}});
    auto changed = deps_.users.apply_guild_members(memberships);
    if (!changed) return changed.error();
    return counter.outcome(static_cast<std::int64_t>(memberships.size()),
                           std::to_string(*changed) + " roles changed");
}

// 10. Hot answers computed before people ask: the catalogues always; the season and race guide, and
// the roster's member records, while members are looking at them (a view in the last hour).
Result<JobOutcome> SyncService::cache_warm(JobContext& ctx) {
    Counter counter{deps_};
    if (!deps_.cache) return counter.outcome(0, "no cache");
    auto hot = [&](std::string_view key) {
        auto v = deps_.kv.get(key);
        return v && *v;
    };
    std::int64_t warmed = 0;
    if (auto token = team_token("iracing")) {
        const auto options = background(ctx);
        // Catalogues: cheap (cached for a day), needed by every job and page.
        if (deps_.iracing.cars(**token, options)) ++warmed;
        if (deps_.iracing.tracks(**token, options)) ++warmed;
        if (hot(kHotRaceGuide)) {
            if (deps_.iracing.seasons(**token, options)) ++warmed;
            if (deps_.iracing.race_guide(deps_.clock.now(), **token, options)) ++warmed;
        }
        if (hot(kHotMembers)) {
            auto members = linked("iracing");
            if (!members) return members.error();
            for (const auto& batch : batches_of(cust_ids(*members)))
                if (deps_.iracing.members(batch, **token, options)) ++warmed;
        }
    }
    if (auto token = team_token("garage61")) {
        if (deps_.garage61.cars(**token, {.deadline = ctx.deadline()})) ++warmed;
        if (deps_.garage61.tracks(**token, {.deadline = ctx.deadline()})) ++warmed;
    }
    return counter.outcome(warmed);
}

// 11. Reminders 30, 15 and 5 minutes before each published stint (planner::Planner::send_reminders):
// DMs through the queue, each once per stint, mark and start time.
Result<JobOutcome> SyncService::stint_reminders(JobContext&) {
    Counter counter{deps_};
    if (!deps_.stint_reminders) return counter.outcome(0, "no planner");
    auto due = deps_.stint_reminders();
    if (!due) return due.error();
    return counter.outcome(*due);
}

// 12. The DM queue's safety net: records whose queue item was lost go back to the queue, settled
// records past dm.keep_days are pruned (retries and dead letters happen as outcomes arrive).
Result<JobOutcome> SyncService::dm_queue_sweeper(JobContext&) {
    Counter counter{deps_};
    std::int64_t requeued = 0;
    if (deps_.dm_sweep) {
        auto swept = deps_.dm_sweep();
        if (!swept) return swept.error();
        requeued = *swept;
    }
    auto counts = deps_.kv.queue_counts("dm");
    if (!counts) return counts.error();
    return counter.outcome(requeued, std::to_string(counts->ready) + " ready, " +
                                         std::to_string(counts->delayed) + " delayed, " +
                                         std::to_string(requeued) + " re-queued");
}

// 13. Tokens nearing expiry are refreshed ahead of time (service account and member links).
Result<JobOutcome> SyncService::token_refresh(JobContext& ctx) {
    Counter counter{deps_};
    std::int64_t refreshed = 0;
    if (deps_.service_account && deps_.service_account->configured()) {
        auto r = deps_.service_account->refresh_if_expiring(std::chrono::minutes(6));
        if (!r) return r.error();
        refreshed += *r ? 1 : 0;
    }
    auto expiring = deps_.sql.execute(kExpiringLinks, {deps_.clock.now_ms() + 10 * 60'000});
    if (!expiring) return expiring.error();
    std::int64_t failed = 0;
    for (const auto& row : expiring->rows) {
        if (ctx.should_stop()) return stopped();
        if (!deps_.providers) break;
        auto p = identity::parse_provider(row.text(1));
        if (!p) continue;
        auto token = deps_.providers->access_token(*p, row.int64(0), std::chrono::minutes(10));
        if (token)
            ++refreshed;
        else
            ++failed;  // the link is marked expired and shows up in the subscription audit
    }
    return counter.outcome(refreshed, failed ? std::to_string(failed) + " failed" : std::string());
}

// 14. Old sync log rows, runs a crashed node left open, SQLite optimize and a daily snapshot. Expired
// sessions need nothing: both KV engines drop keys at their TTL.
Result<JobOutcome> SyncService::housekeeping(JobContext&) {
    Counter counter{deps_};
    const auto now = deps_.clock.now_ms();
    auto pruned = deps_.log.prune(now - deps_.config.sync.keep_runs_days * 86'400'000);
    if (!pruned) return pruned.error();
    auto abandoned = deps_.log.close_abandoned(deps_.config.sync.job_timeout_s * 1000 * 2);
    if (!abandoned) return abandoned.error();
    std::string note = std::to_string(*pruned) + " runs pruned";
    if (deps_.sql.dialect() == store::Dialect::sqlite) {
        // On the writer: SQLite calls the pragma read-only, so execute() would send it to a read-only
        // reader connection, where the ANALYZE it decides to run fails.
        if (auto r = deps_.sql.write([](store::Connection& c) -> Status {
                auto optimized = c.execute(kOptimize);
                if (!optimized) return optimized.error();
                return {};
            });
            !r)
            return r.error();
        namespace fs = std::filesystem;
        const fs::path dir = fs::path(deps_.config.data_dir) / "snapshots";
        std::error_code ec;
        fs::create_directories(dir, ec);
        const fs::path target = dir / ("pitwall-" + day_text(deps_.clock.now()) + ".db");
        if (!ec && !fs::exists(target, ec)) {
            if (auto r = deps_.sql.execute(kSnapshot, {target.string()}); !r) return r.error();
            note += ", snapshot " + target.filename().string();
        }
        // Keep the newest seven snapshots.
        std::vector<fs::path> snapshots;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (entry.path().extension() == ".db") snapshots.push_back(entry.path());
        std::sort(snapshots.begin(), snapshots.end());
        while (snapshots.size() > 7) {
            fs::remove(snapshots.front(), ec);
            snapshots.erase(snapshots.begin());
        }
    }
    return counter.outcome(*pruned + *abandoned, note);
}

}  // namespace pitwall::sync
