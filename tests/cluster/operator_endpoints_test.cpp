// The master's operator endpoints as Mesos tools read them: /master/state
// and its aliases, /master/tasks, /metrics/snapshot with Mesos's key names,
// /metrics for Prometheus, the web UI's files, and the agent's sandbox
// files refusing every way out.
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_framework.hpp"

namespace keel::test {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using ::testing::HasSubstr;
using ::testing::Not;

Struct ParseJson(const std::string& json) {
  Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
  return s;
}

const Value& At(const Struct& s, const std::string& key) {
  static const Value kNull;
  auto it = s.fields().find(key);
  return it == s.fields().end() ? kNull : it->second;
}

class OperatorEndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions o = FastCluster();
    o.master_flags.push_back("--max_completed_tasks_per_framework=2");
    cluster = std::make_unique<LocalCluster>(o);
    ASSERT_TRUE(WaitForHttp("127.0.0.1", cluster->master_port, "/health", 200, 10000));
    framework = std::make_unique<TestFramework>(cluster->master_address());
  }

  // Runs `command` as task `id` to its end.
  void Run(const std::string& id, const std::string& command, v1::TaskState end) {
    auto offer = framework->TakeOffer();
    ASSERT_TRUE(offer);
    ASSERT_TRUE(framework->Launch(*offer, TestFramework::CommandTask(id, *offer, command)).ok());
    ASSERT_TRUE(framework->WaitForState(id, end));
  }

  // The state once `count` ended tasks of the framework were acknowledged
  // and moved to its history.
  Struct StateWithCompleted(int count) {
    Struct state;
    for (int i = 0; i < 100; ++i) {
      state = ParseJson(Get("/master/state").body);
      const auto& frameworks = At(state, "frameworks").list_value();
      if (frameworks.values_size() > 0 &&
          At(frameworks.values(0).struct_value(), "completed_tasks").list_value().values_size() >=
              count) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return state;
  }

  HttpResult Get(const std::string& target, uint16_t port = 0) {
    return HttpRequest("127.0.0.1", port ? port : cluster->master_port, "GET", target);
  }

  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<TestFramework> framework;
};

TEST_F(OperatorEndpointsTest, StateShowsAgentsFrameworksAndTasksInMesosShapes) {
  Run("done", "true", v1::TASK_FINISHED);
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(
      framework->Launch(*offer, TestFramework::CommandTask("long", *offer, "sleep 30")).ok());
  ASSERT_TRUE(framework->WaitForState("long", v1::TASK_RUNNING));

  for (const char* path : {"/master/state", "/state", "/state.json", "/master/state.json"}) {
    HttpResult r = Get(path);
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.headers["content-type"], "application/json") << path;
  }
  Struct state = StateWithCompleted(1);
  EXPECT_EQ(At(state, "activated_slaves").number_value(), 1);
  EXPECT_THAT(At(state, "pid").string_value(), HasSubstr("master@127.0.0.1:"));

  const auto& slaves = At(state, "slaves").list_value().values();
  ASSERT_EQ(slaves.size(), 1);
  const Struct& agent = slaves[0].struct_value();
  // Resources in the model form, ranges as text.
  EXPECT_EQ(At(At(agent, "resources").struct_value(), "cpus").number_value(), 2);
  EXPECT_EQ(At(At(agent, "resources").struct_value(), "mem").number_value(), 1024);
  EXPECT_EQ(At(At(agent, "resources").struct_value(), "ports").string_value(), "[31000-32000]");
  EXPECT_NEAR(At(At(agent, "used_resources").struct_value(), "cpus").number_value(), 0.1, 1e-9);
  EXPECT_THAT(At(agent, "pid").string_value(),
              HasSubstr("slave(1)@127.0.0.1:" + std::to_string(cluster->agent_port)));

  const auto& frameworks = At(state, "frameworks").list_value().values();
  ASSERT_EQ(frameworks.size(), 1);
  const Struct& f = frameworks[0].struct_value();
  EXPECT_EQ(At(f, "id").string_value(), framework->client().framework_id());
  EXPECT_TRUE(At(f, "active").bool_value());
  const auto& tasks = At(f, "tasks").list_value().values();
  ASSERT_EQ(tasks.size(), 1);
  EXPECT_EQ(At(tasks[0].struct_value(), "id").string_value(), "long");
  EXPECT_EQ(At(tasks[0].struct_value(), "state").string_value(), "TASK_RUNNING");
  EXPECT_EQ(At(tasks[0].struct_value(), "slave_id").string_value(), At(agent, "id").string_value());
  const auto& completed = At(f, "completed_tasks").list_value().values();
  ASSERT_EQ(completed.size(), 1);
  const Struct& done = completed[0].struct_value();
  EXPECT_EQ(At(done, "state").string_value(), "TASK_FINISHED");
  const auto& statuses = At(done, "statuses").list_value().values();
  ASSERT_GE(statuses.size(), 2);
  EXPECT_EQ(At(statuses[statuses.size() - 1].struct_value(), "state").string_value(),
            "TASK_FINISHED");

  Struct page = ParseJson(Get("/master/tasks?limit=1&order=des").body);
  ASSERT_EQ(At(page, "tasks").list_value().values_size(), 1);
  Struct one = ParseJson(Get("/master/tasks?task_id=done").body);
  ASSERT_EQ(At(one, "tasks").list_value().values_size(), 1);
  EXPECT_EQ(At(At(one, "tasks").list_value().values(0).struct_value(), "id").string_value(),
            "done");
  EXPECT_EQ(At(ParseJson(Get("/master/slaves").body), "slaves").list_value().values_size(), 1);
  EXPECT_EQ(At(ParseJson(Get("/master/frameworks").body), "frameworks").list_value().values_size(),
            1);
}

TEST_F(OperatorEndpointsTest, MetricsCarryMesosKeyNames) {
  Run("ok", "true", v1::TASK_FINISHED);
  Run("bad", "exit 2", v1::TASK_FAILED);
  Struct m = ParseJson(Get("/metrics/snapshot").body);
  EXPECT_EQ(At(m, "master/cpus_total").number_value(), 2);
  EXPECT_EQ(At(m, "master/mem_total").number_value(), 1024);
  EXPECT_EQ(At(m, "master/slaves_active").number_value(), 1);
  EXPECT_EQ(At(m, "master/frameworks_active").number_value(), 1);
  EXPECT_EQ(At(m, "master/tasks_finished").number_value(), 1);
  EXPECT_EQ(At(m, "master/tasks_failed").number_value(), 1);
  EXPECT_EQ(At(m, "master/tasks_running").number_value(), 0);
  EXPECT_EQ(At(m, "master/elected").number_value(), 1);
  EXPECT_GT(At(m, "master/uptime_secs").number_value(), 0);
  EXPECT_TRUE(m.fields().count("master/cpus_used"));
  EXPECT_TRUE(m.fields().count("master/allocation_run_ms"));

  HttpResult prometheus = Get("/metrics");
  EXPECT_EQ(prometheus.status, 200);
  EXPECT_THAT(prometheus.headers["content-type"], HasSubstr("text/plain"));
  EXPECT_THAT(prometheus.body, HasSubstr("\nkeel_master_cpus_total 2\n"));
  EXPECT_THAT(prometheus.body, HasSubstr("\nkeel_master_tasks_finished 1\n"));
}

TEST_F(OperatorEndpointsTest, OperatorApiReadsInMesosShapes) {
  Run("done", "true", v1::TASK_FINISHED);
  auto call = [&](const std::string& type) {
    HttpResult r =
        HttpRequest("127.0.0.1", cluster->master_port, "POST", "/api/v1",
                    R"({"type":")" + type + "\"}", {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 200) << type << ": " << r.body;
    Struct body = ParseJson(r.body);
    EXPECT_EQ(At(body, "type").string_value(), type);
    return body;
  };
  EXPECT_TRUE(At(At(call("GET_HEALTH"), "get_health").struct_value(), "healthy").bool_value());
  EXPECT_FALSE(
      At(At(At(call("GET_VERSION"), "get_version").struct_value(), "version_info").struct_value(),
         "version")
          .string_value()
          .empty());
  EXPECT_THAT(call("GET_FLAGS").DebugString(), HasSubstr("work_dir"));
  EXPECT_THAT(call("GET_METRICS").DebugString(), HasSubstr("master/cpus_total"));
  const Struct agents = At(call("GET_AGENTS"), "get_agents").struct_value();
  ASSERT_EQ(At(agents, "agents").list_value().values_size(), 1);
  const Struct agent = At(agents, "agents").list_value().values(0).struct_value();
  EXPECT_TRUE(At(agent, "active").bool_value());
  // Resources in protobuf form here, as Mesos's operator API has them.
  EXPECT_THAT(At(agent, "total_resources").DebugString(), HasSubstr("SCALAR"));
  const Struct frameworks = At(call("GET_FRAMEWORKS"), "get_frameworks").struct_value();
  EXPECT_EQ(At(frameworks, "frameworks").list_value().values_size(), 1);
  const Struct state = At(call("GET_STATE"), "get_state").struct_value();
  for (const char* part : {"get_tasks", "get_frameworks", "get_agents", "get_executors"}) {
    EXPECT_TRUE(state.fields().count(part)) << part;
  }
  EXPECT_THAT(At(call("GET_TASKS"), "get_tasks").DebugString(), HasSubstr("TASK_FINISHED"));
}

// Reads an operator SUBSCRIBE stream on a raw socket, as any client would,
// until `needle` arrived or `timeout` passed; returns what was read.
class RawStream {
 public:
  RawStream(uint16_t port, const std::string& body) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    const std::string request =
        "POST /api/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL);
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawStream() { ::close(fd_); }

  bool ReadUntil(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (data_.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) data_.append(buf, n);
      if (n == 0) break;
    }
    return data_.find(needle) != std::string::npos;
  }
  const std::string& data() const { return data_; }

 private:
  int fd_ = -1;
  std::string data_;
};

TEST_F(OperatorEndpointsTest, OperatorSubscribeStreamsTheClustersChanges) {
  RawStream stream(cluster->master_port, R"({"type":"SUBSCRIBE"})");
  ASSERT_TRUE(stream.ReadUntil("\"SUBSCRIBED\"", std::chrono::seconds(10))) << stream.data();
  EXPECT_THAT(stream.data(), HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(stream.data(), HasSubstr("heartbeat_interval_seconds"));
  EXPECT_THAT(stream.data(), HasSubstr("get_state"));

  Run("watched", "true", v1::TASK_FINISHED);
  ASSERT_TRUE(stream.ReadUntil("TASK_FINISHED", std::chrono::seconds(10))) << stream.data();
  EXPECT_THAT(stream.data(), HasSubstr("\"TASK_ADDED\""));
  EXPECT_THAT(stream.data(), HasSubstr("\"TASK_UPDATED\""));
  EXPECT_THAT(stream.data(), HasSubstr("\"watched\""));

  // A second framework coming and going is told too.
  {
    TestFramework other(cluster->master_address());
    ASSERT_TRUE(other.TakeOffer(std::chrono::seconds(5)) || true);
  }
  EXPECT_TRUE(stream.ReadUntil("\"FRAMEWORK_UPDATED\"", std::chrono::seconds(10))) << stream.data();
  EXPECT_THAT(stream.data(), HasSubstr("\"FRAMEWORK_ADDED\""));
}

TEST_F(OperatorEndpointsTest, AgentServesItsStateAndContainerStatistics) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer);
  // Burns a little CPU, then waits.
  ASSERT_TRUE(
      framework
          ->Launch(*offer, TestFramework::CommandTask(
                               "busy", *offer,
                               "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 30"))
          .ok());
  ASSERT_TRUE(framework->WaitForState("busy", v1::TASK_RUNNING));

  Struct state = ParseJson(Get("/state", cluster->agent_port).body);
  EXPECT_EQ(At(At(state, "resources").struct_value(), "cpus").number_value(), 2);
  const auto& frameworks = At(state, "frameworks").list_value().values();
  ASSERT_EQ(frameworks.size(), 1);
  const auto& executors = At(frameworks[0].struct_value(), "executors").list_value().values();
  ASSERT_EQ(executors.size(), 1);
  EXPECT_EQ(At(executors[0].struct_value(), "id").string_value(), "busy");
  EXPECT_FALSE(At(executors[0].struct_value(), "directory").string_value().empty());

  // Statistics in Mesos's shape; the CPU time grows as the task runs.
  Struct stats;
  for (int i = 0; i < 50; ++i) {
    HttpResult r = Get("/monitor/statistics", cluster->agent_port);
    ASSERT_EQ(r.status, 200);
    google::protobuf::ListValue list;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &list).ok()) << r.body;
    ASSERT_EQ(list.values_size(), 1) << r.body;
    stats = list.values(0).struct_value();
    // Both once the task runs its own program: a sample taken between the
    // child's move into its cgroups and its exec has CPU time but no memory
    // of the task's yet (the cgroups isolators count the task's own pages).
    const Struct& s = At(stats, "statistics").struct_value();
    if (At(s, "cpus_user_time_secs").number_value() +
                At(s, "cpus_system_time_secs").number_value() >
            0 &&
        At(s, "mem_rss_bytes").number_value() > 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(At(stats, "executor_id").string_value(), "busy");
  EXPECT_EQ(At(stats, "framework_id").string_value(), framework->client().framework_id());
  const Struct& s = At(stats, "statistics").struct_value();
  EXPECT_GT(At(s, "timestamp").number_value(), 0);
  EXPECT_GT(
      At(s, "cpus_user_time_secs").number_value() + At(s, "cpus_system_time_secs").number_value(),
      0);
  EXPECT_GT(At(s, "mem_rss_bytes").number_value(), 0);
}

TEST_F(OperatorEndpointsTest, JsonpAndRouteAliasesAsMesosHasThem) {
  HttpResult wrapped = Get("/master/state?jsonp=showState");
  EXPECT_EQ(wrapped.status, 200);
  EXPECT_EQ(wrapped.headers["content-type"], "text/javascript");
  EXPECT_EQ(wrapped.body.rfind("showState({", 0), 0u) << wrapped.body.substr(0, 40);
  EXPECT_EQ(wrapped.body.substr(wrapped.body.size() - 2), ");");
  EXPECT_EQ(Get("/metrics/snapshot?jsonp=m").body.rfind("m({", 0), 0u);
  HttpResult agent = Get("/monitor/statistics?jsonp=stats", cluster->agent_port);
  EXPECT_EQ(agent.body.rfind("stats([", 0), 0u) << agent.status << " " << agent.body;
  // Only a JavaScript name may be called.
  EXPECT_EQ(Get("/master/state?jsonp=alert(1)//").status, 400);

  EXPECT_EQ(Get("/master/frameworks/").status, 200);
  EXPECT_EQ(Get("/slaves").status, 200);
  EXPECT_EQ(Get("/tasks?order=des&limit=1&offset=0").status, 200);
  for (const char* path : {"/api/v1/operator", "/master/api/v1/operator", "/api/v1?x=1"}) {
    HttpResult r = HttpRequest("127.0.0.1", cluster->master_port, "POST", path,
                               R"({"type":"GET_HEALTH"})", {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    EXPECT_THAT(r.body, HasSubstr("\"healthy\":true")) << path;
  }
}

TEST_F(OperatorEndpointsTest, HistoryOfEndedTasksIsBounded) {
  for (const char* id : {"t1", "t2", "t3"}) Run(id, "true", v1::TASK_FINISHED);
  // A task moves to the history once its end is acknowledged.
  Struct state;
  for (int i = 0; i < 50; ++i) {
    state = ParseJson(Get("/master/state").body);
    const auto& f = At(state, "frameworks").list_value().values(0).struct_value();
    if (At(f, "tasks").list_value().values_size() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto& f = At(state, "frameworks").list_value().values(0).struct_value();
  const auto& completed = At(f, "completed_tasks").list_value().values();
  ASSERT_EQ(completed.size(), 2);  // --max_completed_tasks_per_framework=2: the newest two
  EXPECT_EQ(At(completed[0].struct_value(), "id").string_value(), "t3");
  EXPECT_EQ(At(completed[1].struct_value(), "id").string_value(), "t2");
}

TEST_F(OperatorEndpointsTest, WebUiIsServedAndItsDirectoryIsNotLeft) {
  HttpResult index = Get("/");
  ASSERT_EQ(index.status, 200);
  EXPECT_THAT(index.headers["content-type"], HasSubstr("text/html"));
  EXPECT_THAT(index.body, HasSubstr("<html"));
  EXPECT_EQ(Get("/no-such-file.js").status, 404);
  for (const char* escape : {"/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                             "/..%2f..%2f..%2fetc%2fpasswd"}) {
    HttpResult r = Get(escape);
    EXPECT_TRUE(r.status == 403 || r.status == 400) << escape << ": " << r.status;
    EXPECT_THAT(r.body, Not(HasSubstr("root:")));
  }
}

TEST_F(OperatorEndpointsTest, SandboxFilesRefuseEveryWayOut) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer);
  // The task leaves a symlink pointing out of its sandbox.
  ASSERT_TRUE(framework
                  ->Launch(*offer, TestFramework::CommandTask("links", *offer,
                                                              "ln -s /etc/passwd out; echo inside"))
                  .ok());
  ASSERT_TRUE(framework->WaitForState("links", v1::TASK_FINISHED));
  const std::string base = "/files/read?path=/frameworks/" + framework->client().framework_id() +
                           "/executors/links/runs/latest";
  HttpResult inside = Get(base + "/stdout&offset=0", cluster->agent_port);
  EXPECT_EQ(inside.status, 200);
  EXPECT_THAT(inside.body, HasSubstr("inside"));
  EXPECT_EQ(inside.headers["access-control-allow-origin"], "*");
  for (const std::string& out : {base + "/out", base + "/../../../../../../../etc/passwd",
                                 base + "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                                 std::string("/files/read?path=/etc/passwd")}) {
    HttpResult r = Get(out + "&offset=0", cluster->agent_port);
    EXPECT_TRUE(r.status == 403 || r.status == 404) << out << ": " << r.status;
    EXPECT_THAT(r.body, Not(HasSubstr("root:"))) << out;
  }
}

}  // namespace
}  // namespace keel::test
