#include "platform/http/static_files.hpp"

#include <fstream>
#include <sstream>

#include "core/encoding.hpp"

namespace pitwall::http {

StaticFiles::StaticFiles(std::filesystem::path root, std::size_t max_file_bytes)
    : max_file_bytes_(max_file_bytes) {
    std::error_code ec;
    root_ = std::filesystem::weakly_canonical(root, ec);
    if (ec) root_ = std::move(root);
}

std::string_view StaticFiles::mime_type(const std::filesystem::path& file) {
    static const std::map<std::string, std::string_view, std::less<>> types = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json; charset=utf-8"},
        {".txt", "text/plain; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".webp", "image/webp"},
        {".gif", "image/gif"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".webmanifest", "application/manifest+json"},
    };
    auto it = types.find(file.extension().string());
    return it == types.end() ? std::string_view("application/octet-stream") : it->second;
}

Response StaticFiles::serve(std::string_view relative, const Request& request) {
    auto not_found = [] { return Response::empty(404); };
    if (relative.empty() || relative.size() > 1024 || relative.find('\0') != std::string_view::npos ||
        relative.find('\\') != std::string_view::npos)
        return not_found();
    std::filesystem::path rel(relative);
    if (rel.is_absolute()) return not_found();
    for (const auto& part : rel)
        if (part == ".." || part == "." || (!part.empty() && part.string().front() == '.'))
            return not_found();

    std::error_code ec;
    auto full = std::filesystem::canonical(root_ / rel, ec);  // resolves symlinks
    if (ec) return not_found();
    auto [root_end, unused] = std::mismatch(root_.begin(), root_.end(), full.begin(), full.end());
    if (root_end != root_.end() || !std::filesystem::is_regular_file(full, ec)) return not_found();

    auto mtime = std::filesystem::last_write_time(full, ec);
    auto size = std::filesystem::file_size(full, ec);
    if (ec || size > max_file_bytes_) return not_found();

    Entry entry;
    {
        std::lock_guard lock(mutex_);
        if (auto it = cache_.find(full.string());
            it != cache_.end() && it->second.mtime == mtime && it->second.size == size)
            entry = it->second;
    }
    if (!entry.content) {
        std::ifstream in(full, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        if (!in.good() && !in.eof()) return not_found();
        auto content = std::make_shared<const std::string>(ss.str());
        entry = Entry{mtime, size, content,
                      "\"" + encoding::hex(encoding::sha256(*content)).substr(0, 32) + "\""};
        std::lock_guard lock(mutex_);
        cache_[full.string()] = entry;
    }

    Response response;
    response.headers.set("ETag", entry.etag);
    response.headers.set("Cache-Control", "public, max-age=300, must-revalidate");
    if (auto inm = request.headers.get("If-None-Match");
        inm && inm->find(entry.etag) != std::string_view::npos) {
        response.status = 304;
        return response;
    }
    response.status = 200;
    response.headers.set("Content-Type", mime_type(full));
    response.body = *entry.content;
    return response;
}

}  // namespace pitwall::http
