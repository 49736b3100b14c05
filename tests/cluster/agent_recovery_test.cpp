// An agent that dies (SIGKILL) or is stopped (SIGTERM) and starts again over
// the same work dir: it takes back the tasks that still run (the same
// processes), learns how the others ended while it was down, and every
// update reaches the framework exactly once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>
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

// One task, `sleeper`, that runs until killed; its pid, or -1.
pid_t LaunchSleeper(LocalCluster& cluster, TestFramework& framework) {
  const auto pids = LaunchAll(cluster, framework, {{"sleeper", "echo $$ > pid; exec sleep 600"}});
  return pids.count("sleeper") ? pids.at("sleeper") : -1;
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
  const pid_t pid = LaunchSleeper(cluster, framework);
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
  const pid_t pid = LaunchSleeper(cluster, framework);
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

// A task's pid and its parent's (its executor's), from the file the task
// wrote (`echo $$ $PPID > path`), waiting up to 10 s for it.
struct TaskAndExecutor {
  pid_t task = -1;
  pid_t executor = -1;
};
TaskAndExecutor ReadPids(const std::string& path) {
  TaskAndExecutor pids;
  for (int i = 0; i < 500 && pids.executor <= 0; ++i) {
    std::istringstream(ReadFile(path)) >> pids.task >> pids.executor;
    if (pids.executor <= 0) std::this_thread::sleep_for(20ms);
  }
  return pids;
}

// A task for keel-example-executor, which runs `command` as the task.
v1::TaskInfo ExampleExecutorTask(const std::string& id, const v1::Offer& offer,
                                 const std::string& command) {
  v1::TaskInfo task = ExecutorTask(id, offer, "example", Bin("keel-example-executor"));
  auto* mem = task.mutable_executor()->add_resources();
  mem->set_name("mem");
  mem->set_type(v1::Value::SCALAR);
  mem->mutable_scalar()->set_value(256);
  task.set_data(command);
  return task;
}

// Task `t`, a sleeper, on keel-example-executor; its pid and the executor's.
TaskAndExecutor LaunchOnExampleExecutor(LocalCluster& cluster, TestFramework& framework) {
  auto offer = framework.TakeOffer();
  if (!offer) {
    ADD_FAILURE() << "no offer: " << cluster.master->Stderr();
    return {};
  }
  const std::string pids_file = cluster.dir.path() + "/pids";
  const std::string command = "echo $$ $PPID > " + pids_file + "; exec sleep 600";
  if (auto s = framework.Launch(*offer, ExampleExecutorTask("t", *offer, command)); !s.ok()) {
    ADD_FAILURE() << s.message();
    return {};
  }
  if (!framework.WaitForState("t", v1::TASK_RUNNING)) {
    ADD_FAILURE() << "t never ran: " << cluster.agent->Stderr();
    return {};
  }
  return ReadPids(pids_file);
}

TEST(AgentRecoveryTest, TaskGroupRunsOnThroughAnAgentKillAndItsExecutorSubscribesAgain) {
  LocalCluster cluster(RecoveryCluster());
  TestFramework framework(cluster.master_address());
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer) << cluster.master->Stderr();
  const std::string dir = cluster.dir.path();
  v1::scheduler::Call call = LaunchGroupCall(*offer, "group", v1::ExecutorInfo::DEFAULT);
  auto* group =
      call.mutable_accept()->mutable_operations(0)->mutable_launch_group()->mutable_task_group();
  // `ends` ends while the agent is down; `stays` runs on.
  *group->add_tasks() = TestFramework::CommandTask(
      "stays", *offer, "echo $$ $PPID > " + dir + "/stays; exec sleep 600", 0.1, 16);
  *group->add_tasks() = TestFramework::CommandTask(
      "ends", *offer,
      "echo $$ $PPID > " + dir + "/ends; while [ ! -e " + dir + "/go ]; do sleep 0.05; done", 0.1,
      16);
  ASSERT_TRUE(framework.client().Send(call).ok());
  for (const char* id : {"stays", "ends"}) {
    ASSERT_TRUE(framework.WaitForState(id, v1::TASK_RUNNING)) << id << cluster.agent->Stderr();
  }
  const TaskAndExecutor stays = ReadPids(dir + "/stays");
  const TaskAndExecutor ends = ReadPids(dir + "/ends");
  ASSERT_GT(stays.executor, 0);
  ASSERT_EQ(stays.executor, ends.executor);

  ASSERT_TRUE(cluster.agent->Signal(SIGKILL));
  ASSERT_TRUE(cluster.agent->Wait(5s));
  WriteFile(dir + "/go", "");
  ASSERT_TRUE(ProcessGone(ends.task, 10s));
  cluster.StartAgent();

  // The executor kept the end it saw while the agent was down and hands it
  // over when it subscribes again: delivered once.
  ASSERT_TRUE(framework.WaitForState("ends", v1::TASK_FINISHED)) << cluster.agent->Stderr();
  std::this_thread::sleep_for(2s);
  EXPECT_THAT(OwnStates(framework, "ends"),
              testing::ElementsAre(v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_FINISHED));
  EXPECT_THAT(OwnStates(framework, "stays"),
              testing::ElementsAre(v1::TASK_STARTING, v1::TASK_RUNNING));
  EXPECT_TRUE(Alive(stays.task));
  EXPECT_TRUE(Alive(stays.executor));
  // The master holds the executor's own resources again, beside its task's:
  // what it offers is the agent's 2 cpus less 0.1 for `stays` and 0.1 for
  // the executor.
  const std::string accepted = offer->id().value();
  auto cpus_on_offer = [&accepted](const std::vector<Event>& events) {
    std::map<std::string, double> offers;
    for (const auto& e : events) {
      if (e.type() == Event::OFFERS) {
        for (const auto& offer : e.offers().offers()) {
          for (const auto& r : offer.resources()) {
            if (r.name() == "cpus") offers[offer.id().value()] += r.scalar().value();
          }
        }
      } else if (e.type() == Event::RESCIND) {
        offers.erase(e.rescind().offer_id().value());
      }
    }
    offers.erase(accepted);
    double cpus = 0;
    for (const auto& [id, c] : offers) cpus += c;
    return cpus;
  };
  ASSERT_TRUE(framework.client().Revive().ok());
  ASSERT_TRUE(framework.WaitFor([&](const std::vector<Event>& events) {
    return cpus_on_offer(events) >= 1.8 - 1e-9;
  })) << cluster.master->Stderr();
  std::this_thread::sleep_for(1s);  // ten allocation intervals: nothing more is offered
  EXPECT_NEAR(cpus_on_offer(framework.events()), 1.8, 1e-9);

  // The agent and the executor hear each other again: a kill goes through.
  const auto running = framework.Statuses("stays").back();
  ASSERT_TRUE(framework.client().Kill(running.task_id(), running.agent_id()).ok());
  ASSERT_TRUE(framework.WaitForState("stays", v1::TASK_KILLED)) << cluster.agent->Stderr();
  EXPECT_TRUE(ProcessGone(stays.task, 5s));
  // With nothing left to run, the executor is shut down.
  EXPECT_TRUE(ProcessGone(stays.executor, 15s));
}

TEST(AgentRecoveryTest, CustomExecutorOutlivesAStoppedAgentAndRunsTheKillAfterItsRestart) {
  LocalCluster cluster(RecoveryCluster());
  TestFramework framework(cluster.master_address());
  const TaskAndExecutor pids = LaunchOnExampleExecutor(cluster, framework);
  ASSERT_GT(pids.executor, 0);

  ASSERT_TRUE(cluster.agent->Signal(SIGTERM));
  ASSERT_TRUE(cluster.agent->Wait(10s));
  EXPECT_TRUE(Alive(pids.executor));
  cluster.StartAgent();
  ASSERT_TRUE(WaitForBody(cluster.agent_port, "/state", "\"t\"", 10s)) << cluster.agent->Stderr();
  std::this_thread::sleep_for(3s);  // past executor_reregistration_timeout
  EXPECT_TRUE(Alive(pids.task));
  EXPECT_THAT(OwnStates(framework, "t"), testing::ElementsAre(v1::TASK_RUNNING));

  const auto running = framework.Statuses("t").back();
  ASSERT_TRUE(framework.client().Kill(running.task_id(), running.agent_id()).ok());
  ASSERT_TRUE(framework.WaitForState("t", v1::TASK_KILLED)) << cluster.agent->Stderr();
  EXPECT_TRUE(ProcessGone(pids.task, 5s));
  EXPECT_THAT(OwnStates(framework, "t"), testing::ElementsAre(v1::TASK_RUNNING, v1::TASK_KILLED));
}

TEST(AgentRecoveryTest, ExecutorThatDoesNotSubscribeAgainInTimeIsDestroyedAndItsTaskFails) {
  LocalCluster cluster(RecoveryCluster());
  TestFramework framework(cluster.master_address());
  const TaskAndExecutor pids = LaunchOnExampleExecutor(cluster, framework);
  ASSERT_GT(pids.executor, 0);

  ASSERT_TRUE(cluster.agent->Signal(SIGKILL));
  ASSERT_TRUE(cluster.agent->Wait(5s));
  // A hung executor: it cannot subscribe again.
  ASSERT_EQ(::kill(pids.executor, SIGSTOP), 0);
  cluster.StartAgent();

  auto failed = framework.WaitForState("t", v1::TASK_FAILED, 20s);
  ASSERT_TRUE(failed) << cluster.agent->Stderr();
  EXPECT_EQ(failed->reason(), v1::TaskStatus::REASON_EXECUTOR_REREGISTRATION_TIMEOUT);
  EXPECT_THAT(failed->message(), testing::HasSubstr("did not subscribe again within 2secs"));
  EXPECT_TRUE(ProcessGone(pids.task, 5s));
  EXPECT_TRUE(ProcessGone(pids.executor, 5s));
}

TEST(AgentRecoveryTest, BadRecoverValueIsRefusedNamingTheField) {
  TempDir dir;
  RunResult r = RunCommand(
      {Bin("keel-agent"), "--work_dir=" + dir.path(), "--recover=sometimes", "--check_config"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err + r.out, testing::HasSubstr("field 'recover': 'sometimes'"));

  r = RunCommand({Bin("keel-agent"), "--work_dir=" + dir.path(),
                  "--executor_reregistration_timeout=20secs", "--check_config"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err + r.out,
              testing::HasSubstr("field 'executor_reregistration_timeout': at most 15s"));
}

}  // namespace
}  // namespace keel::test
