// The store's error values, shared by the SQL and KV engines (internal to platform/store).
#pragma once

#include <string>

#include "core/result.hpp"

namespace pitwall::store {

// Cannot connect, pool exhausted for too long, server down: the caller may retry later.
inline Error unavailable(std::string detail) {
    return Error(ErrorKind::unavailable, "store.unavailable", {}, std::move(detail));
}
// A unique, foreign-key or check constraint refused the write.
inline Error constraint_violation(std::string detail) {
    return Error(ErrorKind::conflict, "store.constraint", {}, std::move(detail));
}
// Anything else the engine refused; `detail` names the statement, never the parameter values.
inline Error query_failed(std::string detail) {
    return Error(ErrorKind::internal, "store.query_failed", {}, std::move(detail));
}

}  // namespace pitwall::store
