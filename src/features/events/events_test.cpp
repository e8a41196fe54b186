// Events on a real SQLite file migrated with the shipped migrations: creating events, registering
// (idempotent, with the change reported), availability and coverage, the member's next event, the
// /ws broadcasts and the change observer; the pages' data and the shipped templates rendering it;
// the demo seed's events.
#include "features/events/events.hpp"

#include <array>
#include <filesystem>
#include <stdexcept>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "features/demo/seed.hpp"
#include "features/events/views.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/i18n/catalog.hpp"
#include "platform/store/migrate.hpp"
#include "platform/store/sql.hpp"
#include "platform/web/templates.hpp"
#include "support/temp_dir.hpp"

namespace pitwall::events {
namespace {

const std::filesystem::path kSource = PITWALL_SOURCE_DIR;
constexpr std::int64_t kNowMs = 1774785600000;  // Sunday 2026-03-29 12:00 UTC
constexpr std::int64_t kNow = kNowMs / 1000;
constexpr std::int64_t kHour = kHourSeconds;
constexpr std::int64_t kDay = 24 * kHour;

template <typename T>
T must(Result<T> result) {
    if (!result) throw std::runtime_error(result.error().code + ": " + result.error().detail);
    return std::move(result).value();
}
void must(const Status& status) {
    if (!status) throw std::runtime_error(status.error().code + ": " + status.error().detail);
}
template <typename T>
std::string code_of(const Result<T>& result) {
    return result ? std::string("ok") : result.error().code;
}

constexpr store::Statement kAddUser{
    "test.add_user",
    "INSERT INTO users (discord_id, username, global_name, site_role, time_zone, created_at, updated_at) "
    "VALUES ($1, $1, $2, 'member', $3, 0, 0) RETURNING id"};
constexpr store::Statement kCountRows{
    "test.count_rows",
    "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM event_registrations), "
    "(SELECT COUNT(*) FROM event_availability)"};

class FakePeer : public http::WsPeer {
  public:
    void send(std::shared_ptr<const std::string> frame) override { frames.push_back(std::move(frame)); }
    [[nodiscard]] const std::string& locale() const override { return locale_; }
    [[nodiscard]] boost::json::object data(std::size_t i) const {
        auto frame = boost::json::parse(*frames.at(i)).as_object();
        EXPECT_EQ(frame.at("type"), "event");
        return frame.at("data").as_object();
    }
    std::vector<std::shared_ptr<const std::string>> frames;
    std::string locale_ = "en";
};

class EventsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = must(store::open_sqlite({(dir_.path() / "pitwall.db").string()}));
        must(store::migrate(*db_,
                            must(store::load_migrations(kSource / "migrations", store::Dialect::sqlite))));
        events_ = std::make_unique<Events>(*db_, clock_, &hub_);
        hub_.attach(peer_);
    }

    std::int64_t add_user(const std::string& username, const std::string& display = "",
                          const std::string& zone = "Europe/Istanbul") {
        return must(db_->execute(
                        kAddUser,
                        {username, display.empty() ? store::Value(store::Null{}) : store::Value(display),
                         zone}))
            .first()
            .int64(0);
    }
    // An event starting `in` seconds from now, `minutes` long.
    Event add_event(std::int64_t in, std::int64_t minutes, const std::string& name = "Spa 24 Hours") {
        return must(events_->create({name, "Circuit de Spa-Francorchamps", "GT3", kNow + in, minutes, "", ""},
                                    std::nullopt));
    }
    void subscribe(std::int64_t event_id) {
        const auto reply = hub_.handle_client_frame(
            peer_.get(), R"({"op":"subscribe","topic":")" + Events::topic(event_id) + R"("})");
        ASSERT_NE(reply.find("subscribed"), std::string::npos) << reply;
    }
    std::array<std::int64_t, 3> counts() {
        const auto row = must(db_->execute(kCountRows)).first();
        return {row.int64(0), row.int64(1), row.int64(2)};
    }

    test_support::TempDir dir_{"pitwall-events"};
    std::unique_ptr<store::Database> db_;
    ManualClock clock_{kNowMs};
    http::WsHub hub_{nullptr, 8};
    std::shared_ptr<FakePeer> peer_ = std::make_shared<FakePeer>();
    std::unique_ptr<Events> events_;
};

TEST_F(EventsTest, CreateValidatesTheDraftAndWritesNothingWhenItRefuses) {
    const EventDraft good{"  Spa 24 Hours ", "Spa", "", kNow + kDay, 1440, "", ""};
    auto with = [&](auto change) {
        EventDraft d = good;
        change(d);
        return code_of(events_->create(d, std::nullopt));
    };
    EXPECT_EQ(with([](EventDraft& d) { d.name = "   "; }), "events.bad_name");
    EXPECT_EQ(with([](EventDraft& d) { d.name = std::string(121, 'x'); }), "events.bad_name");
    EXPECT_EQ(with([](EventDraft& d) { d.name = "a\x01b"; }), "events.bad_name");
    EXPECT_EQ(with([](EventDraft& d) { d.name = "bad \xC3\x28 utf-8"; }), "events.bad_name");
    EXPECT_EQ(with([](EventDraft& d) { d.track = ""; }), "events.bad_track");
    EXPECT_EQ(with([](EventDraft& d) { d.car_class = std::string(61, 'x'); }), "events.bad_class");
    EXPECT_EQ(with([](EventDraft& d) { d.duration_min = 0; }), "events.bad_duration");
    EXPECT_EQ(with([](EventDraft& d) { d.duration_min = 2881; }), "events.bad_duration");
    EXPECT_EQ(with([](EventDraft& d) { d.starts_at = kNow; }), "events.bad_start");
    EXPECT_EQ(with([](EventDraft& d) { d.starts_at = kNow - kHour; }), "events.bad_start");
    EXPECT_EQ(with([](EventDraft& d) { d.discord_role_id = "12ab"; }), "events.bad_discord_id");
    EXPECT_EQ(with([](EventDraft& d) { d.discord_channel_id = "99999999999999999999"; }),
              "events.bad_discord_id");
    EXPECT_EQ(counts()[0], 0);

    // 120 characters, not bytes: Turkish letters are two bytes each.
    EventDraft turkish = good;
    turkish.name = "";
    for (int i = 0; i < 120; ++i) turkish.name += "ş";
    turkish.discord_channel_id = " 1187000000000000001 ";
    turkish.duration_min = 2880;
    const auto created = must(events_->create(turkish, add_user("owner")));
    EXPECT_EQ(created.name.size(), 240u);
    EXPECT_EQ(created.discord_channel_id, "1187000000000000001");
    EXPECT_FALSE(created.discord_role_id.has_value());
    EXPECT_TRUE(created.created_by.has_value());
    EXPECT_EQ(created.created_at, kNow);
    EXPECT_EQ(created.registered, 0);
    const auto spa = must(events_->create(good, std::nullopt));
    EXPECT_EQ(spa.name, "Spa 24 Hours");  // trimmed
    EXPECT_EQ(must(events_->get(spa.id)).ends_at(), kNow + kDay + kDay);
    EXPECT_EQ(code_of(events_->get(999)), "events.not_found");
}

TEST_F(EventsTest, RegisteringIsIdempotentAndReportsWhatChanged) {
    const auto event = add_event(kDay, 360);
    const auto mert = add_user("mert", "Mert Yılmaz");

    auto first = must(events_->register_member(event.id, mert, Role::driver, Source::web, "Can start"));
    EXPECT_EQ(first.kind, ChangeKind::registered);
    EXPECT_EQ(first.role, Role::driver);
    EXPECT_FALSE(first.previous_role.has_value());
    EXPECT_EQ(first.user_id, mert);
    EXPECT_EQ(first.event.id, event.id);
    EXPECT_EQ(first.event.registered, 1);

    auto again = must(events_->register_member(event.id, mert, "driver", Source::discord));
    EXPECT_EQ(again.kind, ChangeKind::unchanged);
    EXPECT_FALSE(again.changed());
    EXPECT_EQ(again.role, Role::driver);
    EXPECT_EQ(again.event.registered, 1);

    auto spotter = must(events_->register_member(event.id, mert, "spotter", Source::discord));
    EXPECT_EQ(spotter.kind, ChangeKind::updated);
    EXPECT_EQ(spotter.role, Role::spotter);
    EXPECT_EQ(spotter.previous_role, Role::driver);

    auto list = must(events_->registrations(event.id));
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].name, "Mert Yılmaz");
    EXPECT_EQ(list[0].role, Role::spotter);
    EXPECT_EQ(list[0].source, Source::discord);  // where it last changed
    EXPECT_EQ(list[0].note, "Can start");        // no note given: kept
    EXPECT_EQ(list[0].time_zone, "Europe/Istanbul");
    EXPECT_EQ(list[0].discord_id, "mert");

    // The same role with another note is a change; with the same note it is not.
    EXPECT_EQ(must(events_->register_member(event.id, mert, Role::spotter, Source::web, " Nights ")).kind,
              ChangeKind::updated);
    EXPECT_EQ(must(events_->registrations(event.id))[0].note, "Nights");
    EXPECT_EQ(must(events_->register_member(event.id, mert, Role::spotter, Source::web, "Nights")).kind,
              ChangeKind::unchanged);

    auto removed = must(events_->unregister(event.id, mert, Source::web));
    EXPECT_EQ(removed.kind, ChangeKind::removed);
    EXPECT_FALSE(removed.role.has_value());
    EXPECT_EQ(removed.previous_role, Role::spotter);
    EXPECT_EQ(removed.event.registered, 0);
    EXPECT_EQ(must(events_->unregister(event.id, mert, Source::web)).kind, ChangeKind::unchanged);
    EXPECT_TRUE(must(events_->registrations(event.id)).empty());

    EXPECT_EQ(code_of(events_->register_member(999, mert, Role::driver, Source::web)), "events.not_found");
    EXPECT_EQ(code_of(events_->unregister(999, mert, Source::web)), "events.not_found");
    EXPECT_EQ(
        code_of(events_->register_member(event.id, mert, Role::driver, Source::web, std::string(501, 'x'))),
        "events.bad_note");
    EXPECT_EQ(code_of(events_->register_member(event.id, 4242, Role::driver, Source::web)),
              "store.constraint");
}

TEST_F(EventsTest, ABadRoleIsRefusedWithNothingWrittenOrAnnounced) {
    const auto event = add_event(kDay, 360);
    subscribe(event.id);
    int observed = 0;
    events_->on_change([&](const RegistrationChange&) { ++observed; });
    const auto ece = add_user("ece");
    for (std::string_view role : {"", "pilot", "Driver", "owner", "driver "})
        EXPECT_EQ(code_of(events_->register_member(event.id, ece, role, Source::discord)), "events.bad_role")
            << role;
    EXPECT_EQ(code_of(events_->register_member(event.id, ece, static_cast<Role>(7), Source::web)),
              "events.bad_role");
    EXPECT_EQ(counts()[1], 0);
    EXPECT_TRUE(peer_->frames.empty());
    EXPECT_EQ(observed, 0);
}

TEST_F(EventsTest, NoRegistrationChangesOnceTheRaceHasStarted) {
    const auto event = add_event(2 * kHour, 120);
    const auto kaan = add_user("kaan"), deniz = add_user("deniz");
    must(events_->register_member(event.id, kaan, Role::both, Source::web));
    must(events_->set_availability(event.id, kaan, {kNow + 2 * kHour}));

    clock_.advance(std::chrono::hours(2));  // the start: closed
    EXPECT_EQ(code_of(events_->register_member(event.id, deniz, Role::driver, Source::discord)),
              "events.closed");
    EXPECT_EQ(code_of(events_->register_member(event.id, kaan, Role::driver, Source::web)), "events.closed");
    EXPECT_EQ(code_of(events_->unregister(event.id, kaan, Source::web)), "events.closed");
    EXPECT_EQ(events_->set_availability(event.id, kaan, {}).error().code, "events.closed");
    EXPECT_EQ(code_of(events_->update(event.id, {"Renamed", "Spa", "", kNow + kDay, 60, "", ""})),
              "events.closed");
    clock_.advance(std::chrono::hours(5));  // finished: still closed
    EXPECT_EQ(code_of(events_->unregister(event.id, kaan, Source::web)), "events.closed");

    const auto list = must(events_->registrations(event.id));
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].role, Role::both);
    EXPECT_EQ(must(events_->availability(event.id, kaan)), (std::vector<std::int64_t>{kNow + 2 * kHour}));
    EXPECT_EQ(must(events_->get(event.id)).name, "Spa 24 Hours");
}

TEST_F(EventsTest, AvailabilityOutsideTheRaceWindowIsRefusedWithNothingChanged) {
    // 13:30 for 90 minutes: the race hours are 13:00 and 14:00 (UTC).
    const auto event = add_event(kDay + 90 * 60, 90);
    const std::int64_t first = kNow + kDay + kHour;  // 13:00 tomorrow
    ASSERT_EQ(event.first_hour(), first);
    const auto lara = add_user("lara"), noah = add_user("noah");
    EXPECT_EQ(events_->set_availability(event.id, lara, {first}).error().code, "events.not_registered");
    must(events_->register_member(event.id, lara, Role::driver, Source::web));
    must(
        events_->set_availability(event.id, lara, {first + kHour, first, first}));  // a duplicate counts once
    EXPECT_EQ(must(events_->availability(event.id, lara)), (std::vector<std::int64_t>{first, first + kHour}));

    for (const std::vector<std::int64_t>& bad :
         {std::vector<std::int64_t>{first - kHour}, std::vector<std::int64_t>{first, first + 2 * kHour},
          std::vector<std::int64_t>{first + 60}, std::vector<std::int64_t>{event.starts_at}}) {
        const auto status = events_->set_availability(event.id, lara, bad);
        ASSERT_FALSE(status.ok());
        EXPECT_EQ(status.error().code, "events.bad_hours");
    }
    EXPECT_EQ(must(events_->availability(event.id, lara)), (std::vector<std::int64_t>{first, first + kHour}));
    EXPECT_EQ(counts()[2], 2);
    EXPECT_EQ(events_->set_availability(999, lara, {}).error().code, "events.not_found");
    EXPECT_EQ(code_of(events_->availability(999, lara)), "events.not_found");
    EXPECT_TRUE(must(events_->availability(event.id, noah)).empty());

    must(events_->set_availability(event.id, lara, {}));  // none: cleared
    EXPECT_TRUE(must(events_->availability(event.id, lara)).empty());
}

TEST_F(EventsTest, CoverageCountsRegisteredMembersPerRaceHour) {
    const auto event = add_event(kDay, 4 * 60);  // 12:00 to 16:00 tomorrow: four hours
    const std::int64_t h0 = event.starts_at;
    const auto a = add_user("a"), b = add_user("b"), c = add_user("c");
    must(events_->register_member(event.id, a, Role::driver, Source::web));
    must(events_->register_member(event.id, b, Role::spotter, Source::web));
    must(events_->register_member(event.id, c, Role::both, Source::discord));
    must(events_->set_availability(event.id, a, {h0, h0 + kHour, h0 + 2 * kHour}));
    must(events_->set_availability(event.id, b, {h0 + kHour}));
    must(events_->set_availability(event.id, c, {h0 + kHour, h0 + 3 * kHour}));

    auto coverage = must(events_->coverage(event.id));
    ASSERT_EQ(coverage.size(), 4u);
    auto expect = [&](std::size_t i, std::int64_t available, std::int64_t drivers, std::int64_t spotters) {
        EXPECT_EQ(coverage[i].hour_start, h0 + static_cast<std::int64_t>(i) * kHour) << i;
        EXPECT_EQ(coverage[i].available, available) << i;
        EXPECT_EQ(coverage[i].drivers, drivers) << i;
        EXPECT_EQ(coverage[i].spotters, spotters) << i;
    };
    expect(0, 1, 1, 0);
    expect(1, 3, 2, 2);
    expect(2, 1, 1, 0);
    expect(3, 1, 1, 1);

    // Withdrawing takes the member's hours along.
    must(events_->unregister(event.id, c, Source::discord));
    coverage = must(events_->coverage(event.id));
    expect(1, 2, 1, 1);
    expect(3, 0, 0, 0);
    EXPECT_EQ(counts()[2], 4);
    EXPECT_EQ(code_of(events_->coverage(999)), "events.not_found");
}

TEST_F(EventsTest, UpdateMovesTheRaceWindowAndDropsHoursOutsideIt) {
    const auto event = add_event(kDay, 3 * 60);
    const auto a = add_user("a");
    must(events_->register_member(event.id, a, Role::driver, Source::web));
    must(events_->set_availability(event.id, a,
                                   {event.starts_at, event.starts_at + kHour, event.starts_at + 2 * kHour}));
    subscribe(event.id);
    const auto updated = must(
        events_->update(event.id, {"Spa 2 Hours", "Spa", "GT3", event.starts_at + kHour, 120, "", "42"}));
    EXPECT_EQ(updated.name, "Spa 2 Hours");
    EXPECT_EQ(updated.discord_role_id, "42");
    EXPECT_EQ(updated.registered, 1);
    EXPECT_EQ(must(events_->availability(event.id, a)),
              (std::vector<std::int64_t>{event.starts_at + kHour, event.starts_at + 2 * kHour}));
    ASSERT_EQ(peer_->frames.size(), 1u);
    EXPECT_EQ(peer_->data(0).at("type"), "availability");
    EXPECT_EQ(code_of(events_->update(999, {"x", "y", "", kNow + kDay, 60, "", ""})), "events.not_found");
    EXPECT_EQ(code_of(events_->update(event.id, {"", "y", "", kNow + kDay, 60, "", ""})), "events.bad_name");
}

TEST_F(EventsTest, ListsAndTheMembersNextRegistration) {
    const auto soon = add_event(kHour, 120, "Sprint");
    const auto later = add_event(3 * kDay, 1440, "Spa 24 Hours");
    const auto other = add_event(30 * 60, 60, "Not mine");
    const auto mia = add_user("mia"), noah = add_user("noah");
    must(events_->register_member(later.id, mia, Role::both, Source::discord, "Nights"));
    must(events_->register_member(soon.id, mia, Role::driver, Source::web));
    must(events_->register_member(other.id, noah, Role::driver, Source::web));

    auto next = must(events_->next_registration(mia, kNow));
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->event.id, soon.id);
    EXPECT_EQ(next->role, Role::driver);
    EXPECT_EQ(next->event.registered, 1);
    // While the sprint runs it is still the next; once it has finished, Spa is.
    next = must(events_->next_registration(mia, soon.starts_at + 30 * 60));
    EXPECT_EQ(next->event.id, soon.id);
    next = must(events_->next_registration(mia, soon.ends_at()));
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->event.id, later.id);
    EXPECT_EQ(next->role, Role::both);
    EXPECT_EQ(next->source, Source::discord);
    EXPECT_EQ(next->note, "Nights");
    EXPECT_FALSE(must(events_->next_registration(mia, later.ends_at())).has_value());
    EXPECT_FALSE(must(events_->next_registration(add_user("nobody"), kNow)).has_value());

    const auto roles = must(events_->roles_of(mia));
    EXPECT_EQ(roles.size(), 2u);
    EXPECT_EQ(roles.at(later.id), Role::both);

    auto upcoming = must(events_->list_upcoming(10));
    ASSERT_EQ(upcoming.size(), 3u);
    EXPECT_EQ(upcoming[0].id, other.id);  // soonest first
    EXPECT_EQ(upcoming[2].id, later.id);
    EXPECT_EQ(must(events_->list_upcoming(1)).size(), 1u);
    clock_.advance(std::chrono::hours(3));  // the sprint and "Not mine" are over
    upcoming = must(events_->list_upcoming(10));
    ASSERT_EQ(upcoming.size(), 1u);
    EXPECT_EQ(upcoming[0].id, later.id);
    const auto all = must(events_->list_all());
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].id, later.id);  // latest start first
    EXPECT_EQ(all[0].registered, 1);
}

TEST_F(EventsTest, ChangesAreBroadcastOnTheEventsTopic) {
    EXPECT_TRUE(http::WsHub::valid_topic("event:12"));
    const auto event = add_event(kDay, 120);
    const auto ece = add_user("ece", "Ece Kaya"), can = add_user("can");
    subscribe(event.id);
    EXPECT_EQ(Events::topic(event.id), "event:" + std::to_string(event.id));

    must(events_->register_member(event.id, ece, Role::driver, Source::web, "secret note"));
    must(events_->register_member(event.id, can, "both", Source::discord));
    ASSERT_EQ(peer_->frames.size(), 2u);
    auto frame = boost::json::parse(*peer_->frames[1]).as_object();
    EXPECT_EQ(frame.at("topic").as_string(), Events::topic(event.id));
    auto data = peer_->data(1);
    EXPECT_EQ(data.at("type"), "registrations");
    EXPECT_EQ(data.at("event_id"), event.id);
    EXPECT_EQ(data.at("count"), 2);
    const auto& list = data.at("registrations").as_array();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(
        list[0].as_object(),
        (boost::json::object{{"user_id", ece}, {"name", "Ece Kaya"}, {"role", "driver"}, {"source", "web"}}));
    EXPECT_EQ(list[1].at("name"), "can");
    EXPECT_EQ(list[1].at("role"), "both");
    EXPECT_EQ(list[1].at("source"), "discord");
    // What the topic carries is public to whoever subscribes: no notes, no time zones.
    EXPECT_EQ(peer_->frames[1]->find("secret"), std::string::npos);
    EXPECT_EQ(peer_->frames[1]->find("Europe"), std::string::npos);

    must(events_->register_member(event.id, can, Role::both, Source::web));  // unchanged: silent
    EXPECT_EQ(peer_->frames.size(), 2u);

    must(events_->set_availability(event.id, can, {event.starts_at + kHour}));
    ASSERT_EQ(peer_->frames.size(), 3u);
    data = peer_->data(2);
    EXPECT_EQ(data.at("type"), "availability");
    EXPECT_EQ(data.at("event_id"), event.id);
    ASSERT_EQ(data.at("coverage").as_array().size(), 2u);
    EXPECT_EQ(data.at("coverage").as_array()[1].as_object(),
              (boost::json::object{{"hour_start", event.starts_at + kHour},
                                   {"available", 1},
                                   {"drivers", 1},
                                   {"spotters", 1},
                                   {"preferred", 0}}));
    must(events_->set_availability(event.id, can, {event.starts_at + kHour}));  // the same hours: silent
    EXPECT_EQ(peer_->frames.size(), 3u);

    // Withdrawing: the list, then the coverage without the member's hours.
    must(events_->unregister(event.id, can, Source::discord));
    ASSERT_EQ(peer_->frames.size(), 5u);
    EXPECT_EQ(peer_->data(3).at("count"), 1);
    EXPECT_EQ(peer_->data(4).at("coverage").as_array()[1].at("available"), 0);

    // Another event's topic is not this one.
    const auto other = add_event(2 * kDay, 60, "Other");
    must(events_->register_member(other.id, ece, Role::driver, Source::web));
    EXPECT_EQ(peer_->frames.size(), 5u);
}

TEST_F(EventsTest, TheObserverHearsEveryRealChangeOnce) {
    const auto event = add_event(kDay, 120);
    const auto yuki = add_user("yuki");
    std::vector<RegistrationChange> heard;
    events_->on_change([&](const RegistrationChange& change) { heard.push_back(change); });

    must(events_->register_member(event.id, yuki, Role::driver, Source::discord));
    must(events_->register_member(event.id, yuki, Role::driver, Source::web));   // unchanged
    must(events_->register_member(event.id, yuki, Role::spotter, Source::web));  // updated
    must(events_->set_availability(event.id, yuki, {event.starts_at}));          // not a registration
    must(events_->unregister(event.id, yuki, Source::discord));                  // removed
    must(events_->unregister(event.id, yuki, Source::discord));                  // unchanged
    (void)events_->register_member(event.id, yuki, "nonsense", Source::web);     // refused
    clock_.advance(std::chrono::hours(48));
    (void)events_->register_member(event.id, yuki, Role::driver, Source::web);  // closed

    ASSERT_EQ(heard.size(), 3u);
    EXPECT_EQ(heard[0].kind, ChangeKind::registered);
    EXPECT_EQ(heard[0].source, Source::discord);
    EXPECT_EQ(heard[0].event.id, event.id);
    EXPECT_EQ(heard[1].kind, ChangeKind::updated);
    EXPECT_EQ(heard[1].role, Role::spotter);
    EXPECT_EQ(heard[1].previous_role, Role::driver);
    EXPECT_EQ(heard[2].kind, ChangeKind::removed);
    EXPECT_EQ(heard[2].previous_role, Role::spotter);
    EXPECT_EQ(heard[2].user_id, yuki);
    EXPECT_EQ(heard[2].event.registered, 0);

    // An observer that throws does not undo or fail the change.
    const auto kenji = add_user("kenji");
    const auto next = add_event(3 * kDay, 60, "Next");
    events_->on_change([](const RegistrationChange&) { throw std::runtime_error("bot down"); });
    EXPECT_EQ(must(events_->register_member(next.id, kenji, Role::driver, Source::web)).kind,
              ChangeKind::registered);
    EXPECT_EQ(must(events_->registrations(next.id)).size(), 1u);
}

TEST_F(EventsTest, PreferredHoursAreAvailableHoursStoredAndReadBack) {
    const auto event = add_event(kDay, 4 * 60);  // 12:00 to 16:00 tomorrow
    const std::int64_t h0 = event.starts_at;
    const auto ada = add_user("ada"), bo = add_user("bo");
    must(events_->register_member(event.id, ada, Role::driver, Source::web));
    must(events_->register_member(event.id, bo, Role::spotter, Source::web));
    subscribe(event.id);

    must(
        events_->set_availability(event.id, ada, {h0 + 2 * kHour, h0, h0 + kHour},
                                  std::vector<std::int64_t>{h0 + kHour, h0, h0}));  // a duplicate counts once
    auto hours = must(events_->member_hours(event.id, ada));
    EXPECT_EQ(hours.available, (std::vector<std::int64_t>{h0, h0 + kHour, h0 + 2 * kHour}));
    EXPECT_EQ(hours.preferred, (std::vector<std::int64_t>{h0, h0 + kHour}));
    EXPECT_EQ(must(events_->availability(event.id, ada)), hours.available);
    must(events_->set_availability(event.id, bo, {h0 + kHour}, std::vector<std::int64_t>{h0 + kHour}));
    auto coverage = must(events_->coverage(event.id));
    EXPECT_EQ(coverage[0].preferred, 1);
    EXPECT_EQ(coverage[1].preferred, 2);
    EXPECT_EQ(coverage[1].available, 2);
    EXPECT_EQ(coverage[2].preferred, 0);
    ASSERT_EQ(peer_->frames.size(), 2u);
    EXPECT_EQ(peer_->data(1).at("coverage").as_array()[1].at("preferred"), 2);

    // A preferred hour that is not an available one, or outside the race: refused, nothing changed.
    for (const auto& bad :
         {std::vector<std::int64_t>{h0 + 3 * kHour}, std::vector<std::int64_t>{h0 + 4 * kHour},
          std::vector<std::int64_t>{h0, h0 + 30 * 60}}) {
        const auto status = events_->set_availability(event.id, ada, {h0, h0 + kHour}, bad);
        ASSERT_FALSE(status.ok());
        EXPECT_EQ(status.error().code, "events.bad_hours");
    }
    hours = must(events_->member_hours(event.id, ada));
    EXPECT_EQ(hours.available, (std::vector<std::int64_t>{h0, h0 + kHour, h0 + 2 * kHour}));
    EXPECT_EQ(hours.preferred, (std::vector<std::int64_t>{h0, h0 + kHour}));
    EXPECT_EQ(counts()[2], 4);
    EXPECT_EQ(peer_->frames.size(), 2u);  // nothing announced

    // Only a change of preference is a change.
    must(events_->set_availability(event.id, ada, {h0, h0 + kHour, h0 + 2 * kHour},
                                   std::vector<std::int64_t>{h0, h0 + kHour}));  // the same: silent
    EXPECT_EQ(peer_->frames.size(), 2u);
    must(events_->set_availability(event.id, ada, {h0, h0 + kHour, h0 + 2 * kHour},
                                   std::vector<std::int64_t>{h0 + 2 * kHour}));
    EXPECT_EQ(must(events_->member_hours(event.id, ada)).preferred,
              (std::vector<std::int64_t>{h0 + 2 * kHour}));
    EXPECT_EQ(peer_->frames.size(), 3u);

    // Without preferred hours (the bot's /availability): the stored ones that stay available are kept.
    must(events_->set_availability(event.id, ada, {h0, h0 + 2 * kHour, h0 + 3 * kHour}));
    hours = must(events_->member_hours(event.id, ada));
    EXPECT_EQ(hours.available, (std::vector<std::int64_t>{h0, h0 + 2 * kHour, h0 + 3 * kHour}));
    EXPECT_EQ(hours.preferred, (std::vector<std::int64_t>{h0 + 2 * kHour}));
    must(events_->set_availability(event.id, ada, {h0}));
    EXPECT_TRUE(must(events_->member_hours(event.id, ada)).preferred.empty());
    // An empty list clears them.
    must(events_->set_availability(event.id, bo, {h0 + kHour}, std::vector<std::int64_t>{}));
    EXPECT_TRUE(must(events_->member_hours(event.id, bo)).preferred.empty());
    EXPECT_EQ(must(events_->member_hours(event.id, bo)).available, (std::vector<std::int64_t>{h0 + kHour}));
    EXPECT_EQ(code_of(events_->member_hours(999, ada)), "events.not_found");
}

TEST_F(EventsTest, CaptainAndAvoidNightComeFromTheWebAndSurviveASlashCommand) {
    const auto event = add_event(kDay, 360);
    const auto sena = add_user("sena"), tom = add_user("tom");
    std::vector<RegistrationChange> heard;
    events_->on_change([&](const RegistrationChange& change) { heard.push_back(change); });

    auto first = must(events_->register_member(
        event.id, sena, "driver", Source::web,
        RegistrationOptions{.note = "Evenings", .captain_volunteer = true, .avoid_night = true}));
    EXPECT_EQ(first.kind, ChangeKind::registered);
    must(events_->register_member(event.id, tom, Role::spotter, Source::discord));  // defaults: off
    auto list = must(events_->registrations(event.id));
    ASSERT_EQ(list.size(), 2u);
    EXPECT_TRUE(list[0].captain_volunteer);
    EXPECT_TRUE(list[0].avoid_night);
    EXPECT_EQ(list[0].note, "Evenings");
    EXPECT_FALSE(list[1].captain_volunteer);
    EXPECT_FALSE(list[1].avoid_night);

    // A slash command (no options) keeps them, whether it changes the role or not.
    EXPECT_EQ(must(events_->register_member(event.id, sena, "driver", Source::discord)).kind,
              ChangeKind::unchanged);
    EXPECT_EQ(must(events_->register_member(event.id, sena, "both", Source::discord)).kind,
              ChangeKind::updated);
    list = must(events_->registrations(event.id));
    EXPECT_EQ(list[0].role, Role::both);
    EXPECT_TRUE(list[0].captain_volunteer);
    EXPECT_TRUE(list[0].avoid_night);
    EXPECT_EQ(list[0].note, "Evenings");

    // Unticking one on the web is a change of its own; the same again is not.
    EXPECT_EQ(
        must(events_->register_member(
                 event.id, sena, Role::both, Source::web,
                 RegistrationOptions{.note = "Evenings", .captain_volunteer = true, .avoid_night = false}))
            .kind,
        ChangeKind::updated);
    EXPECT_EQ(
        must(events_->register_member(
                 event.id, sena, Role::both, Source::web,
                 RegistrationOptions{.note = "Evenings", .captain_volunteer = true, .avoid_night = false}))
            .kind,
        ChangeKind::unchanged);
    list = must(events_->registrations(event.id));
    EXPECT_TRUE(list[0].captain_volunteer);
    EXPECT_FALSE(list[0].avoid_night);
    // Only one option given: the other stays.
    must(events_->register_member(event.id, sena, Role::both, Source::web,
                                  RegistrationOptions{.captain_volunteer = false}));
    list = must(events_->registrations(event.id));
    EXPECT_FALSE(list[0].captain_volunteer);
    EXPECT_FALSE(list[0].avoid_night);
    EXPECT_EQ(list[0].note, "Evenings");
    EXPECT_EQ(heard.size(), 5u);  // sena, tom, both, avoid_night off, captain off

    // A bad note with options writes nothing.
    EXPECT_EQ(code_of(events_->register_member(
                  event.id, sena, Role::both, Source::web,
                  RegistrationOptions{.note = std::string(501, 'x'), .captain_volunteer = true})),
              "events.bad_note");
    EXPECT_FALSE(must(events_->registrations(event.id))[0].captain_volunteer);
    // The API carries them; the public /ws list does not.
    const auto api = event_json(must(events_->get(event.id)), must(events_->registrations(event.id)),
                                must(events_->coverage(event.id)));
    EXPECT_EQ(api.at("registrations").as_array()[1].at("captain_volunteer"), false);
    EXPECT_EQ(Events::registrations_json(event.id, list).find("avoid_night"), std::string::npos);
}

TEST(EventTimes, LocalFormTimesBecomeUtc) {
    // 2026-04-03 14:00 in Istanbul (UTC+3) is 11:00 UTC.
    EXPECT_EQ(local_to_utc("2026-04-03T14:00", "Europe/Istanbul"), 1775214000);
    EXPECT_EQ(local_to_utc("2026-04-03T14:00:30", "UTC"), 1775224830);
    EXPECT_EQ(utc_to_local(1775214000, "Europe/Istanbul"), "2026-04-03T14:00");
    EXPECT_EQ(utc_to_local(1775214000, "America/New_York"), "2026-04-03T07:00");
    // Summer time in Berlin began at 02:00 on 2026-03-29: 02:30 does not exist and moves to 03:30 CEST.
    EXPECT_EQ(local_to_utc("2026-03-29T02:30", "Europe/Berlin"), 1774747800);
    for (std::string_view bad : {"", "2026-04-03", "2026-02-30T10:00", "2026-04-03T24:00", "2026-4-03T10:00",
                                 "2026-04-03T10:0x", "1969-12-31T23:00", "2026-04-03T10:00:61"})
        EXPECT_FALSE(local_to_utc(bad, "UTC").has_value()) << bad;
}

// The pages' data, rendered by the shipped templates in both languages: the element contract event.js
// relies on, the texts from the catalogs, nothing broadcast-only missing.
TEST_F(EventsTest, ThePagesRenderInBothLanguages) {
    const auto catalog = must(i18n::Catalog::load(kSource / "locales"));
    const auto templates = must(web::Templates::load(kSource / "web" / "templates", catalog));
    const auto event = add_event(kDay, 120);
    const auto ece = add_user("ece", "Ece <Kaya>"), can = add_user("can", "", "Asia/Tokyo");
    must(events_->register_member(event.id, ece, Role::driver, Source::web,
                                  RegistrationOptions{.note = "Start & nights", .avoid_night = true}));
    must(events_->register_member(event.id, can, Role::spotter, Source::discord));
    must(events_->set_availability(event.id, ece, {event.starts_at, event.starts_at + kHour},
                                   std::vector<std::int64_t>{event.starts_at}));
    const auto registrations = must(events_->registrations(event.id));
    const auto coverage = must(events_->coverage(event.id));
    const auto mine = must(events_->member_hours(event.id, ece));
    const auto& hours = mine.available;
    const auto fresh = must(events_->get(event.id));

    auto data = event_data({fresh, registrations, coverage, hours, ece, kNow, true, mine.preferred});
    EXPECT_EQ(data.at("me").at("avoid_night"), true);
    EXPECT_EQ(data.at("me").at("captain_volunteer"), false);
    EXPECT_EQ(data.at("coverage").as_array()[0].at("mine_preferred"), true);
    EXPECT_EQ(data.at("coverage").as_array()[0].at("preferred"), 1);
    EXPECT_EQ(data.at("coverage").as_array()[1].at("mine_preferred"), false);
    EXPECT_EQ(data.at("coverage").as_array()[1].at("mine"), true);
    data["csrf"] = "token";
    data["title_key"] = "events.event_title";
    data["can"] = boost::json::object{{"members", true}};
    data["current"] = boost::json::object{{"events", true}};
    const auto en = must(templates.render("event", data, {"en", "Europe/Istanbul"}));
    EXPECT_NE(en.find("data-topics=\"event:" + std::to_string(event.id) + "\""), std::string::npos);
    EXPECT_NE(en.find("data-event-live=\"" + std::to_string(event.id) + "\""), std::string::npos);
    EXPECT_NE(en.find("<tr data-user-id=\"" + std::to_string(ece) + "\">"), std::string::npos);
    EXPECT_NE(en.find("data-event-count>2</span>"), std::string::npos);
    EXPECT_NE(en.find("Ece &lt;Kaya&gt;"), std::string::npos);
    EXPECT_NE(en.find("Start &amp; nights"), std::string::npos);
    EXPECT_NE(en.find("You are registered as a driver."), std::string::npos);
    EXPECT_NE(en.find("<span data-role=\"both\">Driver and spotter</span>"), std::string::npos);
    EXPECT_NE(en.find("href=\"/events\" aria-current=\"page\""), std::string::npos);
    EXPECT_NE(en.find("name=\"hour\" value=\"" + std::to_string(event.starts_at + kHour) + "\" checked"),
              std::string::npos);
    EXPECT_NE(en.find("<tr data-hour=\"" + std::to_string(event.starts_at) + "\">"), std::string::npos);
    EXPECT_NE(en.find("name=\"preferred\" value=\"" + std::to_string(event.starts_at) + "\" checked"),
              std::string::npos);
    EXPECT_NE(en.find("name=\"preferred\" value=\"" + std::to_string(event.starts_at + kHour) + "\">"),
              std::string::npos);
    EXPECT_NE(en.find("<input type=\"hidden\" name=\"options\" value=\"1\">"), std::string::npos);
    EXPECT_NE(en.find("name=\"captain_volunteer\" value=\"1\">"), std::string::npos);  // not ticked
    EXPECT_NE(en.find("name=\"avoid_night\" value=\"1\" checked>"), std::string::npos);
    EXPECT_NE(en.find("I volunteer as captain"), std::string::npos);
    EXPECT_NE(en.find("Avoid my night (no stints between 00:00 and 06:00 my time when possible)"),
              std::string::npos);
    EXPECT_NE(en.find(">Preferred</th>"), std::string::npos);
    EXPECT_NE(en.find("2 hours"), std::string::npos);
    EXPECT_NE(en.find("<script src=\"/static/js/event.js\" defer></script>"), std::string::npos);
    EXPECT_NE(en.find("data-registrations-empty hidden"), std::string::npos);
    const auto tr = must(templates.render("event", data, {"tr", "Europe/Istanbul"}));
    EXPECT_NE(tr.find("Pilot olarak kayıtlısınız."), std::string::npos);
    EXPECT_NE(tr.find("<span data-role=\"spotter\">Gözcü</span>"), std::string::npos);
    EXPECT_NE(tr.find("Discord</td>"), std::string::npos);
    EXPECT_NE(tr.find(">Etkinlikler</a>"), std::string::npos);
    EXPECT_NE(tr.find("Kaptan olmaya gönüllüyüm"), std::string::npos);
    EXPECT_NE(tr.find(">Tercihim</th>"), std::string::npos);

    // Once the race has started: no forms, the closed note.
    auto closed = event_data({fresh, registrations, coverage, hours, ece, event.starts_at, true});
    const auto started = must(templates.render("event", closed, {"en", "UTC"}));
    EXPECT_EQ(started.find("/registration\""), std::string::npos);
    EXPECT_EQ(started.find("name=\"hour\""), std::string::npos);
    EXPECT_EQ(started.find("name=\"preferred\""), std::string::npos);
    EXPECT_EQ(started.find("name=\"avoid_night\""), std::string::npos);
    EXPECT_NE(started.find("Registration closed when the race started."), std::string::npos);

    auto list = list_data(must(events_->list_all()), must(events_->roles_of(ece)), kNow, true);
    const auto events_en = must(templates.render("events", list, {"en", "UTC"}));
    EXPECT_NE(events_en.find("href=\"/events/" + std::to_string(event.id) + "\""), std::string::npos);
    EXPECT_NE(events_en.find("2 registered"), std::string::npos);
    EXPECT_NE(events_en.find("href=\"/events/new\""), std::string::npos);
    const auto events_tr = must(templates.render("events", list, {"tr", "UTC"}));
    EXPECT_NE(events_tr.find("2 kayıtlı"), std::string::npos);

    auto form = new_event_data({"Spa", "", "", "2026-04-03T14:00", "90", "", ""},
                               catalog.error_text("tr", Error(ErrorKind::invalid_input, "events.bad_track")),
                               "2026-03-29T15:01");
    const auto new_tr = must(templates.render("event_new", form, {"tr", "Europe/Istanbul"}));
    EXPECT_NE(new_tr.find("Pist gerekli"), std::string::npos);
    EXPECT_NE(new_tr.find("value=\"2026-04-03T14:00\""), std::string::npos);
    EXPECT_NE(new_tr.find("(Europe/Istanbul)"), std::string::npos);

    const auto api = event_json(fresh, registrations, coverage);
    EXPECT_EQ(api.at("event").at("starts_at"), event.starts_at);
    EXPECT_EQ(api.at("registrations").as_array()[0].at("note"), "Start & nights");
    EXPECT_EQ(api.at("coverage").as_array().size(), 2u);
    EXPECT_EQ(api.at("coverage").as_array()[0].at("preferred"), 1);
    EXPECT_EQ(api.at("registrations").as_array()[0].at("avoid_night"), true);
}

TEST_F(EventsTest, TheDemoSeedPlansTwoEventsWithRegistrationsAndHours) {
    ASSERT_EQ(must(demo::seed_if_empty(*db_, clock_)), 60);
    const auto upcoming = must(events_->list_upcoming(10));
    ASSERT_EQ(upcoming.size(), 2u);
    EXPECT_EQ(upcoming[0].duration_min, 1440);
    EXPECT_EQ(upcoming[0].registered, 15);
    EXPECT_EQ(upcoming[0].starts_at, kNow - 12 * kHour + 5 * kDay + 14 * kHour);
    EXPECT_EQ(upcoming[1].duration_min, 360);
    EXPECT_EQ(upcoming[1].registered, 14);
    for (const auto& e : upcoming) {
        EXPECT_TRUE(e.open_at(kNow));
        const auto coverage = must(events_->coverage(e.id));
        EXPECT_EQ(static_cast<std::int64_t>(coverage.size()), e.duration_min / 60);
        std::int64_t covered = 0;
        for (const auto& h : coverage) {
            EXPECT_LE(h.available, e.registered);
            covered += h.available > 0;
        }
        EXPECT_GE(covered, static_cast<std::int64_t>(coverage.size()) * 3 / 4) << e.name;
        for (const auto& r : must(events_->registrations(e.id))) EXPECT_FALSE(r.name.empty());
    }
}

}  // namespace
}  // namespace pitwall::events
