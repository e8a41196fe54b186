#include "core/json.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace pitwall::json {
namespace {

boost::json::object sample() {
    return boost::json::parse(R"({"s":"abc","i":42,"u":18446744073709551615,"d":3.5,"whole":7.0,
        "num_text":"926270","bad_text":"12x","b":true,"o":{"k":1},"a":[1,2],"n":null})")
        .as_object();
}

TEST(Json, TextReadsStringsAndIntegers) {
    auto o = sample();
    EXPECT_EQ(text(o, "s"), "abc");
    EXPECT_EQ(text(o, "i"), "42");
    EXPECT_EQ(text(o, "d"), "");
    EXPECT_EQ(text(o, "missing"), "");
    EXPECT_EQ(text(o, "n"), "");
}

TEST(Json, IntegerIsTolerantButNeverGuesses) {
    auto o = sample();
    EXPECT_EQ(integer(o, "i"), 42);
    EXPECT_EQ(integer(o, "whole"), 7);
    EXPECT_EQ(integer(o, "num_text"), 926270);
    EXPECT_EQ(integer(o, "d"), std::nullopt);  // a fraction is not an integer
    EXPECT_EQ(integer(o, "u"), std::nullopt);  // does not fit
    EXPECT_EQ(integer(o, "bad_text"), std::nullopt);
    EXPECT_EQ(integer(o, "o"), std::nullopt);
    EXPECT_EQ(integer_or(o, "missing", -1), -1);
}

TEST(Json, OtherAccessors) {
    auto o = sample();
    EXPECT_EQ(number(o, "d"), 3.5);
    EXPECT_EQ(number(o, "i"), 42.0);
    EXPECT_EQ(number(o, "s"), std::nullopt);
    EXPECT_TRUE(boolean_or(o, "b", false));
    EXPECT_FALSE(boolean_or(o, "i", false));
    ASSERT_NE(object(o, "o"), nullptr);
    EXPECT_EQ(object(o, "a"), nullptr);
    ASSERT_NE(array(o, "a"), nullptr);
    EXPECT_EQ(array(o, "a")->size(), 2u);
}

TEST(Json, ParseReportsTheGivenCode) {
    auto bad = parse("{", "upstream.bad_answer", ErrorKind::unavailable);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, "upstream.bad_answer");
    EXPECT_EQ(bad.error().kind, ErrorKind::unavailable);
    EXPECT_TRUE(parse("[1]", "x").ok());
}

}  // namespace
}  // namespace pitwall::json
