#include "fake_util.hpp"

#include <cstdlib>

namespace pitwall::fakes::util {

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
    std::uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::string hex(std::uint64_t v, int digits) {
    static const char* kHex = "0123456789abcdef";
    std::string out(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = kHex[v & 15];
        v >>= 4;
    }
    return out;
}

std::string token(std::string_view prefix, std::uint64_t seed, std::uint64_t counter) {
    const std::uint64_t a = mix(seed, counter * 2 + 1), b = mix(a, counter), c = mix(b, seed);
    return std::string(prefix) + hex(a, 16) + hex(b, 16) + hex(c, 8);
}

http::Response json(int status, const boost::json::value& body) {
    auto response = http::Response::json(status, boost::json::serialize(body));
    response.headers.set("Cache-Control", "no-store");
    return response;
}

std::optional<std::string> bearer(const http::Request& request) {
    auto header = request.headers.get("Authorization");
    if (!header) return std::nullopt;
    std::string_view v = *header;
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    if (v.size() < 7) return std::nullopt;
    std::string scheme(v.substr(0, 7));
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "bearer ") return std::nullopt;
    v.remove_prefix(7);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v.empty()) return std::nullopt;
    return std::string(v);
}

std::optional<double> parse_double(std::string_view text) {
    if (text.empty() || text.size() > 64) return std::nullopt;
    std::string s(text);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return std::nullopt;
    return v;
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    while (true) {
        const auto comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

bool parse_bool(std::string_view text) {
    std::string s(text);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s == "true" || s == "1" || s == "yes";
}

std::optional<boost::json::object> body_object(const http::Request& request) {
    if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return boost::json::object{};
    boost::system::error_code ec;
    auto value = boost::json::parse(request.body, ec);
    if (ec || !value.is_object()) return std::nullopt;
    return value.as_object();
}

boost::json::value team_json(const FakeTeam& team) {
    boost::json::array members;
    for (const auto& m : team.members) {
        members.push_back(boost::json::object{{"cust_id", m.cust_id},
                                              {"display_name", m.display_name},
                                              {"first_name", m.first_name},
                                              {"last_name", m.last_name},
                                              {"country_code", m.country_code},
                                              {"garage61_id", m.g61_id},
                                              {"garage61_slug", m.g61_slug},
                                              {"iracing_token", m.iracing_token},
                                              {"garage61_token", m.garage61_token},
                                              {"league_driver", m.league_driver}});
    }
    return boost::json::object{{"seed", team.seed},
                               {"team_name", team.team_name},
                               {"garage61_team_id", team.g61_team_id},
                               {"garage61_team_slug", team.g61_team_slug},
                               {"league_id", team.league.league_id},
                               {"league_name", team.league.league_name},
                               {"members", std::move(members)}};
}

}  // namespace pitwall::fakes::util
