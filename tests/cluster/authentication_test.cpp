// Authentication as an operator turns it on: Mesos's flags and credentials
// file on a real master, frameworks and operators with and without the
// right credentials, agents that must authenticate, and files the daemon
// must refuse.
#include <crypt.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <future>

#include "kernel/runtime/json_text.hpp"
#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_framework.hpp"

namespace keel::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr const char* kSubscribe =
    R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"PRINCIPAL}}})";

std::string SubscribeBody(const std::string& principal = "") {
  std::string body = kSubscribe;
  const std::string field = principal.empty() ? "" : R"(,"principal":")" + principal + "\"";
  body.replace(body.find("PRINCIPAL"), 9, field);
  return body;
}

std::string Basic(const std::string& principal, const std::string& secret) {
  return "Basic " + runtime::Base64(principal + ":" + secret);
}

// A SHA-512 crypt(3) hash of `secret`, as `mkpasswd -m sha-512` makes.
std::string Sha512Crypt(const std::string& secret) {
  struct crypt_data data = {};
  const char* hash = crypt_r(secret.c_str(), "$6$keeltestsalt$", &data);
  return hash ? hash : "";
}

// Writes `content` to `path` with `mode`.
void WriteSecretFile(const std::string& path, const std::string& content, mode_t mode) {
  WriteFile(path, content);
  ::chmod(path.c_str(), mode);
}

class AuthenticationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    credentials = files.path() + "/credentials.json";
    WriteSecretFile(credentials,
                    R"({"credentials": [{"principal": "alice", "secret": "wonderland"},
                                        {"principal": "bob", "secret": ")" +
                        Sha512Crypt("builder") + R"("}]})",
                    0600);
  }

  void Start(std::vector<std::string> master_flags, bool with_agent = true,
             std::vector<std::string> agent_flags = {}) {
    ClusterOptions o = FastCluster();
    o.master_flags.insert(o.master_flags.end(), master_flags.begin(), master_flags.end());
    o.agent_flags.insert(o.agent_flags.end(), agent_flags.begin(), agent_flags.end());
    o.with_agent = with_agent;
    cluster = std::make_unique<LocalCluster>(o);
    ASSERT_TRUE(WaitForHttp("127.0.0.1", cluster->master_port, "/health", 200, 10000));
  }

  HttpResult Post(const std::string& path, const std::string& body,
                  std::map<std::string, std::string> headers = {}) {
    headers["Content-Type"] = "application/json";
    return HttpRequest("127.0.0.1", cluster->master_port, "POST", path, body, headers);
  }

  HttpResult Get(const std::string& path, std::map<std::string, std::string> headers = {}) {
    return HttpRequest("127.0.0.1", cluster->master_port, "GET", path, "", headers);
  }

  TempDir files;
  std::string credentials;
  std::unique_ptr<LocalCluster> cluster;
};

TEST_F(AuthenticationTest, FrameworksNeedTheRightCredentials) {
  Start({"--authenticate_frameworks", "--credentials=" + credentials});

  HttpResult none = Post("/api/v1/scheduler", SubscribeBody());
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_EQ(none.headers["www-authenticate"], R"(Basic realm="keel-master-scheduler")");

  HttpResult wrong = Post("/api/v1/scheduler", SubscribeBody("alice"),
                          {{"Authorization", Basic("alice", "looking-glass")}});
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_THAT(wrong.headers["www-authenticate"], HasSubstr("Basic"));
  // Which of principal and secret was wrong stays in the master's log.
  EXPECT_THAT(wrong.body, Not(HasSubstr("secret")));

  HttpResult unknown =
      Post("/api/v1/scheduler", SubscribeBody(), {{"Authorization", Basic("mallory", "x")}});
  EXPECT_EQ(unknown.status, 401) << unknown.body;

  HttpResult mismatch = Post("/api/v1/scheduler", SubscribeBody("bob"),
                             {{"Authorization", Basic("alice", "wonderland")}});
  EXPECT_EQ(mismatch.status, 403) << mismatch.body;
  EXPECT_THAT(mismatch.body, HasSubstr("does not match principal 'bob'"));

  // The right credentials (bob's secret stored as a SHA-512 crypt hash): a
  // task runs to its end.
  FrameworkOptions options;
  options.principal = "bob";
  options.secret = "builder";
  TestFramework framework(cluster->master_address(), options);
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer) << cluster->master->Stderr();
  ASSERT_TRUE(framework.Launch(*offer, TestFramework::CommandTask("t1", *offer, "true")).ok());
  auto finished = framework.WaitForState("t1", v1::TASK_FINISHED);
  ASSERT_TRUE(finished);

  EXPECT_THAT(cluster->master->Stderr(), HasSubstr("authentication failed"));
  HttpResult metrics = Get("/metrics/snapshot");
  EXPECT_THAT(metrics.body, HasSubstr("\"master/authentication/http_failures\":3"));
}

bool Subscribed(TestFramework& framework) {
  return framework.WaitFor([](const std::vector<Event>& events) {
    for (const auto& e : events) {
      if (e.type() == Event::SUBSCRIBED) return true;
    }
    return false;
  });
}

TEST_F(AuthenticationTest, AFrameworkWithoutPrincipalTakesTheAuthenticatedOne) {
  Start({"--authenticate_frameworks", "--credentials=" + credentials}, false);
  FrameworkOptions options;
  options.principal = "alice";
  options.secret = "wonderland";
  options.send_framework_principal = false;
  TestFramework framework(cluster->master_address(), options);
  EXPECT_TRUE(Subscribed(framework)) << cluster->master->Stderr();
}

TEST_F(AuthenticationTest, OperatorEndpointsNeedCredentialsInTheirRealm) {
  Start({"--authenticate_http_readonly", "--authenticate_http_readwrite",
         "--credentials=" + credentials},
        false);
  const std::map<std::string, std::string> alice = {
      {"Authorization", Basic("alice", "wonderland")}};
  const std::string get_weights = R"({"type":"GET_WEIGHTS"})";

  HttpResult read = Get("/weights");
  EXPECT_EQ(read.status, 401);
  EXPECT_EQ(read.headers["www-authenticate"], R"(Basic realm="keel-master-readonly")");
  EXPECT_EQ(Get("/weights", {{"Authorization", Basic("alice", "nope")}}).status, 401);
  EXPECT_EQ(Get("/weights", alice).status, 200);

  HttpResult call = Post("/api/v1", get_weights);
  EXPECT_EQ(call.status, 401);
  EXPECT_EQ(call.headers["www-authenticate"], R"(Basic realm="keel-master-readwrite")");
  EXPECT_EQ(Post("/api/v1", get_weights, alice).status, 200);

  // Health stays open for load balancers; frameworks were not asked to
  // authenticate.
  EXPECT_EQ(Get("/health").status, 200);
  TestFramework framework(cluster->master_address());
  EXPECT_TRUE(Subscribed(framework));
}

TEST_F(AuthenticationTest, RepeatedFailuresAreSlowedWithoutHoldingUpOthers) {
  Start({"--authenticate_http_readonly", "--credentials=" + credentials}, false);
  const std::map<std::string, std::string> wrong = {{"Authorization", Basic("alice", "guess")}};
  // 100, 200, 400 ms held back ...
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Get("/weights", wrong).status, 401);
  // ... so the fourth refusal waits 800 ms, while the right credentials are
  // answered meanwhile.
  const auto start = std::chrono::steady_clock::now();
  auto fourth = std::async(std::launch::async, [&] { return Get("/weights", wrong); });
  std::this_thread::sleep_for(50ms);
  HttpResult right = Get("/weights", {{"Authorization", Basic("alice", "wonderland")}});
  const auto right_done = std::chrono::steady_clock::now();
  EXPECT_EQ(right.status, 200);
  EXPECT_EQ(fourth.get().status, 401);
  const auto fourth_done = std::chrono::steady_clock::now();
  EXPECT_GE(fourth_done - start, 700ms);
  EXPECT_LT(right_done, fourth_done);
}

TEST_F(AuthenticationTest, AgentsMustAuthenticateWhenAsked) {
  const std::string agent_credential = files.path() + "/agent-credential.json";
  WriteSecretFile(agent_credential, R"({"principal": "alice", "secret": "wonderland"})", 0600);
  const std::string bad_credential = files.path() + "/bad-credential.json";
  WriteSecretFile(bad_credential, R"({"principal": "alice", "secret": "guess"})", 0600);

  // Without the right credential the agent never registers: no offers.
  Start({"--authenticate_agents", "--credentials=" + credentials}, true,
        {"--credential=" + bad_credential});
  {
    TestFramework framework(cluster->master_address());
    EXPECT_FALSE(framework.TakeOffer(3s));
  }
  EXPECT_THAT(cluster->master->Stderr(), HasSubstr("principal 'alice') refused"));

  cluster.reset();
  Start({"--authenticate_agents", "--credentials=" + credentials}, true,
        {"--credential=" + agent_credential});
  TestFramework framework(cluster->master_address());
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer) << cluster->master->Stderr();
  ASSERT_TRUE(framework.Launch(*offer, TestFramework::CommandTask("t1", *offer, "true")).ok());
  EXPECT_TRUE(framework.WaitForState("t1", v1::TASK_FINISHED));
}

// A daemon started with a bad credentials file exits at once, naming it.
RunResult StartMaster(const std::vector<std::string>& flags, const TempDir& dir) {
  std::vector<std::string> argv = {Bin("keel-master"), "--ip=127.0.0.1",
                                   "--port=" + std::to_string(FreePort()),
                                   "--work_dir=" + dir.path() + "/m"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return RunCommand(argv, 20s);
}

TEST_F(AuthenticationTest, BadCredentialFilesRefuseTheStart) {
  const std::string readable = files.path() + "/readable.json";
  WriteSecretFile(readable, R"({"credentials": [{"principal": "a", "secret": "b"}]})", 0644);
  const std::string malformed = files.path() + "/malformed.json";
  WriteSecretFile(malformed, R"({"credentials": [{"principal": "a", )", 0600);
  const std::string missing = files.path() + "/missing.json";

  for (const auto& file : {readable, malformed, missing}) {
    RunResult r = StartMaster({"--authenticate_frameworks", "--credentials=" + file}, files);
    EXPECT_EQ(r.exit_code, 1) << file;
    EXPECT_THAT(r.err, HasSubstr(file));
  }
  RunResult r = StartMaster({"--authenticate_frameworks"}, files);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("credentials"));

  // An agent's own credential file, readable by others.
  const std::string agent_credential = files.path() + "/agent.json";
  WriteSecretFile(agent_credential, R"({"principal": "a", "secret": "b"})", 0644);
  RunResult agent =
      RunCommand({Bin("keel-agent"), "--master=127.0.0.1:1", "--ip=127.0.0.1",
                  "--port=" + std::to_string(FreePort()), "--work_dir=" + files.path() + "/a",
                  "--credential=" + agent_credential},
                 20s);
  EXPECT_EQ(agent.exit_code, 1);
  EXPECT_THAT(agent.err, HasSubstr(agent_credential));
}

}  // namespace
}  // namespace keel::test
