// Counters behind Database::stats(), shared by the SQL engines (internal to platform/store).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "platform/store/sql.hpp"

namespace pitwall::store {

struct SqlCounters {
    std::atomic<std::uint64_t> statements = 0;
    std::atomic<std::uint64_t> transactions = 0;
    std::atomic<std::uint64_t> errors = 0;

    [[nodiscard]] SqlStats snapshot() const {
        return {statements.load(), transactions.load(), errors.load()};
    }
};

// Lets the per-connection statement caches look a name up without building a std::string.
struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const { return std::hash<std::string_view>{}(name); }
};

}  // namespace pitwall::store
