// Demo data for `make run` and `pitwall demo seed`: a team of 60 drivers across time zones, so that
// a newcomer sees a full team. Deterministic (fixed seed), written in one transaction.
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
