// A network partition, made for real: the master and the agent are hosts in
// network namespaces of their own (tests/support/netns_cluster.hpp), and the
// agent's link is cut for longer than the ping timeouts, then healed. As in
// Mesos: while cut, a partition-aware framework hears TASK_UNREACHABLE and
// the others TASK_LOST; once healed, the agent registers again, the
// partition-aware framework's task runs on (reconciliation says
// TASK_RUNNING) and the other framework's task is killed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/netns_cluster.hpp"
#include "tests/support/test_framework.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;

// The pid a task wrote to `pid` in its sandbox, wherever the agent put it.
pid_t TaskPidUnder(const std::string& work_dir, const std::string& task_id) {
  for (int i = 0; i < 500; ++i) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(work_dir, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      const auto& path = it->path();
      if (path.filename() == "pid" &&
          path.string().find("/executors/" + task_id + "/") != std::string::npos) {
        std::ifstream in(path);
        pid_t pid = 0;
        if (in >> pid && pid > 0) return pid;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

bool Gone(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::kill(pid, 0) != 0) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Launches a sleeper on the framework's next offer and waits for RUNNING.
bool StartSleeper(TestFramework& framework, const std::string& id) {
  auto offer = framework.TakeOffer();
  if (!offer) return false;
  auto task = TestFramework::CommandTask(id, *offer, "echo $$ > pid; exec sleep 600", 0.5, 64);
  return framework.Launch(*offer, task).ok() && framework.WaitForState(id, v1::TASK_RUNNING);
}

TEST(PartitionTest, CutLinkMakesTasksUnreachableAndHealingBringsThemBackOrKillsThem) {
  if (std::string why = NetnsCluster::Unusable(); !why.empty()) GTEST_SKIP() << why;
  NetnsCluster cluster(
      1,
      {"--allocation_interval=100ms", "--agent_ping_timeout=300ms", "--max_agent_ping_timeouts=3"},
      {"--status_update_retry_min=200ms", "--status_update_retry_max=1s", "--kill_grace_period=1s",
       "--resources=cpus:2;mem:1024;disk:1024", "--isolation=posix/usage",
       "--containerizers=native"});

  TestFramework plain(cluster.master_address());
  ASSERT_TRUE(StartSleeper(plain, "plain-task")) << cluster.agent(0).Stderr();
  // The rest of the agent goes to the partition-aware framework.
  auto rest = plain.TakeOffer();
  ASSERT_TRUE(rest);
  ASSERT_TRUE(plain.client().Decline({rest->id()}, 3600).ok());
  FrameworkOptions options;
  options.name = "partition-aware";
  options.partition_aware = true;
  TestFramework aware(cluster.master_address(), options);
  ASSERT_TRUE(StartSleeper(aware, "aware-task")) << cluster.agent(0).Stderr();
  const pid_t plain_pid = TaskPidUnder(cluster.agent_work_dir(0), "plain-task");
  const pid_t aware_pid = TaskPidUnder(cluster.agent_work_dir(0), "aware-task");
  ASSERT_GT(plain_pid, 0);
  ASSERT_GT(aware_pid, 0);

  cluster.Cut(0);
  auto unreachable = aware.WaitForState("aware-task", v1::TASK_UNREACHABLE, 10s);
  ASSERT_TRUE(unreachable) << cluster.master().Stderr();
  EXPECT_TRUE(unreachable->has_unreachable_time());
  ASSERT_TRUE(plain.WaitForState("plain-task", v1::TASK_LOST, 10s));
  // Both tasks run on behind the cut.
  EXPECT_EQ(::kill(plain_pid, 0), 0);
  EXPECT_EQ(::kill(aware_pid, 0), 0);
  std::this_thread::sleep_for(1s);

  cluster.Heal(0);
  // The agent notices the silence, registers again and reports its tasks:
  // the lost one is killed, the unreachable one runs on.
  EXPECT_TRUE(Gone(plain_pid, 20s)) << cluster.agent(0).Stderr();
  EXPECT_EQ(::kill(aware_pid, 0), 0);
  bool running = false;
  for (int i = 0; i < 40 && !running; ++i) {
    ASSERT_TRUE(aware.client().Reconcile().ok());
    std::this_thread::sleep_for(250ms);
    const auto statuses = aware.Statuses("aware-task");
    running = !statuses.empty() && statuses.back().state() == v1::TASK_RUNNING &&
              statuses.back().reason() == v1::TaskStatus::REASON_RECONCILIATION;
  }
  EXPECT_TRUE(running) << cluster.master().Stderr();
}

}  // namespace
}  // namespace keel::test
