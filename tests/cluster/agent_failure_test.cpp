// An agent killed with SIGKILL: after the ping timeouts the master reports
// its tasks, TASK_UNREACHABLE to partition-aware frameworks and TASK_LOST to
// the others, and tells them the agent failed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/cluster/cluster_fixture.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;

// Starts a task that records its pid, returns the pid.
pid_t StartSleeper(LocalCluster& cluster, TestFramework& framework, const std::string& id) {
  auto offer = framework.TakeOffer();
  if (!offer) {
    ADD_FAILURE() << id << ": no offer";
    return -1;
  }
  auto task = TestFramework::CommandTask(id, *offer, "echo $$ > pid; exec sleep 60", 0.5, 64);
  if (auto s = framework.Launch(*offer, task); !s.ok()) {
    ADD_FAILURE() << id << ": " << s.message();
    return -1;
  }
  if (!framework.WaitForState(id, v1::TASK_RUNNING)) {
    ADD_FAILURE() << id << ": not running";
    return -1;
  }
  return TaskPid(cluster, framework.client().framework_id(), id);
}

TEST(AgentFailureTest, KilledAgentsTasksAreLostOrUnreachable) {
  LocalCluster cluster(FastCluster());
  TestFramework plain(cluster.master_address());
  const pid_t a = StartSleeper(cluster, plain, "plain-task");
  // What is left of the agent goes to the second framework, as a framework
  // that needs nothing more declines for long.
  auto rest = plain.TakeOffer();
  ASSERT_TRUE(rest);
  ASSERT_TRUE(plain.client().Decline({rest->id()}, 3600).ok());
  FrameworkOptions aware;
  aware.name = "partition-aware";
  aware.partition_aware = true;
  TestFramework partition_aware(cluster.master_address(), aware);
  const pid_t b = StartSleeper(cluster, partition_aware, "aware-task");
  struct Reap {
    pid_t a, b;
    ~Reap() {
      if (a > 0) ::kill(a, SIGKILL);
      if (b > 0) ::kill(b, SIGKILL);
    }
  } reap{a, b};
  ASSERT_GT(a, 0) << cluster.agent->Stderr();
  ASSERT_GT(b, 0) << cluster.agent->Stderr();

  cluster.agent->Signal(SIGKILL);
  cluster.agent->Wait(5s);
  // The tasks outlive their agent (a restarted agent recovers them); this
  // test only needs them gone at its end (Reap).

  auto lost = plain.WaitForState("plain-task", v1::TASK_LOST, 10s);
  ASSERT_TRUE(lost) << cluster.master->Stderr();
  EXPECT_EQ(lost->reason(), v1::TaskStatus::REASON_AGENT_REMOVED);
  EXPECT_EQ(lost->source(), v1::TaskStatus::SOURCE_MASTER);
  auto unreachable = partition_aware.WaitForState("aware-task", v1::TASK_UNREACHABLE, 10s);
  ASSERT_TRUE(unreachable);
  EXPECT_TRUE(unreachable->has_unreachable_time());
  EXPECT_TRUE(plain.WaitFor([](const std::vector<Event>& events) {
    for (const auto& e : events) {
      if (e.type() == Event::FAILURE && e.failure().has_agent_id()) return true;
    }
    return false;
  }));

  // Reconciliation agrees.
  ASSERT_TRUE(partition_aware.client().Reconcile().ok());
  EXPECT_TRUE(partition_aware.WaitFor([](const std::vector<Event>& events) {
    for (const auto& e : events) {
      const auto& s = e.update().status();
      if (e.type() == Event::UPDATE && s.reason() == v1::TaskStatus::REASON_RECONCILIATION &&
          s.state() == v1::TASK_UNREACHABLE) {
        return true;
      }
    }
    return false;
  }));
}

TEST(AgentFailureTest, RestartedAgentKeepsItsId) {
  LocalCluster cluster(FastCluster());
  TestFramework framework(cluster.master_address());
  auto first = framework.TakeOffer();
  ASSERT_TRUE(first);
  // The master offers the agent as soon as it admits it; the agent keeps
  // its id once the master's answer reaches it.
  for (int i = 0; i < 100 && ReadFile(cluster.agent_work_dir() + "/agent_id").empty(); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(ReadFile(cluster.agent_work_dir() + "/agent_id"), first->agent_id().value() + "\n");
  cluster.agent->Signal(SIGTERM);
  ASSERT_TRUE(cluster.agent->Wait(10s));
  cluster.StartAgent();
  // Offers of the restarted agent name the same agent id.
  std::optional<v1::Offer> next;
  for (int i = 0; i < 20; ++i) {
    next = framework.TakeOffer(5s);
    if (!next || next->agent_id().value() == first->agent_id().value()) break;
  }
  ASSERT_TRUE(next) << cluster.agent->Stderr();
  EXPECT_EQ(next->agent_id().value(), first->agent_id().value());
}

}  // namespace
}  // namespace keel::test
