// Fuzzes the bridge's frame decoder (docs/bridge.md): the bytes are one text frame from the other
// process. A refused frame must come back as a bridge.* error value of the kind its code implies; an
// accepted one must obey the envelope rules (a seq on application messages only, within max_seq) and
// survive encode -> decode unchanged, with one encoding per frame. The input also drives a Link as a
// receiver, which must never move backwards or skip a seq.
//
// Number options of a command are compared to within a few ulps: Boost.JSON 1.81 reads some doubles
// one or two ulps off the shortest text its serializer writes (exact parsing came with 1.83).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/object.hpp>

#include "fuzz_check.hpp"
#include "platform/bridge/frame.hpp"
#include "platform/bridge/link.hpp"

namespace {

using namespace pitwall::bridge;

bool close_enough(double a, double b) {
    if (a == b) return true;
    const double scale = std::max(std::fabs(a), std::fabs(b));
    return std::fabs(a - b) <= scale * 8 * std::numeric_limits<double>::epsilon();
}

bool same_option(const OptionValue& a, const OptionValue& b) {
    if (a.index() != b.index()) return false;
    if (const auto* x = std::get_if<double>(&a)) return close_enough(*x, std::get<double>(b));
    return a == b;
}

bool same(const Frame& a, const Frame& b) {
    const auto* ca = std::get_if<Command>(&a.message);
    const auto* cb = std::get_if<Command>(&b.message);
    if (!ca || !cb) return a == b;
    if (a.seq != b.seq || a.ack != b.ack || ca->options.size() != cb->options.size()) return false;
    for (auto ia = ca->options.begin(), ib = cb->options.begin(); ia != ca->options.end(); ++ia, ++ib)
        if (ia->first != ib->first || !same_option(ia->second, ib->second)) return false;
    Command ra = *ca, rb = *cb;
    ra.options.clear();
    rb.options.clear();
    return ra == rb;
}

void check_error(const pitwall::Error& error) {
    static const std::set<std::string> codes = {"bridge.malformed", "bridge.too_large",
                                                "bridge.unknown_type"};
    PITWALL_FUZZ_CHECK(codes.contains(error.code));
    PITWALL_FUZZ_CHECK(error.kind == (error.code == "bridge.too_large" ? pitwall::ErrorKind::too_large
                                                                       : pitwall::ErrorKind::invalid_input));
    PITWALL_FUZZ_CHECK(!error.detail.empty());
    PITWALL_FUZZ_CHECK(!error_message(error).code.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    // A small limit as well as the default, so the size check is reached by short inputs too.
    const DecodeOptions options{.max_frame_bytes = size > 0 ? (size * 3 / 4 + 1) : 1};
    const auto limited = decode(input, options);
    if (size > options.max_frame_bytes)
        PITWALL_FUZZ_CHECK(!limited.ok() && limited.error().code == "bridge.too_large");

    const auto decoded = decode(input);
    if (!decoded) {
        check_error(decoded.error());
        return 0;
    }
    const Frame& frame = *decoded;
    const MessageType type = frame.type();
    PITWALL_FUZZ_CHECK(is_sequenced(type) == (frame.seq != 0));
    PITWALL_FUZZ_CHECK(frame.seq <= max_seq);
    PITWALL_FUZZ_CHECK(!frame.ack || *frame.ack <= max_seq);
    PITWALL_FUZZ_CHECK(type != MessageType::ack || frame.ack.has_value());
    PITWALL_FUZZ_CHECK(type_from_name(type_name(type)) == type);

    const std::string text = encode(frame);
    const auto again = decode(text, {.max_frame_bytes = std::string::npos});
    PITWALL_FUZZ_CHECK(again.ok());
    PITWALL_FUZZ_CHECK(same(*again, frame));
    const std::string text_again = encode(*again);
    if (*again == frame) PITWALL_FUZZ_CHECK(text_again == text);

    const auto message = from_json(type, to_json(frame.message));
    PITWALL_FUZZ_CHECK(message.ok());

    // As the receiving side: at most one step forward, never backwards.
    pitwall::bridge::Link link;
    for (int i = 0; i < 3; ++i) {
        const auto before = link.last_received();
        const auto received = link.receive(frame);
        if (!received) {
            PITWALL_FUZZ_CHECK(received.error().code == "bridge.bad_ack");
            PITWALL_FUZZ_CHECK(link.last_received() == before);
            continue;
        }
        if (*received == Receive::deliver && is_sequenced(type))
            PITWALL_FUZZ_CHECK(link.last_received() == before + 1 && frame.seq == before + 1);
        else
            PITWALL_FUZZ_CHECK(link.last_received() == before);
    }
    return 0;
}
