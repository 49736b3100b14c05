#include "modules/transport/zmq/zmq_transport.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <future>
#include <random>
#include <set>
#include <zmq.hpp>

#include "keel/envelope.hpp"
#include "modules/transport/live_counters.hpp"
#include "modules/transport/peer_identity.hpp"
#include "modules/transport/zmq/curve_security.hpp"
#include "modules/transport/zmq/envelope_batch.hpp"

namespace keel::modules {

namespace {

using Clock = std::chrono::steady_clock;

// The transport's own messages; they never reach the handler.
constexpr const char* kHello = "keel.transport.Hello";
constexpr const char* kHeartbeat = "keel.transport.Heartbeat";

// ZeroMQ messages (batches of up to kBatchBytes) libzmq buffers per
// connection: inbound before it stops reading, outbound before Send()'s queue
// keeps the rest, where it is counted against send_queue_limit.
constexpr int kReceivePipeMessages = 8;
constexpr int kSendPipeMessages = 16;

// Each pass of the I/O loop sends and receives for at most this long, so that
// heartbeats go out on time even when a peer floods us or the CPU is scarce:
// a busy loop must not look like a dead peer to the other side.
constexpr auto kPassBudget = std::chrono::milliseconds(5);

// Whether a batch begun at `start` may take its `done`-th item; the clock is
// read every 64 items to keep it cheap.
bool InBudget(size_t done, Clock::time_point start) {
  return done % 64 != 0 || done == 0 || Clock::now() - start < kPassBudget;
}

// A batch closes once it holds this much; large enough that libzmq's cost
// per message vanishes, small enough to keep memory and latency flat.
constexpr size_t kBatchBytes = 256 * 1024;

bool IsControl(const std::string& type) { return type == kHello || type == kHeartbeat; }

std::string ControlFrame(const char* type) { return EncodeEnvelope({type, 1, ""}); }

zmq::message_t Control(const std::string& frame) {
  return zmq::message_t(frame.data(), frame.size());
}

// ZeroMQ spells "any port" as '*'; operators write 0, as for every other
// address in Keel.
std::string ZmqEndpoint(const std::string& endpoint) {
  if (endpoint.size() > 2 && endpoint.compare(endpoint.size() - 2, 2, ":0") == 0) {
    return endpoint.substr(0, endpoint.size() - 1) + "*";
  }
  return endpoint;
}

void SetCommonOptions(zmq::socket_t& s, const ZmqOptions& o) {
  s.set(zmq::sockopt::sndhwm, kSendPipeMessages);
  // libzmq stops reading a connection whose inbound pipe is full and resumes
  // only when half of it has been drained; until then it decodes nothing, so
  // not even the peer's heartbeat replies, and with a deep pipe a busy but
  // live peer outlasts `peer_timeout` and is cut off. A short pipe resumes
  // reading within milliseconds; TCP holds the rest.
  s.set(zmq::sockopt::rcvhwm, kReceivePipeMessages);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(o.max_message_bytes));
  s.set(zmq::sockopt::heartbeat_ivl, static_cast<int>(o.heartbeat_interval.count()));
  s.set(zmq::sockopt::heartbeat_timeout, static_cast<int>(o.peer_timeout.count()));
  s.set(zmq::sockopt::heartbeat_ttl, static_cast<int>(o.peer_timeout.count()));
}

// A socket's monitor: libzmq reports connection events on an inproc PAIR.
std::unique_ptr<zmq::socket_t> Monitor(zmq::context_t& context, zmq::socket_t& socket, int events) {
  static std::atomic<int> counter{0};
  std::string address = "inproc://keel-zmq-monitor-" + std::to_string(counter++);
  if (zmq_socket_monitor(socket.handle(), address.c_str(), events) != 0) return nullptr;
  auto pair = std::make_unique<zmq::socket_t>(context, zmq::socket_type::pair);
  pair->connect(address);
  return pair;
}

// Reads one monitor event; returns its event number, or 0 when none, and
// stores its value (an error code, a ZAP status) in `value` if given.
uint16_t ReadMonitorEvent(zmq::socket_t& monitor, uint32_t* value = nullptr) {
  zmq::message_t event, address;
  if (!monitor.recv(event, zmq::recv_flags::dontwait)) return 0;
  if (event.more()) (void)monitor.recv(address, zmq::recv_flags::dontwait);
  if (event.size() < 2) return 0;
  uint16_t number;
  std::memcpy(&number, event.data(), sizeof(number));
  if (value != nullptr && event.size() >= 6) std::memcpy(value, event.data<char>() + 2, 4);
  return number;
}

}  // namespace

struct ZmqTransport::Io {
  struct Dealer {
    std::unique_ptr<zmq::socket_t> socket;
    std::unique_ptr<zmq::socket_t> monitor;
    bool connected = false;  // the master answered since the last loss
    bool ever_connected = false;
    Clock::time_point last_seen;
    std::optional<CurveDialer> curve;  // secured only
  };

  zmq::context_t context{1};
  std::unique_ptr<zmq::socket_t> router;
  std::unique_ptr<zmq::socket_t> router_monitor;
  std::map<std::string, Clock::time_point> router_peers;  // routing id -> last heard
  std::unique_ptr<ZapHandler> zap;                        // secured only, with the pins below
  PrincipalPins pins;
  std::map<std::string, Dealer> dealers;  // endpoint -> dealer
  // Frames accepted by Send() and not yet taken by libzmq (its high-water
  // mark was reached); kept in order per peer and retried.
  std::map<std::string, std::deque<EnvelopeBatch>> pending;
  Clock::time_point next_heartbeat = Clock::now();
};

struct ZmqTransport::Outbox {
  bool live = false;    // connected now, as the core was told
  size_t queued = 0;    // accepted by Send(), not yet taken by libzmq
  bool kicked = false;  // the I/O thread has been told to come and take them
  std::deque<EnvelopeBatch> batches;
  size_t messages = 0;  // in `batches`
};

ZmqTransport::ZmqTransport(ZmqOptions options, std::function<void(std::function<void()>)> post,
                           ZmqReports reports)
    : options_(options), post_(std::move(post)), reports_(std::move(reports)) {}

ZmqTransport::~ZmqTransport() { Stop(); }

Status ZmqTransport::Secure(const TransportKeys& keys, PeerAdmission admit) {
  if (thread_.joinable()) return Status::Error("zmq: Secure() must be called before Start()");
  if (auto status = CheckCurveKeys(keys); !status.ok()) return status;
  keys_ = keys;
  admit_ = std::move(admit);
  return Status::Ok();
}

Status ZmqTransport::Start(TransportHandler* handler) {
  if (thread_.joinable()) return Status::Error("zmq: already started");
  handler_ = handler;
  wakeup_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakeup_fd_ < 0) return Status::Error("zmq: eventfd failed");
  io_ = std::make_unique<Io>();
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void ZmqTransport::Enqueue(Command command) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_empty = commands_.empty();
    commands_.push_back(std::move(command));
  }
  // One wake-up per batch: the I/O thread drains the whole queue.
  if (was_empty) {
    uint64_t one = 1;
    (void)!::write(wakeup_fd_, &one, sizeof(one));
  }
}

void ZmqTransport::EnqueueAll(std::vector<Command> commands) {
  if (commands.empty()) return;
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_empty = commands_.empty();
    for (auto& c : commands) commands_.push_back(std::move(c));
  }
  if (was_empty) {
    uint64_t one = 1;
    (void)!::write(wakeup_fd_, &one, sizeof(one));
  }
}

void ZmqTransport::KickLater(const PeerId& peer) {
  kicks_.push_back(peer);
  if (std::exchange(kick_posted_, true)) return;
  post_([this] {
    kick_posted_ = false;
    std::vector<Command> sends;
    for (auto& p : kicks_) sends.push_back({Command::Kind::kSend, std::move(p), nullptr});
    kicks_.clear();
    if (!stopped_) EnqueueAll(std::move(sends));
  });
}

Result<std::string> ZmqTransport::RunAndWait(Command command) {
  if (!thread_.joinable() || stopped_) return Status::Error("zmq: not started");
  auto promise = std::make_shared<std::promise<Result<std::string>>>();
  auto future = promise->get_future();
  command.done = [promise](Result<std::string> r) { promise->set_value(std::move(r)); };
  Enqueue(std::move(command));
  // Binding and dialling are local socket calls on the I/O thread; the wait
  // is short and never on the network.
  return future.get();
}

Result<std::string> ZmqTransport::Bind(const std::string& endpoint) {
  return RunAndWait({Command::Kind::kBind, endpoint, nullptr});
}

Result<PeerId> ZmqTransport::Connect(const std::string& endpoint) {
  return RunAndWait({Command::Kind::kConnect, endpoint, nullptr});
}

Status ZmqTransport::Send(const PeerId& peer, TransportMessage message) {
  if (stopped_ || !thread_.joinable()) {
    counters_.dropped++;
    return Status::Error("zmq: transport is not running");
  }
  const size_t size = EnvelopeSize(message);
  // Room for the batch marker and length; a receiver closes the connection
  // of a sender whose message exceeds its max_message_bytes.
  if (size + 16 > options_.max_message_bytes) {
    counters_.dropped++;
    return Status::Error("zmq: message of " + std::to_string(size) +
                         " bytes exceeds max_message_bytes; dropped");
  }
  bool kick = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = outboxes_.find(peer);
    if (it == outboxes_.end() || !it->second->live) {
      counters_.dropped++;
      return Status::Error("zmq: peer " + peer + " is not connected; message dropped");
    }
    Outbox& box = *it->second;
    if (static_cast<int64_t>(box.queued) >= options_.send_queue_limit) {
      counters_.dropped++;
      return Status::Error("zmq: send queue to " + peer + " is full (" +
                           std::to_string(options_.send_queue_limit) +
                           " messages); message dropped");
    }
    box.queued++;
    if (box.batches.empty() || box.batches.back().bytes.size() + size > kBatchBytes) {
      box.batches.emplace_back();
    }
    AppendToBatch(box.batches.back(), message);
    box.messages++;
    kick = !std::exchange(box.kicked, true);
  }
  // One command per batch: the I/O thread takes everything queued so far.
  if (kick) KickLater(peer);
  return Status::Ok();
}

void ZmqTransport::Stop() {
  if (stopped_.exchange(true)) return;
  if (thread_.joinable()) {
    Enqueue({Command::Kind::kStop, "", nullptr});
    thread_.join();
  }
  io_.reset();
  if (wakeup_fd_ >= 0) ::close(wakeup_fd_);
  wakeup_fd_ = -1;
}

TransportCounters ZmqTransport::Counters() const { return counters_.Snapshot(); }

void ZmqTransport::Run() {
  Io& io = *io_;
  // Handler calls run later on the core strand; after Stop() none may run.
  auto deliver = [this](std::function<void(TransportHandler*)> call) {
    post_([this, call = std::move(call)] {
      if (!stopped_) call(handler_);
    });
  };
  // Reports to the module, on the core strand like handler calls.
  auto report = [this](const std::function<void(const std::string&)>& to, std::string text) {
    if (!to) return;
    post_([this, &to, text = std::move(text)] {
      if (!stopped_) to(text);
    });
  };
  auto refuse = [this, report](const std::string& why) {
    peers_refused_++;
    report(reports_.peer_refused, why);
  };
  auto peer_connected = [&](const std::string& peer) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& box = outboxes_[peer];
      if (!box) box = std::make_unique<Outbox>();
      box->live = true;
    }
    deliver([peer](TransportHandler* h) { h->OnPeerConnected(peer); });
  };
  // Frames left for a peer that went away are dropped, and counted.
  auto forget_pending = [&](const std::string& peer, size_t frames) {
    if (frames == 0) return;
    counters_.dropped += frames;
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = outboxes_.find(peer); it != outboxes_.end()) {
      it->second->queued -= std::min(it->second->queued, frames);
    }
  };
  auto peer_lost = [&](const std::string& peer) {
    size_t untaken = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = outboxes_.find(peer); it != outboxes_.end()) {
        Outbox& box = *it->second;
        box.live = false;
        untaken = box.messages;
        box.batches.clear();
        box.messages = 0;
        box.kicked = false;
      }
    }
    forget_pending(peer, untaken);
    if (auto it = io.pending.find(peer); it != io.pending.end()) {
      size_t messages = 0;
      for (const auto& b : it->second) messages += b.messages;
      forget_pending(peer, messages);
      io.pending.erase(it);
    }
    deliver([peer](TransportHandler* h) { h->OnPeerLost(peer); });
  };
  // Frames read in one pass go to the core in one post: a post per message
  // costs more than decoding it.
  // Runs of messages from one peer, in arrival order.
  std::vector<std::pair<PeerId, std::vector<TransportMessage>>> inbound;
  size_t inbound_messages = 0;
  auto hand_over = [&] {
    if (inbound.empty()) return;
    counters_.messages_in += inbound_messages;
    inbound_messages = 0;
    deliver([batch = std::move(inbound)](TransportHandler* h) mutable {
      for (auto& [peer, messages] : batch) {
        for (auto& m : messages) h->OnMessage(peer, std::move(m));
      }
    });
    inbound.clear();
  };
  // Counts and decodes one frame body from `peer`.
  auto receive = [&](const std::string& peer, const zmq::message_t& body) {
    counters_.bytes_in += body.size();
    auto status = DecodeBatch(std::string_view(body.data<char>(), body.size()),
                              [&](TransportMessage message) {
                                if (!IsControl(message.type)) {
                                  if (inbound.empty() || inbound.back().first != peer) {
                                    inbound.emplace_back(peer, std::vector<TransportMessage>());
                                  }
                                  inbound.back().second.push_back(std::move(message));
                                  inbound_messages++;
                                }
                              });
    if (!status.ok()) counters_.malformed++;
  };
  enum class Sent { kYes, kWouldBlock, kGone };
  auto send_to_router_peer = [&](const std::string& id, zmq::message_t& body) {
    zmq::message_t routing(id.data(), id.size());
    try {
      // With ROUTER_MANDATORY the first part already fails when the peer's
      // pipe is full, so a message is never half sent.
      if (!io.router->send(routing, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        return Sent::kWouldBlock;
      }
      (void)io.router->send(body, zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
      return Sent::kGone;  // EHOSTUNREACH: the peer's connection is gone
    }
    return Sent::kYes;
  };
  auto send_to_dealer = [&](Io::Dealer& d, zmq::message_t& body) {
    try {
      return d.socket->send(body, zmq::send_flags::dontwait) ? Sent::kYes : Sent::kWouldBlock;
    } catch (const zmq::error_t&) {
      return Sent::kGone;
    }
  };
  // Writes what is pending for `peer` until libzmq pushes back.
  auto flush = [&](const std::string& peer, std::deque<EnvelopeBatch>& batches,
                   Clock::time_point start) {
    size_t done = 0;  // messages
    for (size_t sends = 0; !batches.empty() && InBudget(sends, start); ++sends) {
      Sent sent = Sent::kGone;
      EnvelopeBatch& batch = batches.front();
      // A copy: a batch libzmq refuses (pipe full) stays pending, intact.
      zmq::message_t body(batch.bytes.data(), batch.bytes.size());
      if (auto d = io.dealers.find(peer); d != io.dealers.end()) {
        sent = d->second.connected ? send_to_dealer(d->second, body) : Sent::kGone;
      } else if (io.router && io.router_peers.count(peer)) {
        sent = send_to_router_peer(peer, body);
      }
      if (sent == Sent::kWouldBlock) break;
      if (sent == Sent::kYes) {
        counters_.messages_out += batch.messages;
        counters_.bytes_out += batch.bytes.size();
      } else {
        counters_.dropped += batch.messages;
      }
      done += batch.messages;
      batches.pop_front();
    }
    if (done > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = outboxes_.find(peer); it != outboxes_.end()) {
        it->second->queued -= std::min(it->second->queued, done);
      }
    }
  };

  // Moves what Send() queued for `peer` behind what is already pending.
  auto take_outbox = [&](const std::string& peer, std::deque<EnvelopeBatch>& pending) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = outboxes_.find(peer);
    if (it == outboxes_.end()) return;
    Outbox& box = *it->second;
    box.kicked = false;
    box.messages = 0;
    if (pending.empty()) {
      pending.swap(box.batches);
    } else {
      for (auto& b : box.batches) pending.push_back(std::move(b));
      box.batches.clear();
    }
  };
  const std::string heartbeat = ControlFrame(kHeartbeat);
  const std::string hello = ControlFrame(kHello);
  bool running = true;
  std::vector<zmq::pollitem_t> items;  // rebuilt each pass, its memory kept
  while (running) {
    items.clear();
    items.push_back({nullptr, wakeup_fd_, ZMQ_POLLIN, 0});
    if (io.router) items.push_back({io.router->handle(), 0, ZMQ_POLLIN, 0});
    if (io.router_monitor) items.push_back({io.router_monitor->handle(), 0, ZMQ_POLLIN, 0});
    if (io.zap) items.push_back({io.zap->socket().handle(), 0, ZMQ_POLLIN, 0});
    for (auto& [endpoint, d] : io.dealers) {
      items.push_back({d.socket->handle(), 0, ZMQ_POLLIN, 0});
      if (d.monitor) items.push_back({d.monitor->handle(), 0, ZMQ_POLLIN, 0});
    }
    Clock::time_point wake = io.next_heartbeat;
    if (io.zap) wake = std::min(wake, io.zap->next_due());
    for (auto& [endpoint, d] : io.dealers) {
      if (d.curve) wake = std::min(wake, d.curve->redial_at());
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
    // Frames waiting on a full pipe are retried soon; libzmq has no
    // per-peer writability to wait on for a ROUTER.
    if (!io.pending.empty()) wait = std::min(wait, std::chrono::milliseconds(1));
    zmq::poll(items.data(), items.size(), std::max(wait, std::chrono::milliseconds(0)));

    // Commands from the core.
    if (items[0].revents & ZMQ_POLLIN) {
      uint64_t ignored;
      (void)!::read(wakeup_fd_, &ignored, sizeof(ignored));
    }
    std::deque<Command> commands;
    {
      std::lock_guard<std::mutex> lock(mu_);
      commands.swap(commands_);
    }
    for (auto& c : commands) {
      switch (c.kind) {
        case Command::Kind::kStop:
          running = false;
          break;
        case Command::Kind::kBind:
          try {
            if (!io.router) {
              // Before the ROUTER binds: libzmq admits every CURVE peer of
              // a context that has no ZAP handler.
              if (keys_ && !io.zap) {
                io.zap =
                    std::make_unique<ZapHandler>(io.context, admit_, refuse, ZapHandler::Delays{});
              }
              io.router = std::make_unique<zmq::socket_t>(io.context, zmq::socket_type::router);
              SetCommonOptions(*io.router, options_);
              if (keys_) MakeCurveServer(*io.router, *keys_);
              io.router->set(zmq::sockopt::router_mandatory, 1);
              // A reconnecting agent keeps its identity; the new connection
              // must take over from the stale one.
              io.router->set(zmq::sockopt::router_handover, 1);
              io.router_monitor = Monitor(
                  io.context, *io.router,
                  ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
            }
            io.router->bind(ZmqEndpoint(c.endpoint));
            c.done(io.router->get(zmq::sockopt::last_endpoint));
          } catch (const zmq::error_t& e) {
            c.done(Status::Error("zmq: cannot bind " + c.endpoint + ": " + e.what()));
          }
          break;
        case Command::Kind::kConnect:
          try {
            if (io.dealers.count(c.endpoint)) {
              c.done(Status::Error("zmq: already connected to " + c.endpoint));
              break;
            }
            if (keys_ && keys_->server_key.empty()) {
              c.done(Status::Error("zmq: cannot connect to " + c.endpoint +
                                   " securely: no server key (the master's public key) given"));
              break;
            }
            Io::Dealer d;
            d.socket = std::make_unique<zmq::socket_t>(io.context, zmq::socket_type::dealer);
            SetCommonOptions(*d.socket, options_);
            if (keys_) {
              MakeCurveClient(*d.socket, *keys_);
              d.curve.emplace(c.endpoint, options_.reconnect_initial, options_.reconnect_max);
            }
            d.socket->set(zmq::sockopt::routing_id, RandomPeerIdentity());
            d.socket->set(zmq::sockopt::immediate, 1);
            d.socket->set(zmq::sockopt::reconnect_ivl,
                          static_cast<int>(options_.reconnect_initial.count()));
            d.socket->set(zmq::sockopt::reconnect_ivl_max,
                          static_cast<int>(options_.reconnect_max.count()));
            d.monitor = Monitor(io.context, *d.socket,
                                ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                    (d.curve ? CurveDialer::kEvents : 0));
            d.socket->connect(c.endpoint);
            io.dealers.emplace(c.endpoint, std::move(d));
            c.done(c.endpoint);
          } catch (const zmq::error_t& e) {
            c.done(Status::Error("zmq: cannot connect to " + c.endpoint + ": " + e.what()));
          }
          break;
        case Command::Kind::kSend:
          take_outbox(c.endpoint, io.pending[c.endpoint]);
          break;
      }
    }
    if (!running) break;
    if (io.zap) {
      io.zap->Serve(Clock::now());
      io.zap->SendDue(Clock::now());
    }
    const auto flush_start = Clock::now();
    for (auto it = io.pending.begin(); it != io.pending.end();) {
      flush(it->first, it->second, flush_start);
      it = it->second.empty() ? io.pending.erase(it) : std::next(it);
    }

    const auto now = Clock::now();
    if (io.router) {
      for (int i = 0; i == 0 || Clock::now() - now < kPassBudget; ++i) {
        zmq::message_t routing, body;
        if (!io.router->recv(routing, zmq::recv_flags::dontwait)) break;
        std::string id(routing.data<char>(), routing.size());
        bool well_formed =
            routing.more() && io.router->recv(body, zmq::recv_flags::dontwait) && !body.more();
        while (io.router->get(zmq::sockopt::rcvmore)) {
          zmq::message_t extra;
          (void)io.router->recv(extra, zmq::recv_flags::dontwait);
          well_formed = false;
        }
        if (!well_formed) {
          counters_.malformed++;
          continue;
        }
        if (keys_) {
          if (std::string why = io.pins.Check(id, body); !why.empty()) {
            refuse(why);
            continue;
          }
        }
        auto [it, is_new] = io.router_peers.insert_or_assign(id, now);
        if (is_new) {
          peer_connected(id);
          zmq::message_t hb = Control(heartbeat);
          (void)send_to_router_peer(id, hb);  // tells the dealer it is heard
        }
        receive(id, body);
      }
      hand_over();
    }
    if (io.router_monitor) {
      uint32_t value = 0;
      while (uint16_t event = ReadMonitorEvent(*io.router_monitor, &value)) {
        if (keys_ && event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && IsCurveMismatch(value)) {
          refuse(
              "zmq: refused a peer without CurveZMQ or with another server key (protocol error " +
              HexCode(value) + ")");
        } else if (event &
                   (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
          counters_.malformed++;  // bytes that were not ZMTP: the connection was dropped
        }
      }
    }
    for (auto& [endpoint, d] : io.dealers) {
      if (d.curve) d.curve->RedialIfDue(*d.socket, now);
      uint32_t value = 0;
      while (d.monitor) {
        uint16_t event = ReadMonitorEvent(*d.monitor, &value);
        if (event == 0) break;
        if (event == ZMQ_EVENT_CONNECTED) {
          if (d.ever_connected) counters_.reconnects++;
          d.ever_connected = true;
        } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
          zmq::message_t m = Control(hello);
          (void)send_to_dealer(d, m);
        }
        if (d.curve) {
          if (std::string line = d.curve->OnEvent(event, value, now); !line.empty()) {
            report(reports_.refused_by_server, line);
          }
        }
      }
      for (int i = 0; i == 0 || Clock::now() - now < kPassBudget; ++i) {
        zmq::message_t body;
        if (!d.socket->recv(body, zmq::recv_flags::dontwait)) break;
        d.last_seen = now;
        if (!d.connected) {
          d.connected = true;
          peer_connected(endpoint);
        }
        receive(endpoint, body);
      }
      hand_over();
    }

    // Heartbeats out, silent peers lost.
    if (now >= io.next_heartbeat) {
      io.next_heartbeat = now + options_.heartbeat_interval;
      for (auto it = io.router_peers.begin(); it != io.router_peers.end();) {
        if (now - it->second > options_.peer_timeout) {
          peer_lost(it->first);
          io.pins.Forget(it->first);
          it = io.router_peers.erase(it);
        } else {
          zmq::message_t hb = Control(heartbeat);
          (void)send_to_router_peer(it->first, hb);
          ++it;
        }
      }
      for (auto& [endpoint, d] : io.dealers) {
        zmq::message_t hb = Control(heartbeat);
        (void)send_to_dealer(d, hb);
        if (d.connected && now - d.last_seen > options_.peer_timeout) {
          d.connected = false;
          peer_lost(endpoint);
        }
      }
    }
  }
  // Sockets close before the context, on the thread that used them.
  io.dealers.clear();
  io.router_monitor.reset();
  io.router.reset();
  io.zap.reset();
}

}  // namespace keel::modules
