// Static assets from one directory (web/static): strong ETag from the content hash, 304 on
// If-None-Match, Cache-Control, MIME type by extension, and no way out of the root (.., symlinks,
// encoded separators and NUL bytes are refused). Files are read once and kept while unchanged.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "platform/http/message.hpp"

namespace pitwall::http {

class StaticFiles {
  public:
    explicit StaticFiles(std::filesystem::path root, std::size_t max_file_bytes = 8 * 1024 * 1024);

    // `relative` is the already-decoded path below the root (the {path*} route parameter).
    // Returns 404 for anything missing or outside the root.
    [[nodiscard]] Response serve(std::string_view relative, const Request& request);

    [[nodiscard]] static std::string_view mime_type(const std::filesystem::path& file);

  private:
    struct Entry {
        std::filesystem::file_time_type mtime;
        std::uintmax_t size = 0;
        std::shared_ptr<const std::string> content;
        std::string etag;
    };
    std::filesystem::path root_;
    std::size_t max_file_bytes_;
    std::mutex mutex_;
    std::map<std::string, Entry> cache_;
};

}  // namespace pitwall::http
