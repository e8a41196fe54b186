#include "platform/auth/secret_mask.hpp"

#include <clocale>

#include <gtest/gtest.h>

namespace pitwall::auth {
namespace {

// Expected values computed independently with Python:
//   base64.b64encode(hashlib.sha256((secret + identifier.strip().lower()).encode()).digest())
TEST(SecretMask, MasksAClientSecretWithTheClientId) {
    EXPECT_EQ(mask_secret("MyC1ientS3cret", "myclientid"), "+e1YWJZ/TbLhtq3v5GAb420dhmHPlqFgaHuf1Tqlqgo=");
}

TEST(SecretMask, TrimsAndLowerCasesTheIdentifierOnly) {
    EXPECT_EQ(mask_secret("MyC1ientS3cret", "  MyClientID \n"),
              "+e1YWJZ/TbLhtq3v5GAb420dhmHPlqFgaHuf1Tqlqgo=");
    EXPECT_EQ(mask_secret("SuperSecret!", "John.Doe@Example.com"),
              "cJZnW77RaPiHBj8yhZ3bRXcxYq3zhDDrtXsctJubHQU=");
    // The secret keeps its case and its spaces.
    EXPECT_NE(mask_secret("supersecret!", "john.doe@example.com"),
              mask_secret("SuperSecret!", "john.doe@example.com"));
    EXPECT_NE(mask_secret(" SuperSecret!", "john.doe@example.com"),
              mask_secret("SuperSecret!", "john.doe@example.com"));
}

TEST(SecretMask, HashesUtf8SecretsByteForByte) {
    EXPECT_EQ(mask_secret("\xc5\x9f"
                          "ifre\xf0\x9f\x8f\x81",
                          "Pilot@Example.TR"),
              "kgvSG/sCsYesZ3/LOUNsqHDg57RcHCEiPfM+Wa95WhY=");
}

TEST(SecretMask, HandlesEmptyParts) {
    EXPECT_EQ(mask_secret("", "client"), "lI/mA/YdwDa1xZbcCf484/PTDckPAkyF88gtssyrZ50=");
    EXPECT_EQ(mask_secret("secret", ""), "K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=");
    EXPECT_EQ(mask_secret("secret", " \t "), "K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=");
}

TEST(SecretMask, IgnoresTheProcessLocale) {
    // Under tr_TR, tolower('I') is a dotless i in some C libraries; masking must not change.
    const char* old = std::setlocale(LC_ALL, nullptr);
    const std::string saved = old ? old : "C";
    std::setlocale(LC_ALL, "tr_TR.UTF-8");
    const std::string masked = mask_secret("SuperSecret!", "JOHN.DOE@EXAMPLE.COM");
    std::setlocale(LC_ALL, saved.c_str());
    EXPECT_EQ(masked, "cJZnW77RaPiHBj8yhZ3bRXcxYq3zhDDrtXsctJubHQU=");
}

}  // namespace
}  // namespace pitwall::auth
