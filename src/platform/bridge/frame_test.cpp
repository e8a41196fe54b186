#include "platform/bridge/frame.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace pitwall::bridge {
namespace {

namespace json = boost::json;

// ---- frames that must be refused ----------------------------------------------------------------

struct Refused {
    std::string name;
    std::string text;
    std::string code;   // without "bridge."
    std::string field;  // Error::arg("field") for malformed
};

const std::vector<Refused> refused = {
    {"not JSON", R"({"t":"ack","a":1)", "malformed", ""},
    {"empty input", "", "malformed", ""},
    {"trailing garbage", R"({"t":"ack","a":1} x)", "malformed", ""},
    {"array", R"([{"t":"ack","a":1}])", "malformed", ""},
    {"string", R"("ack")", "malformed", ""},
    {"null", "null", "malformed", ""},
    {"missing t", R"({"a":1})", "malformed", "t"},
    {"t null", R"({"t":null,"a":1})", "malformed", "t"},
    {"t number", R"({"t":7,"a":1})", "malformed", "t"},
    {"t object", R"({"t":{"x":1},"a":1})", "malformed", "t"},
    {"t longer than 32", R"({"t":"heartbeat_heartbeat_heartbeat_xyz"})", "malformed", "t"},
    {"unknown type", R"({"t":"dm.explode","s":1,"d":{}})", "unknown_type", ""},
    {"type names are case-sensitive", R"({"t":"Heartbeat"})", "unknown_type", ""},
    {"seq -1", R"({"t":"command.result","s":-1,"d":{"ref":"r","content":"c"}})", "malformed", "s"},
    {"seq 1.5", R"({"t":"command.result","s":1.5,"d":{"ref":"r","content":"c"}})", "malformed", "s"},
    {"seq 1.0 is not an integer", R"({"t":"command.result","s":1.0,"d":{"ref":"r","content":"c"}})",
     "malformed", "s"},
    {"seq as string", R"({"t":"command.result","s":"3","d":{"ref":"r","content":"c"}})", "malformed", "s"},
    {"seq 2^64 overflows", R"({"t":"command.result","s":18446744073709551616,"d":{"ref":"r","content":"c"}})",
     "malformed", "s"},
    {"seq 2^64-1 above max_seq",
     R"({"t":"command.result","s":18446744073709551615,"d":{"ref":"r","content":"c"}})", "malformed", "s"},
    {"seq 2^53 above max_seq", R"({"t":"command.result","s":9007199254740992,"d":{"ref":"r","content":"c"}})",
     "malformed", "s"},
    {"seq 0", R"({"t":"command.result","s":0,"d":{"ref":"r","content":"c"}})", "malformed", "s"},
    {"application message without seq", R"({"t":"command.result","d":{"ref":"r","content":"c"}})",
     "malformed", "s"},
    {"control frame with seq", R"({"t":"heartbeat","s":4})", "malformed", "s"},
    {"ack -1", R"({"t":"ack","a":-1})", "malformed", "a"},
    {"ack fractional", R"({"t":"ack","a":0.5})", "malformed", "a"},
    {"ack as string", R"({"t":"ack","a":"2"})", "malformed", "a"},
    {"ack frame without a", R"({"t":"ack"})", "malformed", "a"},
    {"d array", R"({"t":"heartbeat","d":[]})", "malformed", "d"},
    {"d string", R"({"t":"hello","d":"nonce"})", "malformed", "d"},
    {"hello without d", R"({"t":"hello"})", "malformed", "d.nonce"},
    {"empty id", R"({"t":"roles.result","s":1,"d":{"id":"","ok":true}})", "malformed", "d.id"},
    {"id as number", R"({"t":"roles.result","s":1,"d":{"id":42,"ok":true}})", "malformed", "d.id"},
    {"bool as number", R"({"t":"roles.result","s":1,"d":{"id":"r1","ok":1}})", "malformed", "d.ok"},
    {"unknown dm status", R"({"t":"dm.result","s":1,"d":{"id":"m","status":"sent"}})", "malformed",
     "d.status"},
    {"role id not a string",
     R"({"t":"roles.apply","s":1,"d":{"id":"x","discord_user_id":"1","add":["2",3]}})", "malformed",
     "d.add[1]"},
    {"empty role id",
     R"({"t":"member.update","s":1,"d":{"discord_user_id":"1","username":"u","roles":[""]}})", "malformed",
     "d.roles[0]"},
    {"option of type array",
     R"({"t":"command","s":1,"d":{"ref":"i","guild_id":"g","discord_user_id":"u","username":"n","locale":"tr",
         "name":"stint","options":{"car":[1]}}})",
     "malformed", "d.options.car"},
    {"option integer beyond int64",
     R"({"t":"command","s":1,"d":{"ref":"i","guild_id":"g","discord_user_id":"u","username":"n","locale":"tr",
         "name":"stint","options":{"n":18446744073709551615}}})",
     "malformed", "d.options.n"},
    {"resume missing session_id",
     R"({"t":"identify","d":{"bot_id":"b","ts_ms":1,"mac":"m","resume":{"last_seq":3}}})", "malformed",
     "d.resume.session_id"},
    {"resume last_seq negative",
     R"({"t":"identify","d":{"bot_id":"b","ts_ms":1,"mac":"m","resume":{"session_id":"s","last_seq":-3}}})",
     "malformed", "d.resume.last_seq"},
    {"ts_ms beyond int64", R"({"t":"identify","d":{"bot_id":"b","ts_ms":9223372036854775808,"mac":"m"}})",
     "malformed", "d.ts_ms"},
    {"invalid UTF-8", "{\"t\":\"error\",\"d\":{\"code\":\"x\",\"message\":\"\xc3\x28\"}}", "malformed", ""},
    {"deeper than max_depth",
     R"({"t":"heartbeat","d":{"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}})",
     "malformed", ""},
};

class RefusedFrames : public testing::TestWithParam<Refused> {};

TEST_P(RefusedFrames, DecodeToAnErrorValue) {
    const auto& c = GetParam();
    auto decoded = decode(c.text);
    ASSERT_FALSE(decoded.ok()) << encode(*decoded);
    EXPECT_EQ(decoded.error().code, "bridge." + c.code) << decoded.error().detail;
    EXPECT_EQ(decoded.error().arg("field"), c.field) << decoded.error().detail;
    EXPECT_EQ(decoded.error().kind, ErrorKind::invalid_input);
    EXPECT_FALSE(decoded.error().detail.empty());
}

INSTANTIATE_TEST_SUITE_P(Table, RefusedFrames, testing::ValuesIn(refused), [](const auto& info) {
    std::string name;
    for (char c : info.param.name) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return name;
});

TEST(Decode, RefusesOversizedFramesBeforeParsing) {
    std::string big = R"({"t":"error","d":{"code":"x","message":")" + std::string(70'000, 'a') + "\"}}";
    auto decoded = decode(big);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().code, "bridge.too_large");
    EXPECT_EQ(decoded.error().kind, ErrorKind::too_large);
    EXPECT_EQ(decoded.error().arg("max"), "65536");

    const std::string small = R"({"t":"heartbeat"})";
    EXPECT_TRUE(decode(small, {.max_frame_bytes = small.size()}).ok());
    auto limited = decode(small, {.max_frame_bytes = small.size() - 1});
    ASSERT_FALSE(limited.ok());
    EXPECT_EQ(limited.error().code, "bridge.too_large");
    // Not JSON at all, but too large first: the size is checked before a byte is parsed.
    EXPECT_EQ(decode(std::string(default_max_frame_bytes + 1, '[')).error().code, "bridge.too_large");
}

// ---- frames that must be accepted ---------------------------------------------------------------

TEST(Decode, ReadsEveryFieldOfAFrame) {
    auto decoded =
        decode(R"({"t":"dm.send","s":7,"a":3,"d":{"id":"dm-1","discord_user_id":"80351110224678912",
        "content":"Stint 3 starts at 14:00","nonce":"n-1","attempt":2}})");
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    EXPECT_EQ(decoded->type(), MessageType::dm_send);
    EXPECT_EQ(decoded->seq, 7u);
    EXPECT_EQ(decoded->ack, 3u);
    const auto& dm = std::get<DmSend>(decoded->message);
    EXPECT_EQ(dm, (DmSend{"dm-1", "80351110224678912", "Stint 3 starts at 14:00", "n-1", 2}));
}

TEST(Decode, IgnoresUnknownFieldsAndReadsNullAsAbsent) {
    auto decoded = decode(R"({"t":"announce.result","s":1,"x":[1,2],"d":{"id":"a1","message_id":null,
        "error":null,"future_field":{"nested":true}}})");
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    EXPECT_EQ(std::get<AnnounceResult>(decoded->message), (AnnounceResult{"a1", std::nullopt, std::nullopt}));

    auto ack = decode(R"({"t":"heartbeat","a":null,"d":null})");
    ASSERT_TRUE(ack.ok());
    EXPECT_FALSE(ack->ack.has_value());
}

TEST(Decode, AcceptsTheLimitsThemselves) {
    auto frame = decode(R"({"t":"command.result","s":9007199254740991,"a":0,"d":{"ref":"r","content":""}})");
    ASSERT_TRUE(frame.ok()) << frame.error().detail;
    EXPECT_EQ(frame->seq, max_seq);
    EXPECT_EQ(frame->ack, 0u);
    auto negative_ts =
        decode(R"({"t":"identify","d":{"bot_id":"b","ts_ms":-9223372036854775808,"mac":"m"}})");
    ASSERT_TRUE(negative_ts.ok()) << negative_ts.error().detail;
    EXPECT_EQ(std::get<Identify>(negative_ts->message).ts_ms, INT64_MIN);
}

TEST(Decode, CommandOptionsKeepTheirKinds) {
    auto decoded = decode(R"({"t":"command","s":4,"d":{"ref":"1122","guild_id":"9","discord_user_id":"7",
        "username":"ilgin","locale":"tr","name":"availability",
        "options":{"from":"2024-06-15T12:00","hours":6,"fuel":1.5,"spotter":true,"big":9223372036854775807}}})");
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    const auto& command = std::get<Command>(decoded->message);
    EXPECT_EQ(command.options.at("from"), OptionValue(std::string("2024-06-15T12:00")));
    EXPECT_EQ(command.options.at("hours"), OptionValue(std::int64_t{6}));
    EXPECT_EQ(command.options.at("fuel"), OptionValue(1.5));
    EXPECT_EQ(command.options.at("spotter"), OptionValue(true));
    EXPECT_EQ(command.options.at("big"), OptionValue(std::int64_t{INT64_MAX}));
}

// ---- required fields and field kinds, per type ---------------------------------------------------

struct TypeFields {
    MessageType type;
    std::string data;                   // a valid `d` with every field set
    std::vector<std::string> required;  // dropping one of these is bridge.malformed naming it
};

const std::vector<TypeFields> type_fields = {
    {MessageType::hello,
     R"({"nonce":"n","heartbeat_ms":30000,"server_time_ms":1700000000000})",
     {"nonce", "heartbeat_ms", "server_time_ms"}},
    {MessageType::identify,
     R"({"bot_id":"b","ts_ms":1,"mac":"ab","resume":{"session_id":"s","last_seq":2}})",
     {"bot_id", "ts_ms", "mac"}},
    {MessageType::ready,
     R"({"session_id":"s","resumed":true,"resume_from":4})",
     {"session_id", "resumed", "resume_from"}},
    {MessageType::ack, "{}", {}},
    {MessageType::heartbeat, "{}", {}},
    {MessageType::heartbeat_ack, "{}", {}},
    {MessageType::error,
     R"({"code":"bridge.out_of_order","message":"expected 3","ref_seq":5})",
     {"code", "message"}},
    {MessageType::dm_send,
     R"({"id":"d","discord_user_id":"u","content":"c","nonce":"n","attempt":1})",
     {"id", "discord_user_id", "content", "nonce", "attempt"}},
    {MessageType::roles_apply,
     R"({"id":"r","discord_user_id":"u","add":["1"],"remove":["2"],"reason":"sync"})",
     {"id", "discord_user_id"}},
    {MessageType::command_result, R"({"ref":"i","content":"done","ephemeral":true})", {"ref", "content"}},
    {MessageType::announce,
     R"({"id":"a","channel_id":"c","content":"P1!","message_id":"m"})",
     {"id", "channel_id", "content"}},
    {MessageType::dm_result,
     R"({"id":"d","status":"failed","message_id":"m","discord_code":50007,"retry_after_ms":1000,"error":"closed"})",
     {"id", "status"}},
    {MessageType::command,
     R"({"ref":"i","guild_id":"g","discord_user_id":"u","username":"n","locale":"en","name":"x","options":{"a":1}})",
     {"ref", "guild_id", "discord_user_id", "username", "locale", "name"}},
    {MessageType::member_update,
     R"({"discord_user_id":"u","username":"n","nick":"k","roles":["1"],"removed":false})",
     {"discord_user_id", "username"}},
    {MessageType::roles_result, R"({"id":"r","ok":false,"error":"missing permission"})", {"id", "ok"}},
    {MessageType::announce_result, R"({"id":"a","message_id":"m","error":"e"})", {"id"}},
};

std::string frame_text(MessageType type, const json::object& data) {
    json::object o{{"t", type_name(type)}};
    if (is_sequenced(type)) o["s"] = 1;
    if (type == MessageType::ack) o["a"] = 0;
    o["d"] = data;
    return json::serialize(o);
}

TEST(TypeFields, TableCoversEveryType) {
    std::set<MessageType> seen;
    for (const auto& t : type_fields) seen.insert(t.type);
    EXPECT_EQ(seen.size(), std::variant_size_v<Message>);
}

TEST(TypeFields, CompleteDataDecodes) {
    for (const auto& t : type_fields) {
        auto decoded = decode(frame_text(t.type, json::parse(t.data).as_object()));
        EXPECT_TRUE(decoded.ok()) << type_name(t.type) << ": " << decoded.error().detail;
    }
}

TEST(TypeFields, EachMissingRequiredFieldIsNamed) {
    for (const auto& t : type_fields) {
        for (const auto& field : t.required) {
            auto data = json::parse(t.data).as_object();
            data.erase(field);
            auto decoded = decode(frame_text(t.type, data));
            ASSERT_FALSE(decoded.ok()) << type_name(t.type) << " without " << field;
            EXPECT_EQ(decoded.error().code, "bridge.malformed");
            EXPECT_EQ(decoded.error().arg("field"), "d." + field) << type_name(t.type);
            EXPECT_NE(decoded.error().detail.find("d." + field + " is missing"), std::string::npos)
                << decoded.error().detail;
            EXPECT_EQ(decoded.error().detail.rfind(std::string(type_name(t.type)), 0), 0u)
                << decoded.error().detail;
        }
    }
}

TEST(TypeFields, OptionalFieldsMayBeLeftOut) {
    for (const auto& t : type_fields) {
        auto data = json::parse(t.data).as_object();
        for (auto it = data.begin(); it != data.end();) {
            const std::string key(it->key());
            const bool required = std::find(t.required.begin(), t.required.end(), key) != t.required.end();
            it = required ? std::next(it) : data.erase(it);
        }
        auto decoded = decode(frame_text(t.type, data));
        EXPECT_TRUE(decoded.ok()) << type_name(t.type) << ": " << decoded.error().detail;
    }
}

TEST(TypeFields, EveryFieldOfTheWrongKindIsNamed) {
    for (const auto& t : type_fields) {
        const auto complete = json::parse(t.data).as_object();
        for (const auto& [key, value] : complete) {
            auto data = complete;
            // An object where a scalar or an array belongs, a number where an object belongs.
            data[key] = value.is_object() ? json::value(7) : json::value(json::object{{"x", 1}});
            auto decoded = decode(frame_text(t.type, data));
            ASSERT_FALSE(decoded.ok()) << type_name(t.type) << "." << key;
            EXPECT_EQ(decoded.error().code, "bridge.malformed");
            EXPECT_EQ(decoded.error().arg("field"), "d." + std::string(key)) << type_name(t.type);
        }
    }
}

// ---- encode -> decode ---------------------------------------------------------------------------

std::vector<Frame> one_of_each() {
    return {
        Frame{0, std::nullopt, Hello{"bm9uY2U", 30'000, 1'718'000'000'000}},
        Frame{0, std::nullopt, Identify{"bot-eu-1", 1'718'000'000'123, "00ff", std::nullopt}},
        Frame{0, std::nullopt, Identify{"bot-eu-1", -5, "00ff", Resume{"sess-1", 41}}},
        Frame{0, 0, Ready{"sess-1", true, 12}},
        Frame{0, 17, Ack{}},
        Frame{0, std::nullopt, Heartbeat{}},
        Frame{0, 3, HeartbeatAck{}},
        Frame{0, std::nullopt, ErrorMessage{"bridge.out_of_order", "expected 4, got 6", 6}},
        Frame{0, std::nullopt, ErrorMessage{"bridge.malformed", "", std::nullopt}},
        Frame{1, 0,
              DmSend{"dm-9", "80351110224678912", "Yarın 14:00'te stint'in var — İyi şanslar!", "n9", 3}},
        Frame{2, std::nullopt, RolesApply{"ra-1", "1", {"100", "200"}, {}, "discord-role-sync"}},
        Frame{3, 8, CommandResult{"1122", "Saved \"availability\"\n", true}},
        Frame{4, 8, Announce{"an-1", "55", "P1 at Spa", std::nullopt}},
        Frame{5, 8, Announce{"an-1", "55", "P1 at Spa (edited)", "998877"}},
        Frame{max_seq, max_seq,
              DmResult{"dm-9", DmStatus::failed, std::nullopt, 50007, 2500,
                       "Cannot send messages to this user"}},
        Frame{6, 1,
              DmResult{"dm-8", DmStatus::delivered, "112233", std::nullopt, std::nullopt, std::nullopt}},
        Frame{7, 1,
              Command{"1122",
                      "9",
                      "7",
                      "ilgın",
                      "tr",
                      "availability",
                      {{"from", std::string("12:00")},
                       {"hours", std::int64_t{-6}},
                       {"fuel", 2.75},
                       {"tiny", 1e-300},
                       {"spotter", false}}}},
        Frame{8, 1, Command{"1123", "9", "7", "", "en", "help", {}}},
        Frame{9, 1, MemberUpdate{"7", "ilgin", "İlgın", {"100"}, false}},
        Frame{10, 1, MemberUpdate{"7", "ilgin", std::nullopt, {}, true}},
        Frame{11, 1, RolesResult{"ra-1", true, std::nullopt}},
        Frame{12, 1, RolesResult{"ra-2", false, "Missing Permissions"}},
        Frame{13, 1, AnnounceResult{"an-1", "998877", std::nullopt}},
        Frame{14, 1, AnnounceResult{"an-2", std::nullopt, "Unknown Channel"}},
    };
}

TEST(RoundTrip, EveryTypeSurvivesEncodeThenDecode) {
    std::set<MessageType> seen;
    for (const auto& frame : one_of_each()) {
        seen.insert(frame.type());
        const std::string text = encode(frame);
        auto decoded = decode(text);
        ASSERT_TRUE(decoded.ok()) << text << ": " << decoded.error().detail;
        EXPECT_EQ(*decoded, frame) << text;
        EXPECT_EQ(encode(*decoded), text);  // one encoding per frame
    }
    EXPECT_EQ(seen.size(), std::variant_size_v<Message>);
}

TEST(RoundTrip, TheEnvelopeIsCompact) {
    EXPECT_EQ(encode(Frame{0, std::nullopt, Heartbeat{}}), R"({"t":"heartbeat"})");
    EXPECT_EQ(encode(Frame{0, 5, Ack{}}), R"({"t":"ack","a":5})");
    EXPECT_EQ(encode(Frame{3, 2, CommandResult{"i", "ok", false}}),
              R"({"t":"command.result","s":3,"a":2,"d":{"ref":"i","content":"ok","ephemeral":false}})");
}

TEST(RoundTrip, MessagesToAndFromJson) {
    for (const auto& frame : one_of_each()) {
        auto back = from_json(frame.type(), to_json(frame.message));
        ASSERT_TRUE(back.ok()) << type_name(frame.type()) << ": " << back.error().detail;
        EXPECT_EQ(*back, frame.message);
    }
}

// ---- types ----------------------------------------------------------------------------------------

TEST(Types, NamesRoundTripAndDirectionsHold) {
    for (std::size_t i = 0; i < std::variant_size_v<Message>; ++i) {
        const auto type = static_cast<MessageType>(i);
        EXPECT_EQ(type_from_name(type_name(type)), type);
        EXPECT_LE(type_name(type).size(), max_type_length);
        EXPECT_TRUE(!is_sequenced(type) || sender(type).has_value()) << type_name(type);
    }
    EXPECT_FALSE(type_from_name("").has_value());
    EXPECT_EQ(sender(MessageType::dm_send), Side::server);
    EXPECT_EQ(sender(MessageType::command), Side::bot);
    EXPECT_FALSE(is_sequenced(MessageType::hello));
    EXPECT_TRUE(is_sequenced(MessageType::member_update));
}

TEST(Types, ReceiversRefuseWhatOnlyTheyMaySend) {
    EXPECT_TRUE(check_receivable(MessageType::dm_send, Side::bot).ok());
    EXPECT_TRUE(check_receivable(MessageType::dm_result, Side::server).ok());
    EXPECT_TRUE(check_receivable(MessageType::heartbeat, Side::server).ok());
    EXPECT_TRUE(check_receivable(MessageType::error, Side::bot).ok());
    auto wrong = check_receivable(MessageType::dm_send, Side::server);
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().code, "bridge.unexpected_type");
    EXPECT_EQ(wrong.error().arg("type"), "dm.send");
    EXPECT_FALSE(check_receivable(MessageType::identify, Side::bot).ok());
    EXPECT_FALSE(check_receivable(MessageType::hello, Side::server).ok());
}

TEST(Types, ErrorMessageCarriesCodeAndDetail) {
    auto refused = decode("[]");
    ASSERT_FALSE(refused.ok());
    const auto message = error_message(refused.error(), 9);
    EXPECT_EQ(message.code, "bridge.malformed");
    EXPECT_FALSE(message.message.empty());
    EXPECT_EQ(message.ref_seq, 9u);
}

}  // namespace
}  // namespace pitwall::bridge
