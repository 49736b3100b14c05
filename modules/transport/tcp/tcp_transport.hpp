// TcpTransport (`tcp`): the transport on plain TCP through Boost.Asio, with
// the `zmq` module's contract and parameters, for sites that want no libzmq
// or want to read every byte on the wire.
//
// Wire: length-prefixed frames (frame_codec.hpp), each an SDK envelope. A
// connecting side opens with a Hello carrying an identity it keeps for its
// lifetime, so the binding side knows a reconnecting peer as the same peer;
// the binding side answers with a Hello, and the connecting side reports the
// peer connected when that answer arrives.
//
// Liveness: both sides send a Heartbeat every `heartbeat_interval`; a
// connection silent for `peer_timeout` is closed and its peer reported lost,
// as is a connection that breaks (TCP keepalive catches a vanished host).
// The connecting side re-dials with a delay from `reconnect_initial` doubling
// up to `reconnect_max`.
//
// Backpressure: `send_queue_limit` messages per peer, counted from Send()
// until written to the socket; Send() fails (and counts `dropped`) beyond it,
// to an unknown peer, or to one not connected now. Messages queued or being
// written when their connection breaks are dropped and counted.
#pragma once

#include <functional>
#include <memory>

#include "keel/transport.hpp"
#include "modules/transport/transport_options.hpp"

namespace keel::modules {

class TcpTransport : public Transport {
 public:
  // `post` runs a function on the daemon's core strand (ModuleContext::Post).
  TcpTransport(TransportOptions options, std::function<void(std::function<void()>)> post);
  ~TcpTransport() override;

  Status Start(TransportHandler* handler) override;
  Result<std::string> Bind(const std::string& endpoint) override;
  Result<PeerId> Connect(const std::string& endpoint) override;
  Status Send(const PeerId& peer, TransportMessage message) override;
  void Stop() override;
  TransportCounters Counters() const override;

 private:
  class Impl;  // Asio stays out of this header
  std::shared_ptr<Impl> impl_;
};

}  // namespace keel::modules
