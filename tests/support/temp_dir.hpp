// A directory under the system temp dir that lives as long as the object.
#pragma once

#include <filesystem>
#include <string_view>

namespace pitwall::test_support {

class TempDir {
  public:
    explicit TempDir(std::string_view prefix = "pitwall");  // throws std::runtime_error
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace pitwall::test_support
