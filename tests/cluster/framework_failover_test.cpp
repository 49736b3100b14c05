// Frameworks that go away: one that re-subscribes within its failover
// timeout keeps its tasks, one that does not has them killed; resources it
// declined come back once its filter expires.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/cluster/cluster_fixture.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;

TEST(FrameworkFailoverTest, ResubscribingWithinTheTimeoutKeepsTasks) {
  LocalCluster cluster(FastCluster());
  FrameworkOptions options;
  options.failover_timeout = 30;
  auto first = std::make_unique<TestFramework>(cluster.master_address(), options);
  auto offer = first->TakeOffer();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(first
                  ->Launch(*offer, TestFramework::CommandTask("survivor", *offer,
                                                              "echo $$ > pid; exec sleep 60"))
                  .ok());
  ASSERT_TRUE(first->WaitForState("survivor", v1::TASK_RUNNING));
  const std::string id = first->client().framework_id();
  const pid_t pid = TaskPid(cluster, id, "survivor");
  ASSERT_GT(pid, 0);
  first->Disconnect();
  first.reset();
  std::this_thread::sleep_for(500ms);

  options.framework_id = id;
  TestFramework second(cluster.master_address(), options);
  ASSERT_TRUE(second.WaitFor([](const std::vector<Event>& events) {
    return !events.empty() && events[0].type() == Event::SUBSCRIBED;
  }));
  EXPECT_EQ(second.client().framework_id(), id);
  ASSERT_TRUE(second.client().Reconcile().ok());
  auto running = second.WaitForState("survivor", v1::TASK_RUNNING);
  ASSERT_TRUE(running);
  EXPECT_EQ(running->reason(), v1::TaskStatus::REASON_RECONCILIATION);
  EXPECT_EQ(::kill(pid, 0), 0) << "the task died with its framework's connection";

  ASSERT_TRUE(second.client().Teardown().ok());
  EXPECT_TRUE(ProcessGone(pid, 10s));
}

TEST(FrameworkFailoverTest, TasksOfAFrameworkThatDoesNotReturnAreKilled) {
  LocalCluster cluster(FastCluster());
  FrameworkOptions options;
  options.failover_timeout = 1;
  TestFramework framework(cluster.master_address(), options);
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer) << cluster.master->Stderr() << cluster.agent->Stderr();
  ASSERT_TRUE(framework
                  .Launch(*offer, TestFramework::CommandTask("orphan", *offer,
                                                             "echo $$ > pid; exec sleep 60"))
                  .ok());
  ASSERT_TRUE(framework.WaitForState("orphan", v1::TASK_RUNNING));
  const pid_t pid = TaskPid(cluster, framework.client().framework_id(), "orphan");
  ASSERT_GT(pid, 0);
  framework.Disconnect();
  // Alive within the failover timeout, killed after it.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(::kill(pid, 0), 0);
  EXPECT_TRUE(ProcessGone(pid, 10s)) << cluster.master->Stderr() << cluster.agent->Stderr();
}

TEST(FrameworkFailoverTest, DeclinedResourcesComeBackAfterTheFilter) {
  LocalCluster cluster(FastCluster());
  TestFramework framework(cluster.master_address());
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer);
  const auto declined = std::chrono::steady_clock::now();
  ASSERT_TRUE(framework.client().Decline({offer->id()}, 2.0).ok());
  auto again = framework.TakeOffer(10s);
  ASSERT_TRUE(again);
  const auto waited = std::chrono::steady_clock::now() - declined;
  EXPECT_EQ(again->agent_id().value(), offer->agent_id().value());
  EXPECT_GE(waited, 1900ms);
  EXPECT_LT(waited, 5s);
}

}  // namespace
}  // namespace keel::test
