// A framework runs tasks on a real cluster: they finish, fail, get killed,
// are refused when invalid, and their updates arrive until acknowledged.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/http_client.hpp"

namespace keel::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class TaskLifecycleTest : public ::testing::Test {
 protected:
  LocalCluster cluster{FastCluster()};
  TestFramework framework{cluster.master_address()};
};

TEST_F(TaskLifecycleTest, TaskRunsAndFinishesWithItsSandboxAndEnvironment) {
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer) << cluster.master->Stderr() << cluster.agent->Stderr();
  ASSERT_TRUE(framework
                  .Launch(*offer, TestFramework::CommandTask(
                                      "hello", *offer,
                                      "echo hello from $MESOS_TASK_ID; echo oops >&2; "
                                      "test \"$KEEL_SANDBOX\" = \"$MESOS_SANDBOX\" && pwd"))
                  .ok());
  ASSERT_TRUE(framework.WaitForState("hello", v1::TASK_FINISHED)) << cluster.agent->Stderr();
  auto statuses = framework.Statuses("hello");
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0].state(), v1::TASK_RUNNING);
  EXPECT_EQ(statuses[0].agent_id().value(), offer->agent_id().value());
  EXPECT_FALSE(statuses[0].uuid().empty());

  const std::string sandbox = SandboxOf(cluster, framework.client().framework_id(), "hello");
  ASSERT_FALSE(sandbox.empty());
  EXPECT_EQ(ReadFile(sandbox + "/stdout"), "hello from hello\n" + sandbox + "\n");
  EXPECT_EQ(ReadFile(sandbox + "/stderr"), "oops\n");

  // The same file through the agent, as Mesos's /files/read serves it.
  auto read = HttpRequest("127.0.0.1", cluster.agent_port, "GET",
                          "/files/read?path=/frameworks/" + framework.client().framework_id() +
                              "/executors/hello/runs/latest/stderr&offset=0");
  EXPECT_EQ(read.status, 200);
  EXPECT_THAT(read.body, HasSubstr("\"data\":\"oops\\n\""));
  auto escape = HttpRequest("127.0.0.1", cluster.agent_port, "GET",
                            "/files/read?path=/frameworks/" + framework.client().framework_id() +
                                "/executors/hello/runs/latest/../../../../../../agent_id");
  EXPECT_EQ(escape.status, 403) << escape.body;
}

TEST_F(TaskLifecycleTest, FailingCommandIsTaskFailedWithItsExitStatus) {
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(framework.Launch(*offer, TestFramework::CommandTask("fails", *offer, "exit 3")).ok());
  auto failed = framework.WaitForState("fails", v1::TASK_FAILED);
  ASSERT_TRUE(failed);
  EXPECT_THAT(failed->message(), HasSubstr("status 3"));
}

TEST_F(TaskLifecycleTest, KillEndsTheTaskWithTaskKilled) {
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer);
  // The task ignores SIGTERM: only the escalation to SIGKILL ends it.
  ASSERT_TRUE(
      framework
          .Launch(*offer, TestFramework::CommandTask(
                              "sleeper", *offer, "trap '' TERM; echo $$ > pid; sleep 100 & wait"))
          .ok());
  auto running = framework.WaitForState("sleeper", v1::TASK_RUNNING);
  ASSERT_TRUE(running);
  const pid_t pid = TaskPid(cluster, framework.client().framework_id(), "sleeper");
  ASSERT_GT(pid, 0);

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(framework.client().Kill(running->task_id(), running->agent_id()).ok());
  auto killed = framework.WaitForState("sleeper", v1::TASK_KILLED);
  ASSERT_TRUE(killed) << cluster.agent->Stderr();
  // The grace period (1 s here) was given before SIGKILL.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_TRUE(ProcessGone(pid, 5s));
}

TEST_F(TaskLifecycleTest, OvercommittedAndInvalidTasksGetTaskError) {
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer) << cluster.master->Stderr() << cluster.agent->Stderr();
  auto greedy = TestFramework::CommandTask("greedy", *offer, "true", /*cpus=*/64);
  auto nothing = TestFramework::CommandTask("nothing", *offer, "true");
  nothing.clear_command();
  auto twin_a = TestFramework::CommandTask("twin", *offer, "sleep 1");
  auto twin_b = TestFramework::CommandTask("twin", *offer, "sleep 1");
  ASSERT_TRUE(framework.client().Accept({offer->id()}, {greedy, nothing, twin_a, twin_b}, 0).ok());

  auto error = framework.WaitForState("greedy", v1::TASK_ERROR);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->reason(), v1::TaskStatus::REASON_TASK_INVALID);
  EXPECT_THAT(error->message(), HasSubstr("more resources"));
  auto no_command = framework.WaitForState("nothing", v1::TASK_ERROR);
  ASSERT_TRUE(no_command);
  EXPECT_THAT(no_command->message(), HasSubstr("neither a command nor a container"));
  auto duplicate = framework.WaitForState("twin", v1::TASK_ERROR);
  ASSERT_TRUE(duplicate);
  EXPECT_THAT(duplicate->message(), HasSubstr("duplicate"));
  EXPECT_TRUE(framework.WaitForState("twin", v1::TASK_FINISHED));

  // An offer used once is gone: launching on it again drops the task.
  ASSERT_TRUE(framework.Launch(*offer, TestFramework::CommandTask("late", *offer, "true")).ok());
  auto lost = framework.WaitForState("late", v1::TASK_LOST);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->reason(), v1::TaskStatus::REASON_INVALID_OFFERS);
}

TEST(ProtobufFrameworkTest, RunsATaskOverProtobuf) {
  LocalCluster cluster(FastCluster());
  FrameworkOptions options;
  options.protobuf = true;
  TestFramework framework(cluster.master_address(), options);
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer);
  EXPECT_FALSE(offer->resources().empty());
  ASSERT_TRUE(framework.Launch(*offer, TestFramework::CommandTask("pb", *offer, "true")).ok());
  EXPECT_TRUE(framework.WaitForState("pb", v1::TASK_FINISHED));
}

TEST(StatusUpdateTest, UpdatesAreRetriedUntilAcknowledged) {
  LocalCluster cluster(FastCluster());
  FrameworkOptions options;
  options.auto_acknowledge = false;
  TestFramework framework(cluster.master_address(), options);
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(framework.Launch(*offer, TestFramework::CommandTask("quick", *offer, "true")).ok());

  // Unacknowledged, TASK_RUNNING comes again and again (200 ms, 400 ms ...),
  // with the same uuid; TASK_FINISHED waits behind it.
  std::this_thread::sleep_for(1500ms);
  auto statuses = framework.Statuses("quick");
  ASSERT_GE(statuses.size(), 3u);
  for (const auto& s : statuses) {
    EXPECT_EQ(s.state(), v1::TASK_RUNNING);
    EXPECT_EQ(s.uuid(), statuses[0].uuid());
  }

  ASSERT_TRUE(framework.client().Acknowledge(statuses[0]).ok());
  auto finished = framework.WaitForState("quick", v1::TASK_FINISHED);
  ASSERT_TRUE(finished);
  ASSERT_TRUE(framework.client().Acknowledge(*finished).ok());
  // Acknowledged: no more copies of either.
  const size_t count = framework.Statuses("quick").size();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(framework.Statuses("quick").size(), count);
}

}  // namespace
}  // namespace keel::test
