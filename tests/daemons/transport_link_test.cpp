// A real master and agent find each other through the master's HTTP port
// and keep a transport link, and the master notices when the agent dies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "keel/internal/agent_protocol.pb.h"
#include "tests/support/http_client.hpp"
#include "tests/support/local_cluster.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/transport_side.hpp"

namespace keel::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(TransportLinkTest, AgentLearnsTheMastersTransportAndConnects) {
  // The agent names no transport: it must learn "zmq" from the master.
  LocalCluster cluster(
      R"({"transport": {"name": "zmq", "parameters": {"heartbeat_interval": "100ms",
                                                      "peer_timeout": "1s"}}})");
  uint16_t master_port = cluster.master_port, agent_port = cluster.agent_port;
  Subprocess& agent = *cluster.agent;
  ASSERT_TRUE(WaitForBody(agent_port, "/agent/transport", "\"connected\":true", 15s))
      << HttpRequest("127.0.0.1", agent_port, "GET", "/agent/transport").body << agent.Stderr();
  auto link = HttpRequest("127.0.0.1", agent_port, "GET", "/agent/transport").body;
  EXPECT_THAT(link, HasSubstr("\"transport\":\"zmq\""));
  EXPECT_THAT(link, HasSubstr("tcp://127.0.0.1:"));
  ASSERT_TRUE(WaitForBody(master_port, "/master/transport", "\"peers\":1", 5s));
  auto version = HttpRequest("127.0.0.1", agent_port, "GET", "/version").body;
  EXPECT_THAT(version, HasSubstr("\"kind\":\"transport\""));

  // The agent dies without a word; the master's peer goes within the timeout.
  agent.Signal(SIGKILL);
  agent.Wait(5s);
  EXPECT_TRUE(WaitForBody(master_port, "/master/transport", "\"peers\":0", 10s));
}

TEST(TransportLinkTest, AgentKeepsAskingUntilTheMasterIsUp) {
  TempDir dir;
  uint16_t master_port = FreePort();
  uint16_t agent_port = FreePort();
  Subprocess agent({Bin("keel-agent"), "--master=127.0.0.1:" + std::to_string(master_port),
                    "--ip=127.0.0.1", "--port=" + std::to_string(agent_port),
                    "--work_dir=" + dir.path() + "/a"});
  ASSERT_TRUE(WaitForBody(agent_port, "/agent/transport", "cannot connect", 10s));
  Subprocess master({Bin("keel-master"), "--ip=127.0.0.1", "--port=" + std::to_string(master_port),
                     "--work_dir=" + dir.path() + "/m"});
  EXPECT_TRUE(WaitForBody(agent_port, "/agent/transport", "\"connected\":true", 15s))
      << HttpRequest("127.0.0.1", agent_port, "GET", "/agent/transport").body;
}

// Either transport module can carry the master-agent link: the operator
// names it in the master's config and agents follow.
class TransportChoiceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TransportChoiceTest, AgentFollowsTheMastersTransport) {
  LocalCluster cluster(R"({"transport": {"name": ")" + GetParam() + R"("}})");
  uint16_t master_port = cluster.master_port, agent_port = cluster.agent_port;
  Subprocess& agent = *cluster.agent;
  ASSERT_TRUE(WaitForBody(agent_port, "/agent/transport", "\"connected\":true", 15s))
      << HttpRequest("127.0.0.1", agent_port, "GET", "/agent/transport").body << agent.Stderr();
  EXPECT_THAT(HttpRequest("127.0.0.1", agent_port, "GET", "/agent/transport").body,
              HasSubstr("\"transport\":\"" + GetParam() + "\""));
  EXPECT_TRUE(WaitForBody(master_port, "/master/transport", "\"peers\":1", 5s));
}

// Messages the master does not know are dropped and counted, and it goes on
// serving: a peer of another version must never take it down.
TEST_P(TransportChoiceTest, MasterDropsAndCountsUnknownTypesAndVersions) {
  LocalCluster cluster(R"({"transport": {"name": ")" + GetParam() + R"("}})", false);
  uint16_t master_port = cluster.master_port;
  Subprocess& master = *cluster.master;
  ASSERT_TRUE(WaitForBody(master_port, "/master/transport", "tcp://", 10s)) << master.Stderr();
  std::string info = HttpRequest("127.0.0.1", master_port, "GET", "/master/transport").body;
  auto at = info.find("tcp://");
  std::string endpoint = info.substr(at, info.find('"', at) - at);

  TransportSide side(GetParam(), BuildDir() + "/lib/keel/modules", "{}");
  auto master_peer = side.OnCore([&] { return side.transport().Connect(endpoint); });
  ASSERT_TRUE(master_peer.ok()) << master_peer.status().message();
  Recorder& r = side.recorder();
  ASSERT_TRUE(r.WaitFor([&] { return !r.connected_.empty(); }));
  auto send = [&](TransportMessage m) {
    ASSERT_TRUE(side.OnCore([&] { return side.transport().Send(*master_peer, m); }).ok());
  };
  send({"keel.test.NoSuchMessage", 1, "x"});
  send({"keel.internal.Ping", 7, "from the future"});
  send({"keel.internal.Ping", 1, "hello"});
  ASSERT_TRUE(r.WaitFor([&] { return !r.messages_.empty(); }));
  EXPECT_EQ(r.messages_[0].second.type, "keel.internal.Pong");
  EXPECT_EQ(r.messages_[0].second.payload, "hello");
  EXPECT_TRUE(WaitForBody(master_port, "/master/transport",
                          R"("dispatch":{"dispatched":1,"unknown_type":1,"unknown_version":1})",
                          5s))
      << HttpRequest("127.0.0.1", master_port, "GET", "/master/transport").body;
  EXPECT_EQ(HttpRequest("127.0.0.1", master_port, "GET", "/health").status, 200);
}

// One connection carries many agents, one a channel (ChannelMessage): each
// registers and is pinged on its own channel, answers come back on it, a
// malformed envelope is dropped and counted, and the connection's loss is
// every channel's.
TEST_P(TransportChoiceTest, ChannelsCarryManyAgentsOverOneConnection) {
  LocalCluster cluster(R"({"agent_ping_timeout": "1s", "transport": {"name": ")" + GetParam() +
                           R"(", "parameters": {"heartbeat_interval": "100ms",
                                                "peer_timeout": "1s"}}})",
                       false);
  const uint16_t master_port = cluster.master_port;
  ASSERT_TRUE(WaitForBody(master_port, "/master/transport", "tcp://", 10s))
      << cluster.master->Stderr();
  std::string info = HttpRequest("127.0.0.1", master_port, "GET", "/master/transport").body;
  auto at = info.find("tcp://");
  std::string endpoint = info.substr(at, info.find('"', at) - at);

  auto side =
      std::make_unique<TransportSide>(GetParam(), BuildDir() + "/lib/keel/modules",
                                      R"({"heartbeat_interval": "100ms", "peer_timeout": "1s"})");
  auto master_peer = side->OnCore([&] { return side->transport().Connect(endpoint); });
  ASSERT_TRUE(master_peer.ok()) << master_peer.status().message();
  Recorder& r = side->recorder();
  ASSERT_TRUE(r.WaitFor([&] { return !r.connected_.empty(); }));
  auto send = [&](const std::string& channel, const google::protobuf::Message& m) {
    internal::ChannelMessage wrapped;
    wrapped.set_channel(channel);
    wrapped.set_type(std::string(m.GetDescriptor()->full_name()));
    wrapped.set_version(1);
    wrapped.set_payload(m.SerializeAsString());
    TransportMessage out{"keel.internal.ChannelMessage", 1, wrapped.SerializeAsString()};
    ASSERT_TRUE(side->OnCore([&] { return side->transport().Send(*master_peer, out); }).ok());
  };
  // What came back on `channel` of `type`, in order.
  auto heard = [&](const std::string& channel, const std::string& type) {
    std::vector<internal::ChannelMessage> out;
    for (const auto& [peer, m] : r.messages_) {
      internal::ChannelMessage c;
      if (m.type == "keel.internal.ChannelMessage" && c.ParseFromString(m.payload) &&
          c.channel() == channel && c.type() == type) {
        out.push_back(c);
      }
    }
    return out;
  };

  for (const char* channel : {"a1", "a2"}) {
    internal::RegisterAgent reg;
    reg.mutable_agent_info()->set_hostname(std::string("host-") + channel);
    auto* cpus = reg.mutable_agent_info()->add_resources();
    cpus->set_name("cpus");
    cpus->set_type(v1::Value::SCALAR);
    cpus->mutable_scalar()->set_value(2);
    reg.set_ip("127.0.0.1");
    send(channel, reg);
  }
  ASSERT_TRUE(r.WaitFor([&] {
    return heard("a1", "keel.internal.AgentRegistered").size() == 1 &&
           heard("a2", "keel.internal.AgentRegistered").size() == 1;
  })) << cluster.master->Stderr();
  {
    std::lock_guard<std::mutex> lock(r.mu_);
    internal::AgentRegistered one, two;
    ASSERT_TRUE(one.ParseFromString(heard("a1", "keel.internal.AgentRegistered")[0].payload()));
    ASSERT_TRUE(two.ParseFromString(heard("a2", "keel.internal.AgentRegistered")[0].payload()));
    EXPECT_NE(one.agent_id().value(), two.agent_id().value());
  }
  EXPECT_TRUE(WaitForBody(master_port, "/master/transport", "\"channels\":2", 5s));
  // The master pings each agent on its channel; the Ping/Pong check of the
  // link answers on the channel it was asked on.
  ASSERT_TRUE(r.WaitFor([&] { return !heard("a2", "keel.internal.PingAgent").empty(); }));
  internal::PongAgent pong;
  send("a1", pong);
  TransportMessage ping{"keel.internal.Ping", 1, "on a1"};
  internal::ChannelMessage wrapped;
  wrapped.set_channel("a1");
  wrapped.set_type(ping.type);
  wrapped.set_payload(ping.payload);
  TransportMessage out{"keel.internal.ChannelMessage", 1, wrapped.SerializeAsString()};
  ASSERT_TRUE(side->OnCore([&] { return side->transport().Send(*master_peer, out); }).ok());
  ASSERT_TRUE(r.WaitFor([&] { return !heard("a1", "keel.internal.Pong").empty(); }));
  {
    std::lock_guard<std::mutex> lock(r.mu_);
    EXPECT_EQ(heard("a1", "keel.internal.Pong")[0].payload(), "on a1");
  }

  // No channel, or one with '#': dropped and counted.
  send("", pong);
  send("a#b", pong);
  EXPECT_TRUE(WaitForBody(master_port, "/master/transport", "\"malformed_channel_messages\":2", 5s))
      << HttpRequest("127.0.0.1", master_port, "GET", "/master/transport").body;
  EXPECT_TRUE(WaitForBody(master_port, "/metrics/snapshot", "\"master/slaves_connected\":2", 5s));

  // The connection goes: both agents with it.
  side.reset();
  EXPECT_TRUE(
      WaitForBody(master_port, "/metrics/snapshot", "\"master/slaves_disconnected\":2", 10s))
      << HttpRequest("127.0.0.1", master_port, "GET", "/metrics/snapshot").body;
  EXPECT_TRUE(WaitForBody(master_port, "/master/transport", "\"channels\":0", 5s));
}

INSTANTIATE_TEST_SUITE_P(Modules, TransportChoiceTest, ::testing::Values("zmq", "tcp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace keel::test
