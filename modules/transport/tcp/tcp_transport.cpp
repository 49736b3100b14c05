#include "modules/transport/tcp/tcp_transport.hpp"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "keel/envelope.hpp"
#include "modules/transport/live_counters.hpp"
#include "modules/transport/peer_identity.hpp"
#include "modules/transport/tcp/tcp_connection.hpp"

namespace keel::modules {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// The transport's own messages; they never reach the handler.
constexpr const char* kHello = "keel.transport.Hello";
constexpr const char* kHeartbeat = "keel.transport.Heartbeat";

std::string Framed(const std::string& body) {
  std::string frame;
  frame.reserve(kFrameHeaderBytes + body.size());
  AppendFrameHeader(frame, static_cast<uint32_t>(body.size()));
  frame += body;
  return frame;
}

std::string ControlFrame(const char* type, std::string payload = "") {
  return Framed(EncodeEnvelope({type, 1, std::move(payload)}));
}

// "tcp://HOST:PORT", HOST a name, an IPv4 address, "*" or a bracketed IPv6
// address.
Status ParseEndpoint(const std::string& endpoint, std::string* host, std::string* port) {
  const std::string scheme = "tcp://";
  auto bad = [&](const std::string& why) {
    return Status::Error("tcp: endpoint '" + endpoint + "' " + why + " (expected tcp://HOST:PORT)");
  };
  if (endpoint.compare(0, scheme.size(), scheme) != 0) return bad("is not a tcp:// endpoint");
  std::string rest = endpoint.substr(scheme.size());
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad("has no HOST:PORT");
  *host = rest.substr(0, colon);
  *port = rest.substr(colon + 1);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  if (*host == "*") *host = "0.0.0.0";
  if (port->empty() || port->size() > 5 ||
      port->find_first_not_of("0123456789") != std::string::npos || std::stoi(*port) > 65535) {
    return bad("has a bad port");
  }
  return Status::Ok();
}

std::string EndpointOf(const tcp::endpoint& e) {
  std::string address = e.address().to_string();
  if (e.address().is_v6()) address = "[" + address + "]";
  return "tcp://" + address + ":" + std::to_string(e.port());
}

}  // namespace

class TcpTransport::Impl : public TcpConnectionOwner,
                           public std::enable_shared_from_this<TcpTransport::Impl> {
 public:
  Impl(TransportOptions options, std::function<void(std::function<void()>)> post)
      : options_(options), post_(std::move(post)), identity_(RandomPeerIdentity()) {}

  // --- core strand side -----------------------------------------------------

  Status Start(TransportHandler* handler) {
    if (thread_.joinable()) return Status::Error("tcp: already started");
    handler_ = handler;
    thread_ = std::thread([this] { io_.run(); });
    asio::post(io_, [self = shared_from_this()] { self->Tick(); });
    return Status::Ok();
  }

  template <typename Fn>
  auto RunAndWait(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    // Binding and dialling are local calls on the I/O thread; the wait is
    // short and never on the network.
    return result.get();
  }

  Result<std::string> Bind(const std::string& endpoint) {
    if (!Running()) return Status::Error("tcp: not started");
    std::string host, port;
    if (auto s = ParseEndpoint(endpoint, &host, &port); !s.ok()) return s;
    return RunAndWait([&]() -> Result<std::string> {
      boost::system::error_code ec;
      auto address = asio::ip::make_address(host, ec);
      if (ec)
        return Status::Error("tcp: cannot bind " + endpoint + ": '" + host +
                             "' is not an IP address");
      auto acceptor = std::make_unique<tcp::acceptor>(io_);
      tcp::endpoint local(address, static_cast<uint16_t>(std::stoi(port)));
      acceptor->open(local.protocol(), ec);
      if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acceptor->bind(local, ec);
      if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) return Status::Error("tcp: cannot bind " + endpoint + ": " + ec.message());
      std::string bound = EndpointOf(acceptor->local_endpoint());
      acceptors_.push_back(std::move(acceptor));
      Accept(*acceptors_.back());
      return bound;
    });
  }

  Result<PeerId> Connect(const std::string& endpoint) {
    if (!Running()) return Status::Error("tcp: not started");
    std::string host, port;
    if (auto s = ParseEndpoint(endpoint, &host, &port); !s.ok()) return s;
    return RunAndWait([&]() -> Result<PeerId> {
      if (dialers_.count(endpoint)) return Status::Error("tcp: already connected to " + endpoint);
      auto& d = dialers_[endpoint];
      d = std::make_unique<Dialer>(io_);
      d->endpoint = endpoint;
      d->host = host;
      d->port = port;
      d->backoff = options_.reconnect_initial;
      Dial(*d);
      return endpoint;
    });
  }

  Status Send(const PeerId& peer, const TransportMessage& message) {
    if (!Running()) {
      counters_.dropped++;
      return Status::Error("tcp: transport is not running");
    }
    std::string body = EncodeEnvelope(message);
    if (body.size() > options_.max_message_bytes) {
      counters_.dropped++;
      return Status::Error("tcp: message of " + std::to_string(body.size()) +
                           " bytes exceeds max_message_bytes; dropped");
    }
    bool kick = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = outboxes_.find(peer);
      if (it == outboxes_.end() || !it->second.live) {
        counters_.dropped++;
        return Status::Error("tcp: peer " + peer + " is not connected; message dropped");
      }
      Outbox& box = it->second;
      if (static_cast<int64_t>(box.queued) >= options_.send_queue_limit) {
        counters_.dropped++;
        return Status::Error("tcp: send queue to " + peer + " is full (" +
                             std::to_string(options_.send_queue_limit) +
                             " messages); message dropped");
      }
      AppendFrameHeader(box.bytes, static_cast<uint32_t>(body.size()));
      box.bytes += body;
      box.messages++;
      box.queued++;
      kick = !std::exchange(box.kicked, true);
    }
    // One wake-up per batch: the I/O thread takes everything queued so far.
    if (kick) {
      asio::post(io_, [self = shared_from_this(), peer] {
        if (auto it = self->routes_.find(peer); it != self->routes_.end()) it->second->Flush();
      });
    }
    return Status::Ok();
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    *alive_ = false;
    if (!thread_.joinable()) return;
    asio::post(io_, [this] { Shutdown(); });
    work_.reset();
    thread_.join();
  }

  TransportCounters Counters() const { return counters_.Snapshot(); }

  // --- I/O thread side ------------------------------------------------------

  void OnRead(TcpConnection& conn, size_t bytes, std::vector<TransportMessage> batch) override {
    counters_.bytes_in += bytes;
    std::vector<TransportMessage> data;
    data.reserve(batch.size());
    for (auto& m : batch) {
      if (m.type == kHello) {
        OnHello(conn, m.payload);
      } else if (m.type == kHeartbeat) {
        // Heard: the connection's clock was reset by the read itself.
      } else if (conn.peer().empty()) {
        // Only a Keel transport speaks here, and it says Hello first.
        counters_.malformed++;
        conn.Close("data before Hello");
        return;
      } else {
        data.push_back(std::move(m));
      }
      if (conn.closed()) return;
    }
    // A connecting side's peer is up once the binding side answers.
    if (auto* d = DialerOf(conn); d && !d->reported) {
      d->reported = true;
      d->backoff = options_.reconnect_initial;
      PeerUp(d->endpoint);
    }
    if (data.empty()) return;
    counters_.messages_in += data.size();
    Deliver([peer = conn.peer(), data = std::move(data)](TransportHandler* h) mutable {
      for (auto& m : data) h->OnMessage(peer, std::move(m));
    });
  }

  void OnMalformed(TcpConnection& conn, const std::string& why) override { counters_.malformed++; }

  void OnClosed(TcpConnection& conn, const std::string& why) override {
    unidentified_.erase(&conn);
    if (auto* d = DialerOf(conn)) {
      d->conn.reset();
      if (d->reported) {
        d->reported = false;
        PeerDown(d->endpoint);
      }
      if (!stopping_) Redial(*d);
      return;
    }
    auto it = routes_.find(conn.peer());
    if (it != routes_.end() && it->second.get() == &conn) {
      routes_.erase(it);
      PeerDown(conn.peer());
    }
  }

  size_t TakeQueued(const PeerId& peer, std::string& bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = outboxes_.find(peer);
    if (it == outboxes_.end()) return 0;
    it->second.kicked = false;
    bytes.swap(it->second.bytes);
    it->second.bytes.clear();
    return std::exchange(it->second.messages, 0);
  }

  void Written(const PeerId& peer, size_t messages, size_t bytes, bool ok) override {
    if (ok) {
      counters_.messages_out += messages;
      counters_.bytes_out += bytes;
    } else {
      counters_.dropped += messages;
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto& queued = outboxes_[peer].queued;
    queued -= std::min(queued, messages);
  }

 private:
  struct Outbox {
    std::string bytes;  // framed messages not yet taken by a write
    size_t messages = 0;
    size_t queued = 0;  // accepted by Send(), not yet written
    bool live = false;  // the core was told the peer is connected
    bool kicked = false;
  };

  struct Dialer {
    explicit Dialer(asio::io_context& io) : resolver(io), timer(io) {}
    std::string endpoint, host, port;
    tcp::resolver resolver;
    asio::steady_timer timer;
    std::shared_ptr<TcpConnection> conn;
    std::chrono::milliseconds backoff{0};
    bool reported = false;  // the core was told the peer is connected
    bool ever_connected = false;
  };

  bool Running() const { return thread_.joinable() && !stopped_; }

  std::chrono::seconds KeepaliveIdle() const {
    return std::chrono::duration_cast<std::chrono::seconds>(options_.peer_timeout);
  }

  void Deliver(std::function<void(TransportHandler*)> call) {
    // After Stop() no handler call may run, even one already posted.
    post_([alive = alive_, handler = handler_, call = std::move(call)] {
      if (*alive) call(handler);
    });
  }

  void PeerUp(const PeerId& peer) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      outboxes_[peer].live = true;
    }
    Deliver([peer](TransportHandler* h) { h->OnPeerConnected(peer); });
  }

  // What was queued for a lost peer is dropped and counted; messages in a
  // write under way are counted when that write fails.
  void PeerDown(const PeerId& peer) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      Outbox& box = outboxes_[peer];
      box.live = false;
      counters_.dropped += box.messages;
      box.queued -= std::min(box.queued, box.messages);
      box.messages = 0;
      box.bytes.clear();
      box.kicked = false;
    }
    Deliver([peer](TransportHandler* h) { h->OnPeerLost(peer); });
  }

  Dialer* DialerOf(const TcpConnection& conn) {
    if (conn.peer().empty()) return nullptr;
    auto it = dialers_.find(conn.peer());
    return it != dialers_.end() && it->second->conn.get() == &conn ? it->second.get() : nullptr;
  }

  void Accept(tcp::acceptor& acceptor) {
    acceptor.async_accept([this, &acceptor](boost::system::error_code ec, tcp::socket socket) {
      if (stopping_) return;
      if (!ec) {
        auto conn =
            std::make_shared<TcpConnection>(std::move(socket), this, options_.max_message_bytes);
        unidentified_[conn.get()] = conn;
        conn->Start(KeepaliveIdle());
      }
      Accept(acceptor);
    });
  }

  // A connecting side introduced itself: its identity is its peer id here.
  void OnHello(TcpConnection& conn, const std::string& identity) {
    if (!conn.peer().empty()) return;  // a binding side's answer, or a repeat
    if (identity.empty() || identity.size() > 256) {
      counters_.malformed++;
      conn.Close("bad Hello");
      return;
    }
    auto self = unidentified_.at(&conn);
    unidentified_.erase(&conn);
    conn.set_peer(identity);
    auto [it, is_new] = routes_.try_emplace(identity, self);
    if (!is_new) {
      // The same peer on a new connection (its old one died unnoticed): the
      // new one takes over, and the peer stays connected throughout.
      auto old = std::exchange(it->second, self);
      old->set_peer("");
      old->Close("replaced by a new connection from " + identity);
    }
    self->SendControl(hello_);
    if (is_new) PeerUp(identity);
    self->Flush();
  }

  void Dial(Dialer& d) {
    d.resolver.async_resolve(
        d.host, d.port, [this, &d](boost::system::error_code ec, tcp::resolver::results_type r) {
          if (stopping_) return;
          if (ec) {
            Redial(d);
            return;
          }
          auto socket = std::make_shared<tcp::socket>(io_);
          asio::async_connect(
              *socket, r, [this, &d, socket](boost::system::error_code ec, const tcp::endpoint&) {
                if (stopping_) return;
                if (ec) {
                  Redial(d);
                  return;
                }
                if (d.ever_connected) counters_.reconnects++;
                d.ever_connected = true;
                d.conn = std::make_shared<TcpConnection>(std::move(*socket), this,
                                                         options_.max_message_bytes);
                d.conn->set_peer(d.endpoint);
                d.conn->Start(KeepaliveIdle());
                d.conn->SendControl(client_hello_);
                routes_[d.endpoint] = d.conn;
              });
        });
  }

  void Redial(Dialer& d) {
    routes_.erase(d.endpoint);
    d.timer.expires_after(d.backoff);
    d.backoff = std::min(d.backoff * 2, options_.reconnect_max);
    d.timer.async_wait([this, &d](boost::system::error_code ec) {
      if (!ec && !stopping_) Dial(d);
    });
  }

  // Heartbeats out, silent connections closed; every heartbeat_interval.
  void Tick() {
    if (stopping_) return;
    const auto now = Clock::now();
    std::vector<std::shared_ptr<TcpConnection>> all;
    for (auto& [conn, ptr] : unidentified_) all.push_back(ptr);
    for (auto& [peer, conn] : routes_) all.push_back(conn);
    for (auto& conn : all) {
      if (conn->closed()) continue;
      if (now - conn->last_heard() > options_.peer_timeout) {
        conn->Close("silent for longer than peer_timeout");
      } else if (!conn->peer().empty()) {
        conn->SendControl(heartbeat_);
      }
    }
    tick_.expires_after(options_.heartbeat_interval);
    tick_.async_wait([this](boost::system::error_code ec) {
      if (!ec) Tick();
    });
  }

  void Shutdown() {
    stopping_ = true;
    tick_.cancel();
    for (auto& a : acceptors_) a->close();
    for (auto& [endpoint, d] : dialers_) {
      d->timer.cancel();
      d->resolver.cancel();
      if (d->conn) d->conn->Close("transport stopped");
    }
    auto routes = routes_;
    for (auto& [peer, conn] : routes) conn->Close("transport stopped");
    auto unidentified = unidentified_;
    for (auto& [ptr, conn] : unidentified) conn->Close("transport stopped");
  }

  // Declared first: destroyed last, after every socket that uses it.
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  asio::steady_timer tick_{io_};

  const TransportOptions options_;
  const std::function<void(std::function<void()>)> post_;
  const std::string identity_;
  const std::string hello_ = ControlFrame(kHello);
  const std::string client_hello_ = ControlFrame(kHello, identity_);
  const std::string heartbeat_ = ControlFrame(kHeartbeat);
  TransportHandler* handler_ = nullptr;
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
  std::thread thread_;

  // I/O thread only.
  bool stopping_ = false;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::map<std::string, std::unique_ptr<Dialer>> dialers_;  // by endpoint
  std::unordered_map<TcpConnection*, std::shared_ptr<TcpConnection>> unidentified_;
  std::unordered_map<PeerId, std::shared_ptr<TcpConnection>> routes_;  // peer -> connection

  std::mutex mu_;  // guards outboxes_
  std::unordered_map<PeerId, Outbox> outboxes_;

  std::atomic<bool> stopped_{false};
  LiveTransportCounters counters_;
};

TcpTransport::TcpTransport(TransportOptions options,
                           std::function<void(std::function<void()>)> post)
    : impl_(std::make_shared<Impl>(options, std::move(post))) {}

TcpTransport::~TcpTransport() { Stop(); }

Status TcpTransport::Start(TransportHandler* handler) { return impl_->Start(handler); }
Result<std::string> TcpTransport::Bind(const std::string& endpoint) {
  return impl_->Bind(endpoint);
}
Result<PeerId> TcpTransport::Connect(const std::string& endpoint) {
  return impl_->Connect(endpoint);
}
Status TcpTransport::Send(const PeerId& peer, TransportMessage message) {
  return impl_->Send(peer, message);
}
void TcpTransport::Stop() { impl_->Stop(); }
TransportCounters TcpTransport::Counters() const { return impl_->Counters(); }

}  // namespace keel::modules
