#include "platform/bridge/link.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pitwall::bridge {
namespace {

DmSend dm(int n) {
    const auto id = "dm-" + std::to_string(n);
    return DmSend{id, "80351110224678912", "message " + std::to_string(n), "nonce-" + id, 1};
}

Frame decoded(const Outbound& out) {
    auto frame = decode(*out.text);
    EXPECT_TRUE(frame.ok()) << *out.text;
    return frame.ok() ? *frame : Frame{};
}

std::vector<std::uint64_t> seqs(const std::vector<Outbound>& frames) {
    std::vector<std::uint64_t> out;
    for (const auto& f : frames) out.push_back(f.seq);
    return out;
}

// ---- inbound --------------------------------------------------------------------------------------

TEST(LinkInbound, DeliversInOrderDropsDuplicatesAndRefusesGaps) {
    Link link;
    struct Step {
        std::uint64_t seq;
        Receive expected;
        std::uint64_t last_received_after;
    };
    const std::vector<Step> steps = {
        {1, Receive::deliver, 1},      {2, Receive::deliver, 2},
        {2, Receive::duplicate, 2},    {1, Receive::duplicate, 2},
        {4, Receive::out_of_order, 2}, {9, Receive::out_of_order, 2},
        {3, Receive::deliver, 3},      {4, Receive::deliver, 4},
        {0, Receive::duplicate, 4},    {max_seq, Receive::out_of_order, 4},
    };
    for (const auto& step : steps) {
        EXPECT_EQ(link.on_receive(step.seq), step.expected) << "seq " << step.seq;
        EXPECT_EQ(link.last_received(), step.last_received_after) << "seq " << step.seq;
    }
}

TEST(LinkInbound, OutOfOrderErrorNamesTheExpectedSeq) {
    Link link;
    ASSERT_EQ(link.on_receive(1), Receive::deliver);
    const Error error = link.out_of_order(5);
    EXPECT_EQ(error.code, "bridge.out_of_order");
    EXPECT_EQ(error.arg("expected"), "2");
    EXPECT_EQ(error.arg("got"), "5");
    const auto message = error_message(error, 5);
    EXPECT_EQ(message.ref_seq, 5u);
}

TEST(LinkInbound, AckFrameCarriesTheLastContiguousSeq) {
    Link link;
    EXPECT_EQ(link.ack_frame(), R"({"t":"ack","a":0})");
    (void)link.on_receive(1);
    (void)link.on_receive(2);
    (void)link.on_receive(4);
    EXPECT_EQ(link.ack_frame(), R"({"t":"ack","a":2})");
}

// ---- outbound -------------------------------------------------------------------------------------

TEST(LinkOutbound, AssignsSeqsAndPiggybacksTheAck) {
    Link link;
    (void)link.on_receive(1);
    for (int n = 1; n <= 3; ++n) {
        auto sent = link.send(dm(n));
        ASSERT_TRUE(sent.ok()) << sent.error().detail;
        EXPECT_EQ(sent->seq, static_cast<std::uint64_t>(n));
        const Frame frame = decoded(*sent);
        EXPECT_EQ(frame.seq, sent->seq);
        EXPECT_EQ(frame.ack, 1u);
        EXPECT_EQ(std::get<DmSend>(frame.message), dm(n));
    }
    EXPECT_EQ(link.last_sent(), 3u);
    EXPECT_EQ(link.unacked(), 3u);
}

TEST(LinkOutbound, CumulativeAcksDropEverythingUpToThem) {
    Link link;
    for (int n = 1; n <= 5; ++n) ASSERT_TRUE(link.send(dm(n)).ok());
    ASSERT_TRUE(link.on_ack(3).ok());
    EXPECT_EQ(link.unacked(), 2u);
    EXPECT_EQ(link.acked(), 3u);
    EXPECT_EQ(seqs(link.replay_after(0)), (std::vector<std::uint64_t>{4, 5}));
    ASSERT_TRUE(link.on_ack(2).ok());  // an older ack: nothing changes
    ASSERT_TRUE(link.on_ack(3).ok());  // the same ack again
    EXPECT_EQ(link.unacked(), 2u);
    EXPECT_EQ(link.acked(), 3u);
    ASSERT_TRUE(link.on_ack(5).ok());
    EXPECT_EQ(link.unacked(), 0u);
    ASSERT_TRUE(link.on_ack(0).ok());
}

TEST(LinkOutbound, AnAckAboveTheLastSentSeqIsRefusedAndChangesNothing) {
    Link link;
    for (int n = 1; n <= 3; ++n) ASSERT_TRUE(link.send(dm(n)).ok());
    auto status = link.on_ack(4);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, "bridge.bad_ack");
    EXPECT_EQ(link.unacked(), 3u);
    EXPECT_EQ(link.acked(), 0u);
    EXPECT_FALSE(Link().on_ack(1).ok());  // nothing sent yet
    EXPECT_TRUE(Link().on_ack(0).ok());
}

TEST(LinkOutbound, BackpressureWhenTheUnackedBufferIsFull) {
    Link link({.max_unacked = 3});
    for (int n = 1; n <= 3; ++n) ASSERT_TRUE(link.send(dm(n)).ok());
    auto refused = link.send(dm(4));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "bridge.backpressure");
    EXPECT_EQ(refused.error().arg("max"), "3");
    EXPECT_EQ(link.last_sent(), 3u);  // no seq was used up
    EXPECT_EQ(link.unacked(), 3u);
    ASSERT_TRUE(link.on_ack(1).ok());
    auto sent = link.send(dm(4));
    ASSERT_TRUE(sent.ok());
    EXPECT_EQ(sent->seq, 4u);
}

TEST(LinkOutbound, RefusesFramesTooLargeForThePeerAndControlMessages) {
    Link link({.max_frame_bytes = 200});
    DmSend big = dm(1);
    big.content = std::string(300, 'x');
    auto refused = link.send(big);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "bridge.too_large");
    EXPECT_EQ(link.last_sent(), 0u);
    EXPECT_EQ(link.unacked(), 0u);
    ASSERT_TRUE(link.send(dm(1)).ok());

    auto control = link.send(Heartbeat{});
    ASSERT_FALSE(control.ok());
    EXPECT_EQ(control.error().code, "bridge.unexpected_type");
    EXPECT_EQ(link.last_sent(), 1u);
}

// ---- receive(): a whole frame ---------------------------------------------------------------------

TEST(LinkReceive, RefusedFramesLeaveNoTrace) {
    Link link;
    for (int n = 1; n <= 3; ++n) ASSERT_TRUE(link.send(dm(n)).ok());

    // A bad ack: refused, neither the ack nor the seq is taken.
    auto bad = link.receive(Frame{1, 7, DmResult{"dm-1", DmStatus::delivered}});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, "bridge.bad_ack");
    EXPECT_EQ(link.last_received(), 0u);
    EXPECT_EQ(link.unacked(), 3u);

    // Out of order: the ack it carries is not applied either.
    auto gap = link.receive(Frame{2, 2, DmResult{"dm-2", DmStatus::delivered}});
    ASSERT_TRUE(gap.ok());
    EXPECT_EQ(*gap, Receive::out_of_order);
    EXPECT_EQ(link.unacked(), 3u);

    auto next = link.receive(Frame{1, 2, DmResult{"dm-1", DmStatus::delivered}});
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, Receive::deliver);
    EXPECT_EQ(link.unacked(), 1u);
    EXPECT_EQ(link.last_received(), 1u);

    auto again = link.receive(Frame{1, 2, DmResult{"dm-1", DmStatus::delivered}});
    EXPECT_EQ(*again, Receive::duplicate);

    auto ack = link.receive(Frame{0, 3, Ack{}});
    EXPECT_EQ(*ack, Receive::deliver);
    EXPECT_EQ(link.unacked(), 0u);
    EXPECT_EQ(*link.receive(Frame{0, std::nullopt, Heartbeat{}}), Receive::deliver);
}

// ---- reconnects ------------------------------------------------------------------------------------

TEST(LinkResume, ReplayAfterAReconnectSendsExactlyWhatThePeerMissed) {
    Link server, bot;
    server.reset("sess-1");
    bot.reset("sess-1");
    std::vector<Outbound> wire;
    for (int n = 1; n <= 5; ++n) wire.push_back(*server.send(dm(n)));

    // Frames 1-3 arrive, then the connection drops: 4 and 5 are lost, and so is the bot's ack of 3.
    std::vector<std::string> handled;
    for (int i = 0; i < 3; ++i) {
        const Frame frame = decoded(wire[i]);
        ASSERT_EQ(*bot.receive(frame), Receive::deliver);
        handled.push_back(std::get<DmSend>(frame.message).id);
    }

    // The bot reconnects: identify.resume{session_id, last_seq = 3}.
    const Resume resume{bot.session_id(), bot.last_received()};
    ASSERT_EQ(resume.session_id, server.session_id());
    ASSERT_TRUE(server.on_ack(resume.last_seq).ok());
    const auto replay = server.replay_after(resume.last_seq);
    EXPECT_EQ(seqs(replay), (std::vector<std::uint64_t>{4, 5}));
    EXPECT_EQ(replay[0].text, wire[3].text);  // the same bytes, encoded once
    for (const auto& out : replay) {
        const Frame frame = decoded(out);
        ASSERT_EQ(*bot.receive(frame), Receive::deliver);
        handled.push_back(std::get<DmSend>(frame.message).id);
    }
    // A replayed frame that also got through before the drop is a duplicate, not a second delivery.
    EXPECT_EQ(*bot.receive(decoded(wire[4])), Receive::duplicate);
    EXPECT_EQ(handled, (std::vector<std::string>{"dm-1", "dm-2", "dm-3", "dm-4", "dm-5"}));

    ASSERT_TRUE(server.on_ack(bot.last_received()).ok());
    EXPECT_EQ(server.unacked(), 0u);
    EXPECT_TRUE(server.replay_after(0).empty());
}

TEST(LinkResume, UnknownSessionCarriesUnackedMessagesIntoANewOne) {
    // The bot sent three results; the server acked the first, then restarted and forgot the session.
    Link bot;
    bot.reset("sess-old");
    for (int n = 1; n <= 3; ++n) ASSERT_TRUE(bot.send(RolesResult{"r" + std::to_string(n), true}).ok());
    ASSERT_EQ(bot.on_receive(1), Receive::deliver);
    ASSERT_EQ(bot.on_receive(2), Receive::deliver);
    ASSERT_TRUE(bot.on_ack(1).ok());

    // ready{session_id: "sess-new", resumed: false, resume_from: 0}
    EXPECT_EQ(bot.renew("sess-new"), 2u);
    EXPECT_EQ(bot.session_id(), "sess-new");
    EXPECT_EQ(bot.last_received(), 0u);
    EXPECT_EQ(bot.last_sent(), 2u);
    const auto carried = bot.replay_after(0);
    ASSERT_EQ(seqs(carried), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(std::get<RolesResult>(decoded(carried[0]).message).id, "r2");
    EXPECT_EQ(std::get<RolesResult>(decoded(carried[1]).message).id, "r3");
    EXPECT_EQ(decoded(carried[0]).ack, 0u);

    // The new server link takes them as a fresh sequence, and the bot numbers on from there.
    Link server;
    server.reset("sess-new");
    for (const auto& out : carried) ASSERT_EQ(*server.receive(decoded(out)), Receive::deliver);
    auto next = bot.send(RolesResult{"r4", true});
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(next->seq, 3u);
    EXPECT_EQ(*server.receive(decoded(*next)), Receive::deliver);
}

TEST(LinkResume, ResetStartsOverBothWays) {
    Link link;
    link.reset("a");
    ASSERT_TRUE(link.send(dm(1)).ok());
    ASSERT_EQ(link.on_receive(1), Receive::deliver);
    link.reset("b");
    EXPECT_EQ(link.session_id(), "b");
    EXPECT_EQ(link.unacked(), 0u);
    EXPECT_EQ(link.last_sent(), 0u);
    EXPECT_EQ(link.last_received(), 0u);
    EXPECT_EQ(link.send(dm(2))->seq, 1u);
}

}  // namespace
}  // namespace pitwall::bridge
