// Every bad scheduler API request gets Mesos's status code and a one-line
// reason, and the master keeps serving.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/http_client.hpp"

namespace keel::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kPath = "/api/v1/scheduler";

class SchedulerApiTest : public ::testing::Test {
 protected:
  HttpResult Post(const std::string& body, std::map<std::string, std::string> headers = {
                                               {"Content-Type", "application/json"}}) {
    return HttpRequest("127.0.0.1", cluster.master_port, "POST", kPath, body, headers);
  }
  LocalCluster cluster{ClusterOptions{"", {}, {}, /*with_agent=*/false}};
};

TEST_F(SchedulerApiTest, MalformedRequestsAreRefusedWithTheReason) {
  ASSERT_TRUE(WaitForHttp("127.0.0.1", cluster.master_port, "/health", 200, 10000));
  struct Case {
    std::string what;
    HttpResult result;
    int status;
    std::string reason;
  };
  const std::string subscribe =
      R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}})";
  std::vector<Case> cases = {
      {"GET", HttpRequest("127.0.0.1", cluster.master_port, "GET", kPath), 405, "POST"},
      {"no content type", Post(subscribe, {}), 400, "Content-Type"},
      {"text/plain", Post(subscribe, {{"Content-Type", "text/plain"}}), 415, "Content-Type"},
      {"bad JSON", Post("{\"type\": SUBSCRIBE"), 400, "Failed to convert JSON"},
      {"no type", Post("{}"), 400, "'type'"},
      {"unknown type", Post(R"({"type":"FROBNICATE"})"), 400, "'type'"},
      {"missing required field",
       Post(R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"n"}}})"), 400,
       "missing field user"},
      {"no payload", Post(R"({"type":"SUBSCRIBE"})"), 400, "'subscribe'"},
      {"subscribe with a stream id",
       Post(subscribe, {{"Content-Type", "application/json"}, {"Mesos-Stream-Id", "x"}}), 400,
       "Mesos-Stream-Id"},
      {"unacceptable Accept",
       Post(subscribe, {{"Content-Type", "application/json"}, {"Accept", "text/html"}}), 406,
       "Accept"},
      {"no framework id", Post(R"({"type":"REVIVE"})"), 400, "framework_id"},
      {"unknown framework",
       Post(R"({"type":"REVIVE","framework_id":{"value":"nobody"}})",
            {{"Content-Type", "application/json"}, {"Mesos-Stream-Id", "x"}}),
       400, "Framework cannot be found"},
      {"bad uuid", Post(R"({"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{
              "agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"AAAA"}})"),
       400, "uuid"},
  };
  // Protobuf bodies are read as well as JSON.
  {
    scheduler::Call call;
    call.set_type(scheduler::Call::REVIVE);
    call.mutable_framework_id()->set_value("nobody");
    cases.push_back({"protobuf body",
                     Post(call.SerializeAsString(),
                          {{"Content-Type", "application/x-protobuf"}, {"Mesos-Stream-Id", "x"}}),
                     400, "Framework cannot be found"});
    cases.push_back({"garbage protobuf",
                     Post("\xff\xff\xff", {{"Content-Type", "application/x-protobuf"}}), 400,
                     "protobuf"});
  }
  for (const auto& c : cases) {
    EXPECT_EQ(c.result.status, c.status) << c.what << ": " << c.result.body;
    EXPECT_THAT(c.result.body, HasSubstr(c.reason)) << c.what;
    EXPECT_EQ(c.result.body.find('\n'), std::string::npos) << c.what << ": " << c.result.body;
  }
  // Still serving.
  EXPECT_EQ(HttpRequest("127.0.0.1", cluster.master_port, "GET", "/health").status, 200);
}

TEST_F(SchedulerApiTest, CallsMustComeFromTheCurrentSubscription) {
  FrameworkOptions options;
  options.failover_timeout = 60;
  TestFramework framework(cluster.master_address(), options);
  ASSERT_TRUE(framework.WaitFor([](const std::vector<Event>& e) { return !e.empty(); }));
  const std::string id = framework.client().framework_id();
  const std::string revive = R"({"type":"REVIVE","framework_id":{"value":")" + id + R"("}})";

  auto missing = Post(revive);
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(missing.body, HasSubstr("Mesos-Stream-Id"));
  auto wrong = Post(revive, {{"Content-Type", "application/json"}, {"Mesos-Stream-Id", "stale"}});
  EXPECT_EQ(wrong.status, 400);
  EXPECT_THAT(wrong.body, HasSubstr("didn't match"));
  // Through the client (the right stream id): accepted, with an empty body.
  EXPECT_TRUE(framework.client().Revive().ok());
  auto unimplemented = framework.client().Send([] {
    scheduler::Call call;
    call.set_type(scheduler::Call::ACCEPT_INVERSE_OFFERS);
    return call;
  }());
  EXPECT_THAT(unimplemented.ToString(), HasSubstr("501"));

  framework.Disconnect();
  std::this_thread::sleep_for(300ms);
  auto gone = Post(revive, {{"Content-Type", "application/json"}, {"Mesos-Stream-Id", "any"}});
  EXPECT_EQ(gone.status, 403);
  EXPECT_THAT(gone.body, HasSubstr("not subscribed"));
}

}  // namespace
}  // namespace keel::test
