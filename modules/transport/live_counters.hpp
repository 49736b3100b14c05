// The counters every built-in transport keeps: bumped on its I/O thread,
// read from the core strand (Transport::Counters()), hence atomic.
#pragma once

#include <atomic>
#include <cstdint>

#include "keel/transport.hpp"

namespace keel::modules {

struct LiveTransportCounters {
  std::atomic<uint64_t> messages_in{0}, messages_out{0}, bytes_in{0}, bytes_out{0};
  std::atomic<uint64_t> dropped{0}, malformed{0}, reconnects{0};

  TransportCounters Snapshot() const {
    TransportCounters c;
    c.messages_in = messages_in;
    c.messages_out = messages_out;
    c.bytes_in = bytes_in;
    c.bytes_out = bytes_out;
    c.dropped = dropped;
    c.malformed = malformed;
    c.reconnects = reconnects;
    return c;
  }
};

}  // namespace keel::modules
