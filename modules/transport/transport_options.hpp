// The parameters every built-in transport module takes, under the same names
// and defaults, so that an operator can swap `zmq` for `tcp` (or back) by
// changing one word of the master's config.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>

#include "keel/parameters.hpp"

namespace keel::modules {

struct TransportOptions {
  int64_t send_queue_limit = 100000;
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds peer_timeout{5000};
  std::chrono::milliseconds reconnect_initial{100};
  std::chrono::milliseconds reconnect_max{10000};
  uint64_t max_message_bytes = 64ull << 20;
};

// Reads the options from a module's (already type-checked) parameters and
// refuses combinations that cannot work; the loader reports the exception.
inline TransportOptions TransportOptionsFrom(const Parameters& p) {
  auto millis = [&](const char* name) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(p.GetDuration(name));
  };
  TransportOptions o;
  o.send_queue_limit = p.GetInt("send_queue_limit");
  o.heartbeat_interval = millis("heartbeat_interval");
  o.peer_timeout = millis("peer_timeout");
  o.reconnect_initial = millis("reconnect_initial");
  o.reconnect_max = millis("reconnect_max");
  o.max_message_bytes = p.GetBytes("max_message_bytes");
  if (o.send_queue_limit <= 0) throw std::invalid_argument("send_queue_limit must be positive");
  if (o.heartbeat_interval.count() <= 0 || o.peer_timeout <= o.heartbeat_interval) {
    throw std::invalid_argument(
        "heartbeat_interval must be positive and shorter than peer_timeout");
  }
  if (o.reconnect_initial.count() <= 0 || o.reconnect_max < o.reconnect_initial) {
    throw std::invalid_argument("reconnect_initial must be positive and at most reconnect_max");
  }
  if (o.max_message_bytes < 1024 || o.max_message_bytes > (1ull << 31)) {
    throw std::invalid_argument("max_message_bytes must be between 1KB and 2GB");
  }
  return o;
}

}  // namespace keel::modules
