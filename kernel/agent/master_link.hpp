// The agent's end of the transport. It asks the master's HTTP port which
// transport the master runs and where (GET /master/transport), loads that
// transport module if the config did not name one, and connects; it asks
// again, with capped exponential backoff, until the master answers, and
// again whenever the link drops (a restarted master may have moved).
// GET /agent/transport reports the link.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "keel/transport.hpp"
#include "kernel/runtime/address.hpp"
#include "kernel/runtime/daemon.hpp"
#include "kernel/runtime/message_dispatcher.hpp"
#include "kernel/runtime/timer.hpp"

namespace google::protobuf {
class Struct;
}

namespace keel::runtime {
class Authentication;
}

namespace keel::agent {

class MasterLink : public TransportHandler, public std::enable_shared_from_this<MasterLink> {
 public:
  // `configured` is the agent config's transport (name empty: learn it).
  MasterLink(runtime::Daemon& daemon, runtime::HostPort master, std::string configured,
             const google::protobuf::Struct* parameters);
  ~MasterLink() override;

  // Authenticators that may secure the transport once it is known; before
  // Start().
  void SetAuthentication(std::shared_ptr<runtime::Authentication> authentication) {
    authentication_ = std::move(authentication);
  }
  void Start();

  // The agent core's side: `on_connected(true)` each time the link to the
  // master is up (register then), `(false)` when it drops.
  void OnConnection(std::function<void(bool)> fn) { on_connection_ = std::move(fn); }
  // Queues `message` for the master; false when there is no link yet or the
  // transport refuses it.
  bool Send(TransportMessage message);
  runtime::MessageDispatcher& dispatcher() { return dispatcher_; }
  bool connected() const { return connected_; }

  void OnMessage(const PeerId& peer, TransportMessage message) override;
  void OnPeerConnected(const PeerId& peer) override;
  void OnPeerLost(const PeerId& peer) override;

 private:
  void Discover();
  void OnDiscovered(const std::string& module, const std::string& endpoint,
                    const google::protobuf::Struct& master_parameters);
  void Retry(const std::string& why);

  runtime::Daemon& daemon_;
  runtime::HostPort master_;
  std::string module_;  // the transport in use, once known
  const google::protobuf::Struct* parameters_;
  std::unique_ptr<google::protobuf::Struct> learnt_parameters_;
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<runtime::Authentication> authentication_;
  std::string endpoint_;
  PeerId peer_;
  bool connected_ = false;
  std::function<void(bool)> on_connection_;
  runtime::MessageDispatcher dispatcher_;
  std::string last_error_;
  std::chrono::milliseconds backoff_{500};
  runtime::Timer retry_timer_;
};

}  // namespace keel::agent
