// Custom executors through the real daemons: the agent's v1 executor API
// (played here over raw HTTP, as any executor library speaks it), launches,
// updates and acknowledgements, messages both ways, kills, and executors
// that never subscribe or crash.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <thread>

#include "keel/v1/executor.pb.h"
#include "kernel/runtime/mesos_json.hpp"
#include "kernel/runtime/uuid.hpp"
#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/record_io_stream.hpp"

namespace keel::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using v1::executor::Call;
using v1::executor::Event;

std::string Json(const google::protobuf::Message& m) { return runtime::MesosJson(m); }

Event ParseEvent(const std::string& record) {
  Event event;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(record, &event, options).ok()) << record;
  return event;
}

const std::map<std::string, std::string> kJson = {{"Content-Type", "application/json"},
                                                  {"Accept", "application/json"}};

// What an executor sends: its ids filled in.
Call ExecutorCall(const std::string& framework_id, const std::string& executor_id,
                  Call::Type type) {
  Call call;
  call.set_type(type);
  call.mutable_framework_id()->set_value(framework_id);
  call.mutable_executor_id()->set_value(executor_id);
  if (type == Call::SUBSCRIBE) call.mutable_subscribe();
  return call;
}

class ExecutorTest : public ::testing::Test {
 protected:
  ExecutorTest() {
    ClusterOptions o = FastCluster();
    o.agent_flags.push_back("--executor_registration_timeout=2s");
    o.agent_flags.push_back("--executor_shutdown_grace_period=1s");
    cluster = std::make_unique<LocalCluster>(o);
    framework = std::make_unique<TestFramework>(cluster->master_address());
  }

  HttpResult Post(const std::string& body,
                  const std::map<std::string, std::string>& headers = kJson) {
    return HttpRequest("127.0.0.1", cluster->agent_port, "POST", "/api/v1/executor", body, headers);
  }

  // Subscribes as executor `executor_id` once the agent has started it.
  std::unique_ptr<RecordIoStream> Subscribe(const std::string& executor_id) {
    const Call call =
        ExecutorCall(framework->client().framework_id(), executor_id, Call::SUBSCRIBE);
    for (int i = 0; i < 200; ++i) {
      auto stream = std::make_unique<RecordIoStream>("127.0.0.1", cluster->agent_port,
                                                     "/api/v1/executor", Json(call), kJson);
      if (stream->status() == 200) return stream;
      std::this_thread::sleep_for(20ms);
    }
    return nullptr;
  }

  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<TestFramework> framework;
};

TEST_F(ExecutorTest, OneExecutorRunsThreeTasksWithUpdatesAcknowledgementsMessagesAndKills) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer) << cluster->agent->Stderr();
  // The executor's process: the test plays the executor over HTTP.
  std::vector<v1::TaskInfo> tasks;
  for (const char* id : {"t1", "t2", "t3"}) {
    tasks.push_back(ExecutorTask(id, *offer, "exec", "sleep 600"));
  }
  ASSERT_TRUE(framework->client().Accept({offer->id()}, tasks, 0).ok());

  auto stream = Subscribe("exec");
  ASSERT_TRUE(stream) << cluster->agent->Stderr();
  EXPECT_EQ(stream->headers().at("content-type"), "application/json");
  EXPECT_EQ(stream->headers().at("transfer-encoding"), "chunked");
  auto first = stream->Next(5s);
  ASSERT_TRUE(first);
  Event subscribed = ParseEvent(*first);
  ASSERT_EQ(subscribed.type(), Event::SUBSCRIBED) << *first;
  EXPECT_EQ(subscribed.subscribed().executor_info().executor_id().value(), "exec");
  EXPECT_EQ(subscribed.subscribed().framework_info().id().value(),
            framework->client().framework_id());
  EXPECT_EQ(subscribed.subscribed().agent_info().id().value(), offer->agent_id().value());
  EXPECT_FALSE(subscribed.subscribed().container_id().value().empty());

  std::set<std::string> launched;
  for (int i = 0; i < 3; ++i) {
    auto record = stream->Next(5s);
    ASSERT_TRUE(record);
    Event launch = ParseEvent(*record);
    ASSERT_EQ(launch.type(), Event::LAUNCH) << *record;
    launched.insert(launch.launch().task().task_id().value());
  }
  EXPECT_EQ(launched, (std::set<std::string>{"t1", "t2", "t3"}));

  // RUNNING for each: the framework sees them, and its acknowledgements
  // come back as ACKNOWLEDGED with the update's uuid.
  std::map<std::string, std::string> uuids;
  for (const std::string& id : launched) {
    Call update = ExecutorCall(framework->client().framework_id(), "exec", Call::UPDATE);
    v1::TaskStatus* status = update.mutable_update()->mutable_status();
    status->mutable_task_id()->set_value(id);
    status->set_state(v1::TASK_RUNNING);
    status->set_uuid(runtime::RandomUuidBytes());
    uuids[status->uuid()] = id;
    auto answer = Post(Json(update));
    EXPECT_EQ(answer.status, 202) << answer.body;
  }
  for (const std::string& id : launched) {
    auto running = framework->WaitForState(id, v1::TASK_RUNNING);
    ASSERT_TRUE(running) << id;
    EXPECT_EQ(running->executor_id().value(), "exec");
    EXPECT_EQ(running->source(), v1::TaskStatus::SOURCE_EXECUTOR);
  }
  for (int i = 0; i < 3; ++i) {
    std::optional<std::string> record;
    Event event;
    do {  // heartbeats may come in between
      record = stream->Next(5s);
      ASSERT_TRUE(record) << cluster->agent->Stderr();
      event = ParseEvent(*record);
    } while (event.type() == Event::HEARTBEAT);
    ASSERT_EQ(event.type(), Event::ACKNOWLEDGED) << *record;
    ASSERT_EQ(uuids.count(event.acknowledged().uuid()), 1u) << *record;
    EXPECT_EQ(uuids[event.acknowledged().uuid()], event.acknowledged().task_id().value());
  }

  // Messages both ways.
  Call message = ExecutorCall(framework->client().framework_id(), "exec", Call::MESSAGE);
  message.mutable_message()->set_data("hello scheduler");
  EXPECT_EQ(Post(Json(message)).status, 202);
  ASSERT_TRUE(framework->WaitFor([](const std::vector<v1::scheduler::Event>& events) {
    for (const auto& e : events) {
      if (e.type() == v1::scheduler::Event::MESSAGE && e.message().data() == "hello scheduler" &&
          e.message().executor_id().value() == "exec") {
        return true;
      }
    }
    return false;
  }));
  v1::scheduler::Call to_executor;
  to_executor.set_type(v1::scheduler::Call::MESSAGE);
  *to_executor.mutable_message()->mutable_agent_id() = offer->agent_id();
  to_executor.mutable_message()->mutable_executor_id()->set_value("exec");
  to_executor.mutable_message()->set_data("hello executor");
  ASSERT_TRUE(framework->client().Send(to_executor).ok());
  auto record = stream->Next(5s);
  ASSERT_TRUE(record);
  Event from_scheduler = ParseEvent(*record);
  ASSERT_EQ(from_scheduler.type(), Event::MESSAGE) << *record;
  EXPECT_EQ(from_scheduler.message().data(), "hello executor");

  // A kill is the executor's to carry out.
  auto running = framework->Statuses("t2").front();
  ASSERT_TRUE(framework->client().Kill(running.task_id(), running.agent_id()).ok());
  record = stream->Next(5s);
  ASSERT_TRUE(record);
  Event kill = ParseEvent(*record);
  ASSERT_EQ(kill.type(), Event::KILL) << *record;
  EXPECT_EQ(kill.kill().task_id().value(), "t2");

  // Every task ends: the executor, with nothing left, is told to shut down.
  for (const auto& [id, state] : std::vector<std::pair<std::string, v1::TaskState>>{
           {"t1", v1::TASK_FINISHED}, {"t2", v1::TASK_KILLED}, {"t3", v1::TASK_FINISHED}}) {
    Call update = ExecutorCall(framework->client().framework_id(), "exec", Call::UPDATE);
    update.mutable_update()->mutable_status()->mutable_task_id()->set_value(id);
    update.mutable_update()->mutable_status()->set_state(state);
    update.mutable_update()->mutable_status()->set_uuid(runtime::RandomUuidBytes());
    EXPECT_EQ(Post(Json(update)).status, 202);
    EXPECT_TRUE(framework->WaitForState(id, state)) << id;
  }
  bool shutdown = false;
  while (auto next = stream->Next(5s)) {
    if (ParseEvent(*next).type() == Event::SHUTDOWN) {
      shutdown = true;
      break;
    }
  }
  EXPECT_TRUE(shutdown);
  // Its container goes after the grace period; the framework hears of it.
  EXPECT_TRUE(framework->WaitFor([](const std::vector<v1::scheduler::Event>& events) {
    for (const auto& e : events) {
      if (e.type() == v1::scheduler::Event::FAILURE && e.failure().executor_id().value() == "exec")
        return true;
    }
    return false;
  }));
}

TEST_F(ExecutorTest, BadExecutorCallsGetMesossStatusCodes) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(framework->Launch(*offer, ExecutorTask("t", *offer, "idle", "sleep 600")).ok());
  const std::string fw = framework->client().framework_id();

  EXPECT_EQ(HttpRequest("127.0.0.1", cluster->agent_port, "GET", "/api/v1/executor").status, 405);
  EXPECT_EQ(Post("{}", {{"Content-Type", "text/plain"}}).status, 415);
  auto garbage = Post("{not json");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_THAT(garbage.body, HasSubstr("Failed to convert JSON"));
  auto no_ids = Post(R"({"type": "SUBSCRIBE", "subscribe": {}})");
  EXPECT_EQ(no_ids.status, 400);
  EXPECT_THAT(no_ids.body, HasSubstr("executor_id"));

  auto unknown_framework = Post(Json(ExecutorCall("no-such-framework", "idle", Call::SUBSCRIBE)));
  EXPECT_EQ(unknown_framework.status, 400);
  EXPECT_THAT(unknown_framework.body, HasSubstr("Framework cannot be found"));
  // The agent knows the framework once its task arrived.
  HttpResult unknown_executor;
  for (int i = 0; i < 100; ++i) {
    unknown_executor = Post(Json(ExecutorCall(fw, "no-such-executor", Call::SUBSCRIBE)));
    if (unknown_executor.body.find("Framework cannot") == std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(unknown_executor.status, 400);
  EXPECT_THAT(unknown_executor.body, HasSubstr("Executor cannot be found"));

  Call update = ExecutorCall(fw, "idle", Call::UPDATE);
  update.mutable_update()->mutable_status()->mutable_task_id()->set_value("t");
  update.mutable_update()->mutable_status()->set_state(v1::TASK_RUNNING);
  update.mutable_update()->mutable_status()->set_uuid(runtime::RandomUuidBytes());
  auto early = Post(Json(update));
  EXPECT_EQ(early.status, 403);
  EXPECT_THAT(early.body, HasSubstr("not subscribed"));

  auto refused = RecordIoStream("127.0.0.1", cluster->agent_port, "/api/v1/executor",
                                Json(ExecutorCall(fw, "idle", Call::SUBSCRIBE)),
                                {{"Content-Type", "application/json"}, {"Accept", "text/html"}});
  EXPECT_EQ(refused.status(), 406);

  auto stream = Subscribe("idle");
  ASSERT_TRUE(stream);
  Call no_uuid = update;
  no_uuid.mutable_update()->mutable_status()->clear_uuid();
  auto missing_uuid = Post(Json(no_uuid));
  EXPECT_EQ(missing_uuid.status, 400);
  EXPECT_THAT(missing_uuid.body, HasSubstr("uuid"));
  Call not_a_uuid = update;
  not_a_uuid.mutable_update()->mutable_status()->set_uuid("u1");
  EXPECT_EQ(Post(Json(not_a_uuid)).status, 400);
  Call staging = update;
  staging.mutable_update()->mutable_status()->set_state(v1::TASK_STAGING);
  EXPECT_EQ(Post(Json(staging)).status, 400);
  Call not_its_task = update;
  not_its_task.mutable_update()->mutable_status()->mutable_task_id()->set_value("other");
  EXPECT_EQ(Post(Json(not_its_task)).status, 400);
  // Protobuf bodies are read too.
  auto proto = Post(update.SerializeAsString(), {{"Content-Type", "application/x-protobuf"}});
  EXPECT_EQ(proto.status, 202) << proto.body;
  EXPECT_TRUE(framework->WaitForState("t", v1::TASK_RUNNING));
}

TEST_F(ExecutorTest, ExecutorThatNeverSubscribesIsDestroyedAndItsTasksFail) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer);
  const std::string marker = "sleep 6" + std::to_string(1000 + ::getpid() % 1000);
  ASSERT_TRUE(framework->Launch(*offer, ExecutorTask("t", *offer, "silent", marker)).ok());
  auto failed = framework->WaitForState("t", v1::TASK_FAILED, 15s);
  ASSERT_TRUE(failed) << cluster->agent->Stderr();
  EXPECT_EQ(failed->reason(), v1::TaskStatus::REASON_EXECUTOR_REGISTRATION_TIMEOUT);
  EXPECT_THAT(failed->message(), HasSubstr("did not subscribe"));
}

TEST_F(ExecutorTest, ExecutorThatCrashesFailsItsTasks) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(framework->Launch(*offer, ExecutorTask("t", *offer, "crashy", "exit 7")).ok());
  auto failed = framework->WaitForState("t", v1::TASK_FAILED, 15s);
  ASSERT_TRUE(failed) << cluster->agent->Stderr();
  EXPECT_EQ(failed->reason(), v1::TaskStatus::REASON_EXECUTOR_TERMINATED);
  EXPECT_THAT(failed->message(), HasSubstr("status 7"));
  EXPECT_TRUE(framework->WaitFor([](const std::vector<v1::scheduler::Event>& events) {
    for (const auto& e : events) {
      if (e.type() == v1::scheduler::Event::FAILURE &&
          e.failure().executor_id().value() == "crashy" && e.failure().has_status()) {
        return true;
      }
    }
    return false;
  }));
}

TEST_F(ExecutorTest, TaskNamingBothACommandAndAnExecutorIsRefused) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer);
  v1::TaskInfo task = ExecutorTask("both", *offer, "e", "true");
  task.mutable_command()->set_value("true");
  ASSERT_TRUE(framework->Launch(*offer, task).ok());
  auto error = framework->WaitForState("both", v1::TASK_ERROR);
  ASSERT_TRUE(error);
  EXPECT_THAT(error->message(), HasSubstr("not both"));
}

// Real executors: the SDK's example executor (a process the agent starts)
// and Keel's default executor for task groups.
TEST_F(ExecutorTest, ExampleExecutorRunsThreeTasksInOneProcess) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer);
  std::vector<v1::TaskInfo> tasks;
  for (const char* id : {"a", "b", "c"}) {
    v1::TaskInfo task = ExecutorTask(id, *offer, "example", Bin("keel-example-executor"));
    // A real program under the cgroups memory limit: room for its runtime
    // (an AddressSanitizer build's too).
    auto* mem = task.mutable_executor()->add_resources();
    mem->set_name("mem");
    mem->set_type(v1::Value::SCALAR);
    mem->mutable_scalar()->set_value(256);
    task.set_data("echo $PPID >> executor_pids; echo ran $MESOS_TASK_ID");
    tasks.push_back(task);
  }
  ASSERT_TRUE(framework->client().Accept({offer->id()}, tasks, 0).ok());
  for (const char* id : {"a", "b", "c"}) {
    auto finished = framework->WaitForState(id, v1::TASK_FINISHED);
    ASSERT_TRUE(finished) << id << cluster->agent->Stderr();
    EXPECT_EQ(finished->executor_id().value(), "example");
  }
  // One executor process ran all three.
  const std::string sandbox = SandboxOf(*cluster, framework->client().framework_id(), "example");
  ASSERT_FALSE(sandbox.empty());
  std::string pids = ReadFile(sandbox + "/executor_pids");
  std::set<std::string> distinct;
  for (size_t start = 0; start < pids.size();) {
    size_t end = pids.find('\n', start);
    distinct.insert(pids.substr(start, end - start));
    start = end == std::string::npos ? pids.size() : end + 1;
  }
  EXPECT_EQ(distinct.size(), 1u) << pids;
  EXPECT_THAT(ReadFile(sandbox + "/stdout"), HasSubstr("ran b"));
}

TEST_F(ExecutorTest, TaskGroupWhereOneTaskFailsKillsTheRest) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer);
  v1::scheduler::Call call = LaunchGroupCall(*offer, "group", v1::ExecutorInfo::DEFAULT);
  auto* group =
      call.mutable_accept()->mutable_operations(0)->mutable_launch_group()->mutable_task_group();
  for (const auto& [id, command] : std::vector<std::pair<std::string, std::string>>{
           {"long1", "sleep 600"}, {"long2", "sleep 600"}, {"bad", "sleep 0.3; exit 3"}}) {
    *group->add_tasks() = TestFramework::CommandTask(id, *offer, command, 0.1, 16);
  }
  ASSERT_TRUE(framework->client().Send(call).ok());
  for (const char* id : {"long1", "long2", "bad"}) {
    EXPECT_TRUE(framework->WaitForState(id, v1::TASK_RUNNING)) << id << cluster->agent->Stderr();
  }
  auto failed = framework->WaitForState("bad", v1::TASK_FAILED);
  ASSERT_TRUE(failed);
  EXPECT_THAT(failed->message(), HasSubstr("status 3"));
  for (const char* id : {"long1", "long2"}) {
    EXPECT_TRUE(framework->WaitForState(id, v1::TASK_KILLED, 15s)) << id;
  }
  // The executor, with nothing left, is gone.
  EXPECT_TRUE(framework->WaitFor([](const std::vector<v1::scheduler::Event>& events) {
    for (const auto& e : events) {
      if (e.type() == v1::scheduler::Event::FAILURE && e.failure().executor_id().value() == "group")
        return true;
    }
    return false;
  }));
}

TEST_F(ExecutorTest, TaskGroupWithACustomExecutorIsRefusedWhole) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer);
  v1::scheduler::Call call = LaunchGroupCall(*offer, "custom", v1::ExecutorInfo::CUSTOM);
  auto* launch_group = call.mutable_accept()->mutable_operations(0)->mutable_launch_group();
  launch_group->mutable_executor()->mutable_command()->set_value("true");
  *launch_group->mutable_task_group()->add_tasks() =
      TestFramework::CommandTask("g1", *offer, "true");
  ASSERT_TRUE(framework->client().Send(call).ok());
  auto error = framework->WaitForState("g1", v1::TASK_ERROR);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->reason(), v1::TaskStatus::REASON_TASK_GROUP_INVALID);
  EXPECT_THAT(error->message(), HasSubstr("DEFAULT"));
}

}  // namespace
}  // namespace keel::test
