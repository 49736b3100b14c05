// Tasks held to what they were given, through the real daemons: memory and
// pid limits from the cgroups isolators, a pid namespace, a private /tmp,
// nothing left behind when a task is killed, and clear refusals of isolation
// the agent cannot give. Needs root and cgroups (CI runs as root).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/http_client.hpp"

namespace keel::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

bool CgroupsUsable() {
  return ::geteuid() == 0 && ::access("/sys/fs/cgroup/memory/cgroup.procs", W_OK) == 0 &&
         ::access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) == 0;
}

// Pids of host processes running `sleep` with an argument that holds
// `marker` (not the shells whose command line names them).
std::vector<pid_t> ProcessesWith(const std::string& marker) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t end = cmdline.find('\0');
    const std::string program = cmdline.substr(0, end);
    const std::string argument = end == std::string::npos ? "" : cmdline.substr(end + 1);
    const bool sleeps = program == "sleep" || program.ends_with("/sleep");
    if (sleeps && argument.find(marker) != std::string::npos) {
      found.push_back(std::stoi(name));
    }
  }
  return found;
}

bool NoProcessWith(const std::string& marker, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ProcessesWith(marker).empty()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// A cluster whose agent isolates with `isolation` (a JSON array of isolator
// configs, as in the agent config's "isolators").
ClusterOptions IsolatedCluster(TempDir& dir, const std::string& isolators_json) {
  ClusterOptions o = FastCluster();
  const std::string config = dir.path() + "/agent.json";
  std::ofstream(config) << "{\"containerizers\": [{\"name\": \"native\"}], \"isolators\": "
                        << isolators_json << "}";
  o.agent_flags.push_back("--config=" + config);
  return o;
}

std::string ContainerIdOf(const std::string& sandbox) {
  return std::filesystem::path(sandbox).filename().string();
}

std::string WaitForFile(const std::string& path, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = ReadFile(path);
    if (!text.empty() && text.back() == '\n') return text;
    std::this_thread::sleep_for(20ms);
  }
  return ReadFile(path);
}

class IsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CgroupsUsable()) GTEST_SKIP() << "needs root and cgroups (v1 memory and pids)";
  }
  TempDir configs;
};

TEST_F(IsolationTest, TaskAllocatingBeyondItsMemoryIsFailedWithTheMemoryLimitation) {
  LocalCluster cluster(IsolatedCluster(
      configs, R"([{"name": "cgroups/cpu"}, {"name": "cgroups/mem"}, {"name": "cgroups/pids"}])"));
  TestFramework framework(cluster.master_address());
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer) << cluster.agent->Stderr();
  // dd's 256 MB buffer is filled by read(): every page is touched.
  ASSERT_TRUE(framework
                  .Launch(*offer, TestFramework::CommandTask(
                                      "hog", *offer, "dd if=/dev/zero of=/dev/null bs=256M count=1",
                                      0.1, 32))
                  .ok());
  auto failed = framework.WaitForState("hog", v1::TASK_FAILED, 30s);
  ASSERT_TRUE(failed) << cluster.agent->Stderr();
  EXPECT_EQ(failed->reason(), v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY)
      << failed->message();
  EXPECT_THAT(failed->message(), HasSubstr("Memory limit exceeded"));
  EXPECT_THAT(failed->message(), HasSubstr("32MB"));

  // Its cgroups are gone once it is reported.
  const std::string id =
      ContainerIdOf(SandboxOf(cluster, framework.client().framework_id(), "hog"));
  for (const char* controller : {"cpu", "memory", "pids"}) {
    EXPECT_FALSE(
        std::filesystem::exists(std::string("/sys/fs/cgroup/") + controller + "/keel/" + id))
        << controller;
  }
}

TEST_F(IsolationTest, StatisticsShowTheLimitsAndUsageOfARunningTask) {
  LocalCluster cluster(IsolatedCluster(
      configs, R"([{"name": "cgroups/cpu"}, {"name": "cgroups/mem"}, {"name": "cgroups/pids"}])"));
  TestFramework framework(cluster.master_address());
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(framework
                  .Launch(*offer, TestFramework::CommandTask("busy", *offer,
                                                             "sleep 30 & sleep 30 & wait", 0.5, 64))
                  .ok());
  ASSERT_TRUE(framework.WaitForState("busy", v1::TASK_RUNNING));
  std::string body;
  for (int i = 0; i < 100; ++i) {
    body = HttpRequest("127.0.0.1", cluster.agent_port, "GET", "/monitor/statistics").body;
    if (body.find("\"processes\":4") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_THAT(body, HasSubstr("\"executor_id\":\"busy\""));
  EXPECT_THAT(body, HasSubstr("\"cpus_limit\":0.5"));
  EXPECT_THAT(body, HasSubstr("\"mem_limit_bytes\":67108864"));
  // keel-container-init (the task's supervisor), sh and two sleeps.
  EXPECT_THAT(body, HasSubstr("\"processes\":4"));
  EXPECT_THAT(body, HasSubstr("\"mem_rss_bytes\":"));
}

TEST_F(IsolationTest, ForkBombIsHeldByThePidLimitAndTheAgentKeepsServing) {
  LocalCluster cluster(IsolatedCluster(
      configs,
      R"([{"name": "cgroups/mem"}, {"name": "cgroups/pids", "parameters": {"max_pids": 64}}])"));
  TestFramework framework(cluster.master_address());
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer);
  // The leader forks the bomb once, then becomes `sleep` without forking
  // again (a fork of its own could fail under the limit and end the task).
  // Every process of the bomb forks two and waits for them: it grows to the
  // limit, where the kernel refuses its forks, and then falls apart (a shell
  // that cannot fork exits), so a sampler on a busy machine can miss its
  // peak; the pids controller's own count of refused forks cannot.
  auto bomb = TestFramework::CommandTask(
      "bomb", *offer, "echo started > started; b() { b & b & wait; }; (b) & exec sleep 1000", 0.5,
      128);
  ASSERT_TRUE(framework.Launch(*offer, bomb).ok());
  ASSERT_TRUE(framework.WaitForState("bomb", v1::TASK_RUNNING));
  const std::string sandbox = WaitForSandbox(cluster, framework.client().framework_id(), "bomb");
  ASSERT_FALSE(WaitForFile(sandbox + "/started").empty());
  const std::string pids = "/sys/fs/cgroup/pids/keel/" + ContainerIdOf(sandbox);
  // Forks the limit refused ("max N" in pids.events).
  auto refused = [&] {
    const std::string events = ReadFile(pids + "/pids.events");
    const auto at = events.find("max ");
    return at == std::string::npos ? 0 : std::stoi(events.substr(at + 4));
  };
  // Until the limit has held for a while (1 s), or 20 s.
  int highest = 0;
  for (int i = 0, after = 0; i < 400 && after < 20; ++i) {
    const std::string current = ReadFile(pids + "/pids.current");
    if (!current.empty()) highest = std::max(highest, std::stoi(current));
    if (refused() > 0) ++after;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(refused(), 0) << "the bomb never reached the pids limit; its stderr:\n"
                          << ReadFile(sandbox + "/stderr").substr(0, 200);
  EXPECT_LE(highest, 64);

  // The agent still answers and still runs tasks.
  EXPECT_EQ(HttpRequest("127.0.0.1", cluster.agent_port, "GET", "/state").status, 200);
  auto next = framework.TakeOffer();
  ASSERT_TRUE(next) << "no offer while the bomb runs";
  ASSERT_TRUE(framework.Launch(*next, TestFramework::CommandTask("after", *next, "true")).ok());
  EXPECT_TRUE(framework.WaitForState("after", v1::TASK_FINISHED)) << cluster.agent->Stderr();

  auto running = framework.Statuses("bomb").front();
  ASSERT_TRUE(framework.client().Kill(running.task_id(), running.agent_id()).ok());
  EXPECT_TRUE(framework.WaitForState("bomb", v1::TASK_KILLED, 30s)) << cluster.agent->Stderr();
  EXPECT_FALSE(std::filesystem::exists(pids));
}

TEST_F(IsolationTest, KillingATaskLeavesNoneOfItsDaemonizedGrandchildren) {
  LocalCluster cluster(IsolatedCluster(
      configs, R"([{"name": "cgroups/cpu"}, {"name": "cgroups/mem"}, {"name": "cgroups/pids"}])"));
  TestFramework framework(cluster.master_address());
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer);
  // Both escape the task's process group: a double fork, and a new session.
  const std::string marker = std::to_string(4000 + ::getpid() % 1000);
  ASSERT_TRUE(framework
                  .Launch(*offer, TestFramework::CommandTask(
                                      "spawner", *offer,
                                      "(sleep 7" + marker + " &); setsid sleep 8" + marker +
                                          " & echo up > up; sleep 9" + marker))
                  .ok());
  ASSERT_TRUE(framework.WaitForState("spawner", v1::TASK_RUNNING));
  const std::string sandbox = WaitForSandbox(cluster, framework.client().framework_id(), "spawner");
  ASSERT_FALSE(WaitForFile(sandbox + "/up").empty());
  for (int i = 0; i < 100 && ProcessesWith(marker).size() < 3; ++i)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(ProcessesWith(marker).size(), 3u);

  auto running = framework.Statuses("spawner").front();
  ASSERT_TRUE(framework.client().Kill(running.task_id(), running.agent_id()).ok());
  ASSERT_TRUE(framework.WaitForState("spawner", v1::TASK_KILLED, 30s));
  EXPECT_TRUE(NoProcessWith(marker, 5s)) << ProcessesWith(marker).size() << " left";
}

TEST_F(IsolationTest, PidNamespaceTaskSeesOnlyItsOwnProcesses) {
  LocalCluster cluster(IsolatedCluster(configs, R"([{"name": "namespaces/pid"}])"));
  TestFramework framework(cluster.master_address());
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer);
  // Its grandchild is left running: ending the task must end it too.
  const std::string marker = std::to_string(5000 + ::getpid() % 1000);
  ASSERT_TRUE(framework
                  .Launch(*offer, TestFramework::CommandTask(
                                      "ps", *offer,
                                      "(setsid sleep 6" + marker +
                                          " &); echo $$; ps -e -o pid=,comm= | grep -v ' ps$'"))
                  .ok());
  ASSERT_TRUE(framework.WaitForState("ps", v1::TASK_FINISHED)) << cluster.agent->Stderr();
  const std::string sandbox = WaitForSandbox(cluster, framework.client().framework_id(), "ps");
  const std::string out = ReadFile(sandbox + "/stdout");
  // keel-container-init is pid 1, the task's shell pid 2; the host's
  // processes (the agent, this test) are not there.
  EXPECT_THAT(out, ::testing::StartsWith("2\n")) << out << ReadFile(sandbox + "/stderr");
  EXPECT_THAT(out, HasSubstr("1 keel-container-"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("keel-agent")));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("keel_cluster_te")));
  EXPECT_TRUE(NoProcessWith("6" + marker, 5s));
}

TEST_F(IsolationTest, TwoTasksHaveSeparateTmp) {
  LocalCluster cluster(
      IsolatedCluster(configs, R"([{"name": "filesystem/tmp"}, {"name": "namespaces/pid"}])"));
  TestFramework framework(cluster.master_address());
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer);
  const std::string name = "keel-isolation-test-" + std::to_string(::getpid());
  const std::string script = "test ! -e /tmp/" + name + " && echo $MESOS_TASK_ID > /tmp/" + name +
                             " && sleep 0.5 && cat /tmp/" + name;
  auto a = TestFramework::CommandTask("a", *offer, script);
  auto b = TestFramework::CommandTask("b", *offer, script);
  // Launched one after the other, they overlap by their sleep.
  ASSERT_TRUE(framework.Launch(*offer, a).ok());
  auto second = framework.TakeOffer();
  ASSERT_TRUE(second);
  ASSERT_TRUE(framework.Launch(*second, b).ok());
  ASSERT_TRUE(framework.WaitForState("a", v1::TASK_FINISHED)) << cluster.agent->Stderr();
  ASSERT_TRUE(framework.WaitForState("b", v1::TASK_FINISHED)) << cluster.agent->Stderr();
  const std::string fw = framework.client().framework_id();
  EXPECT_EQ(ReadFile(SandboxOf(cluster, fw, "a") + "/stdout"), "a\n");
  EXPECT_EQ(ReadFile(SandboxOf(cluster, fw, "b") + "/stdout"), "b\n");
  // Each wrote into its own sandbox, not the host's /tmp.
  EXPECT_EQ(ReadFile(SandboxOf(cluster, fw, "a") + "/tmp/" + name), "a\n");
  EXPECT_FALSE(std::filesystem::exists("/tmp/" + name));
}

// --check-config and a real start refuse what cannot be had, naming it.
class IsolationConfigTest : public ::testing::Test {
 protected:
  RunResult Agent(std::vector<std::string> flags) {
    flags.insert(flags.begin(),
                 {Bin("keel-agent"), "--master=127.0.0.1:1", "--work_dir=" + dir.path() + "/a",
                  "--port=" + std::to_string(FreePort())});
    return RunCommand(flags, 30s);
  }
  TempDir dir;
};

TEST_F(IsolationConfigTest, UnknownIsolatorNameIsRefusedNamingIt) {
  RunResult check = Agent({"--check-config", "--isolation=posix/usage,cgroups/nope"});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_THAT(check.err + check.out, HasSubstr("isolation[1]"));
  EXPECT_THAT(check.err + check.out, HasSubstr("cgroups/nope"));
}

TEST_F(IsolationConfigTest, BothIsolationFieldsAreRefused) {
  RunResult check = Agent({"--check-config", "--isolation=posix/usage", "--isolators=posix/usage"});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_THAT(check.err + check.out, HasSubstr("'isolators' and 'isolation'"));
}

TEST_F(IsolationConfigTest, CgroupLayoutTheIsolatorCannotUseStopsTheAgentBeforeItServes) {
  const std::string config = dir.path() + "/agent.json";
  std::ofstream(config)
      << R"({"isolators": [{"name": "cgroups/mem", "parameters": {"cgroups_hierarchy": ")"
      << dir.path() << R"("}}]})";
  RunResult agent = Agent({"--config=" + config});
  EXPECT_EQ(agent.exit_code, 1);
  EXPECT_THAT(agent.err, HasSubstr("cgroups_hierarchy"));
  EXPECT_THAT(agent.err, HasSubstr(dir.path()));
  // Nothing was made of it: no cgroup, no work dir state.
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/a/agent_id"));
}

TEST_F(IsolationConfigTest, DefaultConfigTurnsOnTheCgroupsIsolatorsWhereUsable) {
  RunResult agent = Agent({"--check-config"});
  EXPECT_EQ(agent.exit_code, 0) << agent.err;
  const std::string out = agent.out + agent.err;
  if (CgroupsUsable()) {
    EXPECT_THAT(out, HasSubstr("cgroups/mem"));
    EXPECT_THAT(out, HasSubstr("cgroups/pids"));
  } else {
    EXPECT_THAT(out, HasSubstr("posix/usage"));
  }
}

}  // namespace
}  // namespace keel::test
