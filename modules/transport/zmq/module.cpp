// Registration of `zmq`: manifest parameters in, transport out.
#include <chrono>
#include <memory>

#include "modules/transport/zmq/zmq_transport.hpp"

namespace keel::modules {

namespace {

// Logs at most one line a second: a peer that keeps knocking, or someone
// flooding the port with handshakes, must not flood the daemon's log. The
// counter beside it counts every refusal. Called on the core strand only.
std::function<void(const std::string&)> Reporter(ModuleContext& context, LogLevel level,
                                                 const char* counter) {
  struct State {
    std::chrono::steady_clock::time_point next;
    uint64_t suppressed = 0;
  };
  auto state = std::make_shared<State>();
  return [&context, level, counter, state](const std::string& why) {
    context.IncrementCounter(counter);
    auto now = std::chrono::steady_clock::now();
    if (now < state->next) {
      state->suppressed++;
      return;
    }
    state->next = now + std::chrono::seconds(1);
    std::string line = why;
    if (state->suppressed > 0) {
      line += " (" + std::to_string(state->suppressed) + " more since the last line)";
    }
    state->suppressed = 0;
    context.Log(level, line);
  };
}

// TransportCounters has no field for refusals: they are module counters.
ZmqReports ReportsTo(ModuleContext& context) {
  ZmqReports reports;
  reports.peer_refused = Reporter(context, LogLevel::kWarning, "peers_refused");
  reports.refused_by_server = Reporter(context, LogLevel::kError, "refused_by_server");
  return reports;
}

}  // namespace

class ZmqTransportModule : public ZmqTransport {
 public:
  explicit ZmqTransportModule(ModuleContext& context)
      : ZmqTransport(
            TransportOptionsFrom(context.parameters()),
            [&context](std::function<void()> fn) { context.Post(std::move(fn)); },
            ReportsTo(context)) {}
};

}  // namespace keel::modules

KEEL_MODULE_LIBRARY(KEEL_MODULE(kTransport, "zmq", "0.1.0",
                                "ZeroMQ ROUTER/DEALER transport with heartbeats, bounded "
                                "queues and optional CurveZMQ",
                                keel::modules::ZmqTransportModule));
