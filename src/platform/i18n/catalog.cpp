#include "platform/i18n/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

namespace pitwall::i18n {
namespace {

void flatten(const boost::json::object& object, const std::string& prefix,
             std::map<std::string, std::string, std::less<>>& out) {
    for (const auto& [k, v] : object) {
        std::string key = prefix.empty() ? std::string(k) : prefix + "." + std::string(k);
        if (v.is_object())
            flatten(v.get_object(), key, out);
        else if (v.is_string())
            out[key] = std::string(v.get_string());
    }
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

Result<Catalog> Catalog::from_json(const std::map<std::string, std::string>& locale_to_json,
                                   std::string fallback) {
    Catalog catalog;
    catalog.fallback_ = std::move(fallback);
    for (const auto& [locale, text] : locale_to_json) {
        boost::system::error_code ec;
        auto value = boost::json::parse(text, ec);
        if (ec || !value.is_object())
            return Error(ErrorKind::internal, "i18n.bad_catalog", {{"locale", locale}}, ec.message());
        flatten(value.get_object(), "", catalog.messages_[locale]);
        catalog.locales_.push_back(locale);
    }
    if (!catalog.messages_.contains(catalog.fallback_))
        return Error(ErrorKind::internal, "i18n.bad_catalog", {{"locale", catalog.fallback_}},
                     "fallback locale missing");
    return catalog;
}

Result<Catalog> Catalog::load(const std::filesystem::path& dir, std::string fallback) {
    std::map<std::string, std::string> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".json") continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        files[entry.path().stem().string()] = ss.str();
    }
    if (ec) return Error(ErrorKind::internal, "i18n.bad_catalog", {{"locale", dir.string()}}, ec.message());
    return from_json(files, std::move(fallback));
}

std::string Catalog::text(std::string_view locale, std::string_view key, const Args& args) const {
    for (std::string_view l : {locale, std::string_view(fallback_)}) {
        auto catalog = messages_.find(l);
        if (catalog == messages_.end()) continue;
        if (auto it = catalog->second.find(key); it != catalog->second.end()) return format(it->second, args);
    }
    return std::string(key);
}

std::string Catalog::error_text(std::string_view locale, const Error& error) const {
    return text(locale, "error." + error.code, error.args);
}

bool Catalog::has(std::string_view locale, std::string_view key) const {
    auto catalog = messages_.find(locale);
    return catalog != messages_.end() && catalog->second.find(key) != catalog->second.end();
}

bool Catalog::supports(std::string_view locale) const {
    return messages_.find(locale) != messages_.end();
}

std::vector<std::string> Catalog::keys(std::string_view locale) const {
    std::vector<std::string> out;
    if (auto it = messages_.find(locale); it != messages_.end())
        for (const auto& [k, v] : it->second) out.push_back(k);
    return out;
}

std::string Catalog::negotiate(std::string_view header) const {
    std::string best = fallback_;
    double best_q = -1;
    std::size_t entries = 0;
    while (!header.empty() && entries++ < 32) {  // bounded: a header is untrusted input
        auto comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        auto semi = item.find(';');
        std::string tag = lower(item.substr(0, semi));
        tag.erase(std::remove_if(tag.begin(), tag.end(), [](unsigned char c) { return std::isspace(c); }),
                  tag.end());
        double q = 1.0;
        if (semi != std::string_view::npos) {
            auto qpos = item.find("q=", semi);
            if (qpos != std::string_view::npos) {
                try {
                    q = std::stod(std::string(item.substr(qpos + 2)));
                } catch (...) {
                    q = 0;
                }
            }
        }
        std::string primary = tag.substr(0, tag.find('-'));
        if (q > best_q && q > 0 && supports(primary)) {
            best = primary;
            best_q = q;
        }
    }
    return best;
}

std::string format(std::string_view pattern, const Args& args) {
    std::string out;
    out.reserve(pattern.size());
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '{') {
            auto close = pattern.find('}', i);
            if (close != std::string_view::npos) {
                std::string_view name = pattern.substr(i + 1, close - i - 1);
                auto it =
                    std::find_if(args.begin(), args.end(), [&](const auto& a) { return a.first == name; });
                if (it != args.end()) {
                    out += it->second;
                    i = close;
                    continue;
                }
            }
        }
        out += pattern[i];
    }
    return out;
}

}  // namespace pitwall::i18n
