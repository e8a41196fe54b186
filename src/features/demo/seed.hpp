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

namespace pitwall::demo {

// Seeds when the users table is empty; returns how many members were created (0 when skipped).
[[nodiscard]] Result<int> seed_if_empty(store::Database& db, const Clock& clock);

}  // namespace pitwall::demo
