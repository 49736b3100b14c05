// One suite for every transport module built in this tree (zmq, tcp, ...):
// each test runs against the real module library, loaded as a daemon loads
// it, on its own io_context thread as the daemon's core strand.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <future>
#include <random>
#include <thread>

#include "keel/transport.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/transport_side.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;

// Short timers so that loss and reconnection show within a test's patience.
constexpr const char* kParams =
    R"({"heartbeat_interval": "100ms", "peer_timeout": "1s", "reconnect_initial": "50ms",
        "reconnect_max": "500ms", "send_queue_limit": 100000})";

std::string ModuleDir() { return BuildDir() + "/lib/keel/modules"; }

// The suite's names for the support types.
class Side : public TransportSide {
 public:
  explicit Side(const std::string& module) : TransportSide(module, ModuleDir(), kParams) {}
};

TransportMessage Numbered(uint64_t n, size_t size = 16) {
  std::string payload(std::max<size_t>(size, sizeof(n)), 'x');
  std::memcpy(payload.data(), &n, sizeof(n));
  return {"keel.test.Numbered", 1, payload};
}

uint64_t NumberOf(const TransportMessage& m) {
  uint64_t n = 0;
  std::memcpy(&n, m.payload.data(), sizeof(n));
  return n;
}

// Counters and peer events, for a failure message.
std::string Describe(Side& side) {
  auto c = side.OnCore([&] { return side.transport().Counters(); });
  Recorder& r = side.recorder();
  return "out " + std::to_string(c.messages_out) + " in " + std::to_string(c.messages_in) +
         " dropped " + std::to_string(c.dropped) + " malformed " + std::to_string(c.malformed) +
         " reconnects " + std::to_string(c.reconnects) + " connected " +
         std::to_string(r.connected_.size()) + " lost " + std::to_string(r.lost_.size());
}

class TransportConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  // A server bound on loopback and `clients` connected to it, all up.
  void Link(int clients = 1) {
    server_ = std::make_unique<Side>(GetParam());
    auto bound = server_->OnCore([&] { return server_->transport().Bind("tcp://127.0.0.1:0"); });
    ASSERT_TRUE(bound.ok()) << bound.status().message();
    endpoint_ = *bound;
    for (int i = 0; i < clients; ++i) {
      clients_.push_back(std::make_unique<Side>(GetParam()));
      auto peer =
          clients_.back()->OnCore([&] { return clients_.back()->transport().Connect(endpoint_); });
      ASSERT_TRUE(peer.ok()) << peer.status().message();
      server_peers_.push_back(*peer);
      ASSERT_TRUE(clients_.back()->recorder().WaitFor([&] {
        return !clients_.back()->recorder().connected_.empty();
      })) << "client "
          << i << " never connected to " << endpoint_;
    }
    ASSERT_TRUE(server_->recorder().WaitFor(
        [&] { return server_->recorder().connected_.size() >= static_cast<size_t>(clients); }));
  }

  // Sends on `side`'s core, retrying while the bounded queue is full.
  void SendAll(Side& side, const PeerId& peer, uint64_t count, size_t size = 16) {
    uint64_t next = 0;
    while (next < count) {
      next = side.OnCore([&, start = next] {
        uint64_t n = start;
        for (; n < count && n < start + 10000; ++n) {
          if (!side.transport().Send(peer, Numbered(n, size)).ok()) break;
        }
        return n;
      });
      if (next < count) std::this_thread::sleep_for(1ms);
    }
  }

  std::unique_ptr<Side> server_;
  std::vector<std::unique_ptr<Side>> clients_;
  std::vector<PeerId> server_peers_;  // each client's id for the server
  std::string endpoint_;
};

TEST_P(TransportConformanceTest, ExchangesMessagesBothWays) {
  Link();
  Side& client = *clients_[0];
  ASSERT_TRUE(client
                  .OnCore([&] {
                    return client.transport().Send(server_peers_[0], {"keel.test.Ping", 2, "ping"});
                  })
                  .ok());
  Recorder& s = server_->recorder();
  ASSERT_TRUE(s.WaitFor([&] { return !s.messages_.empty(); }));
  PeerId from = s.messages_[0].first;
  EXPECT_EQ(s.messages_[0].second.type, "keel.test.Ping");
  EXPECT_EQ(s.messages_[0].second.version, 2u);
  EXPECT_EQ(s.messages_[0].second.payload, "ping");
  EXPECT_EQ(from, s.connected_.at(0));
  ASSERT_TRUE(
      server_->OnCore([&] {
               return server_->transport().Send(from, {"keel.test.Pong", 1, "pong"});
             })
          .ok());
  Recorder& c = client.recorder();
  ASSERT_TRUE(c.WaitFor([&] { return !c.messages_.empty(); }));
  EXPECT_EQ(c.messages_[0].second.payload, "pong");
  auto counters = client.OnCore([&] { return client.transport().Counters(); });
  EXPECT_EQ(counters.messages_out, 1u);
  EXPECT_EQ(counters.messages_in, 1u);
  EXPECT_GT(counters.bytes_out, 4u);
}

TEST_P(TransportConformanceTest, KeepsOrderPerPeer) {
  Link(2);
  constexpr uint64_t kCount = 20000;
  std::thread a([&] { SendAll(*clients_[0], server_peers_[0], kCount); });
  std::thread b([&] { SendAll(*clients_[1], server_peers_[1], kCount); });
  a.join();
  b.join();
  Recorder& s = server_->recorder();
  ASSERT_TRUE(s.WaitFor([&] { return s.messages_.size() >= 2 * kCount; }, 30s))
      << s.message_count();
  std::map<PeerId, uint64_t> next;
  for (const auto& [peer, m] : s.messages_) {
    ASSERT_EQ(NumberOf(m), next[peer]) << "out of order from " << peer;
    next[peer]++;
  }
  EXPECT_EQ(next.size(), 2u);
}

TEST_P(TransportConformanceTest, CarriesOne16MiBMessage) {
  Link();
  std::string big(16 << 20, '\0');
  std::mt19937_64 random(42);
  for (auto& ch : big) ch = static_cast<char>(random());
  ASSERT_TRUE(
      clients_[0]
          ->OnCore([&] {
            return clients_[0]->transport().Send(server_peers_[0], {"keel.test.Big", 1, big});
          })
          .ok());
  Recorder& s = server_->recorder();
  ASSERT_TRUE(s.WaitFor([&] { return !s.messages_.empty(); }, 30s));
  EXPECT_TRUE(s.messages_[0].second.payload == big);
}

TEST_P(TransportConformanceTest, MillionSmallMessagesNoneLostOrDuplicated) {
  Link();
  constexpr uint64_t kCount = 1000000;
  SendAll(*clients_[0], server_peers_[0], kCount);
  Recorder& s = server_->recorder();
  ASSERT_TRUE(s.WaitFor([&] { return s.messages_.size() >= kCount; }, 120s))
      << s.message_count() << " arrived; " << Describe(*clients_[0]) << "; " << Describe(*server_);
  std::this_thread::sleep_for(200ms);  // a duplicate would show up now
  ASSERT_EQ(s.message_count(), kCount);
  for (uint64_t i = 0; i < kCount; ++i) ASSERT_EQ(NumberOf(s.messages_[i].second), i);
}

TEST_P(TransportConformanceTest, ReportsASilentPeerLost) {
  Link();
  PeerId client_as_seen = server_->recorder().connected_.at(0);
  auto stopped = std::chrono::steady_clock::now();
  clients_.clear();  // the client stops: no more heartbeats
  Recorder& s = server_->recorder();
  ASSERT_TRUE(s.WaitFor([&] { return !s.lost_.empty(); }, 5s));
  EXPECT_EQ(s.lost_[0], client_as_seen);
  // peer_timeout is 1 s; one heartbeat interval of slack for the check.
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, 2500ms);
}

TEST_P(TransportConformanceTest, ReconnectsWhenTheServerComesBack) {
  Link();
  Side& client = *clients_[0];
  server_.reset();
  Recorder& c = client.recorder();
  ASSERT_TRUE(c.WaitFor([&] { return !c.lost_.empty(); }, 5s)) << "server loss not reported";

  server_ = std::make_unique<Side>(GetParam());
  ASSERT_TRUE(server_->OnCore([&] { return server_->transport().Bind(endpoint_); }).ok());
  ASSERT_TRUE(c.WaitFor([&] { return c.connected_.size() >= 2; }, 10s)) << "no reconnection";
  ASSERT_TRUE(
      client
          .OnCore([&] {
            return client.transport().Send(server_peers_[0], {"keel.test.After", 1, "again"});
          })
          .ok());
  Recorder& s = server_->recorder();
  ASSERT_TRUE(s.WaitFor([&] { return !s.messages_.empty(); }));
  EXPECT_EQ(s.messages_[0].second.payload, "again");
  EXPECT_GE(client.OnCore([&] { return client.transport().Counters(); }).reconnects, 1u);
}

TEST_P(TransportConformanceTest, GarbageIsCountedAndOthersAreStillServed) {
  Link();
  auto port = static_cast<uint16_t>(std::stoi(endpoint_.substr(endpoint_.rfind(':') + 1)));
  // Random bytes, then a huge length prefix, from a client that is no Keel
  // daemon at all.
  for (const std::string& junk : {std::string("\x13\x37 this is not a frame \xff\xfe\x00\x01", 28),
                                  std::string("\x7f\xff\xff\xff\xff\xff\xff\xff", 8)}) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    std::this_thread::sleep_for(200ms);
    ::close(fd);
  }
  bool counted = false;
  for (int i = 0; i < 50 && !counted; ++i) {
    counted = server_->OnCore([&] { return server_->transport().Counters(); }).malformed > 0;
    if (!counted) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(counted) << "garbage was not counted as malformed";
  // The good client is still served.
  ASSERT_TRUE(
      clients_[0]
          ->OnCore([&] {
            return clients_[0]->transport().Send(server_peers_[0], {"keel.test.Still", 1, "here"});
          })
          .ok());
  Recorder& s = server_->recorder();
  ASSERT_TRUE(s.WaitFor([&] { return !s.messages_.empty(); }));
  EXPECT_EQ(s.messages_[0].second.payload, "here");
}

TEST_P(TransportConformanceTest, SendToAnUnknownPeerFailsAndCountsADrop) {
  Link();
  auto status = server_->OnCore([&] {
    return server_->transport().Send("no-such-peer", {"keel.test.Lost", 1, ""});
  });
  // Either refused at once or dropped on the I/O thread; it is never delivered
  // and always counted.
  bool counted = false;
  for (int i = 0; i < 50 && !counted; ++i) {
    counted = server_->OnCore([&] { return server_->transport().Counters(); }).dropped > 0;
    if (!counted) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(counted);
  (void)status;
}

INSTANTIATE_TEST_SUITE_P(Modules, TransportConformanceTest,
                         ::testing::ValuesIn(TransportModules(ModuleDir())),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace keel::test
