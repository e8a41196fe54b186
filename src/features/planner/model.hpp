// The planner's input and output for stage 2 (stints and who drives and spots them), as plain values:
// no I/O, no clock, no store. Times are Unix SECONDS (UTC) like the events tables
// (features/events/events.hpp); availability is keyed by the UTC start of each race hour.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pitwall::planner {

using MemberId = std::int64_t;

inline constexpr std::int64_t kHourSeconds = 3600;

// How a member marked one race hour. An hour a member did not mark is `unavailable`.
enum class Availability { unavailable, available, preferred };

struct Member {
    MemberId id = 0;
    std::string name;  // display name, used in every message about this member
    bool is_driver = false;
    bool is_spotter = false;
    std::string time_zone = "UTC";  // IANA zone or a UTC offset ("+01:00"); for local-night rules later
    std::optional<int> max_consecutive_stints;          // nullopt: the input's default
    std::optional<double> minimum_rest_hours;           // nullopt: the input's default
    std::map<std::int64_t, Availability> availability;  // hour start (UTC, on the hour) -> mark

    // The mark of the hour that contains `when` (any second of it).
    [[nodiscard]] Availability at(std::int64_t when) const;
};

struct Stint {
    int index = 0;           // 0-based, in race order
    std::int64_t start = 0;  // Unix seconds
    std::int64_t end = 0;    // exclusive; includes the pit stop that ends the stint (none for the last)
    int laps = 0;

    [[nodiscard]] std::int64_t seconds() const { return end - start; }
};

struct PlanInput {
    std::int64_t race_start = 0;  // Unix seconds, UTC
    std::int64_t duration_s = 0;  // race length
    double lap_s = 0;             // average lap time
    double pit_loss_s = 0;        // lane delta + service, per stop
    double fuel_tank = 0;         // litres (or any unit shared with fuel_per_lap)
    double fuel_per_lap = 0;
    bool spotters = false;           // one spotter per stint when on
    int max_consecutive_stints = 0;  // default per member; 0 = no limit
    double minimum_rest_hours = 0;   // default per member; 0 = no rest rule
    bool fair_share = false;
    std::vector<MemberId> declared_drivers;  // the crew's declared drivers (fair share counts these)
    std::optional<std::int64_t> min_seat_s;  // per declared driver
    std::optional<std::int64_t> max_seat_s;  // per driver
    std::optional<MemberId> pinned_starter;  // drives stint 0
    std::vector<Member> members;
    // Race day: the stints as driven so far and re-derived from the actual times (planner service,
    // pit_now). When set, derive_stints returns exactly these (checked: contiguous from race_start to
    // race_end, indices 0..n-1, at least one lap each) instead of deriving them from fuel.
    std::vector<Stint> fixed_stints;

    [[nodiscard]] std::int64_t race_end() const { return race_start + duration_s; }
    [[nodiscard]] const Member* member(MemberId id) const;
    [[nodiscard]] int max_consecutive_for(const Member& member) const;
    [[nodiscard]] std::int64_t minimum_rest_s_for(const Member& member) const;
    [[nodiscard]] bool declared(MemberId id) const;
};

struct Assignment {
    int stint = 0;  // Stint::index
    MemberId driver = 0;
    std::optional<MemberId> spotter;
};

struct Plan {
    std::vector<Stint> stints;
    std::vector<Assignment> assignments;
};

}  // namespace pitwall::planner
