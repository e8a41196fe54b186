// Fuzzes the JRES import (src/features/planner/jres.hpp): any input comes back as a value. A refusal
// carries a "planner.jres_*" code and, except for "not JSON" and "too large", names the field; an
// accepted input exports to a document that parses back to an equal input, whose export is the same
// text, and whose availability lookups stay inside the listed members.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "features/planner/jres.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto parsed = pitwall::planner::parse_jres(input);
    if (!parsed) {
        const auto& error = parsed.error();
        PITWALL_FUZZ_CHECK(error.code.starts_with("planner.jres_"));
        PITWALL_FUZZ_CHECK(error.kind == pitwall::ErrorKind::invalid_input ||
                           error.kind == pitwall::ErrorKind::too_large);
        if (error.code != "planner.jres_not_json" && error.code != "planner.jres_too_large")
            PITWALL_FUZZ_CHECK(!error.arg("field").empty() && error.arg("field").size() < 300);
        return 0;
    }
    const auto& in = *parsed;
    PITWALL_FUZZ_CHECK(!in.team_members.empty() &&
                       in.team_members.size() <= pitwall::planner::kJresMaxMembers);
    PITWALL_FUZZ_CHECK(in.fuel_use_per_lap <= in.fuel_tank_size);
    for (const auto& [name, hours] : in.availability) PITWALL_FUZZ_CHECK(in.member(name) != nullptr);
    if (in.first_stint_driver) PITWALL_FUZZ_CHECK(in.member(*in.first_stint_driver)->is_driver);

    const std::string text = pitwall::planner::export_jres(in);
    auto again = pitwall::planner::parse_jres(text);
    PITWALL_FUZZ_CHECK(again.ok());
    PITWALL_FUZZ_CHECK(*again == in);
    PITWALL_FUZZ_CHECK(pitwall::planner::export_jres(*again) == text);
    return 0;
}
