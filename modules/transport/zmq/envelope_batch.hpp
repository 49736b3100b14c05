// Several envelopes in one ZeroMQ message. libzmq's cost is per message, not
// per byte, so the `zmq` transport packs what a peer's queue holds into
// batches: a zero byte (never the first byte of an envelope, whose first
// field is the format), then for each envelope its length as a varint and
// its bytes. A message that does not start with a zero byte is one envelope.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "keel/status.hpp"
#include "keel/transport.hpp"

namespace keel::modules {

inline constexpr char kBatchMarker = '\0';

struct EnvelopeBatch {
  std::string bytes;    // starts with kBatchMarker once anything is added
  size_t messages = 0;  // envelopes in `bytes`
};

// Appends `message` to `batch`.
void AppendToBatch(EnvelopeBatch& batch, const TransportMessage& message);

// Calls `on_message` for each envelope of a ZeroMQ message body, batch or
// single. Returns an error (and stops) at the first entry that is not an
// envelope or overruns the body; entries before it were delivered.
Status DecodeBatch(std::string_view body, const std::function<void(TransportMessage)>& on_message);

}  // namespace keel::modules
