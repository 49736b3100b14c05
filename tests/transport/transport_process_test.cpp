// The conformance suite's process half: the far end of the link is another
// process (keel-transport-peer), killed, frozen and restarted as a crashed or
// hung daemon would be.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "tests/support/subprocess.hpp"
#include "tests/support/transport_side.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kParams =
    R"({"heartbeat_interval": "100ms", "peer_timeout": "1s", "reconnect_initial": "50ms",
        "reconnect_max": "500ms"})";

std::string ModuleDir() { return BuildDir() + "/lib/keel/modules"; }

class TransportProcessTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Starts a peer process; returns once it printed "ready".
  std::unique_ptr<Subprocess> StartPeer(const std::string& mode, const std::string& endpoint) {
    auto peer = std::make_unique<Subprocess>(
        std::vector<std::string>{BuildDir() + "/tests/keel-transport-peer", ModuleDir(), GetParam(),
                                 mode, endpoint, kParams});
    for (int i = 0; i < 200 && peer->Stdout().find("ready") == std::string::npos; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_NE(peer->Stdout().find("ready"), std::string::npos) << peer->Stderr();
    return peer;
  }

  // Sends `text` to `peer` from `side` and waits for the echo.
  void ExpectEcho(TransportSide& side, const PeerId& peer, const std::string& text) {
    Recorder& r = side.recorder();
    size_t before = r.message_count();
    // Right after a (re)connection the peer may not be live yet on this side.
    bool sent = false;
    for (int i = 0; i < 100 && !sent; ++i) {
      sent = side.OnCore([&] {
                   return side.transport().Send(peer, {"keel.test.Echo", 1, text});
                 })
                 .ok();
      if (!sent) std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(sent) << "could not send to " << peer;
    ASSERT_TRUE(r.WaitFor([&] { return r.messages_.size() > before; }, 10s)) << "no echo";
    EXPECT_EQ(r.messages_.back().second.payload, text);
  }
};

TEST_P(TransportProcessTest, ConnectingPeerRestartsAndTrafficResumes) {
  TransportSide server(GetParam(), ModuleDir(), kParams);
  auto bound = server.OnCore([&] { return server.transport().Bind("tcp://127.0.0.1:0"); });
  ASSERT_TRUE(bound.ok()) << bound.status().message();
  Recorder& r = server.recorder();

  auto peer = StartPeer("connect", *bound);
  ASSERT_TRUE(r.WaitFor([&] { return r.connected_.size() == 1; }));
  ExpectEcho(server, r.connected_[0], "first life");

  peer->Signal(SIGKILL);
  ASSERT_TRUE(r.WaitFor([&] { return r.lost_.size() == 1; }, 5s)) << "killed peer not lost";
  EXPECT_EQ(r.lost_[0], r.connected_[0]);

  peer = StartPeer("connect", *bound);
  ASSERT_TRUE(r.WaitFor([&] { return r.connected_.size() == 2; }));
  ExpectEcho(server, r.connected_[1], "second life");
}

TEST_P(TransportProcessTest, BindingPeerRestartsAndTrafficResumes) {
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(FreePort());
  auto peer = StartPeer("bind", endpoint);
  TransportSide client(GetParam(), ModuleDir(), kParams);
  auto id = client.OnCore([&] { return client.transport().Connect(endpoint); });
  ASSERT_TRUE(id.ok()) << id.status().message();
  Recorder& r = client.recorder();
  ASSERT_TRUE(r.WaitFor([&] { return r.connected_.size() == 1; }));
  ExpectEcho(client, *id, "before the crash");

  peer->Signal(SIGKILL);
  ASSERT_TRUE(r.WaitFor([&] { return r.lost_.size() == 1; }, 5s)) << "killed peer not lost";

  peer = StartPeer("bind", endpoint);
  ASSERT_TRUE(r.WaitFor([&] { return r.connected_.size() == 2; }, 10s)) << "no reconnection";
  ExpectEcho(client, *id, "after the restart");
  auto counters = client.OnCore([&] { return client.transport().Counters(); });
  EXPECT_GE(counters.reconnects, 1u);
}

// A frozen process keeps its sockets open and says nothing: only the
// heartbeats can tell, within peer_timeout (1 s) plus one heartbeat check.
TEST_P(TransportProcessTest, FrozenPeerIsReportedLostWithinPeerTimeout) {
  TransportSide server(GetParam(), ModuleDir(), kParams);
  auto bound = server.OnCore([&] { return server.transport().Bind("tcp://127.0.0.1:0"); });
  ASSERT_TRUE(bound.ok());
  Recorder& r = server.recorder();
  auto peer = StartPeer("connect", *bound);
  ASSERT_TRUE(r.WaitFor([&] { return r.connected_.size() == 1; }));

  peer->Signal(SIGSTOP);
  auto frozen = std::chrono::steady_clock::now();
  ASSERT_TRUE(r.WaitFor([&] { return r.lost_.size() == 1; }, 5s)) << "frozen peer not lost";
  EXPECT_LT(std::chrono::steady_clock::now() - frozen, 2500ms);
  peer->Signal(SIGCONT);
}

INSTANTIATE_TEST_SUITE_P(Modules, TransportProcessTest,
                         ::testing::ValuesIn(TransportModules(ModuleDir())),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace keel::test
