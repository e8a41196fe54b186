#include "platform/http/metrics.hpp"

#include <fmt/format.h>

namespace pitwall::http {
namespace {

std::string label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

void Metrics::observe_request(std::string_view route, std::string_view method, int status, double seconds) {
    // Unmatched paths share one label value: attacker-chosen paths must not grow the series set.
    std::pair<std::string, std::string> key{route.empty() ? "unmatched" : std::string(route),
                                            std::string(method)};
    std::lock_guard lock(mutex_);
    ++requests_[key][status];
    auto& series = latency_[key];
    ++series.count;
    series.sum += seconds;
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
        if (seconds <= kBuckets[i]) ++series.buckets[i];
}

void Metrics::add_callback(std::string name, std::string help, std::string type,
                           std::function<double()> read) {
    std::lock_guard lock(mutex_);
    callbacks_.push_back({std::move(name), std::move(help), std::move(type), std::move(read)});
}

std::string Metrics::render() const {
    std::string out;
    std::vector<Callback> callbacks;
    {
        std::lock_guard lock(mutex_);
        out += "# HELP pitwall_http_requests_total HTTP requests by route, method and status.\n";
        out += "# TYPE pitwall_http_requests_total counter\n";
        for (const auto& [key, statuses] : requests_)
            for (const auto& [status, count] : statuses)
                out += fmt::format(
                    "pitwall_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                    label(key.first), key.second, status, count);
        out += "# HELP pitwall_http_request_duration_seconds HTTP request latency by route and method.\n";
        out += "# TYPE pitwall_http_request_duration_seconds histogram\n";
        for (const auto& [key, series] : latency_) {
            std::string labels = fmt::format("route=\"{}\",method=\"{}\"", label(key.first), key.second);
            for (std::size_t i = 0; i < kBuckets.size(); ++i)
                out += fmt::format("pitwall_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                                   labels, kBuckets[i], series.buckets[i]);
            out += fmt::format("pitwall_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels,
                               series.count);
            out += fmt::format("pitwall_http_request_duration_seconds_sum{{{}}} {}\n", labels, series.sum);
            out +=
                fmt::format("pitwall_http_request_duration_seconds_count{{{}}} {}\n", labels, series.count);
        }
        callbacks = callbacks_;
    }
    // Callbacks may take their own locks (stores); call them outside ours.
    for (const auto& c : callbacks) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", c.name, c.help, c.name, c.type, c.name,
                           c.read());
    }
    return out;
}

}  // namespace pitwall::http
