// Bad input at each transport's door, from a peer that speaks the module's
// framing by hand: bodies that are not envelopes, envelopes of another
// format, broken framing. Each is dropped and counted, and the link (or,
// where the stream cannot be trusted any more, only that connection) goes on.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include <thread>

#include "keel/envelope.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/transport_side.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kParams = R"({"heartbeat_interval": "100ms", "peer_timeout": "2s"})";

std::string ModuleDir() { return BuildDir() + "/lib/keel/modules"; }

std::string Hello() { return EncodeEnvelope({"keel.transport.Hello", 1, "raw-peer"}); }

// A well-formed protobuf Envelope with format 2, which this SDK does not read.
std::string FutureFormatEnvelope() {
  std::string type = "keel.test.Future";
  return std::string("\x08\x02\x12", 3) + static_cast<char>(type.size()) + type;
}

// One message body as the module frames it, sent by hand.
class RawPeer {
 public:
  virtual ~RawPeer() = default;
  virtual void SendBody(const std::string& body) = 0;
};

class RawTcpPeer : public RawPeer {
 public:
  explicit RawTcpPeer(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawTcpPeer() override { ::close(fd_); }
  void SendBody(const std::string& body) override { SendBytes(Header(body.size()) + body); }
  void SendBytes(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  static std::string Header(uint32_t n) {
    return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
            static_cast<char>(n)};
  }
  // True once the other side closed the connection (what it sent is read
  // and discarded).
  bool ClosedByServer() {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n == 0) return true;
      if (n < 0) return false;  // timeout
    }
  }
  void Close() { ::shutdown(fd_, SHUT_RDWR); }

 private:
  int fd_ = -1;
};

class RawZmqPeer : public RawPeer {
 public:
  explicit RawZmqPeer(const std::string& endpoint) {
    socket_ = zmq_socket(context_, ZMQ_DEALER);
    int linger = 1000;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof(linger));
    EXPECT_EQ(zmq_connect(socket_, endpoint.c_str()), 0);
  }
  ~RawZmqPeer() override {
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }
  void SendBody(const std::string& body) override { SendParts({body}); }
  void SendParts(const std::vector<std::string>& parts) {
    for (size_t i = 0; i < parts.size(); ++i) {
      int flags = i + 1 < parts.size() ? ZMQ_SNDMORE : 0;
      ASSERT_GE(zmq_send(socket_, parts[i].data(), parts[i].size(), flags), 0);
    }
  }

 private:
  void* context_ = zmq_ctx_new();
  void* socket_ = nullptr;
};

class TransportBadInputTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TransportSide>(GetParam(), ModuleDir(), kParams);
    auto bound = server_->OnCore([&] { return server_->transport().Bind("tcp://127.0.0.1:0"); });
    ASSERT_TRUE(bound.ok()) << bound.status().message();
    endpoint_ = *bound;
    port_ = static_cast<uint16_t>(std::stoi(endpoint_.substr(endpoint_.rfind(':') + 1)));
  }

  std::unique_ptr<RawPeer> Raw() {
    if (GetParam() == "tcp") return std::make_unique<RawTcpPeer>(port_);
    if (GetParam() == "zmq") return std::make_unique<RawZmqPeer>(endpoint_);
    return nullptr;
  }

  uint64_t Malformed() {
    return server_->OnCore([&] { return server_->transport().Counters(); }).malformed;
  }
  bool WaitMalformed(uint64_t at_least) {
    for (int i = 0; i < 100; ++i) {
      if (Malformed() >= at_least) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::unique_ptr<TransportSide> server_;
  std::string endpoint_;
  uint16_t port_ = 0;
};

TEST_P(TransportBadInputTest, BadBodiesAreDroppedAndCountedAndTheLinkLives) {
  auto raw = Raw();
  if (!raw) GTEST_SKIP() << "no hand-made peer for module " << GetParam();
  raw->SendBody(Hello());
  raw->SendBody(std::string("\xff\xfe this is not an envelope", 26));
  raw->SendBody(FutureFormatEnvelope());
  // A type and version no daemon knows is still an envelope: the transport
  // hands it over, and the daemon's dispatcher is the one to refuse it.
  raw->SendBody(EncodeEnvelope({"keel.test.Unknown", 99, "?"}));
  raw->SendBody(EncodeEnvelope({"keel.test.Fine", 1, "still here"}));

  Recorder& r = server_->recorder();
  ASSERT_TRUE(r.WaitFor([&] { return r.messages_.size() >= 2; }));
  EXPECT_EQ(r.messages_[0].second.type, "keel.test.Unknown");
  EXPECT_EQ(r.messages_[0].second.version, 99u);
  EXPECT_EQ(r.messages_[1].second.payload, "still here");
  EXPECT_EQ(Malformed(), 2u);
  EXPECT_EQ(r.lost_.size(), 0u) << "a bad body must not cost the connection";
}

TEST_P(TransportBadInputTest, BrokenFramingIsCountedAndOnlyThatConnectionSuffers) {
  TransportSide good(GetParam(), ModuleDir(), kParams);
  auto good_id = good.OnCore([&] { return good.transport().Connect(endpoint_); });
  ASSERT_TRUE(good_id.ok());
  Recorder& r = server_->recorder();
  ASSERT_TRUE(r.WaitFor([&] { return r.connected_.size() == 1; }));

  if (GetParam() == "tcp") {
    // A length beyond max_message_bytes: the stream cannot be resynchronised,
    // so the connection is closed.
    RawTcpPeer oversized(port_);
    oversized.SendBody(Hello());
    oversized.SendBytes(RawTcpPeer::Header(0xfffffff0u) + "xxxx");
    ASSERT_TRUE(WaitMalformed(1));
    EXPECT_TRUE(oversized.ClosedByServer());
    // A frame cut short by the end of the connection.
    RawTcpPeer truncated(port_);
    truncated.SendBody(Hello());
    truncated.SendBytes(RawTcpPeer::Header(100) + "only ten b");
    std::this_thread::sleep_for(100ms);
    truncated.Close();
    ASSERT_TRUE(WaitMalformed(2));
    // Data before Hello: not a Keel transport.
    RawTcpPeer rude(port_);
    rude.SendBody(EncodeEnvelope({"keel.test.Rude", 1, ""}));
    ASSERT_TRUE(WaitMalformed(3));
    EXPECT_TRUE(rude.ClosedByServer());
  } else if (GetParam() == "zmq") {
    // A three-part message where a transport frame is one part.
    RawZmqPeer multipart(endpoint_);
    multipart.SendParts({Hello(), "second part", "third part"});
    ASSERT_TRUE(WaitMalformed(1));
    // A batch whose second entry claims more bytes than the message holds:
    // the first is delivered, the rest dropped and counted.
    std::string first = EncodeEnvelope({"keel.test.First", 1, "in a batch"});
    multipart.SendBody(std::string(1, '\0') + static_cast<char>(first.size()) + first +
                       "\x7f" + "short");
    ASSERT_TRUE(WaitMalformed(2));
    ASSERT_TRUE(r.WaitFor([&] {
      for (auto& [peer, m] : r.messages_) {
        if (m.payload == "in a batch") return true;
      }
      return false;
    }));
  } else {
    GTEST_SKIP() << "no hand-made peer for module " << GetParam();
  }

  // The good client never noticed.
  ASSERT_TRUE(good.OnCore([&] {
                    return good.transport().Send(*good_id, {"keel.test.Fine", 1, "ok"});
                  })
                  .ok());
  ASSERT_TRUE(r.WaitFor([&] {
    for (auto& [peer, m] : r.messages_) {
      if (m.payload == "ok") return true;
    }
    return false;
  }));
  EXPECT_EQ(good.recorder().lost_.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Modules, TransportBadInputTest,
                         ::testing::ValuesIn(TransportModules(ModuleDir())),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace keel::test
