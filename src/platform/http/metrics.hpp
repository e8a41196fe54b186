// Prometheus text-format metrics: counters and latency histograms keyed by label sets, plus gauges
// read from callbacks at scrape time (open WebSockets, KV and SQL operation counts).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace pitwall::http {

class Metrics {
  public:
    // HTTP request finished: route pattern ("" when unmatched), method, status, latency.
    void observe_request(std::string_view route, std::string_view method, int status, double seconds);
    // A value read at scrape time; `type` is "gauge" or "counter".
    void add_callback(std::string name, std::string help, std::string type, std::function<double()> read);
    [[nodiscard]] std::string render() const;

    static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

  private:
    struct Series {
        std::uint64_t count = 0;
        double sum = 0;
        std::array<std::uint64_t, kBuckets.size()> buckets{};
    };
    struct Callback {
        std::string name, help, type;
        std::function<double()> read;
    };
    mutable std::mutex mutex_;
    // (route, method) -> status -> count ; (route, method) -> latency
    std::map<std::pair<std::string, std::string>, std::map<int, std::uint64_t>> requests_;
    std::map<std::pair<std::string, std::string>, Series> latency_;
    std::vector<Callback> callbacks_;
};

}  // namespace pitwall::http
