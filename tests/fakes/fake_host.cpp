#include "fake_host.hpp"

#include <stdexcept>
#include <thread>

#include "platform/http/metrics.hpp"
#include "platform/http/pipeline.hpp"
#include "platform/http/server.hpp"
#include "platform/http/ws_hub.hpp"
#include "platform/i18n/catalog.hpp"

#ifndef PITWALL_FAKES_LOCALES_DIR
#define PITWALL_FAKES_LOCALES_DIR "locales"
#endif

namespace pitwall::fakes {

std::shared_ptr<const i18n::Catalog> load_catalog(const std::filesystem::path& dir) {
    auto loaded = i18n::Catalog::load(dir.empty() ? std::filesystem::path(PITWALL_FAKES_LOCALES_DIR) : dir);
    if (loaded) return std::make_shared<const i18n::Catalog>(std::move(*loaded));
    auto empty = i18n::Catalog::from_json({{"en", "{}"}});
    if (!empty) throw std::runtime_error("fakes: cannot build a message catalog");
    return std::make_shared<const i18n::Catalog>(std::move(*empty));
}

struct FakeHost::Impl {
    std::shared_ptr<const i18n::Catalog> catalog;
    HostOptions options;
    http::Router router;
    http::Metrics metrics;
    std::unique_ptr<http::WsHub> hub;
    std::unique_ptr<http::Pipeline> pipeline;
    std::unique_ptr<http::Server> server;
    std::thread thread;
    std::string host;
};

FakeHost::FakeHost(std::shared_ptr<const i18n::Catalog> catalog, HostOptions options)
    : impl_(std::make_unique<Impl>()) {
    impl_->catalog = std::move(catalog);
    impl_->options = std::move(options);
    impl_->host = impl_->options.host.find(':') != std::string::npos ? "[" + impl_->options.host + "]"
                                                                     : impl_->options.host;
}

FakeHost::~FakeHost() {
    stop();
}

http::Router& FakeHost::router() {
    return impl_->router;
}

void FakeHost::start() {
    auto& i = *impl_;
    if (i.server) return;
    i.hub = std::make_unique<http::WsHub>(i.catalog.get(), 16);
    i.pipeline = std::make_unique<http::Pipeline>(
        i.router, i.metrics, *i.catalog,
        http::PipelineOptions{.default_max_body_bytes = 1024 * 1024, .access_log = false});
    i.server = std::make_unique<http::Server>(http::ServerOptions{.host = i.options.host,
                                                                  .port = i.options.port,
                                                                  .io_threads = i.options.io_threads,
                                                                  .worker_threads = i.options.worker_threads,
                                                                  .idle_timeout = std::chrono::seconds(30),
                                                                  .shutdown_grace = std::chrono::seconds(2)},
                                              *i.pipeline, *i.hub);
    if (auto s = i.server->listen(); !s) {
        i.server.reset();
        throw std::runtime_error("fakes: cannot listen on " + i.options.host + ": " + s.error().code + " " +
                                 s.error().detail);
    }
    i.thread = std::thread([server = i.server.get()] { server->run(); });
}

void FakeHost::stop() {
    auto& i = *impl_;
    if (!i.server) return;
    i.server->stop();
    if (i.thread.joinable()) i.thread.join();
    i.server.reset();
}

std::uint16_t FakeHost::port() const {
    return impl_->server ? impl_->server->port() : 0;
}

std::string FakeHost::url() const {
    return "http://" + impl_->host + ":" + std::to_string(port());
}

}  // namespace pitwall::fakes
