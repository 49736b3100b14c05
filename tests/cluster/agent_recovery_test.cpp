// An agent that dies (SIGKILL) or is stopped (SIGTERM) and starts again over
// the same work dir: it takes back the tasks that still run (the same
// processes), learns how the others ended while it was down, and every
// update reaches the framework exactly once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <thread>

#include "tests/cluster/cluster_fixture.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;

// The agent is down for a few seconds at most: not for the 30 pings the
// master waits before it takes the agent for unreachable.
ClusterOptions RecoveryCluster() {
  ClusterOptions o = FastCluster();
  o.master_flags = {"--allocation_interval=100ms", "--agent_ping_timeout=1s",
                    "--max_agent_ping_timeouts=30"};
  return o;
}

bool Alive(pid_t pid) { return !ProcessGone(pid, 0ms); }

// Updates of `task_id` other than reconciliation's answers.
std::vector<v1::TaskState> OwnStates(TestFramework& framework, const std::string& task_id) {
  std::vector<v1::TaskState> states;
  for (const auto& s : framework.Statuses(task_id)) {
    if (s.reason() != v1::TaskStatus::REASON_RECONCILIATION) states.push_back(s.state());
  }
  return states;
}

// Launches `commands` (task id -> command) in one ACCEPT and waits for each
// to run; their pids (each command starts with `echo $$ > pid`).
std::map<std::string, pid_t> LaunchAll(LocalCluster& cluster, TestFramework& framework,
                                       const std::map<std::string, std::string>& commands) {
  std::map<std::string, pid_t> pids;
  auto offer = framework.TakeOffer();
  if (!offer) {
    ADD_FAILURE() << "no offer: " << cluster.master->Stderr();
    return pids;
  }
  std::vector<v1::TaskInfo> tasks;
  for (const auto& [id, command] : commands) {
    tasks.push_back(TestFramework::CommandTask(id, *offer, command, 0.05, 16));
  }
  if (auto s = framework.client().Accept({offer->id()}, tasks, 0); !s.ok()) {
    ADD_FAILURE() << s.message();
    return pids;
  }
  for (const auto& [id, command] : commands) {
    if (!framework.WaitForState(id, v1::TASK_RUNNING)) {
      ADD_FAILURE() << id << " never ran: " << cluster.agent->Stderr();
      return pids;
    }
    pids[id] = TaskPid(cluster, framework.client().framework_id(), id);
  }
  return pids;
}

TEST(AgentRecoveryTest, KilledAgentTakesBackRunningTasksAndReportsTheEndedOnesOnce) {
  LocalCluster cluster(RecoveryCluster());
  FrameworkOptions options;
  options.failover_timeout = 60;
  TestFramework framework(cluster.master_address(), options);
  const std::string go = cluster.dir.path() + "/go";
  std::map<std::string, std::string> commands;
  for (int i = 0; i < 20; ++i) {
    // Five end when `go` appears (while the agent is down), the rest run on.
    commands["task-" + std::to_string(i)] =
        i < 5 ? "echo $$ > pid; while [ ! -e " + go + " ]; do sleep 0.05; done"
              : "echo $$ > pid; exec sleep 600";
  }
  const std::map<std::string, pid_t> pids = LaunchAll(cluster, framework, commands);
  ASSERT_EQ(pids.size(), 20u);
  for (const auto& [id, pid] : pids) ASSERT_GT(pid, 0) << id;

  ASSERT_TRUE(cluster.agent->Signal(SIGKILL));
  ASSERT_TRUE(cluster.agent->Wait(5s));
  WriteFile(go, "");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(ProcessGone(pids.at("task-" + std::to_string(i)), 10s)) << i;
  }
  cluster.StartAgent();

  for (int i = 0; i < 5; ++i) {
    const std::string id = "task-" + std::to_string(i);
    auto finished = framework.WaitForState(id, v1::TASK_FINISHED);
    ASSERT_TRUE(finished) << id << ": " << cluster.agent->Stderr();
  }
  // Long enough for any update sent twice (retries start at 200 ms) to come.
  std::this_thread::sleep_for(2s);
  ASSERT_TRUE(framework.client().Reconcile().ok());
  ASSERT_TRUE(framework.WaitFor([](const std::vector<Event>& events) {
    int answers = 0;
    for (const auto& e : events) {
      if (e.type() == Event::UPDATE &&
          e.update().status().reason() == v1::TaskStatus::REASON_RECONCILIATION) {
        ++answers;
      }
    }
    return answers >= 15;
  })) << cluster.master->Stderr();

  for (int i = 0; i < 20; ++i) {
    const std::string id = "task-" + std::to_string(i);
    if (i < 5) {
      EXPECT_THAT(OwnStates(framework, id),
                  testing::ElementsAre(v1::TASK_RUNNING, v1::TASK_FINISHED))
          << id;
    } else {
      EXPECT_THAT(OwnStates(framework, id), testing::ElementsAre(v1::TASK_RUNNING)) << id;
      EXPECT_TRUE(Alive(pids.at(id))) << id;
      // The same process: its sandbox's pid file was written once.
      EXPECT_EQ(TaskPid(cluster, framework.client().framework_id(), id), pids.at(id)) << id;
      const auto statuses = framework.Statuses(id);
      ASSERT_FALSE(statuses.empty());
      EXPECT_EQ(statuses.back().state(), v1::TASK_RUNNING) << id;
    }
  }
}

TEST(AgentRecoveryTest, StoppedAgentLeavesTasksRunningAndKillsThemWhenAskedAfterItsRestart) {
  LocalCluster cluster(RecoveryCluster());
  TestFramework framework(cluster.master_address());
  const auto pids = LaunchAll(cluster, framework, {{"sleeper", "echo $$ > pid; exec sleep 600"}});
  ASSERT_EQ(pids.size(), 1u);
  const pid_t pid = pids.at("sleeper");
  ASSERT_GT(pid, 0);

  ASSERT_TRUE(cluster.agent->Signal(SIGTERM));
  ASSERT_TRUE(cluster.agent->Wait(10s));
  EXPECT_TRUE(Alive(pid));
  cluster.StartAgent();
  ASSERT_TRUE(WaitForBody(cluster.agent_port, "/state", "sleeper", 10s)) << cluster.agent->Stderr();

  // The recovered container is killed as any other: through its group.
  const auto running = framework.Statuses("sleeper").back();
  ASSERT_TRUE(framework.client().Kill(running.task_id(), running.agent_id()).ok());
  auto killed = framework.WaitForState("sleeper", v1::TASK_KILLED);
  ASSERT_TRUE(killed) << cluster.agent->Stderr();
  EXPECT_TRUE(ProcessGone(pid, 5s));
  EXPECT_THAT(OwnStates(framework, "sleeper"),
              testing::ElementsAre(v1::TASK_RUNNING, v1::TASK_KILLED));
}

TEST(AgentRecoveryTest, RecoverCleanupKillsWhatTheLastRunLeftAndForgetsTheAgent) {
  LocalCluster cluster(RecoveryCluster());
  TestFramework framework(cluster.master_address());
  const auto pids = LaunchAll(cluster, framework, {{"sleeper", "echo $$ > pid; exec sleep 600"}});
  ASSERT_EQ(pids.size(), 1u);
  const pid_t pid = pids.at("sleeper");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(cluster.agent->Signal(SIGKILL));
  ASSERT_TRUE(cluster.agent->Wait(5s));
  ASSERT_TRUE(Alive(pid));

  RunResult cleanup = RunCommand({Bin("keel-agent"), "--master=" + cluster.master_address(),
                                  "--ip=127.0.0.1", "--port=" + std::to_string(FreePort()),
                                  "--work_dir=" + cluster.agent_work_dir(), "--recover=cleanup"},
                                 30s);
  EXPECT_EQ(cleanup.exit_code, 0) << cleanup.err;
  EXPECT_TRUE(ProcessGone(pid, 5s));
  EXPECT_FALSE(std::filesystem::exists(cluster.agent_work_dir() + "/agent_id")) << cleanup.err;
  EXPECT_TRUE(std::filesystem::is_empty(cluster.agent_work_dir() + "/meta/tasks"));
}

TEST(AgentRecoveryTest, BadRecoverValueIsRefusedNamingTheField) {
  TempDir dir;
  RunResult r = RunCommand(
      {Bin("keel-agent"), "--work_dir=" + dir.path(), "--recover=sometimes", "--check_config"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err + r.out, testing::HasSubstr("field 'recover': 'sometimes'"));
}

}  // namespace
}  // namespace keel::test
