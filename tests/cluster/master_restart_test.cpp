// A master that restarts on the same address: its schedulers and agents find
// it again on their own, and the cluster carries on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <map>
#include <optional>
#include <set>
#include <thread>

#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/http_client.hpp"

namespace keel::test {
namespace {

// Index of the `n`th event of `type` (from 1), if there are that many.
std::optional<size_t> NthEvent(const std::vector<Event>& events, Event::Type type, int n) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].type() == type && --n == 0) return i;
  }
  return std::nullopt;
}

// Subscribes a framework with a failover timeout, restarts the master, and
// expects the framework back under its id with offers from the same agent.
void ExpectClusterRecoversFromMasterRestart(ClusterOptions options) {
  LocalCluster cluster(std::move(options));
  FrameworkOptions framework_options;
  framework_options.failover_timeout = 60;
  TestFramework framework(cluster.master_address(), framework_options);
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer) << cluster.master->Stderr() << cluster.agent->Stderr();
  const std::string id = framework.client().framework_id();
  ASSERT_FALSE(id.empty());
  // The master offers the agent as soon as it admits it, before its answer
  // reaches the agent; a restart in between would leave the agent without
  // an id to re-register under.
  const std::string agent_id_file = cluster.agent_work_dir() + "/agent_id";
  for (int i = 0; i < 500 && ReadFile(agent_id_file).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(ReadFile(agent_id_file), offer->agent_id().value() + "\n");

  cluster.RestartMaster();

  // The new master has no record of the framework; the client's SUBSCRIBE
  // carries the id it had, and keeping it is what lets tasks survive.
  ASSERT_TRUE(framework.WaitFor([](const std::vector<Event>& events) {
    return NthEvent(events, Event::SUBSCRIBED, 2).has_value();
  })) << cluster.master->Stderr();
  const auto events = framework.events();
  const size_t resubscribed = *NthEvent(events, Event::SUBSCRIBED, 2);
  EXPECT_EQ(events[resubscribed].subscribed().framework_id().value(), id);
  EXPECT_EQ(framework.client().framework_id(), id);

  // Offers come only from agents the new master knows: the agent has
  // registered again, under the id it had.
  std::optional<v1::Offer> again;
  ASSERT_TRUE(framework.WaitFor([&](const std::vector<Event>& events) {
    for (size_t i = resubscribed + 1; i < events.size(); ++i) {
      if (events[i].type() == Event::OFFERS && events[i].offers().offers_size() > 0) {
        again = events[i].offers().offers(0);
        return true;
      }
    }
    return false;
  })) << cluster.master->Stderr()
      << cluster.agent->Stderr();
  EXPECT_EQ(again->agent_id().value(), offer->agent_id().value())
      << cluster.master->Stderr() << cluster.agent->Stderr();
}

TEST(MasterRestartTest, SchedulerResubscribesUnderItsFrameworkIdAndGetsOffersAgain) {
  // A fixed transport endpoint, as a site with fixed ports has: the agent's
  // transport reconnects to the endpoint it learnt before the restart.
  ClusterOptions options = FastCluster();
  options.master_flags.push_back("--transport_endpoint=tcp://127.0.0.1:" +
                                 std::to_string(FreePort()));
  ExpectClusterRecoversFromMasterRestart(std::move(options));
}

// The default endpoint (port 0): the restarted master's transport listens
// on another port, which the agent learns by asking GET /master/transport
// again when it loses the link.
TEST(MasterRestartTest, AgentFollowsTheTransportEndpointOfTheRestartedMaster) {
  ExpectClusterRecoversFromMasterRestart(FastCluster());
}

// A second agent beside the cluster's own, on its own port and work dir.
struct SecondAgent {
  SecondAgent(const LocalCluster& cluster, const std::vector<std::string>& flags)
      : work_dir(cluster.dir.path() + "/a2") {
    std::vector<std::string> argv = {Bin("keel-agent"), "--master=" + cluster.master_address(),
                                     "--ip=127.0.0.1", "--port=" + std::to_string(port),
                                     "--work_dir=" + work_dir};
    argv.insert(argv.end(), flags.begin(), flags.end());
    process = std::make_unique<Subprocess>(argv);
    WaitForHttp("127.0.0.1", port, "/health", 200, 15000);
  }
  ~SecondAgent() {
    // As LocalCluster stops its own: the agent ends its containers.
    if (process->running()) {
      process->Signal(SIGUSR1);
      process->Wait(std::chrono::seconds(10));
    }
  }
  std::string work_dir;
  uint16_t port = FreePort();
  std::unique_ptr<Subprocess> process;
};

std::string AgentIdOf(const std::string& agent_work_dir) {
  for (int i = 0; i < 500; ++i) {
    std::string id = ReadFile(agent_work_dir + "/agent_id");
    if (!id.empty()) return id.substr(0, id.find('\n'));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

// Polls until the registry file in the master's work dir holds each of
// `needles` (or, `present` false, none of them).
bool WaitForRegistry(const LocalCluster& cluster, const std::vector<std::string>& needles,
                     bool present = true) {
  for (int i = 0; i < 250; ++i) {
    const std::string registry = ReadFile(cluster.dir.path() + "/m/registry.json");
    bool all = true;
    for (const auto& n : needles) all = all && (registry.find(n) != std::string::npos) == present;
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool IsReconciliation(const v1::TaskStatus& status) {
  return status.reason() == v1::TaskStatus::REASON_RECONCILIATION;
}

// Sends explicit reconciliation for `tasks` (task id -> agent id) until
// each has an answer after the first call; the answers by task id.
std::map<std::string, v1::TaskStatus> ReconcileExplicitly(
    TestFramework& framework, const std::map<std::string, std::string>& tasks) {
  const size_t from = framework.events().size();
  std::map<std::string, v1::TaskStatus> answers;
  for (int round = 0; round < 40 && answers.size() < tasks.size(); ++round) {
    std::vector<v1::TaskStatus> ask;
    for (const auto& [task, agent] : tasks) {
      if (answers.count(task)) continue;
      v1::TaskStatus s;
      s.mutable_task_id()->set_value(task);
      s.mutable_agent_id()->set_value(agent);
      ask.push_back(s);
    }
    EXPECT_TRUE(framework.client().Reconcile(ask).ok());
    framework.WaitFor(
        [&](const std::vector<Event>& events) {
          for (size_t i = from; i < events.size(); ++i) {
            if (events[i].type() != Event::UPDATE) continue;
            const auto& s = events[i].update().status();
            if (IsReconciliation(s) && tasks.count(s.task_id().value())) {
              answers.emplace(s.task_id().value(), s);
            }
          }
          return answers.size() == tasks.size();
        },
        std::chrono::milliseconds(500));
  }
  return answers;
}

// The truth after a master crash: tasks run on (the same processes), the
// framework finds them all under its id through reconciliation, and what
// ended meanwhile is reported once.
TEST(MasterRestartTest, TasksRunOnThroughAMasterCrashAndReconciliationGivesTheirTrueState) {
  ClusterOptions options = FastCluster();
  const std::vector<std::string> agent_flags = options.agent_flags;
  LocalCluster cluster(std::move(options));
  SecondAgent second(cluster, agent_flags);
  const std::map<std::string, std::string> work_dirs_by_port = {
      {std::to_string(cluster.agent_port), cluster.agent_work_dir()},
      {std::to_string(second.port), second.work_dir}};

  FrameworkOptions framework_options;
  framework_options.failover_timeout = 600;
  auto first = std::make_unique<TestFramework>(cluster.master_address(), framework_options);
  // One offer of each agent.
  std::map<std::string, v1::Offer> offers;  // by agent id
  for (int i = 0; i < 20 && offers.size() < 2; ++i) {
    auto offer = first->TakeOffer();
    ASSERT_TRUE(offer) << cluster.master->Stderr();
    offers.emplace(offer->agent_id().value(), *offer);
  }
  ASSERT_EQ(offers.size(), 2u) << cluster.master->Stderr();
  const std::string framework_id = first->client().framework_id();

  // Five long tasks on each agent, and short ones (three in all) that end
  // while the master is away.
  std::map<std::string, std::string> long_tasks, short_tasks;  // task id -> agent id
  std::map<std::string, std::string> work_dir_of;              // agent id -> work dir
  int n = 0;
  for (const auto& [agent_id, offer] : offers) {
    work_dir_of[agent_id] = work_dirs_by_port.at(std::to_string(offer.url().address().port()));
    std::vector<v1::TaskInfo> tasks;
    for (int i = 0; i < 5; ++i, ++n) {
      const std::string id = "long-" + std::to_string(n);
      tasks.push_back(TestFramework::CommandTask(id, offer, "echo $$ > pid; exec sleep 600"));
      long_tasks[id] = agent_id;
    }
    const int shorts = short_tasks.empty() ? 2 : 1;
    for (int i = 0; i < shorts; ++i, ++n) {
      const std::string id = "short-" + std::to_string(n);
      tasks.push_back(TestFramework::CommandTask(id, offer, "sleep 3"));
      short_tasks[id] = agent_id;
    }
    ASSERT_TRUE(first->client().Accept({offer.id()}, tasks).ok());
  }
  ASSERT_EQ(long_tasks.size(), 10u);
  ASSERT_EQ(short_tasks.size(), 3u);
  std::map<std::string, pid_t> pids;
  for (const auto& [id, agent] : long_tasks) {
    ASSERT_TRUE(first->WaitForState(id, v1::TASK_RUNNING)) << cluster.master->Stderr();
    pids[id] = TaskPidIn(work_dir_of[agent], framework_id, id);
    ASSERT_GT(pids[id], 0) << id;
  }
  for (const auto& [id, agent] : short_tasks)
    ASSERT_TRUE(first->WaitForState(id, v1::TASK_RUNNING));

  // The registry has both agents and the framework, with its failover timeout.
  std::vector<std::string> needles = {framework_id, "\"failover_timeout\":600"};
  for (const auto& [agent_id, work_dir] : work_dir_of) {
    ASSERT_EQ(AgentIdOf(work_dir), agent_id);
    needles.push_back(agent_id);
  }
  ASSERT_TRUE(WaitForRegistry(cluster, needles))
      << ReadFile(cluster.dir.path() + "/m/registry.json");

  // The scheduler goes away, then the master crashes. The agents re-register
  // with their tasks before the framework re-subscribes.
  first->Disconnect();
  cluster.RestartMaster(SIGKILL);
  std::string state;
  for (int i = 0; i < 400; ++i) {
    state = HttpRequest("127.0.0.1", cluster.master_port, "GET", "/master/state").body;
    if (state.find("\"activated_slaves\":2") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(state.find("\"activated_slaves\":2"), std::string::npos)
      << state << cluster.master->Stderr();
  // Known again, not subscribed: its tasks wait for it.
  EXPECT_NE(state.find(framework_id), std::string::npos) << state;
  // Long enough for a wrong kill to land.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  framework_options.framework_id = framework_id;
  TestFramework framework(cluster.master_address(), framework_options);
  ASSERT_TRUE(framework.WaitFor([](const std::vector<Event>& events) {
    return NthEvent(events, Event::SUBSCRIBED, 1).has_value();
  })) << cluster.master->Stderr();
  EXPECT_EQ(framework.client().framework_id(), framework_id);

  // What ended while the master was away is reported, once.
  for (const auto& [id, agent] : short_tasks) {
    ASSERT_TRUE(framework.WaitForState(id, v1::TASK_FINISHED)) << id << cluster.master->Stderr();
  }

  // Explicit reconciliation of what the framework believes runs: running,
  // on the agent it was launched on.
  const auto answers = ReconcileExplicitly(framework, long_tasks);
  ASSERT_EQ(answers.size(), long_tasks.size()) << cluster.master->Stderr();
  for (const auto& [id, status] : answers) {
    EXPECT_EQ(status.state(), v1::TASK_RUNNING) << id;
    EXPECT_EQ(status.agent_id().value(), long_tasks.at(id)) << id;
    EXPECT_TRUE(status.uuid().empty()) << id;
  }

  // Implicit reconciliation: every task the master knows, in its true state.
  const size_t from = framework.events().size();
  ASSERT_TRUE(framework.client().Reconcile().ok());
  std::map<std::string, v1::TaskStatus> implicit;
  ASSERT_TRUE(framework.WaitFor([&](const std::vector<Event>& events) {
    for (size_t i = from; i < events.size(); ++i) {
      if (events[i].type() != Event::UPDATE) continue;
      const auto& s = events[i].update().status();
      if (IsReconciliation(s)) implicit[s.task_id().value()] = s;
    }
    size_t found = 0;
    for (const auto& [id, agent] : long_tasks) found += implicit.count(id);
    return found == long_tasks.size();
  })) << cluster.master->Stderr();
  for (const auto& [id, status] : implicit) {
    if (long_tasks.count(id)) {
      EXPECT_EQ(status.state(), v1::TASK_RUNNING) << id;
    } else {
      // A short task whose acknowledgement is still on its way.
      ASSERT_TRUE(short_tasks.count(id)) << id;
      EXPECT_EQ(status.state(), v1::TASK_FINISHED) << id;
    }
  }

  // Nothing was killed: the same processes run, and no long task was ever
  // reported other than RUNNING; each short one ended once.
  for (const auto& [id, agent] : long_tasks) {
    EXPECT_EQ(TaskPidIn(work_dir_of[agent], framework_id, id), pids[id]) << id;
    EXPECT_EQ(::kill(pids[id], 0), 0) << id << " (pid " << pids[id] << ") is gone";
  }
  std::map<std::string, std::set<std::string>> finished_uuids;
  for (const auto* f : {first.get(), &framework}) {
    for (const Event& e : f->events()) {
      if (e.type() != Event::UPDATE) continue;
      const auto& s = e.update().status();
      const std::string& id = s.task_id().value();
      if (long_tasks.count(id)) {
        EXPECT_EQ(s.state(), v1::TASK_RUNNING) << id << ": " << s.ShortDebugString();
      } else if (s.state() == v1::TASK_FINISHED && !IsReconciliation(s)) {
        finished_uuids[id].insert(s.uuid());
      } else if (s.state() != v1::TASK_FINISHED) {
        EXPECT_EQ(s.state(), v1::TASK_RUNNING) << id << ": " << s.ShortDebugString();
      }
    }
  }
  for (const auto& [id, agent] : short_tasks) {
    EXPECT_EQ(finished_uuids[id].size(), 1u) << id;
  }
}

// An agent of the registry that never comes back: after
// agent_reregister_timeout its tasks are TASK_UNREACHABLE to a
// partition-aware framework and TASK_LOST to another; until then
// reconciliation has no answer for them.
TEST(MasterRestartTest, AgentThatNeverReRegistersHasItsTasksUnreachableOrLost) {
  ClusterOptions options = FastCluster();
  options.master_flags.push_back("--agent_reregister_timeout=6s");
  LocalCluster cluster(std::move(options));
  FrameworkOptions aware_options, unaware_options;
  aware_options.failover_timeout = unaware_options.failover_timeout = 600;
  aware_options.partition_aware = true;
  aware_options.name = "aware";
  unaware_options.name = "unaware";
  // One after the other, each declining the rest of the agent for the next.
  std::string agent_id;
  const auto start = [&](const FrameworkOptions& options) {
    auto f = std::make_unique<TestFramework>(cluster.master_address(), options);
    auto offer = f->TakeOffer();
    EXPECT_TRUE(offer) << cluster.master->Stderr();
    if (!offer) return f;
    agent_id = offer->agent_id().value();
    EXPECT_TRUE(f->Launch(*offer, TestFramework::CommandTask("sleeper", *offer, "sleep 600")).ok());
    EXPECT_TRUE(f->WaitForState("sleeper", v1::TASK_RUNNING)) << cluster.master->Stderr();
    if (auto rest = f->TakeOffer()) {
      EXPECT_TRUE(f->client().Decline({rest->id()}, 3600).ok());
    }
    return f;
  };
  auto aware_framework = start(aware_options);
  auto unaware_framework = start(unaware_options);
  ASSERT_FALSE(HasFailure());
  TestFramework& aware = *aware_framework;
  TestFramework& unaware = *unaware_framework;
  ASSERT_EQ(AgentIdOf(cluster.agent_work_dir()), agent_id);
  ASSERT_TRUE(WaitForRegistry(
      cluster, {agent_id, aware.client().framework_id(), unaware.client().framework_id()}));

  // The master crashes; its agent stops (with its tasks) while it is away
  // and stays away.
  cluster.StopMaster(SIGKILL);
  cluster.agent->Signal(SIGUSR1);
  cluster.agent->Wait(std::chrono::seconds(10));
  cluster.StartMaster();
  const auto started = std::chrono::steady_clock::now();
  const auto early = [&] {
    return std::chrono::steady_clock::now() - started < std::chrono::milliseconds(4500);
  };
  // Known from the registry, waited for.
  EXPECT_TRUE(WaitForBody(cluster.master_port, "/master/state",
                          "\"recovered_slaves\":[{\"id\":\"" + agent_id, std::chrono::seconds(3)))
      << cluster.master->Stderr();

  for (auto* f : {&aware, &unaware}) {
    ASSERT_TRUE(f->WaitFor([](const std::vector<Event>& events) {
      return NthEvent(events, Event::SUBSCRIBED, 2).has_value();
    })) << cluster.master->Stderr();
  }
  // Still within the timeout: no answer.
  const size_t before = unaware.events().size();
  v1::TaskStatus ask;
  ask.mutable_task_id()->set_value("sleeper");
  ask.mutable_agent_id()->set_value(agent_id);
  ASSERT_TRUE(unaware.client().Reconcile({ask}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  if (early()) {
    const auto events = unaware.events();
    for (size_t i = before; i < events.size(); ++i) {
      EXPECT_NE(events[i].type(), Event::UPDATE) << events[i].ShortDebugString();
    }
  }

  // Then the agent is unreachable, and its tasks with it.
  const std::map<std::string, std::string> sleeper = {{"sleeper", agent_id}};
  auto aware_answers = ReconcileExplicitly(aware, sleeper);
  ASSERT_EQ(aware_answers.size(), 1u) << cluster.master->Stderr();
  EXPECT_EQ(aware_answers["sleeper"].state(), v1::TASK_UNREACHABLE);
  auto unaware_answers = ReconcileExplicitly(unaware, sleeper);
  ASSERT_EQ(unaware_answers.size(), 1u) << cluster.master->Stderr();
  EXPECT_EQ(unaware_answers["sleeper"].state(), v1::TASK_LOST);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(6));
  EXPECT_TRUE(WaitForBody(cluster.master_port, "/master/state", "\"unreachable_slaves\":1",
                          std::chrono::seconds(5)));
}

// A framework of the registry whose scheduler does not come back within its
// failover timeout after the restart is torn down, and its tasks killed.
TEST(MasterRestartTest, FrameworkThatDoesNotReSubscribeIsTornDownAfterItsFailoverTimeout) {
  LocalCluster cluster(FastCluster());
  FrameworkOptions options;
  options.failover_timeout = 3;
  auto framework = std::make_unique<TestFramework>(cluster.master_address(), options);
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer) << cluster.master->Stderr();
  const std::string id = framework->client().framework_id();
  ASSERT_TRUE(framework
                  ->Launch(*offer, TestFramework::CommandTask("sleeper", *offer,
                                                              "echo $$ > pid; exec sleep 600"))
                  .ok());
  ASSERT_TRUE(framework->WaitForState("sleeper", v1::TASK_RUNNING));
  const pid_t pid = TaskPid(cluster, id, "sleeper");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitForRegistry(cluster, {id, offer->agent_id().value()}));

  cluster.StopMaster(SIGKILL);
  framework->Disconnect();
  cluster.StartMaster();
  // Not before its failover timeout.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(::kill(pid, 0), 0);
  EXPECT_TRUE(ProcessGone(pid, std::chrono::seconds(20))) << cluster.master->Stderr();
  EXPECT_TRUE(WaitForBody(cluster.master_port, "/master/state",
                          "\"completed_frameworks\":[{\"id\":\"" + id, std::chrono::seconds(5)));
  EXPECT_TRUE(WaitForRegistry(cluster, {id}, false))
      << ReadFile(cluster.dir.path() + "/m/registry.json");
}

}  // namespace
}  // namespace keel::test
