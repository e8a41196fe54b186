#include "platform/web/templates.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <kainjow/mustache.hpp>

namespace pitwall::web {
namespace {

namespace mustache = kainjow::mustache;

constexpr std::size_t kMaxTemplates = 256;
constexpr std::uintmax_t kMaxTemplateBytes = 256 * 1024;
constexpr std::size_t kMaxExpandedBytes = 2 * 1024 * 1024;
constexpr int kMaxPartialDepth = 8;
constexpr std::size_t kMaxArguments = 16;

bool valid_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::islower(c) || std::isdigit(c) || c == '_';
    });
}

// A data path in a {{#t}} call: letters, digits, '_' and '.' only, so it can be spliced into a tag.
bool valid_path(std::string_view path) {
    return !path.empty() && path.size() <= 128 && std::all_of(path.begin(), path.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '.';
    });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// Removes {{! comments }}: they render nothing, and one that fills its lines (the data contract at
// the top of every template) would otherwise leave an empty line behind.
std::string strip_comments(const std::string& source) {
    std::string out;
    out.reserve(source.size());
    std::size_t pos = 0;
    while (true) {
        const std::size_t open = source.find("{{!", pos);
        if (open == std::string::npos) break;
        const std::size_t close = source.find("}}", open);
        if (close == std::string::npos) break;  // the parser reports it
        out.append(source, pos, open - pos);
        pos = close + 2;
        const bool line_start = open == 0 || source[open - 1] == '\n';
        if (line_start && pos < source.size() && source[pos] == '\n') ++pos;
    }
    out.append(source, pos, std::string::npos);
    return out;
}

// Replaces every {{> name}} by the source of `name`, recursively. Mustache renders a partial in the
// caller's context, which is what textual inclusion gives; doing it once here means a page is parsed
// as one template and a missing partial or a cycle is found at start-up, not on a request.
Result<std::string> expand(const std::string& name, const std::map<std::string, std::string>& sources,
                           int depth) {
    if (depth > kMaxPartialDepth)
        return Error(ErrorKind::internal, "web.template_invalid",
                     {{"name", name}, {"reason", "partials nest too deep (a cycle?)"}});
    const std::string source = strip_comments(sources.at(name));
    std::string out;
    out.reserve(source.size());
    std::size_t pos = 0;
    std::size_t scan = 0;
    while (true) {
        const std::size_t open = source.find("{{", scan);
        if (open == std::string::npos) break;
        const std::size_t close = source.find("}}", open);
        if (close == std::string::npos) break;  // the parser reports it
        scan = close + 2;
        if (source.compare(open, 3, "{{>") != 0) continue;
        const std::string partial(trim(std::string_view(source).substr(open + 3, close - open - 3)));
        if (!sources.contains(partial))
            return Error(ErrorKind::internal, "web.template_invalid",
                         {{"name", name}, {"reason", "no template named " + partial}});
        auto inner = expand(partial, sources, depth + 1);
        if (!inner) return inner;
        out.append(source, pos, open - pos).append(*inner);
        if (out.size() > kMaxExpandedBytes)
            return Error(ErrorKind::internal, "web.template_invalid",
                         {{"name", name}, {"reason", "too large once partials are expanded"}});
        pos = scan;
    }
    out.append(source, pos, std::string::npos);
    return out;
}

std::string number_text(double value) {
    char buffer[64];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc() ? std::string(buffer, end) : std::string();
}

mustache::data to_data(const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::object: {
            mustache::data out(mustache::data::type::object);
            for (const auto& [key, item] : value.get_object()) {
                if (key == "t") continue;  // would shadow the translation lambda
                out[std::string(key)] = to_data(item);
            }
            return out;
        }
        case boost::json::kind::array: {
            mustache::data out(mustache::data::type::list);
            for (const auto& item : value.get_array()) out.push_back(to_data(item));
            return out;
        }
        case boost::json::kind::string:
            return mustache::data(std::string(value.get_string()));
        case boost::json::kind::bool_:
            return mustache::data(value.get_bool());
        case boost::json::kind::int64:
            return mustache::data(std::to_string(value.get_int64()));
        case boost::json::kind::uint64:
            return mustache::data(std::to_string(value.get_uint64()));
        case boost::json::kind::double_:
            return mustache::data(number_text(value.get_double()));
        case boost::json::kind::null:
            return mustache::data(false);
    }
    return mustache::data(false);
}

// The {{#t}}key name=path ...{{/t}} lambda: the message in the viewer's language, HTML-escaped.
// Its output is not parsed again, so a message can never inject template tags.
mustache::lambda2 translator(const i18n::Catalog& catalog, const i18n::Viewer& viewer) {
    return [&catalog, &viewer](const std::string& text, const mustache::renderer& render) -> std::string {
        const std::string call = text.find("{{") == std::string::npos ? text : render(text, false);
        std::string_view rest = trim(call);
        const std::size_t key_end = std::min(rest.size(), rest.find_first_of(" \t\r\n"));
        const std::string_view key = rest.substr(0, key_end);
        if (key.empty()) return {};
        rest.remove_prefix(key_end);
        i18n::Args args;
        while (!(rest = trim(rest)).empty() && args.size() < kMaxArguments) {
            const std::size_t end = std::min(rest.size(), rest.find_first_of(" \t\r\n"));
            const std::string_view token = rest.substr(0, end);
            rest.remove_prefix(end);
            const std::size_t eq = token.find('=');
            if (eq == std::string_view::npos || eq == 0 || !valid_path(token.substr(eq + 1))) continue;
            args.emplace_back(std::string(token.substr(0, eq)),
                              render("{{{" + std::string(token.substr(eq + 1)) + "}}}", false));
        }
        return mustache::html_escape(catalog.text(viewer, key, args));
    };
}

}  // namespace

struct Templates::Impl {
    const i18n::Catalog* catalog = nullptr;
    std::map<std::string, std::string, std::less<>> pages;  // partials expanded
};

Result<Templates> Templates::from_sources(const std::map<std::string, std::string>& sources,
                                          const i18n::Catalog& catalog) {
    auto impl = std::make_shared<Impl>();
    impl->catalog = &catalog;
    for (const auto& [name, source] : sources) {
        if (!valid_name(name))
            return Error(ErrorKind::internal, "web.template_invalid",
                         {{"name", name}, {"reason", "names use a-z, 0-9 and _"}});
        if (source.find("{{=") != std::string::npos)
            return Error(ErrorKind::internal, "web.template_invalid",
                         {{"name", name}, {"reason", "changing delimiters is not supported"}});
        auto expanded = expand(name, sources, 0);
        if (!expanded) return std::move(expanded).error();
        mustache::mustache parsed(*expanded);
        if (!parsed.is_valid())
            return Error(ErrorKind::internal, "web.template_invalid",
                         {{"name", name}, {"reason", parsed.error_message()}});
        impl->pages.emplace(name, std::move(*expanded));
    }
    return Templates(std::move(impl));
}

Result<Templates> Templates::load(const std::filesystem::path& dir, const i18n::Catalog& catalog) {
    std::map<std::string, std::string> sources;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        std::error_code entry_ec;
        if (entry.path().extension() != ".mustache" || !entry.is_regular_file(entry_ec)) continue;
        const std::string name = entry.path().stem().string();
        const auto size = entry.file_size(entry_ec);
        if (entry_ec)
            return Error(ErrorKind::internal, "web.templates_unreadable",
                         {{"path", entry.path().string()}, {"reason", entry_ec.message()}});
        if (sources.size() >= kMaxTemplates || size > kMaxTemplateBytes)
            return Error(ErrorKind::internal, "web.template_invalid",
                         {{"name", name}, {"reason", "too many or too large"}});
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        if (!in && !in.eof())
            return Error(ErrorKind::internal, "web.templates_unreadable",
                         {{"path", entry.path().string()}, {"reason", "read failed"}});
        sources[name] = ss.str();
    }
    if (ec)
        return Error(ErrorKind::internal, "web.templates_unreadable",
                     {{"path", dir.string()}, {"reason", ec.message()}});
    return from_sources(sources, catalog);
}

Result<std::string> Templates::render(std::string_view name, const boost::json::object& data,
                                      const i18n::Viewer& viewer) const {
    auto page = impl_->pages.find(name);
    if (page == impl_->pages.end())
        return Error(ErrorKind::internal, "web.template_missing", {{"name", std::string(name)}});

    mustache::data root = to_data(data);
    root["locale"] = mustache::data(viewer.locale);
    root["time_zone"] = mustache::data(viewer.time_zone);
    root["t"] = mustache::data(translator(*impl_->catalog, viewer));

    // Parsed per render: a kainjow template object records the first render error in itself and
    // renders nothing afterwards, so sharing one between requests (or threads) is not safe.
    mustache::mustache parsed(page->second);
    std::string html = parsed.render(root);
    if (!parsed.is_valid())
        return Error(ErrorKind::internal, "web.template_failed", {{"name", std::string(name)}},
                     parsed.error_message());
    return html;
}

bool Templates::has(std::string_view name) const {
    return impl_->pages.find(name) != impl_->pages.end();
}

std::vector<std::string> Templates::names() const {
    std::vector<std::string> out;
    for (const auto& [name, page] : impl_->pages) out.push_back(name);
    return out;
}

}  // namespace pitwall::web
