// Registration of `zmq`: manifest parameters in, transport out.
#include "modules/transport/zmq/zmq_transport.hpp"

namespace keel::modules {

class ZmqTransportModule : public ZmqTransport {
 public:
  explicit ZmqTransportModule(ModuleContext& context)
      : ZmqTransport(TransportOptionsFrom(context.parameters()),
                     [&context](std::function<void()> fn) { context.Post(std::move(fn)); }) {}
};

}  // namespace keel::modules

KEEL_MODULE_LIBRARY(KEEL_MODULE(kTransport, "zmq", "0.1.0",
                                "ZeroMQ ROUTER/DEALER transport with heartbeats and bounded "
                                "queues",
                                keel::modules::ZmqTransportModule));
