// CurveZMQ for the `zmq` transport: key checks, the socket options of each
// side, and the ZAP handler (ZeroMQ RFC 27) that asks the daemon's admission
// check about every peer that completes a CURVE handshake.
//
// Threading: everything here runs on the transport's I/O thread, except
// CheckCurveKeys(), which is pure. The admission check is therefore called
// on that thread too (authenticator.hpp allows it).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "keel/status.hpp"
#include "keel/transport.hpp"

namespace keel::modules {

// The ZAP domain of a binding socket; libzmq hands it to the handler.
inline constexpr const char* kZapDomain = "keel";

// Checks keys given to Secure(): mechanism "curve", public and secret keys of
// 40 Z85 characters that belong together, a server key empty or Z85.
// The error names the field at fault.
Status CheckCurveKeys(const TransportKeys& keys);

// REQUIRES: CheckCurveKeys(keys).ok(); before the socket binds or connects.
void MakeCurveServer(zmq::socket_t& socket, const TransportKeys& keys);
// REQUIRES: as above, and keys.server_key is set.
void MakeCurveClient(zmq::socket_t& socket, const TransportKeys& keys);

// Whether a failed handshake's protocol error (a monitor event's value) is
// what a peer without CurveZMQ, or with another server key, causes.
bool IsCurveMismatch(uint32_t protocol_error);

// A protocol error code as text, "0x11000002".
std::string HexCode(uint32_t code);

// A secured DEALER's handshakes, followed through its monitor. libzmq gives
// up on an endpoint whose handshake failed; this says when to dial it again
// (after `initial`, doubling up to `max`, from the start again once a
// handshake succeeds) and what to tell the operator, once per run of
// failures.
class CurveDialer {
 public:
  using Clock = std::chrono::steady_clock;
  // The monitor events OnEvent() needs.
  static constexpr int kEvents = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                                 ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;

  CurveDialer(std::string endpoint, std::chrono::milliseconds initial,
              std::chrono::milliseconds max);
  // Takes one monitor event; returns a line for the operator, or "".
  std::string OnEvent(uint16_t event, uint32_t value, Clock::time_point now);
  // Dials the endpoint again on `socket` when the time has come.
  void RedialIfDue(zmq::socket_t& socket, Clock::time_point now);
  Clock::time_point redial_at() const { return redial_at_; }

 private:
  const std::string endpoint_;
  const std::chrono::milliseconds initial_, max_;
  Clock::time_point redial_at_ = Clock::time_point::max();
  std::chrono::milliseconds delay_{0};
  bool reported_ = false;     // since the last handshake that succeeded
  bool handshaking_ = false;  // connected, handshake not finished
};

// The principal each routing id of a CURVE server was first heard from. A
// DEALER chooses its own routing id, and the ROUTER hands a routing id over
// to its newest connection, so an admitted peer could take over another's;
// its messages under a pinned id are refused instead.
class PrincipalPins {
 public:
  // "" if `body`, received under routing id `id`, may be delivered; else why
  // not. libzmq tags a CURVE connection's messages with the User-Id our ZAP
  // handler answered for it.
  std::string Check(const std::string& id, const zmq::message_t& body);
  // The peer behind `id` is gone; the id is free again.
  void Forget(const std::string& id) { pins_.erase(id); }

 private:
  std::map<std::string, std::string> pins_;
};

// Answers libzmq's ZAP requests on a ROUTER bound at inproc://zeromq.zap.01
// in the transport's context; it must be bound before any CURVE server
// socket of that context binds, or libzmq admits every peer unasked.
//
// A refusal is answered only after a delay that grows with the consecutive
// refusals from the peer's address (`first`, doubling, at most `max`; an
// admission from the address starts it over), so one address cannot try
// keys quickly. Delayed answers wait in a queue while the handler goes on
// serving other requests: an admitted peer is never slowed by a refused one.
class ZapHandler {
 public:
  using Clock = std::chrono::steady_clock;
  struct Delays {
    std::chrono::milliseconds first{100};
    std::chrono::milliseconds max{5000};
  };

  // `refused(why)` is called, on the I/O thread, for every peer turned away.
  // An empty `admit` admits nobody. Throws zmq::error_t if the ZAP endpoint
  // cannot be bound (another handler in this context).
  ZapHandler(zmq::context_t& context, PeerAdmission admit,
             std::function<void(const std::string&)> refused, Delays delays);
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  zmq::socket_t& socket() { return socket_; }

  // Reads the waiting requests; answers admissions at once and queues
  // refusals behind their address's delay. Never blocks.
  void Serve(Clock::time_point now);
  // Sends the queued refusals whose delay is over.
  void SendDue(Clock::time_point now);
  // When SendDue() next has work to do; Clock::time_point::max() if never.
  Clock::time_point next_due() const;

 private:
  using Frames = std::vector<zmq::message_t>;
  struct Failures {
    uint32_t count = 0;
    Clock::time_point last;
  };

  void Answer(const Frames& request, Clock::time_point now);
  // Counts one more refusal from `address` and returns how long to wait.
  std::chrono::milliseconds NextDelay(const std::string& address, Clock::time_point now);
  void Send(Frames reply);

  zmq::socket_t socket_;
  const PeerAdmission admit_;
  const std::function<void(const std::string&)> refused_;
  const Delays delays_;
  std::unordered_map<std::string, Failures> failures_;  // by peer address
  std::multimap<Clock::time_point, Frames> delayed_;    // refusals by due time
};

}  // namespace keel::modules
