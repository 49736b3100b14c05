// keel-master and keel-agent as an operator runs them: start, answer
// /health, stop on SIGTERM; refuse a bad config with the reason.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>

#include "tests/support/http_client.hpp"
#include "tests/support/local_cluster.hpp"
#include "tests/support/subprocess.hpp"

namespace keel::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

void ExpectCleanStopOnSigterm(Subprocess& daemon) {
  ASSERT_TRUE(daemon.Signal(SIGTERM));
  auto start = std::chrono::steady_clock::now();
  auto status = daemon.Wait(2s);
  ASSERT_TRUE(status.has_value()) << "did not exit within 2 s of SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status)) << "killed by a signal: " << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 0) << daemon.Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(DaemonLifecycleTest, MasterWithSeedFlagsServesHealthAndStopsOnSigterm) {
  TempDir work;
  uint16_t port = FreePort();
  Subprocess master({Bin("keel-master"), "--ip=127.0.0.1", "--port=" + std::to_string(port),
                     "--work_dir=" + work.path()});
  ASSERT_TRUE(WaitForHttp("127.0.0.1", port, "/health", 200, 10000)) << master.Stderr();
  EXPECT_EQ(HttpRequest("127.0.0.1", port, "GET", "/master/health").status, 200);

  auto version = HttpRequest("127.0.0.1", port, "GET", "/version");
  EXPECT_EQ(version.status, 200);
  EXPECT_THAT(version.body, HasSubstr("\"daemon\":\"keel-master\""));
  // `version` is the Mesos API level, for Mesos clients; Keel's own beside it.
  EXPECT_THAT(version.body, HasSubstr("\"version\":\"1.11.0\""));
  EXPECT_THAT(version.body, HasSubstr("\"keel_version\":\"" KEEL_VERSION "\""));
  // The default modules are loaded and reported.
  EXPECT_THAT(version.body, HasSubstr("\"name\":\"drf\""));
  EXPECT_EQ(HttpRequest("127.0.0.1", port, "GET", "/no/such/endpoint").status, 404);
  ExpectCleanStopOnSigterm(master);
}

TEST(DaemonLifecycleTest, AgentWithSeedFlagsServesHealthAndStopsOnSigint) {
  TempDir work;
  uint16_t port = FreePort();
  Subprocess agent({Bin("keel-agent"), "--master=127.0.0.1:5050",
                    "--listen=127.0.0.1:" + std::to_string(port), "--work_dir=" + work.path()});
  ASSERT_TRUE(WaitForHttp("127.0.0.1", port, "/health", 200, 10000)) << agent.Stderr();
  auto version = HttpRequest("127.0.0.1", port, "GET", "/version");
  // The isolators it detected (cgroups as root, else posix/usage).
  EXPECT_THAT(version.body, HasSubstr("\"kind\":\"isolator\""));
  ASSERT_TRUE(agent.Signal(SIGINT));
  auto status = agent.Wait(2s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << agent.Stderr();
}

TEST(DaemonLifecycleTest, CheckConfigAcceptsTheShippedConfigs) {
  for (const std::string daemon : {"master", "agent"}) {
    auto r =
        RunCommand({Bin("keel-" + daemon),
                    "--config=" + SourceDir() + "/config/" + daemon + ".json", "--check-config"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("config OK"));
  }
}

TEST(DaemonLifecycleTest, BadConfigFailsCheckAndStartWithTheReason) {
  TempDir dir;
  std::string config = dir.path() + "/master.json";
  WriteFile(config, R"({"port": 5050, "alocator": {"name": "drf"}})");

  auto check = RunCommand({Bin("keel-master"), "--config=" + config, "--check-config"});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_THAT(check.err, HasSubstr(config));
  EXPECT_THAT(check.err, HasSubstr("alocator"));

  auto start =
      RunCommand({Bin("keel-master"), "--config=" + config, "--work_dir=" + dir.path()}, 10s);
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.err, HasSubstr("alocator"));
}

TEST(DaemonLifecycleTest, CheckConfigPrintsEveryProblem) {
  TempDir dir;
  std::string config = dir.path() + "/agent.json";
  WriteFile(config, R"({"master": "127.0.0.1:5050",
                        "isolators": [{"name": "no_such_isolator"},
                                      {"name": "posix/usage", "parameters": {"bogus": 1}}]})");
  auto check = RunCommand({Bin("keel-agent"), "--config=" + config, "--check-config"});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_THAT(check.err, HasSubstr("isolators[0]: module 'no_such_isolator': no manifest"));
  EXPECT_THAT(check.err, HasSubstr("isolators[1].parameters.bogus: unknown parameter"));
}

TEST(DaemonLifecycleTest, BadModuleRefusesStart) {
  TempDir dir;
  auto r = RunCommand({Bin("keel-master"), "--ip=127.0.0.1", "--port=" + std::to_string(FreePort()),
                       "--module_path=" KEEL_TEST_MODULE_DIR, "--allocator=test_throwing"},
                      10s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("factory failed: cannot start: the test says so"));
}

TEST(DaemonLifecycleTest, BadFlagsAreRefused) {
  auto r = RunCommand({Bin("keel-agent"), "--master=nohostport", "--check-config"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("field 'master': 'nohostport' is not HOST:PORT"));
  r = RunCommand({Bin("keel-master"), "--ip=not-an-ip", "--check-config"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("field 'ip': 'not-an-ip'"));
  r = RunCommand({Bin("keel-master"), "--frobnicate=1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown flag --frobnicate"));
  r = RunCommand({Bin("keel-agent"), "--resources=cpus:lots", "--check-config"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("field 'resources'"));
}

TEST(DaemonLifecycleTest, PortInUseIsReportedWithTheAddress) {
  TempDir work;
  uint16_t port = FreePort();
  Subprocess first({Bin("keel-master"), "--ip=127.0.0.1", "--port=" + std::to_string(port),
                    "--work_dir=" + work.path()});
  ASSERT_TRUE(WaitForHttp("127.0.0.1", port, "/health", 200, 10000));
  auto second = RunCommand({Bin("keel-master"), "--ip=127.0.0.1", "--port=" + std::to_string(port),
                            "--work_dir=" + work.path()},
                           10s);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("127.0.0.1:" + std::to_string(port)));
}

TEST(KeelctlTest, ModulesListAndInspect) {
  auto list = RunCommand({Bin("keelctl"), "modules", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("allocator"));
  EXPECT_THAT(list.out, HasSubstr("drf"));
  EXPECT_THAT(list.out, HasSubstr("posix/usage"));

  auto inspect = RunCommand(
      {Bin("keelctl"), "modules", "inspect", "test_good", "--module_path=" KEEL_TEST_MODULE_DIR});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_THAT(inspect.out, HasSubstr("interval"));
  EXPECT_THAT(inspect.out, HasSubstr("duration"));
  EXPECT_THAT(inspect.out, HasSubstr("\"1s\""));
  EXPECT_THAT(inspect.out, HasSubstr("(required)"));

  auto broken =
      RunCommand({Bin("keelctl"), "modules", "list", "--module_path=" KEEL_TEST_MODULE_DIR});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_THAT(broken.err, HasSubstr("test_malformed.json"));
  EXPECT_THAT(broken.out, HasSubstr("test_good"));
}

TEST(KeelctlTest, ConfigCheck) {
  auto good = RunCommand({Bin("keelctl"), "config", "check", SourceDir() + "/config/agent.json"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  TempDir dir;
  WriteFile(dir.path() + "/master.json",
            R"({"allocator": {"name": "drf", "parameters": {"x": 1}}})");
  auto bad = RunCommand({Bin("keelctl"), "config", "check", dir.path() + "/master.json"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("allocator.parameters.x: unknown parameter"));
}

}  // namespace
}  // namespace keel::test
