// CurveZMQ between master and agents, as an operator sets it up: keys made
// with `keelctl keys generate`, an allow-list on the master, the `curve`
// authenticator on both. Admitted agents run tasks; others never register;
// the traffic on the wire carries no plaintext; bad key files refuse the
// start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_framework.hpp"

namespace keel::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A key pair made as an operator makes it; returns the public key.
std::string GenerateKeys(const std::string& path) {
  RunResult r = RunCommand({Bin("keelctl"), "keys", "generate", "--output=" + path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return Trim(ReadFile(path + ".pub"));
}

// `"authenticators": [curve with these parameters]`, a config's fragment.
std::string CurveAuthenticators(const std::string& parameters) {
  return R"("authenticators": [{"name": "curve", "parameters": {)" + parameters + "}}]";
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

class TransportSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    master_key = dir.path() + "/master";
    agent_key = dir.path() + "/agent";
    stranger_key = dir.path() + "/stranger";
    GenerateKeys(master_key);
    agent_public = GenerateKeys(agent_key);
    stranger_public = GenerateKeys(stranger_key);
    allow_list = dir.path() + "/agents.allow";
    WriteFile(allow_list, "# admitted agents\n" + agent_public + " agent-one\n");
    ::chmod(allow_list.c_str(), 0644);
  }

  // The master's transport on a known port, so a capture can filter on it.
  std::string MasterJson(bool curve) {
    std::string json =
        R"({"transport_endpoint": "tcp://127.0.0.1:)" + std::to_string(transport_port) + "\"";
    if (curve) {
      json += R"(, "authenticate_agents": true, )" +
              CurveAuthenticators(R"("key_file": ")" + master_key +
                                  R"(.key", "allowed_keys_file": ")" + allow_list + "\"");
    }
    return json + "}";
  }

  // An agent config naming curve with `key` and the master's public key.
  std::string AgentConfig(const std::string& key) {
    const std::string path = key + "-agent.json";
    WriteFile(path,
              "{" +
                  CurveAuthenticators(R"("key_file": ")" + key +
                                      R"(.key", "master_public_key": ")" + master_key + ".pub\"") +
                  "}");
    return path;
  }

  ClusterOptions Cluster(bool curve) {
    ClusterOptions o = FastCluster();
    o.master_json = MasterJson(curve);
    if (curve) o.agent_flags.push_back("--config=" + AgentConfig(agent_key));
    return o;
  }

  TempDir dir;
  uint16_t transport_port = FreePort();
  std::string master_key, agent_key, stranger_key, allow_list;
  std::string agent_public, stranger_public;
};

TEST_F(TransportSecurityTest, AdmittedAgentRunsTasksAndAStrangerNeverRegisters) {
  LocalCluster cluster(Cluster(true));
  TestFramework framework(cluster.master_address());
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer) << cluster.master->Stderr() << cluster.agent->Stderr();
  ASSERT_TRUE(framework.Launch(*offer, TestFramework::CommandTask("t1", *offer, "true")).ok());
  EXPECT_TRUE(framework.WaitForState("t1", v1::TASK_FINISHED));

  // The stranger's key is not on the list: the master says so, and the
  // stranger never gets to register.
  Subprocess stranger(
      {Bin("keel-agent"), "--master=" + cluster.master_address(), "--ip=127.0.0.1",
       "--port=" + std::to_string(FreePort()), "--work_dir=" + dir.path() + "/stranger-work",
       "--config=" + AgentConfig(stranger_key), "--resources=cpus:1;mem:256;disk:256"});
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline &&
         cluster.master->Stderr().find("key " + stranger_public) == std::string::npos) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_THAT(cluster.master->Stderr(), HasSubstr("refused (key " + stranger_public));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(Count(cluster.master->Stderr(), "agent registered: "), 1u) << cluster.master->Stderr();
  EXPECT_TRUE(stranger.running());
}

// What a task's command carries crosses the wire in RunTask: the capture
// sees it without curve (so the test can see), and not with it.
class TransportCaptureTest : public TransportSecurityTest {
 protected:
  // The bytes tcpdump captured on loopback for the master's transport port
  // while a task with `marker` in its command ran.
  std::string CaptureTask(bool curve, const std::string& marker) {
    const std::string pcap = dir.path() + (curve ? "/curve.pcap" : "/plain.pcap");
    // Immediate mode: libpcap would otherwise hold packets in a buffer block
    // for up to a second, and a stop before then would lose them.
    Subprocess tcpdump({"tcpdump", "--immediate-mode", "-i", "lo", "-U", "-s", "0", "-w", pcap,
                        "tcp", "port", std::to_string(transport_port)});
    const auto ready = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < ready &&
           tcpdump.Stderr().find("listening on") == std::string::npos) {
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_THAT(tcpdump.Stderr(), HasSubstr("listening on"));
    {
      LocalCluster cluster(Cluster(curve));
      TestFramework framework(cluster.master_address());
      auto offer = framework.TakeOffer();
      EXPECT_TRUE(offer) << cluster.master->Stderr();
      if (!offer) return "";
      auto task = TestFramework::CommandTask("t1", *offer, "echo " + marker);
      EXPECT_TRUE(framework.Launch(*offer, task).ok());
      EXPECT_TRUE(framework.WaitForState("t1", v1::TASK_FINISHED));
    }
    tcpdump.Signal(SIGINT);
    EXPECT_TRUE(tcpdump.Wait(5s)) << tcpdump.Stderr();
    return ReadFile(pcap);
  }

  void SetUp() override {
    if (::geteuid() != 0 || RunCommand({"sh", "-c", "command -v tcpdump"}).exit_code != 0) {
      GTEST_SKIP() << "needs root and tcpdump to capture loopback";
    }
    TransportSecurityTest::SetUp();
  }
};

TEST_F(TransportCaptureTest, CurveLeavesNoPlaintextOnTheWire) {
  const std::string marker = "keel-marker-7f3a9c1e5b";
  const std::string plain = CaptureTask(false, marker);
  ASSERT_FALSE(plain.empty());
  EXPECT_THAT(plain, HasSubstr(marker)) << "the capture cannot see the transport's traffic";

  transport_port = FreePort();
  const std::string secured = CaptureTask(true, marker);
  ASSERT_GT(secured.size(), 1000u) << "nothing captured with curve on";
  EXPECT_THAT(secured, Not(HasSubstr(marker)));
  EXPECT_THAT(secured, Not(HasSubstr("keel.internal.RunTask")));
}

TEST_F(TransportSecurityTest, BadKeyFilesRefuseTheStart) {
  auto start_master = [&](const std::string& key_file) {
    const std::string config = dir.path() + "/bad-master.json";
    WriteFile(config, "{" +
                          CurveAuthenticators(R"("key_file": ")" + key_file +
                                              R"(", "allowed_keys_file": ")" + allow_list + "\"") +
                          "}");
    return RunCommand({Bin("keel-master"), "--config=" + config, "--ip=127.0.0.1",
                       "--port=" + std::to_string(FreePort()), "--work_dir=" + dir.path() + "/m"},
                      20s);
  };
  const std::string readable = dir.path() + "/readable.key";
  WriteFile(readable, ReadFile(master_key + ".key"));
  ::chmod(readable.c_str(), 0644);
  const std::string malformed = dir.path() + "/malformed.key";
  WriteFile(malformed, R"({"public_key": "short", "secret_key": )");
  ::chmod(malformed.c_str(), 0600);
  for (const auto& file : {readable, malformed, dir.path() + "/missing.key"}) {
    RunResult r = start_master(file);
    EXPECT_EQ(r.exit_code, 1) << file;
    EXPECT_THAT(r.err, HasSubstr(file));
  }
  // A malformed allow-list line is named by file and line.
  WriteFile(allow_list, agent_public + "\nnot-a-key\n");
  RunResult r = start_master(master_key + ".key");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(allow_list + ":2"));

  // curve needs a transport that can carry it.
  const std::string config = dir.path() + "/tcp-master.json";
  WriteFile(config, R"({"transport": {"name": "tcp"}, )" +
                        CurveAuthenticators(R"("key_file": ")" + master_key +
                                            R"(.key", "allowed_keys_file": ")" + dir.path() +
                                            "/empty.allow\"") +
                        "}");
  WriteFile(dir.path() + "/empty.allow", "");
  RunResult tcp =
      RunCommand({Bin("keel-master"), "--config=" + config, "--ip=127.0.0.1",
                  "--port=" + std::to_string(FreePort()), "--work_dir=" + dir.path() + "/m2"},
                 20s);
  EXPECT_EQ(tcp.exit_code, 1);
  EXPECT_THAT(tcp.err, HasSubstr("transport 'tcp'"));
}

}  // namespace
}  // namespace keel::test
