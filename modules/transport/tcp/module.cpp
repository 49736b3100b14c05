// Registration of `tcp`: manifest parameters in, transport out.
#include "modules/transport/tcp/tcp_transport.hpp"

namespace keel::modules {

class TcpTransportModule : public TcpTransport {
 public:
  explicit TcpTransportModule(ModuleContext& context)
      : TcpTransport(TransportOptionsFrom(context.parameters()),
                     [&context](std::function<void()> fn) { context.Post(std::move(fn)); }) {}
};

}  // namespace keel::modules

KEEL_MODULE_LIBRARY(KEEL_MODULE(kTransport, "tcp", "0.1.0",
                                "Plain TCP transport on Boost.Asio: length-prefixed frames, "
                                "heartbeats, reconnect with backoff",
                                keel::modules::TcpTransportModule));
