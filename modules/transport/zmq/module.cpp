// Registration of `zmq`: manifest parameters in, transport out.
#include <chrono>

#include "modules/transport/zmq/zmq_transport.hpp"

namespace keel::modules {

namespace {

std::chrono::milliseconds Millis(const Parameters& p, const char* name) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(p.GetDuration(name));
}

ZmqOptions OptionsFrom(const Parameters& p) {
  ZmqOptions o;
  o.send_queue_limit = p.GetInt("send_queue_limit");
  o.heartbeat_interval = Millis(p, "heartbeat_interval");
  o.peer_timeout = Millis(p, "peer_timeout");
  o.reconnect_initial = Millis(p, "reconnect_initial");
  o.reconnect_max = Millis(p, "reconnect_max");
  o.max_message_bytes = p.GetBytes("max_message_bytes");
  if (o.send_queue_limit <= 0) throw std::invalid_argument("send_queue_limit must be positive");
  if (o.heartbeat_interval.count() <= 0 || o.peer_timeout <= o.heartbeat_interval) {
    throw std::invalid_argument(
        "heartbeat_interval must be positive and shorter than peer_timeout");
  }
  return o;
}

}  // namespace

class ZmqTransportModule : public ZmqTransport {
 public:
  explicit ZmqTransportModule(ModuleContext& context)
      : ZmqTransport(OptionsFrom(context.parameters()),
                     [&context](std::function<void()> fn) { context.Post(std::move(fn)); }) {}
};

}  // namespace keel::modules

KEEL_MODULE_LIBRARY(KEEL_MODULE(kTransport, "zmq", "0.1.0",
                                "ZeroMQ ROUTER/DEALER transport with heartbeats and bounded "
                                "queues",
                                keel::modules::ZmqTransportModule));
