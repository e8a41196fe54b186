// One HTTP listener of a fake: Pitwall's own Router + Pipeline + Server on 127.0.0.1 (port 0 by default),
// served from a background thread. Internal to the fakes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "platform/http/router.hpp"

namespace pitwall::i18n {
class Catalog;
}

namespace pitwall::fakes {

// The Pipeline needs a Catalog: loaded from `dir` (empty: the repository's locales/ directory), or an
// empty catalog when that fails (error messages then show their codes).
std::shared_ptr<const i18n::Catalog> load_catalog(const std::filesystem::path& dir);

struct HostOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::size_t io_threads = 1;
    std::size_t worker_threads = 2;
};

class FakeHost {
  public:
    FakeHost(std::shared_ptr<const i18n::Catalog> catalog, HostOptions options);
    ~FakeHost();
    FakeHost(const FakeHost&) = delete;
    FakeHost& operator=(const FakeHost&) = delete;

    // Add every route before start().
    [[nodiscard]] http::Router& router();
    // Listens and serves from a thread; throws std::runtime_error when it cannot listen.
    void start();
    // Stops serving and joins the thread (also done by the destructor).
    void stop();

    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] std::string url() const;  // http://127.0.0.1:<port>

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pitwall::fakes
