// Expected failures as values: a small Result<T> carrying an Error whose code is a
// locale key (locales/*.json, under "error.") and whose kind decides the HTTP status.
// Exceptions are reserved for what ends a request; see docs/ARCHITECTURE.md "Errors".
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace pitwall {

enum class ErrorKind {
    invalid_input,  // 400
    unauthorized,   // 401
    forbidden,      // 403
    not_found,      // 404
    conflict,       // 409
    too_large,      // 413
    rate_limited,   // 429
    unavailable,    // 503: a store or upstream is down
    internal,       // 500: a bug or an invariant broken; never caused by input
};

struct Error {
    ErrorKind kind = ErrorKind::internal;
    std::string code;  // locale key below "error.", e.g. "config.unknown_key"
    std::vector<std::pair<std::string, std::string>> args;  // message arguments
    std::string detail;                                     // for logs only; never shown to clients

    Error() = default;
    Error(ErrorKind k, std::string c, std::vector<std::pair<std::string, std::string>> a = {},
          std::string d = {})
        : kind(k), code(std::move(c)), args(std::move(a)), detail(std::move(d)) {}

    // The value of a named argument, or empty.
    [[nodiscard]] std::string arg(std::string_view name) const {
        for (const auto& [k, v] : args)
            if (k == name) return v;
        return {};
    }
};

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

    [[nodiscard]] bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    [[nodiscard]] const Error& error() const& { return std::get<1>(state_); }
    [[nodiscard]] Error&& error() && { return std::get<1>(std::move(state_)); }

  private:
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}

    [[nodiscard]] bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    [[nodiscard]] const Error& error() const& { return error_; }
    [[nodiscard]] Error&& error() && { return std::move(error_); }

  private:
    Error error_;
    bool failed_ = false;
};

using Status = Result<void>;

}  // namespace pitwall
