// ZmqTransport (`zmq`): the default transport. The master binds a ROUTER
// socket, each agent connects a DEALER; both run on one I/O thread owned by
// the transport.
//
// Liveness is judged per peer, not per TCP connection: both sides send a
// heartbeat envelope every `heartbeat_interval`, and a peer silent for
// `peer_timeout` is reported lost. ZMTP heartbeats (the same interval and
// timeout) additionally let libzmq drop and re-dial a dead connection. A
// DEALER keeps one routing identity across reconnects, so the master sees a
// reconnecting agent as the same peer.
//
// Backpressure: every peer has a bounded queue of `send_queue_limit`
// messages, counted from Send() until libzmq has taken the message. Send() on
// a full queue, to an unknown peer or to a peer not connected right now fails
// at once and counts `dropped`; the caller decides whether to retry. Messages
// still queued when their peer is lost are dropped and counted.
//
// Security (optional, Secure() before Start()): every link is CurveZMQ. The
// binding side answers libzmq's ZAP requests itself (curve_security.hpp) and
// admits a peer only when the daemon's admission check says so; a refused
// peer never delivers a message. Without Secure() links are plain ZMTP.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "keel/transport.hpp"
#include "modules/transport/live_counters.hpp"
#include "modules/transport/transport_options.hpp"

namespace keel::modules {

using ZmqOptions = TransportOptions;

// What the transport tells its module besides the handler's calls. Each runs
// on the core strand; either may be empty.
struct ZmqReports {
  // Binding side: a connecting peer was turned away (its key not admitted,
  // or it speaks no CurveZMQ or knows another server key).
  std::function<void(const std::string& why)> peer_refused;
  // Connecting side: the server refused this daemon's handshake; reported
  // once per run of refusals (the transport keeps trying).
  std::function<void(const std::string& why)> refused_by_server;
};

class ZmqTransport : public Transport {
 public:
  // `post` runs a function on the daemon's core strand (ModuleContext::Post).
  ZmqTransport(ZmqOptions options, std::function<void(std::function<void()>)> post,
               ZmqReports reports = {});
  ~ZmqTransport() override;

  // Keys must be "curve" with Z85 keys (see CheckCurveKeys); `admit` is
  // called on the I/O thread, once per connecting peer; empty admits nobody.
  Status Secure(const TransportKeys& keys, PeerAdmission admit) override;
  Status Start(TransportHandler* handler) override;
  Result<std::string> Bind(const std::string& endpoint) override;
  Result<PeerId> Connect(const std::string& endpoint) override;
  Status Send(const PeerId& peer, TransportMessage message) override;
  void Stop() override;
  TransportCounters Counters() const override;
  // Peers the binding side turned away; TransportCounters has no field for
  // it, so the module exports it as the counter `peers_refused`.
  uint64_t peers_refused() const { return peers_refused_; }

 private:
  struct Io;  // the I/O thread's sockets and state; zmq stays out of this header
  struct Command {
    enum class Kind { kBind, kConnect, kSend, kStop } kind;
    std::string endpoint;  // bind/connect; for send, the peer whose outbox to take
    std::function<void(Result<std::string>)> done;
  };

  void Enqueue(Command command);
  // Several commands, one wake-up of the I/O thread.
  void EnqueueAll(std::vector<Command> commands);
  // Core strand: tells the I/O thread to take `peer`'s outbox once this turn
  // of the core loop is over, with every other peer Sends in the turn
  // queued for: one wake-up (a system call) a turn rather than a message.
  void KickLater(const PeerId& peer);
  void Run();
  Result<std::string> RunAndWait(Command command);

  const ZmqOptions options_;
  const std::function<void(std::function<void()>)> post_;
  const ZmqReports reports_;
  std::optional<TransportKeys> keys_;  // set by Secure(), read by the I/O thread
  PeerAdmission admit_;
  TransportHandler* handler_ = nullptr;
  std::unique_ptr<Io> io_;
  std::thread thread_;
  int wakeup_fd_ = -1;

  std::mutex mu_;  // guards the two below
  std::deque<Command> commands_;
  // Per peer, what Send() accepted and the I/O thread has not taken yet.
  struct Outbox;
  std::map<PeerId, std::unique_ptr<Outbox>, std::less<>> outboxes_;

  // Core strand only: peers to kick after this turn (KickLater).
  std::vector<PeerId> kicks_;
  bool kick_posted_ = false;

  std::atomic<bool> stopped_{false};
  LiveTransportCounters counters_;
  std::atomic<uint64_t> peers_refused_{0};
};

}  // namespace keel::modules
