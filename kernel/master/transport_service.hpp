// The master's end of the transport: binds it, keeps the set of connected
// agents' peers, hands their messages to the dispatcher and tells agents
// where to connect (GET /master/transport). It answers keel.internal.Ping
// with keel.internal.Pong (same payload), the round trip agents and tools
// use to check the link end to end.
//
// Channels (keel.internal.ChannelMessage, agent_protocol.proto): a
// connection that speaks in ChannelMessages carries one agent per channel.
// The service unwraps each into its inner message from the peer
// "<connection>#<channel>", wraps what is sent to such a peer again, and
// reports every channel of a lost connection lost, so the master's handlers
// see one peer per agent whichever transport module carries them.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "keel/transport.hpp"
#include "kernel/runtime/daemon.hpp"
#include "kernel/runtime/message_dispatcher.hpp"

namespace google::protobuf {
class Struct;
}

namespace keel::master {

class TransportService : public TransportHandler {
 public:
  // `parameters` are the module's, as configured; agents that learn the
  // transport from the master use them too, so both ends agree on timers.
  TransportService(runtime::Daemon& daemon, std::string module_name,
                   const google::protobuf::Struct& parameters,
                   std::shared_ptr<Transport> transport);
  // Stops the transport: no handler call may reach a destroyed service.
  ~TransportService() override;

  // Starts the transport, binds `endpoint` and serves GET /master/transport.
  Status Start(const std::string& endpoint);

  void OnMessage(const PeerId& peer, TransportMessage message) override;
  void OnPeerConnected(const PeerId& peer) override;
  void OnPeerLost(const PeerId& peer) override;

  // Where the master's message handlers register.
  runtime::MessageDispatcher& dispatcher() { return dispatcher_; }
  // Queues `message` for `peer` (wrapped in a ChannelMessage for a channel's
  // peer); false (and logged) when the transport refuses.
  bool Send(const PeerId& peer, TransportMessage message);
  // Called on the io thread when the transport loses a peer, and once for
  // each channel the lost connection carried.
  void OnLost(std::function<void(const PeerId&)> fn) { on_lost_ = std::move(fn); }

 private:
  // The bound endpoint as the asking client can reach it: a wildcard
  // address is replaced by the address the client's HTTP request reached.
  std::string AdvertisedEndpoint(const std::string& local_address) const;

  runtime::Daemon& daemon_;
  std::string module_name_;
  const google::protobuf::Struct& parameters_;
  std::shared_ptr<Transport> transport_;
  std::string endpoint_;
  std::set<PeerId> peers_;
  // Channels heard on each connection since it connected.
  std::unordered_map<PeerId, std::unordered_set<std::string>> channels_;
  size_t channel_count_ = 0;
  uint64_t malformed_channel_messages_ = 0;
  runtime::MessageDispatcher dispatcher_;
  std::function<void(const PeerId&)> on_lost_;
};

}  // namespace keel::master
