// pitwall-fakes: the iRacing and Garage61 fakes as one process for functional tests of the real server.
// Prints ONE JSON line on stdout with the base URLs, then serves until SIGTERM or SIGINT.
//   {"iracing_api":"http://127.0.0.1:P","iracing_token_url":".../oauth2/token","iracing_profile_url":...,
//    "iracing_s3":"http://127.0.0.1:Q","iracing_control":".../_control","garage61_api":"http://127.0.0.1:R/api/v1",
//    "garage61_control":".../_control","seed":1,"members":60,"service_account":{...}}
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "fakes/fake_garage61.hpp"
#include "fakes/fake_iracing.hpp"
#include "fakes/team_data.hpp"

using namespace pitwall;

int main(int argc, char** argv) {
    CLI::App cli{"pitwall-fakes: local fakes of iRacing and Garage61 for tests"};
    std::uint64_t seed = 1;
    int members = 60;
    std::string locales, host = "127.0.0.1", log_level = "warn";
    fakes::IracingOptions ir;
    fakes::Garage61Options g61;
    int access_ttl = 600, refresh_ttl = 3600, link_ttl = 600, window = 60;
    cli.add_option("--seed", seed, "Seed of the generated team and activity")->capture_default_str();
    cli.add_option("--members", members, "Team size")->capture_default_str()->check(CLI::Range(1, 5000));
    cli.add_option("--locales", locales,
                   "Locales directory for the HTTP pipeline (default: the repository's)");
    cli.add_option("--host", host, "Address to listen on")->capture_default_str();
    cli.add_option("--iracing-port", ir.api_port, "iRacing API port (0: any)");
    cli.add_option("--s3-port", ir.s3_port, "iRacing S3 port (0: any)");
    cli.add_option("--garage61-port", g61.port, "Garage61 port (0: any)");
    cli.add_option("--client-id", ir.client_id, "iRacing OAuth client id")->capture_default_str();
    cli.add_option("--client-secret", ir.client_secret, "iRacing OAuth client secret")->capture_default_str();
    cli.add_option("--username", ir.username, "password_limited service account")->capture_default_str();
    cli.add_option("--password", ir.password, "password_limited service account password")
        ->capture_default_str();
    cli.add_option("--access-token-ttl", access_ttl, "iRacing access token lifetime (s)")
        ->capture_default_str();
    cli.add_option("--refresh-token-ttl", refresh_ttl, "iRacing refresh token lifetime (s)")
        ->capture_default_str();
    cli.add_option("--link-ttl", link_ttl, "iRacing S3 link lifetime (s)")->capture_default_str();
    cli.add_option("--rate-limit", ir.rate_limit, "iRacing /data requests per window")->capture_default_str();
    cli.add_option("--rate-window", window, "iRacing rate window (s)")->capture_default_str();
    cli.add_flag("--count-s3", ir.count_s3_fetches, "S3 fetches count against the iRacing rate window");
    cli.add_option("--chunk-rows", ir.search_chunk_rows, "Rows per search_hosted chunk")
        ->capture_default_str();
    cli.add_option("--g61-capacity", g61.bucket_capacity, "Garage61 token bucket capacity")
        ->capture_default_str();
    cli.add_option("--g61-refill", g61.refill_per_second, "Garage61 bucket refill per second")
        ->capture_default_str();
    cli.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
    CLI11_PARSE(cli, argc, argv);

    log::setup(log_level, "text");
    // Block the stop signals before any thread starts (threads inherit the mask); main waits for them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    try {
        ir.locales_dir = g61.locales_dir = locales;
        ir.host = g61.host = host;
        ir.access_token_ttl = std::chrono::seconds(access_ttl);
        ir.refresh_token_ttl = std::chrono::seconds(refresh_ttl);
        ir.link_ttl = std::chrono::seconds(link_ttl);
        ir.rate_window = std::chrono::seconds(window);
        auto team = std::make_shared<const fakes::FakeTeam>(fakes::generate_team(seed, members));
        const Clock& clock = SystemClock::instance();
        fakes::FakeIracing iracing(team, clock, ir);
        fakes::FakeGarage61 garage61(team, clock, g61);

        boost::json::object line{
            {"iracing_api", iracing.api_url()},
            {"iracing_token_url", iracing.token_url()},
            {"iracing_profile_url", iracing.profile_url()},
            {"iracing_s3", iracing.s3_url()},
            {"iracing_control", iracing.control_url()},
            {"garage61_api", garage61.api_url()},
            {"garage61_control", garage61.control_url()},
            {"seed", seed},
            {"members", members},
            {"service_account", boost::json::object{{"client_id", ir.client_id},
                                                    {"client_secret", ir.client_secret},
                                                    {"username", ir.username},
                                                    {"password", ir.password},
                                                    {"cust_id", iracing.service_cust_id()}}}};
        std::printf("%s\n", boost::json::serialize(line).c_str());
        std::fflush(stdout);

        int received = 0;
        sigwait(&stop_signals, &received);
        log::info("pitwall-fakes: signal {}, stopping", received);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pitwall-fakes: %s\n", e.what());
        return 1;
    }
    return 0;
}
