// Routes transport messages to the daemon's handlers by type and version.
// A type no handler takes, or a version outside what its handler reads, is
// dropped, counted and logged (rate-limited): a newer or foreign peer must
// never crash a daemon or be silently ignored.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "keel/transport.hpp"

namespace google::protobuf {
class Struct;
}

namespace keel::runtime {

struct DispatchCounters {
  uint64_t dispatched = 0;
  uint64_t unknown_type = 0;
  uint64_t unknown_version = 0;
};

class MessageDispatcher {
 public:
  using Handler = std::function<void(const PeerId& peer, TransportMessage& message)>;

  // Messages of `type` with a version in [min_version, max_version] go to
  // `handler`. REQUIRES: `type` not registered yet.
  void Register(const std::string& type, uint32_t min_version, uint32_t max_version,
                Handler handler);
  // Runs the handler for `message`, or drops and counts it; true if handled.
  bool Dispatch(const PeerId& peer, TransportMessage& message);

  const DispatchCounters& counters() const { return counters_; }
  // Adds "dispatch": {dispatched, unknown_type, unknown_version} to `out`.
  void AddTo(google::protobuf::Struct* out) const;

 private:
  struct Route {
    uint32_t min_version;
    uint32_t max_version;
    Handler handler;
  };
  std::map<std::string, Route, std::less<>> routes_;
  DispatchCounters counters_;
};

}  // namespace keel::runtime
