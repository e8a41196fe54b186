// Demo data for `make run` and `pitwall demo seed`: a team of 60 drivers across time zones, so that
// a newcomer sees a full team: ratings, a year of iRating history, recent results, and this week's
// series schedule (sessions for the seven days after the clock's now), and two upcoming team events
// (a 24-hour race in five days, a 6-hour race in twelve) with registrations and members' hours.
// Deterministic (fixed seeds, dates relative to the clock), written in one transaction.
#pragma once

#include "core/clock.hpp"
#include "core/result.hpp"

namespace pitwall::store {
class Database;
}
namespace pitwall::planner {
class Planner;
}
namespace pitwall::events {
class Events;
}

namespace pitwall::demo {

// Seeds when the users table is empty; returns how many members were created (0 when skipped).
[[nodiscard]] Result<int> seed_if_empty(store::Database& db, const Clock& clock);

// After a seed: planner settings for the demo events (fuel, lap times of their cars) and stage 1 and 2
// run on their registrations, so the event pages show crews and stint timelines. Not published (that
// would message the demo members). Returns how many events got a plan.
[[nodiscard]] Result<int> plan_events(planner::Planner& planner, events::Events& events);

}  // namespace pitwall::demo
