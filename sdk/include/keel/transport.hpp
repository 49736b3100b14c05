// Transport: how the master and its agents exchange messages.
//
// A message is an envelope (type, version, payload bytes); the daemons put a
// serialized protobuf in the payload, the transport never looks inside. The
// master binds; agents connect. Per peer, messages arrive in the order they
// were sent.
//
// Threading: sockets live on the transport's own thread(s). Bind(), Connect(),
// Send() and Stop() are called from the core strand and never block on the
// network; the handler is always called on the core strand (the transport
// posts to it through ModuleContext::Post).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "keel/authenticator.hpp"
#include "keel/module.hpp"
#include "keel/status.hpp"

namespace keel {

using PeerId = std::string;

struct TransportMessage {
  std::string type;  // e.g. "keel.internal.RegisterAgent"
  uint32_t version = 1;
  std::string payload;
};

struct TransportCounters {
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t dropped = 0;    // refused by a full send queue or to an unknown peer
  uint64_t malformed = 0;  // frames that did not decode; dropped
  uint64_t reconnects = 0;
};

class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  virtual void OnMessage(const PeerId& peer, TransportMessage message) = 0;
  virtual void OnPeerConnected(const PeerId& peer) = 0;
  virtual void OnPeerLost(const PeerId& peer) = 0;
};

// Decides whether a connecting peer may talk to this daemon; called on the
// transport's own thread.
using PeerAdmission = std::function<AuthOutcome(const PeerAuthRequest&)>;

class Transport : public Module {
 public:
  // Optional, before Start(): encrypt every link with `keys` (mechanism
  // "curve"), and on a binding transport admit a connecting peer only when
  // `admit` answers kAuthenticated; a refused peer never delivers a message.
  // A transport that cannot returns an error naming itself, and the daemon
  // refuses to start.
  virtual Status Secure(const TransportKeys& keys, PeerAdmission admit) {
    (void)keys;
    (void)admit;
    return Status::Error("this transport cannot secure its links");
  }
  // REQUIRES: called once, before Bind/Connect. `handler` outlives the transport.
  virtual Status Start(TransportHandler* handler) = 0;
  // Listens on `endpoint` ("tcp://127.0.0.1:5060"); returns the bound endpoint
  // (a port 0 resolved to the real one).
  virtual Result<std::string> Bind(const std::string& endpoint) = 0;
  // Starts connecting to `endpoint` and keeps reconnecting; returns the peer
  // id messages to it are sent with.
  virtual Result<PeerId> Connect(const std::string& endpoint) = 0;
  // Queues `message` for `peer`. Fails (and counts a drop) when the peer is
  // unknown or its send queue is full; never blocks.
  virtual Status Send(const PeerId& peer, TransportMessage message) = 0;
  // Closes every socket; no handler call follows. Idempotent.
  virtual void Stop() = 0;
  virtual TransportCounters Counters() const = 0;
};

}  // namespace keel
