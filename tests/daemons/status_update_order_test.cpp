// The master against an agent it cannot trust to be orderly: an emulated
// agent on the real transport sends updates in the orders a restarted or
// partitioned agent's retries can produce, and the framework's view and the
// master's must stay right.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "keel/internal/agent_protocol.pb.h"
#include "tests/support/http_client.hpp"
#include "tests/support/local_cluster.hpp"
#include "tests/support/test_framework.hpp"
#include "tests/support/transport_side.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;

// An agent made of a transport connection: it says what the test tells it.
class EmulatedAgent {
 public:
  explicit EmulatedAgent(const LocalCluster& cluster)
      : side_("zmq", BuildDir() + "/lib/keel/modules", "{}") {
    EXPECT_TRUE(WaitForBody(cluster.master_port, "/master/transport", "tcp://", 10s));
    const std::string info =
        HttpRequest("127.0.0.1", cluster.master_port, "GET", "/master/transport").body;
    const auto at = info.find("tcp://");
    const std::string endpoint = info.substr(at, info.find('"', at) - at);
    auto peer = side_.OnCore([&] { return side_.transport().Connect(endpoint); });
    EXPECT_TRUE(peer.ok()) << peer.status().message();
    if (peer.ok()) master_ = *peer;
    Recorder& r = side_.recorder();
    EXPECT_TRUE(r.WaitFor([&] { return !r.connected_.empty(); }));
  }

  void Send(const google::protobuf::Message& m) {
    TransportMessage out{std::string(m.GetDescriptor()->full_name()), 1, m.SerializeAsString()};
    EXPECT_TRUE(side_.OnCore([&] { return side_.transport().Send(master_, out); }).ok());
  }

  // Waits for the first message of `m`'s type from the master and parses it.
  bool Receive(google::protobuf::Message* m, size_t nth = 0) {
    Recorder& r = side_.recorder();
    const std::string type(m->GetDescriptor()->full_name());
    std::string payload;
    const bool got = r.WaitFor([&] {
      size_t seen = 0;
      for (const auto& [peer, message] : r.messages_) {
        if (message.type == type && seen++ == nth) {
          payload = message.payload;
          return true;
        }
      }
      return false;
    });
    return got && m->ParseFromString(payload);
  }

  std::string Register() {
    internal::RegisterAgent reg;
    reg.mutable_agent_info()->set_hostname("emulated");
    for (const auto& [name, value] : {std::pair{"cpus", 2.0}, std::pair{"mem", 1024.0}}) {
      auto* r = reg.mutable_agent_info()->add_resources();
      r->set_name(name);
      r->set_type(v1::Value::SCALAR);
      r->mutable_scalar()->set_value(value);
    }
    reg.set_ip("127.0.0.1");
    Send(reg);
    internal::AgentRegistered registered;
    if (!Receive(&registered)) return "";
    return agent_id_ = registered.agent_id().value();
  }

  void Update(const internal::RunTask& run, v1::TaskState state, const std::string& uuid,
              v1::TaskState latest) {
    internal::StatusUpdate update;
    *update.mutable_framework_id() = run.framework().id();
    v1::TaskStatus* status = update.mutable_status();
    *status->mutable_task_id() = run.task().task_id();
    status->set_state(state);
    status->set_uuid(uuid);
    status->set_source(v1::TaskStatus::SOURCE_EXECUTOR);
    status->mutable_agent_id()->set_value(agent_id_);
    update.set_latest_state(latest);
    Send(update);
  }

 private:
  TransportSide side_;
  PeerId master_;
  std::string agent_id_;
};

TEST(StatusUpdateOrderTest, RetryOfAnEarlierUpdateAfterTheEndLeavesTheTaskEnded) {
  LocalCluster cluster(R"({"allocation_interval": "100ms"})", /*with_agent=*/false);
  EmulatedAgent agent(cluster);
  ASSERT_FALSE(agent.Register().empty()) << cluster.master->Stderr();
  TestFramework framework(cluster.master_address());
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer) << cluster.master->Stderr();
  ASSERT_TRUE(framework.Launch(*offer, TestFramework::CommandTask("t", *offer, "true")).ok());
  internal::RunTask run;
  ASSERT_TRUE(agent.Receive(&run));

  // RUNNING, FINISHED, then RUNNING's retry, sent before the agent heard
  // RUNNING was acknowledged (it carries the newest state it knew then).
  const std::string running(16, 'r'), finished(16, 'f');
  agent.Update(run, v1::TASK_RUNNING, running, v1::TASK_RUNNING);
  agent.Update(run, v1::TASK_FINISHED, finished, v1::TASK_FINISHED);
  agent.Update(run, v1::TASK_RUNNING, running, v1::TASK_RUNNING);
  ASSERT_TRUE(framework.WaitForState("t", v1::TASK_FINISHED));

  // The framework's acknowledgement of the end reaches the agent, and the
  // master, which had the end, keeps the task among the completed.
  bool end_acknowledged = false;
  for (size_t nth = 0; nth < 3 && !end_acknowledged; ++nth) {
    internal::StatusUpdateAcknowledgement ack;
    if (!agent.Receive(&ack, nth)) break;
    end_acknowledged = ack.uuid() == finished;
  }
  EXPECT_TRUE(end_acknowledged);
  EXPECT_TRUE(WaitForBody(cluster.master_port, "/master/state", "\"completed_tasks\":[{", 5s));
  const std::string state =
      HttpRequest("127.0.0.1", cluster.master_port, "GET", "/master/state").body;
  EXPECT_THAT(state, testing::HasSubstr("\"tasks\":[]"));
  EXPECT_THAT(state, testing::HasSubstr("\"id\":\"t\",\"name\":\"t\""));
  EXPECT_THAT(state, testing::HasSubstr("\"state\":\"TASK_FINISHED\""));
}

}  // namespace
}  // namespace keel::test
