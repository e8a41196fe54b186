// The sequencing state of one side of the bridge (docs/bridge.md, "Sequencing, acks and resume"),
// the same class in the server and in the bot.
//
// Outbound: every application message gets the next seq and stays in a bounded buffer, encoded once,
// until the peer's cumulative ack covers it. After a reconnect that resumes the session, the peer
// says the last seq it received and replay_after() gives what it missed, in order. When the session
// cannot be resumed (the server restarted and no longer knows it) renew() carries the unacked messages
// into the new session with new numbers: application messages are idempotent by their id, so a
// message the peer had in fact already received is recognised and dropped there.
//
// Inbound: on_receive() accepts exactly the next seq; a repeat is a duplicate (re-ack and drop it),
// a gap is out of order (answer an error frame); neither changes the state.
//
// No threads and no I/O inside: the connection that owns a Link serializes the calls (a strand or a
// lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "platform/bridge/frame.hpp"

namespace pitwall::bridge {

struct LinkOptions {
    std::size_t max_unacked = 512;  // sent and not yet acked; beyond it send() refuses (bridge.max_unacked)
    std::size_t max_frame_bytes = default_max_frame_bytes;
};

struct Outbound {
    std::uint64_t seq = 0;
    std::shared_ptr<const std::string> text;  // the encoded frame, shared by every (re)send
};

enum class Receive {
    deliver,       // the next seq: handle the message
    duplicate,     // seen before: drop it, ack again
    out_of_order,  // a gap: drop it, answer an error frame (out_of_order()); the peer replays
};

class Link {
  public:
    explicit Link(LinkOptions options = {});

    // ---- session ----
    [[nodiscard]] const std::string& session_id() const { return session_id_; }
    // A brand-new session: both directions start over and the unacked buffer is dropped.
    void reset(std::string session_id);
    // A new session that keeps the unacked outbound messages, renumbered from 1 in their order (the
    // peer lost the old session). Inbound starts over. Returns how many were carried; replay_after(0)
    // gives them.
    std::size_t renew(std::string session_id);

    // ---- outbound ----
    // Assigns the next seq to an application message, piggybacks the current ack and keeps the frame
    // until it is acked. bridge.backpressure when max_unacked frames wait for their ack,
    // bridge.too_large when the frame would exceed max_frame_bytes, bridge.unexpected_type for a
    // control message; in every case nothing is assigned.
    [[nodiscard]] Result<Outbound> send(Message message);
    // A cumulative ack from the peer: drops every frame with seq <= ack. An ack below an earlier one
    // changes nothing; one above the last seq sent is bridge.bad_ack and changes nothing.
    [[nodiscard]] Status on_ack(std::uint64_t ack);
    // The unacked frames with seq > peer_last_received, in order (resume: the peer's `last_seq` or
    // `resume_from`). Call on_ack(peer_last_received) first so the buffer forgets what it has.
    [[nodiscard]] std::vector<Outbound> replay_after(std::uint64_t peer_last_received) const;
    [[nodiscard]] std::size_t unacked() const { return pending_.size(); }
    [[nodiscard]] std::uint64_t last_sent() const { return next_seq_ - 1; }
    [[nodiscard]] std::uint64_t acked() const { return acked_; }

    // ---- inbound ----
    [[nodiscard]] Receive on_receive(std::uint64_t seq);
    // A decoded frame from the peer: its ack (on_ack) and, for an application message, its seq
    // (on_receive). Control frames are delivered as they come. On bridge.bad_ack nothing changes.
    [[nodiscard]] Result<Receive> receive(const Frame& frame);
    [[nodiscard]] std::uint64_t last_received() const { return last_received_; }
    // {"t":"ack","a":<last_received>}: after a delivery (when no application message carries the ack
    // soon) and after a duplicate.
    [[nodiscard]] std::string ack_frame() const;
    // The error for an out_of_order frame, for error_message(..., seq).
    [[nodiscard]] Error out_of_order(std::uint64_t seq) const;

  private:
    struct Pending {
        Frame frame;
        std::shared_ptr<const std::string> text;
    };

    LinkOptions options_;
    std::string session_id_;
    std::deque<Pending> pending_;  // seq ascending, contiguous
    std::uint64_t next_seq_ = 1;
    std::uint64_t acked_ = 0;
    std::uint64_t last_received_ = 0;
};

}  // namespace pitwall::bridge
