// A real master and agent find each other through the master's HTTP port
// and keep a transport link, and the master notices when the agent dies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/subprocess.hpp"

namespace keel::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string Bin(const std::string& name) { return BuildDir() + "/bin/" + name; }

bool WaitForBody(uint16_t port, const std::string& target, const std::string& needle,
                 std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = HttpRequest("127.0.0.1", port, "GET", target);
    if (r.status == 200 && r.body.find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(TransportLinkTest, AgentLearnsTheMastersTransportAndConnects) {
  TempDir dir;
  const char* fast = R"("parameters": {"heartbeat_interval": "100ms", "peer_timeout": "1s"})";
  WriteFile(dir.path() + "/master.json",
            std::string(R"({"transport": {"name": "zmq", )") + fast + "}}");
  uint16_t master_port = FreePort();
  uint16_t agent_port = FreePort();
  Subprocess master({Bin("keel-master"), "--config=" + dir.path() + "/master.json",
                     "--ip=127.0.0.1", "--port=" + std::to_string(master_port),
                     "--work_dir=" + dir.path() + "/m"});
  // The agent names no transport: it must learn "zmq" from the master.
  Subprocess agent({Bin("keel-agent"), "--master=127.0.0.1:" + std::to_string(master_port),
                    "--ip=127.0.0.1", "--port=" + std::to_string(agent_port),
                    "--work_dir=" + dir.path() + "/a"});
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

}  // namespace
}  // namespace keel::test
