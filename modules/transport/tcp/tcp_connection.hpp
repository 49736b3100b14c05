// One TCP connection of the `tcp` transport, on the transport's I/O thread:
// reads frames and hands them to its owner in batches, writes what the owner
// has queued for its peer. Internal to the module (Asio lives here).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "keel/transport.hpp"
#include "modules/transport/tcp/frame_codec.hpp"

namespace keel::modules {

class TcpConnection;

// What a connection needs from the transport; every call is on the I/O thread.
class TcpConnectionOwner {
 public:
  virtual ~TcpConnectionOwner() = default;
  // One read of `bytes` bytes and the envelopes it completed, in order
  // (control messages included; possibly none).
  virtual void OnRead(TcpConnection& conn, size_t bytes, std::vector<TransportMessage> batch) = 0;
  // A frame that is not an envelope (the connection stays up).
  virtual void OnMalformed(TcpConnection& conn, const std::string& why) = 0;
  // The connection is closed; no call for it follows.
  virtual void OnClosed(TcpConnection& conn, const std::string& why) = 0;
  // Moves the framed messages queued for `peer` into `bytes`; returns how many.
  virtual size_t TakeQueued(const PeerId& peer, std::string& bytes) = 0;
  // `messages` taken for `peer` were written (ok) or lost with the connection.
  virtual void Written(const PeerId& peer, size_t messages, size_t bytes, bool ok) = 0;
};

class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  using Clock = std::chrono::steady_clock;

  TcpConnection(boost::asio::ip::tcp::socket socket, TcpConnectionOwner* owner,
                uint64_t max_body_bytes);

  // Starts reading. `keepalive_idle` tunes TCP keepalive, which notices a
  // vanished host even when the heartbeats are not due yet.
  void Start(std::chrono::seconds keepalive_idle);
  // Queues a transport control frame (Hello, Heartbeat) ahead of data.
  void SendControl(const std::string& frame);
  // Writes whatever is queued for the peer, unless a write is under way.
  void Flush();
  // Closes the socket; the owner hears OnClosed once. Idempotent.
  void Close(const std::string& why);

  // The peer this connection carries messages for; empty until known.
  const PeerId& peer() const { return peer_; }
  void set_peer(PeerId peer) { peer_ = std::move(peer); }
  Clock::time_point last_heard() const { return last_heard_; }
  bool heard_since_open() const { return heard_; }
  bool closed() const { return closed_; }

 private:
  void Read();

  boost::asio::ip::tcp::socket socket_;
  TcpConnectionOwner* const owner_;
  FrameDecoder decoder_;
  PeerId peer_;
  Clock::time_point last_heard_ = Clock::now();
  bool heard_ = false;
  bool closed_ = false;
  bool writing_ = false;
  std::string control_;  // control frames not yet written
  // The write under way: its control frames, its data and the data's count.
  std::string writing_control_;
  std::string writing_data_;
  size_t writing_messages_ = 0;
};

}  // namespace keel::modules
