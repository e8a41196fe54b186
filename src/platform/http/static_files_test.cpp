#include "platform/http/static_files.hpp"

#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>

namespace pitwall::http {
namespace {

class StaticFilesTest : public testing::Test {
  protected:
    void SetUp() override {
        base_ = std::filesystem::temp_directory_path() / ("pitwall-static-" + std::to_string(::getpid()));
        root_ = base_ / "static";
        std::filesystem::create_directories(root_ / "css");
        std::ofstream(root_ / "css" / "site.css") << "body{}";
        std::ofstream(root_ / "app.js") << "console.log(1)";
        std::ofstream(root_ / ".env") << "SECRET=1";
        std::ofstream(base_ / "outside.txt") << "private";
        std::filesystem::create_symlink(base_ / "outside.txt", root_ / "link.txt");
    }
    void TearDown() override { std::filesystem::remove_all(base_); }

    std::filesystem::path base_, root_;
};

TEST_F(StaticFilesTest, ServesWithTypeEtagAndCaching) {
    StaticFiles files(root_);
    Request r;
    auto css = files.serve("css/site.css", r);
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.body, "body{}");
    EXPECT_EQ(css.headers.get("Content-Type"), "text/css; charset=utf-8");
    EXPECT_TRUE(css.headers.get("Cache-Control").has_value());
    auto etag = std::string(*css.headers.get("ETag"));
    EXPECT_EQ(etag.front(), '"');  // strong validator

    EXPECT_EQ(files.serve("app.js", r).headers.get("Content-Type"), "text/javascript; charset=utf-8");

    Request conditional;
    conditional.headers.set("If-None-Match", etag);
    auto not_modified = files.serve("css/site.css", conditional);
    EXPECT_EQ(not_modified.status, 304);
    EXPECT_TRUE(not_modified.body.empty());

    conditional.headers.set("If-None-Match", "\"other\"");
    EXPECT_EQ(files.serve("css/site.css", conditional).status, 200);
}

TEST_F(StaticFilesTest, ChangedFileGetsANewEtag) {
    StaticFiles files(root_);
    Request r;
    auto before = std::string(*files.serve("app.js", r).headers.get("ETag"));
    std::ofstream(root_ / "app.js") << "console.log(2); // longer";
    auto after = files.serve("app.js", r);
    EXPECT_NE(std::string(*after.headers.get("ETag")), before);
    EXPECT_EQ(after.body, "console.log(2); // longer");
}

TEST_F(StaticFilesTest, NothingOutsideTheRoot) {
    StaticFiles files(root_);
    Request r;
    for (const std::string& bad : std::vector<std::string>{
             "../outside.txt", "css/../../outside.txt", "/etc/passwd", "link.txt", ".env",
             "css\\..\\..\\outside.txt", std::string("app.js\0x", 8), "", "missing.css", "css"})
        EXPECT_EQ(files.serve(bad, r).status, 404) << bad;
}

}  // namespace
}  // namespace pitwall::http
