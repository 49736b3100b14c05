// Operators' weights and quotas through the v1 operator API (POST /api/v1)
// and the legacy /weights and /quota endpoints: they are read back as set,
// survive a master restart through the registry in the master's work_dir,
// bad ones are refused whole with the reason, and a quota limit holds in the
// offers a framework of that role gets.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "keel/resources.hpp"
#include "keel/scheduler/scheduler_client.hpp"
#include "keel/v1/master.pb.h"
#include "keel/v1/quota.pb.h"
#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/http_client.hpp"

namespace keel::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using v1::master::Response;

const std::map<std::string, std::string> kJson = {{"Content-Type", "application/json"}};

HttpResult Post(uint16_t port, const std::string& path, const std::string& body,
                const std::map<std::string, std::string>& headers = kJson) {
  return HttpRequest("127.0.0.1", port, "POST", path, body, headers);
}

// Stops `cluster`'s master as an operator would (SIGTERM) and starts another
// keel-master process on the same port and `work_dir`, with FastCluster's
// timers; true once it answers /health.
bool RestartMaster(LocalCluster& cluster, const std::string& work_dir) {
  if (!cluster.master->Signal(SIGTERM) || !cluster.master->Wait(5s)) return false;
  std::vector<std::string> argv = {Bin("keel-master"), "--ip=127.0.0.1",
                                   "--port=" + std::to_string(cluster.master_port),
                                   "--work_dir=" + work_dir};
  for (const std::string& flag : FastCluster().master_flags) argv.push_back(flag);
  cluster.master = std::make_unique<Subprocess>(argv);
  return WaitForHttp("127.0.0.1", cluster.master_port, "/health", 200, 10000);
}

// A master alone on `work_dir`, with fast timers, answering /health.
class OperatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WaitForHttp("127.0.0.1", port(), "/health", 200, 10000)) << master_stderr();
  }
  ClusterOptions Options() {
    ClusterOptions o = FastCluster();
    o.with_agent = false;
    o.master_flags.push_back("--work_dir=" + work_dir());
    return o;
  }
  std::string work_dir() const { return work.path() + "/master"; }
  uint16_t port() const { return cluster.master_port; }
  std::string master_stderr() const { return cluster.master ? cluster.master->Stderr() : ""; }

  HttpResult Call(const std::string& json) { return Post(port(), "/api/v1", json); }
  // UPDATE_WEIGHTS and UPDATE_QUOTA with these lists, which must be accepted.
  void UpdateWeights(const std::string& weight_infos) {
    HttpResult r =
        Call(R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":)" + weight_infos + "}}");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "");
  }
  void UpdateQuota(const std::string& quota_configs) {
    HttpResult r =
        Call(R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":)" + quota_configs + "}}");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "");
  }
  // A call that must succeed, its Response read back from JSON.
  Response Get(const std::string& type) {
    HttpResult r = Call(R"({"type":")" + type + R"("})");
    EXPECT_EQ(r.status, 200) << r.body;
    Response response;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &response).ok()) << r.body;
    return response;
  }
  std::map<std::string, double> Weights() {
    std::map<std::string, double> out;
    const Response response = Get("GET_WEIGHTS");
    for (const auto& info : response.get_weights().weight_infos()) {
      out[info.role()] = info.weight();
    }
    return out;
  }
  // Every quota config, as "role guarantees{cpus:1} limits{cpus:2}".
  std::vector<std::string> Quotas() { return Describe(Get("GET_QUOTA").get_quota().status()); }
  static std::vector<std::string> Describe(const v1::quota::QuotaStatus& status) {
    std::vector<std::string> out;
    for (const auto& config : status.configs()) {
      out.push_back(config.role() + " guarantees{" + Amounts(config.guarantees()) + "} limits{" +
                    Amounts(config.limits()) + "}");
    }
    return out;
  }
  // "cpus:1;mem:2048;", sorted by name.
  static std::string Amounts(const google::protobuf::Map<std::string, v1::Value::Scalar>& map) {
    std::map<std::string, double> sorted;
    for (const auto& [name, scalar] : map) sorted[name] = scalar.value();
    std::string s;
    for (const auto& [name, value] : sorted) {
      s += name + ":" + Scalar::FromDouble(value).ToString() + ";";
    }
    return s;
  }

  TempDir work;
  LocalCluster cluster{Options()};
};

TEST_F(OperatorTest, UpdateWeightsThenGetWeights) {
  EXPECT_TRUE(Weights().empty());
  UpdateWeights(R"([{"role":"eng","weight":2.5},{"role":"eng/frontend","weight":0.5}])");
  // Other roles keep their weights.
  UpdateWeights(R"([{"role":"ops","weight":3}])");
  EXPECT_EQ(Weights(),
            (std::map<std::string, double>{{"eng", 2.5}, {"eng/frontend", 0.5}, {"ops", 3}}));

  // The same through /master/api/v1, in protobuf both ways.
  v1::master::Call call;
  call.set_type(v1::master::Call::GET_WEIGHTS);
  HttpResult r =
      Post(port(), "/master/api/v1", call.SerializeAsString(),
           {{"Content-Type", "application/x-protobuf"}, {"Accept", "application/x-protobuf"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/x-protobuf");
  Response response;
  ASSERT_TRUE(response.ParseFromString(r.body));
  EXPECT_EQ(response.type(), Response::GET_WEIGHTS);
  EXPECT_EQ(response.get_weights().weight_infos_size(), 3);
}

TEST_F(OperatorTest, UpdateQuotaThenGetQuota) {
  UpdateQuota(R"([
      {"role":"dev","guarantees":{"cpus":{"value":1}},"limits":{"cpus":{"value":2},"mem":{"value":2048}}},
      {"role":"eng/ci","limits":{"cpus":{"value":0.5}}}])");
  Response response = Get("GET_QUOTA");
  EXPECT_EQ(response.type(), Response::GET_QUOTA);
  EXPECT_THAT(Describe(response.get_quota().status()),
              ::testing::ElementsAre("dev guarantees{cpus:1;} limits{cpus:2;mem:2048;}",
                                     "eng/ci guarantees{} limits{cpus:0.5;}"));
  // Legacy clients read the guarantees as `infos`.
  ASSERT_EQ(response.get_quota().status().infos_size(), 2);
  const auto& info = response.get_quota().status().infos(0);
  EXPECT_EQ(info.role(), "dev");
  ASSERT_EQ(info.guarantee_size(), 1);
  EXPECT_EQ(info.guarantee(0).name(), "cpus");
  EXPECT_EQ(info.guarantee(0).scalar().value(), 1);

  // A config with neither guarantees nor limits: back to the default.
  UpdateQuota(R"([{"role":"dev"}])");
  EXPECT_THAT(Quotas(), ::testing::ElementsAre("eng/ci guarantees{} limits{cpus:0.5;}"));
}

TEST_F(OperatorTest, BadWeightsAndQuotasAreRefusedWholeWithTheReason) {
  UpdateWeights(R"([
      {"role":"eng","weight":2}])");
  UpdateQuota(R"([
      {"role":"dev","limits":{"cpus":{"value":2}}}])");
  const auto weights = Weights();
  const auto quotas = Quotas();

  struct Case {
    std::string body;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":0}]}})",
       "update_weights.weight_infos[0].weight: 0 is not positive"},
      {R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
           {"role":"ok","weight":1},{"role":"a//b","weight":1}]}})",
       "update_weights.weight_infos[1].role: role 'a//b' has two '/' in a row"},
      {R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"weight":1}]}})",
       "update_weights.weight_infos[0].role: the role name is empty"},
      {R"({"type":"UPDATE_WEIGHTS"})", "Expecting 'update_weights' to be present"},
      {R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
           {"role":"dev","limits":{"cpus":{"value":-1}}}]}})",
       "update_quota.quota_configs[0].limits['cpus']: -1 is negative"},
      {R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
           {"role":"dev","guarantees":{"cpus":{"value":3}},"limits":{"cpus":{"value":2}}}]}})",
       "update_quota.quota_configs[0]: the guarantee of 'cpus' (3) is above its limit (2)"},
      // All or nothing: the valid first config is not applied either.
      {R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
           {"role":"prod","limits":{"cpus":{"value":1}}},
           {"role":"-bad","limits":{"cpus":{"value":1}}}]}})",
       "update_quota.quota_configs[1].role: role '-bad' has a path component starting with '-'"},
      {R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
           {"role":"*","limits":{"cpus":{"value":1}}}]}})",
       "quota cannot be set for the default role '*'"},
      {R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
           {"role":"x","limits":{"cpus":{"value":1}}},{"role":"x"}]}})",
       "update_quota.quota_configs[1].role: role 'x' appears more than once"},
      {R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
           {"role":"x","limits":{"cpus":{"value":0}}}]}})",
       "update_quota.quota_configs[0].limits['cpus']: a limit of 0 cannot be enforced yet"},
      // A misspelt field is not taken for an absent one (which would reset
      // the role's quota).
      {R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
           {"role":"dev","limit":{"cpus":{"value":1}}}]}})",
       "update_quota.quota_configs[0]) limit: Cannot find field"},
      {R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
           {"role":"x","limits":{"cpus":{"value":"lots"}}}]}})",
       "Failed to convert JSON into Call protobuf"},
  };
  for (const auto& c : cases) {
    HttpResult r = Call(c.body);
    EXPECT_EQ(r.status, 400) << c.body << ": " << r.body;
    EXPECT_THAT(r.body, HasSubstr(c.reason)) << c.body;
    EXPECT_EQ(r.body.find('\n'), std::string::npos) << r.body;
  }
  EXPECT_EQ(Weights(), weights);
  EXPECT_EQ(Quotas(), quotas);
}

TEST_F(OperatorTest, MalformedAndUnimplementedCalls) {
  struct Case {
    std::string what;
    HttpResult result;
    int status;
    std::string reason;
  };
  const std::string get = R"({"type":"GET_WEIGHTS"})";
  const std::vector<Case> cases = {
      {"GET", HttpRequest("127.0.0.1", port(), "GET", "/api/v1"), 405, "POST"},
      {"no content type", Post(port(), "/api/v1", get, {}), 400, "Content-Type"},
      {"text/plain", Post(port(), "/api/v1", get, {{"Content-Type", "text/plain"}}), 415,
       "Content-Type"},
      {"unacceptable Accept",
       Post(port(), "/api/v1", get,
            {{"Content-Type", "application/json"}, {"Accept", "text/html"}}),
       406, "Accept"},
      {"bad JSON", Call("{\"type\": GET_WEIGHTS"), 400, "Failed to convert JSON"},
      {"no type", Call("{}"), 400, "Expecting 'type' to be present"},
      {"unknown type", Call(R"({"type":"FROBNICATE"})"), 400, "'type'"},
      {"garbage protobuf",
       Post(port(), "/api/v1", "\xff\xff\xff", {{"Content-Type", "application/x-protobuf"}}), 400,
       "protobuf"},
      {"GET_MAINTENANCE_STATUS", Call(R"({"type":"GET_MAINTENANCE_STATUS"})"), 501,
       "GET_MAINTENANCE_STATUS"},
      {"TEARDOWN", Call(R"({"type":"TEARDOWN","teardown":{"framework_id":{"value":"f"}}})"), 501,
       "TEARDOWN"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.result.status, c.status) << c.what << ": " << c.result.body;
    EXPECT_THAT(c.result.body, HasSubstr(c.reason)) << c.what;
    EXPECT_EQ(c.result.body.find('\n'), std::string::npos) << c.what << ": " << c.result.body;
  }
  EXPECT_THAT(cases[8].result.body, HasSubstr("not implemented"));
}

TEST_F(OperatorTest, LegacyWeightsEndpoints) {
  for (const std::string prefix : {"", "/master"}) {
    SCOPED_TRACE(prefix);
    HttpResult r = HttpRequest("127.0.0.1", port(), "PUT", prefix + "/weights",
                               R"([{"role":"eng","weight":2},{"role":"qa","weight":1.5}])");
    EXPECT_EQ(r.status, 200) << r.body;
    r = HttpRequest("127.0.0.1", port(), "GET", prefix + "/weights");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"([{"weight":2,"role":"eng"},{"weight":1.5,"role":"qa"}])");

    r = HttpRequest("127.0.0.1", port(), "PUT", prefix + "/weights", R"({"role":"eng"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_THAT(r.body, HasSubstr("expecting a JSON array of WeightInfo"));
    r = HttpRequest("127.0.0.1", port(), "PUT", prefix + "/weights",
                    R"([{"role":"eng","weight":-2}])");
    EXPECT_EQ(r.status, 400);
    EXPECT_THAT(r.body, HasSubstr("weights[0].weight: -2 is not positive"));
    r = HttpRequest("127.0.0.1", port(), "POST", prefix + "/weights", "[]");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.headers["allow"], "GET, PUT");
  }
  EXPECT_EQ(Weights(), (std::map<std::string, double>{{"eng", 2}, {"qa", 1.5}}));
}

TEST_F(OperatorTest, LegacyQuotaEndpoints) {
  const std::string request = R"({"role":"dev/team","guarantee":[
      {"name":"cpus","type":"SCALAR","scalar":{"value":2}},
      {"name":"mem","type":"SCALAR","scalar":{"value":512}}]})";
  HttpResult r = Post(port(), "/quota", request, {});
  EXPECT_EQ(r.status, 200) << r.body;
  // The legacy call's guarantee is also the role's limit (Mesos 1.9+).
  EXPECT_THAT(Quotas(), ::testing::ElementsAre(
                            "dev/team guarantees{cpus:2;mem:512;} limits{cpus:2;mem:512;}"));
  r = HttpRequest("127.0.0.1", port(), "GET", "/master/quota");
  EXPECT_EQ(r.status, 200);
  v1::quota::QuotaStatus status;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &status).ok()) << r.body;
  EXPECT_EQ(Describe(status), Quotas());
  ASSERT_EQ(status.infos_size(), 1);
  EXPECT_EQ(status.infos(0).guarantee_size(), 2);

  // A role that has a quota cannot be given another by the legacy call.
  r = Post(port(), "/master/quota", request, {});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("role 'dev/team' already has a quota"));
  struct Case {
    std::string body;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"role":"x","guarantee":[{"name":"ports","type":"RANGES",
                "ranges":{"range":[{"begin":1,"end":2}]}}]})",
            "guarantee[0] 'ports': quota takes SCALAR resources"},
           {R"({"role":"x","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]})",
            "guarantee['cpus']: -1 is negative"},
           {R"({"role":"x y","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]})",
            "role: role 'x y' contains whitespace"},
           {R"({"role":"x","guarantee":[]})", "guarantee: empty"},
           {R"({"role":"x","guarantee":3})", "Failed to parse set quota request JSON"},
       }) {
    r = Post(port(), "/quota", c.body, {});
    EXPECT_EQ(r.status, 400) << c.body << ": " << r.body;
    EXPECT_THAT(r.body, HasSubstr(c.reason)) << c.body;
  }

  r = HttpRequest("127.0.0.1", port(), "DELETE", "/quota/dev/team");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Quotas().empty());
  r = HttpRequest("127.0.0.1", port(), "DELETE", "/master/quota/dev/team");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("role 'dev/team' has no quota set"));
  r = HttpRequest("127.0.0.1", port(), "DELETE", "/quota");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("DELETE /quota/<role>"));
}

TEST_F(OperatorTest, WeightsAndQuotasSurviveAMasterRestart) {
  UpdateWeights(R"([
      {"role":"eng","weight":4}])");
  UpdateQuota(R"([
      {"role":"dev","guarantees":{"mem":{"value":64}},"limits":{"cpus":{"value":1.5}}}])");
  const auto weights = Weights();
  const auto quotas = Quotas();
  ASSERT_FALSE(ReadFile(work_dir() + "/registry.json").empty());

  ASSERT_TRUE(RestartMaster(cluster, work_dir())) << cluster.master->Stderr();
  EXPECT_EQ(Weights(), weights);
  EXPECT_EQ(Quotas(), quotas);
  EXPECT_EQ(weights.at("eng"), 4);
}

// A registry the master cannot make sense of refuses its start, naming the
// file and the fault, rather than starting with the operator's policy lost.
TEST(OperatorRegistryTest, CorruptRegistryRefusesTheMastersStart) {
  TempDir work;
  const std::string registry = work.path() + "/registry.json";
  struct Case {
    std::string content;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {"{\"weights\": [", registry},
           {R"({"weights":[{"role":"eng","weight":-1}]})", "weights[0].weight: -1 is not positive"},
           {R"({"quotas":[{"role":"dev","limits":{"cpus":{"value":1}}}],"nodes":[]})", "nodes"},
           {R"({"agents":[{"hostname":"a1"}]})", "agents[0]: no 'id'"},
           {R"({"agents":[{"id":{"value":"S1"}},{"id":{"value":"S1"}}]})",
            "agents[1]: agent 'S1' is named twice"},
           {R"({"frameworks":[{"user":"u","name":"n"}]})", "frameworks[0]: no 'id'"},
           {R"({"frameworks":[{"user":"u","name":"n","id":{"value":"F1"},"failover_timeout":-1}]})",
            "frameworks[0]: 'failover_timeout' is negative"},
           {R"({"frameworks":[{"id":{"value":"F1"}}]})", "missing field user"},
       }) {
    WriteFile(registry, c.content);
    auto r = RunCommand({Bin("keel-master"), "--ip=127.0.0.1",
                         "--port=" + std::to_string(FreePort()), "--work_dir=" + work.path()},
                        10s);
    EXPECT_EQ(r.exit_code, 1) << c.content;
    EXPECT_THAT(r.err, HasSubstr(registry)) << c.content;
    EXPECT_THAT(r.err, HasSubstr(c.reason)) << c.content;
  }
}

// A registry written by an older master (policy only, no agents or
// frameworks) loads as one with none.
TEST(OperatorRegistryTest, RegistryOfAnOlderMasterLoads) {
  TempDir work;
  WriteFile(work.path() + "/registry.json", R"({"weights":[{"role":"eng","weight":3}]})");
  const uint16_t master_port = FreePort();
  Subprocess master({Bin("keel-master"), "--ip=127.0.0.1", "--port=" + std::to_string(master_port),
                     "--work_dir=" + work.path()});
  EXPECT_TRUE(WaitForBody(master_port, "/weights", "\"eng\"", 10s)) << master.Stderr();
  EXPECT_THAT(master.Stderr(), HasSubstr("0 agents, 0 frameworks"));
  master.Signal(SIGTERM);
  master.Wait(10s);
}

// A framework subscribed with a role (TestFramework subscribes with "*"),
// recording its offers and rescinds.
class RoleFramework {
 public:
  RoleFramework(const std::string& master, const std::string& role) {
    scheduler::ClientOptions o;
    o.master = master;
    o.framework.set_user("root");
    o.framework.set_name("quota-test");
    o.framework.set_role(role);
    client_ = std::make_unique<scheduler::SchedulerClient>(o);
    for (auto type : {scheduler::Event::OFFERS, scheduler::Event::RESCIND}) {
      client_->On(type, [this](const scheduler::Event& e) {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& offer : e.offers().offers()) held_[offer.id().value()] = offer;
        if (e.type() == scheduler::Event::RESCIND) held_.erase(e.rescind().offer_id().value());
        ++events_;
        changed_.notify_all();
      });
    }
    client_->Start();
  }
  ~RoleFramework() { client_->Stop(); }

  // The cpus of the offers held now (offered, not rescinded).
  double HeldCpus() const {
    std::lock_guard<std::mutex> lock(mu_);
    double cpus = 0;
    for (const auto& [id, offer] : held_) {
      for (const auto& r : offer.resources()) {
        if (r.name() == "cpus") cpus += r.scalar().value();
      }
    }
    return cpus;
  }
  // Waits until some offer is held and the events stop for `quiet`.
  bool WaitForSettledOffers(std::chrono::milliseconds quiet, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const int seen = events_;
      changed_.wait_for(lock, quiet, [&] { return events_ != seen; });
      if (events_ == seen && !held_.empty()) return true;
    }
    return false;
  }
  int events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  std::optional<v1::Offer> AnyHeldOffer() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (held_.empty()) return std::nullopt;
    return held_.begin()->second;
  }
  scheduler::SchedulerClient& client() { return *client_; }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, v1::Offer> held_;
  int events_ = 0;
  std::unique_ptr<scheduler::SchedulerClient> client_;
};

TEST(OperatorQuotaTest, ALimitBoundsWhatTheRoleIsOffered) {
  TempDir work;
  ClusterOptions options = FastCluster();
  options.master_flags.push_back("--work_dir=" + work.path());
  options.agent_flags.push_back("--resources=cpus:4;mem:1024;disk:1024");
  options.with_agent = false;  // started once the master that enforces runs
  LocalCluster cluster(options);
  ASSERT_TRUE(WaitForHttp("127.0.0.1", cluster.master_port, "/health", 200, 10000));
  HttpResult r = Post(cluster.master_port, "/api/v1",
                      R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
                          {"role":"limited","limits":{"cpus":{"value":1}}}]}})");
  ASSERT_EQ(r.status, 200) << r.body;
  // The limit reaches the allocator from the registry too: set on one
  // master, it bounds the offers of the next.
  ASSERT_TRUE(RestartMaster(cluster, work.path())) << cluster.master->Stderr();
  cluster.StartAgent();

  RoleFramework framework(cluster.master_address(), "limited");
  // Held offers stay counted against the limit over many allocation runs.
  ASSERT_TRUE(framework.WaitForSettledOffers(1s, 20s));
  EXPECT_DOUBLE_EQ(framework.HeldCpus(), 1);

  // What the role holds now is above a lower limit: refused without force.
  const std::string lower = R"({"type":"UPDATE_QUOTA","update_quota":{"force":FORCE,
      "quota_configs":[{"role":"limited","limits":{"cpus":{"value":0.5}}}]}})";
  auto with = [&](const char* force) {
    std::string body = lower;
    return body.replace(body.find("FORCE"), 5, force);
  };
  r = Post(cluster.master_port, "/api/v1", with("false"));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("Role 'limited' already consumes cpus:1 (limit 0.5)"));
  // Forced: the offer is rescinded and the role offered what fits.
  const int before = framework.events();
  r = Post(cluster.master_port, "/api/v1", with("true"));
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(WaitForBody(cluster.master_port, "/quota", "0.5", 5s));
  // Its RESCIND, then a smaller offer.
  for (int i = 0; i < 100 && framework.events() < before + 2; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(framework.WaitForSettledOffers(1s, 20s));
  EXPECT_DOUBLE_EQ(framework.HeldCpus(), 0.5);

  // What the role's tasks use counts as much as what it is offered.
  auto offer = framework.AnyHeldOffer();
  ASSERT_TRUE(offer);
  auto task = TestFramework::CommandTask("busy", *offer, "sleep 10", 0.5, 32);
  ASSERT_TRUE(framework.client().Accept({offer->id()}, {task}, 0).ok());
  r = Post(cluster.master_port, "/api/v1",
           R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
               {"role":"limited","limits":{"cpus":{"value":0.25}}}]}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("Role 'limited' already consumes cpus:0.5 (limit 0.25)"));
}

}  // namespace
}  // namespace keel::test
