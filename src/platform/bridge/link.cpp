#include "platform/bridge/link.hpp"

#include <utility>

namespace pitwall::bridge {

Link::Link(LinkOptions options) : options_(options) {}

void Link::reset(std::string session_id) {
    session_id_ = std::move(session_id);
    pending_.clear();
    next_seq_ = 1;
    acked_ = 0;
    last_received_ = 0;
}

std::size_t Link::renew(std::string session_id) {
    session_id_ = std::move(session_id);
    last_received_ = 0;
    acked_ = 0;
    next_seq_ = 1;
    for (auto& pending : pending_) {
        pending.frame.seq = next_seq_++;
        pending.frame.ack = last_received_;
        // A smaller seq and ack never make the frame longer than it was when send() measured it.
        pending.text = std::make_shared<const std::string>(encode(pending.frame));
    }
    return pending_.size();
}

Result<Outbound> Link::send(Message message) {
    const MessageType type = type_of(message);
    if (!is_sequenced(type))
        return Error(ErrorKind::internal, "bridge.unexpected_type", {{"type", std::string(type_name(type))}},
                     "control message given to Link::send");
    if (pending_.size() >= options_.max_unacked)
        return Error(ErrorKind::unavailable, "bridge.backpressure",
                     {{"max", std::to_string(options_.max_unacked)}},
                     std::to_string(pending_.size()) + " frames wait for their ack");
    if (next_seq_ > max_seq)
        return Error(ErrorKind::unavailable, "bridge.backpressure",
                     {{"max", std::to_string(options_.max_unacked)}},
                     "sequence numbers exhausted; start a new session");

    Frame frame{next_seq_, last_received_, std::move(message)};
    auto text = std::make_shared<const std::string>(encode(frame));
    if (text->size() > options_.max_frame_bytes)
        return Error(ErrorKind::too_large, "bridge.too_large",
                     {{"max", std::to_string(options_.max_frame_bytes)}},
                     std::string(type_name(type)) + " frame of " + std::to_string(text->size()) + " bytes");
    ++next_seq_;
    pending_.push_back(Pending{std::move(frame), text});
    return Outbound{pending_.back().frame.seq, std::move(text)};
}

Status Link::on_ack(std::uint64_t ack) {
    if (ack > last_sent())
        return Error(
            ErrorKind::invalid_input, "bridge.bad_ack", {},
            "ack " + std::to_string(ack) + " above the last seq sent, " + std::to_string(last_sent()));
    if (ack <= acked_) return {};
    acked_ = ack;
    while (!pending_.empty() && pending_.front().frame.seq <= ack) pending_.pop_front();
    return {};
}

std::vector<Outbound> Link::replay_after(std::uint64_t peer_last_received) const {
    std::vector<Outbound> out;
    for (const auto& pending : pending_)
        if (pending.frame.seq > peer_last_received) out.push_back(Outbound{pending.frame.seq, pending.text});
    return out;
}

Receive Link::on_receive(std::uint64_t seq) {
    if (seq <= last_received_) return Receive::duplicate;
    if (seq != last_received_ + 1) return Receive::out_of_order;
    last_received_ = seq;
    return Receive::deliver;
}

Result<Receive> Link::receive(const Frame& frame) {
    // Checked before anything changes: a frame that is refused (bad ack, out of order) leaves no trace.
    if (frame.ack && *frame.ack > last_sent()) return on_ack(*frame.ack).error();
    const bool sequenced = is_sequenced(frame.type());
    if (sequenced && frame.seq > last_received_ + 1) return Receive::out_of_order;
    if (frame.ack) (void)on_ack(*frame.ack);
    return sequenced ? on_receive(frame.seq) : Receive::deliver;
}

std::string Link::ack_frame() const {
    return encode(Frame{0, last_received_, Ack{}});
}

Error Link::out_of_order(std::uint64_t seq) const {
    return Error(ErrorKind::invalid_input, "bridge.out_of_order",
                 {{"expected", std::to_string(last_received_ + 1)}, {"got", std::to_string(seq)}},
                 "expected seq " + std::to_string(last_received_ + 1) + ", got " + std::to_string(seq));
}

}  // namespace pitwall::bridge
