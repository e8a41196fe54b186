#include "platform/auth/session.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "platform/store/kv.hpp"

namespace pitwall::auth {
namespace {

class SessionTest : public testing::Test {
  protected:
    void SetUp() override {
        path_ = std::filesystem::temp_directory_path() /
                ("pitwall-session-" + std::to_string(::getpid()) + ".db");
        kv_ = *store::open_embedded_kv({.path = path_.string()}, clock_);
    }
    void TearDown() override {
        kv_.reset();
        for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix);
    }
    ManualClock clock_;
    std::filesystem::path path_;
    std::unique_ptr<store::Kv> kv_;
};

TEST_F(SessionTest, CreateLoadDestroy) {
    SessionStore sessions(*kv_, clock_, std::chrono::hours(24));
    auto s = sessions.create(42);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->id.size(), 43u);
    auto loaded = sessions.load(s->id);
    ASSERT_TRUE(loaded.ok() && loaded->has_value());
    EXPECT_EQ((*loaded)->user_id, 42);
    EXPECT_EQ((*loaded)->csrf_token, s->csrf_token);
    // The raw id is not the KV key.
    EXPECT_FALSE(kv_->get("pw:session:" + s->id)->has_value());
    ASSERT_TRUE(sessions.destroy(s->id).ok());
    EXPECT_FALSE(sessions.load(s->id)->has_value());
}

TEST_F(SessionTest, ExpiresWithTheTtl) {
    SessionStore sessions(*kv_, clock_, std::chrono::hours(1));
    auto s = sessions.create(7);
    clock_.advance(std::chrono::minutes(59));
    EXPECT_TRUE(sessions.load(s->id)->has_value());
    clock_.advance(std::chrono::minutes(2));
    EXPECT_FALSE(sessions.load(s->id)->has_value());
}

TEST_F(SessionTest, RotationRetiresTheOldId) {
    SessionStore sessions(*kv_, clock_, std::chrono::hours(1));
    auto before = sessions.create(0);
    auto after = sessions.rotate(before->id, 9);
    ASSERT_TRUE(after.ok());
    EXPECT_NE(after->id, before->id);
    EXPECT_FALSE(sessions.load(before->id)->has_value());
    EXPECT_EQ((*sessions.load(after->id))->user_id, 9);
}

TEST_F(SessionTest, TamperedOrForgedIdsAreUnknown) {
    SessionStore sessions(*kv_, clock_, std::chrono::hours(1));
    auto s = sessions.create(1);
    std::string tampered = s->id;
    tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
    for (const std::string& bad :
         {tampered, std::string("short"), s->id + "x", std::string(43, '*'), std::string()})
        EXPECT_FALSE(sessions.load(bad)->has_value()) << bad;
}

TEST(Cookies, SetCookieAttributes) {
    auto plain = set_cookie("pw_session", "abc", {});
    EXPECT_EQ(plain, "pw_session=abc; Path=/; HttpOnly; SameSite=Lax");
    auto secure = set_cookie("pw_session", "abc", {.secure = true, .max_age = std::chrono::seconds(60)});
    EXPECT_EQ(secure, "pw_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60");
    EXPECT_NE(set_cookie("x", "", {.max_age = std::chrono::seconds(-1)}).find("Max-Age=0"),
              std::string::npos);
}

TEST(Cookies, ReadCookie) {
    EXPECT_EQ(read_cookie("a=1; pw_session=xyz; b=2", "pw_session"), "xyz");
    EXPECT_EQ(read_cookie("pw_session=xyz", "pw_session"), "xyz");
    EXPECT_EQ(read_cookie("pw_sessionx=1", "pw_session"), std::nullopt);
    EXPECT_EQ(read_cookie("", "pw_session"), std::nullopt);
    EXPECT_EQ(read_cookie("pw_session=a; pw_session=b", "pw_session"), std::nullopt);  // injected duplicate
}

}  // namespace
}  // namespace pitwall::auth
