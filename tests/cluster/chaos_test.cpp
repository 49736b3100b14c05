// The chaos run: a framework keeps 100 short tasks going on three agents
// (command tasks, and task groups on the default executor) while agents and
// the master are killed (SIGKILL), stopped and started again or paused
// (SIGSTOP), and agents' links are cut, at random. At the end every task
// that was launched has exactly one terminal update (none lost, none twice)
// and none is unaccounted for; the run prints its counts.
//
// It lasts KEEL_CHAOS_SECONDS (default 20; docs/fault-tolerance.md shows a
// longer run) and draws its actions from KEEL_CHAOS_SEED (default: the
// time; printed, so a failing run can be replayed).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "keel/task_state.hpp"
#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/netns_cluster.hpp"
#include "tests/support/test_framework.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;

constexpr int kAgents = 3;
constexpr int kTasksKept = 100;

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atoi(value) : fallback;
}

// What the framework heard of each task: its own updates' terminal states,
// and the newest state reconciliation answered.
struct Ledger {
  std::map<std::string, std::vector<v1::TaskState>> terminal;
  std::map<std::string, v1::TaskState> reconciled;
};

Ledger Read(const std::vector<Event>& events) {
  Ledger ledger;
  for (const Event& e : events) {
    if (e.type() != Event::UPDATE) continue;
    const v1::TaskStatus& s = e.update().status();
    if (s.reason() == v1::TaskStatus::REASON_RECONCILIATION) {
      ledger.reconciled[s.task_id().value()] = s.state();
    } else if (IsTerminal(s.state())) {
      ledger.terminal[s.task_id().value()].push_back(s.state());
    }
  }
  return ledger;
}

// Keeps kTasksKept tasks launched but not ended, on whatever offers come.
class Launcher {
 public:
  explicit Launcher(TestFramework& framework) : framework_(framework) {}
  ~Launcher() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::set<std::string> launched() const {
    std::lock_guard<std::mutex> lock(mu_);
    return launched_;
  }
  size_t in_groups() const {
    std::lock_guard<std::mutex> lock(mu_);
    return in_groups_;
  }

 private:
  void Run() {
    std::mt19937 random(7);
    std::uniform_int_distribution<int> tenths(5, 30);
    int next = 0;
    while (!stop_) {
      auto offer = framework_.TakeOffer(300ms);
      if (!offer) continue;
      const Ledger ledger = Read(framework_.events());
      // One offer in four also gets a task group of two on a default
      // executor of its own.
      v1::scheduler::Call call =
          LaunchGroupCall(*offer, "group-" + std::to_string(next), v1::ExecutorInfo::DEFAULT);
      auto* group = call.mutable_accept()
                        ->mutable_operations(0)
                        ->mutable_launch_group()
                        ->mutable_task_group();
      v1::Offer::Operation launch;
      launch.set_type(v1::Offer::Operation::LAUNCH);
      {
        std::lock_guard<std::mutex> lock(mu_);
        size_t active = 0;
        for (const std::string& id : launched_) active += ledger.terminal.count(id) ? 0 : 1;
        const bool with_group = random() % 4 == 0 && active + 2 <= kTasksKept;
        for (size_t i = active; i < kTasksKept && i < active + 40; ++i) {
          const std::string id = "chaos-" + std::to_string(next++);
          const std::string sleep = std::to_string(tenths(random) / 10.0);
          v1::TaskInfo task = TestFramework::CommandTask(id, *offer, "sleep " + sleep, 0.01, 8);
          *(with_group && group->tasks_size() < 2 ? group->add_tasks()
                                                  : launch.mutable_launch()->add_task_infos()) =
              task;
          launched_.insert(id);  // counted whether or not the ACCEPT arrives
        }
      }
      auto* operations = call.mutable_accept()->mutable_operations();
      if (group->tasks_size() == 0) operations->Clear();
      {
        std::lock_guard<std::mutex> lock(mu_);
        in_groups_ += static_cast<size_t>(group->tasks_size());
      }
      if (launch.launch().task_infos_size() > 0) *operations->Add() = launch;
      if (operations->empty()) {
        (void)framework_.client().Decline({offer->id()}, 0.2);
      } else {
        call.mutable_accept()->mutable_filters()->set_refuse_seconds(0);
        (void)framework_.client().Send(call);
      }
    }
  }

  TestFramework& framework_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::set<std::string> launched_;
  size_t in_groups_ = 0;
  std::thread thread_;
};

TEST(ChaosTest, EveryLaunchedTaskEndsExactlyOnceThroughKillsRestartsAndCuts) {
  if (std::string why = NetnsCluster::Unusable(); !why.empty()) GTEST_SKIP() << why;
  const int seconds = EnvInt("KEEL_CHAOS_SECONDS", 20);
  const unsigned seed =
      static_cast<unsigned>(EnvInt("KEEL_CHAOS_SEED", static_cast<int>(::time(nullptr))));
  std::cout << "chaos: " << seconds << " s, KEEL_CHAOS_SEED=" << seed << std::endl;

  // An agent silent for 4 x 500 ms is unreachable: a cut of 1-3 s may or
  // may not outlast that, and both must come out right.
  NetnsCluster cluster(
      kAgents,
      {"--allocation_interval=100ms", "--agent_ping_timeout=500ms", "--max_agent_ping_timeouts=4"},
      {"--status_update_retry_min=200ms", "--status_update_retry_max=1s", "--kill_grace_period=1s",
       "--resources=cpus:4;mem:4096;disk:1024"});
  FrameworkOptions options;
  options.name = "chaos";
  options.partition_aware = true;
  options.failover_timeout = 3600;
  TestFramework framework(cluster.master_address(), options);
  Launcher launcher(framework);
  launcher.Start();

  std::mt19937 random(seed);
  std::map<std::string, int> actions;
  std::set<int> cut;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500 + random() % 1500));
    const int agent = static_cast<int>(random() % kAgents);
    const unsigned action = random() % 8;
    if (action < 3 && cut.count(agent)) {
      // StartAgent() waits for the agent to serve the test, across its link.
      cluster.Heal(agent);
      cut.erase(agent);
      ++actions["link healed"];
    }
    switch (action) {
      case 0:
      case 1:  // the most common failure: an agent dies and comes back
        cluster.agent(agent).Signal(SIGKILL);
        cluster.agent(agent).Wait(5s);
        std::this_thread::sleep_for(std::chrono::milliseconds(random() % 1500));
        cluster.StartAgent(agent);
        ++actions["agent SIGKILL + restart"];
        break;
      case 2:
        cluster.agent(agent).Signal(SIGTERM);
        cluster.agent(agent).Wait(10s);
        cluster.StartAgent(agent);
        ++actions["agent SIGTERM + restart"];
        break;
      case 3:
      case 4:
        if (cut.count(agent)) {
          cluster.Heal(agent);
          cut.erase(agent);
          ++actions["link healed"];
        } else {
          cluster.Cut(agent);
          cut.insert(agent);
          ++actions["link cut"];
        }
        break;
      case 5:
        cluster.RestartMaster(random() % 2 ? SIGKILL : SIGTERM);
        ++actions["master restart"];
        break;
      case 6:
        // A hung agent: for 0.5-3 s, which may outlast the 2 s the master
        // waits before it takes the agent for unreachable.
        cluster.agent(agent).Signal(SIGSTOP);
        std::this_thread::sleep_for(std::chrono::milliseconds(500 + random() % 2500));
        cluster.agent(agent).Signal(SIGCONT);
        ++actions["agent paused"];
        break;
      case 7:
        cluster.master().Signal(SIGSTOP);
        std::this_thread::sleep_for(std::chrono::milliseconds(500 + random() % 2500));
        cluster.master().Signal(SIGCONT);
        ++actions["master paused"];
        break;
    }
  }
  for (int agent : cut) cluster.Heal(agent);
  launcher.Stop();

  // Every task is a short sleep: all end on their own. Reconciliation asks
  // about those not heard of, so a task the master never learnt of (its
  // ACCEPT lost with a master) is accounted for too.
  const std::set<std::string> launched = launcher.launched();
  auto unaccounted = [&](const Ledger& ledger) {
    std::vector<v1::TaskStatus> missing;
    for (const std::string& id : launched) {
      if (ledger.terminal.count(id)) continue;
      auto r = ledger.reconciled.find(id);
      if (r != ledger.reconciled.end() &&
          (IsTerminal(r->second) || r->second == v1::TASK_UNKNOWN)) {
        continue;
      }
      v1::TaskStatus s;
      s.mutable_task_id()->set_value(id);
      missing.push_back(s);
    }
    return missing;
  };
  const auto settle = std::chrono::steady_clock::now() + 60s;
  std::vector<v1::TaskStatus> missing;
  while (std::chrono::steady_clock::now() < settle) {
    missing = unaccounted(Read(framework.events()));
    if (missing.empty()) break;
    (void)framework.client().Reconcile(missing);
    std::this_thread::sleep_for(1s);
  }
  // Late duplicates would come within the agents' retry interval.
  std::this_thread::sleep_for(2s);

  const Ledger ledger = Read(framework.events());
  std::map<std::string, int> by_state;
  std::map<std::string, std::string> why;  // the first message of each state
  int twice = 0, never_but_unknown = 0;
  for (const std::string& id : launched) {
    auto t = ledger.terminal.find(id);
    if (t == ledger.terminal.end()) {
      if (ledger.reconciled.count(id)) ++never_but_unknown;
      continue;
    }
    const std::string state = v1::TaskState_Name(t->second.front());
    if (++by_state[state] == 1) {
      for (const auto& s : framework.Statuses(id)) {
        if (s.state() == t->second.front()) why[state] = s.message();
      }
    }
    if (t->second.size() > 1) {
      ++twice;
      std::string updates;
      for (const auto& s : framework.Statuses(id)) {
        updates += " " + v1::TaskState_Name(s.state()) + "/" +
                   v1::TaskStatus::Reason_Name(s.reason()) + "/" +
                   v1::TaskStatus::Source_Name(s.source()) + "/uuid " +
                   std::to_string(std::hash<std::string>()(s.uuid()) % 100000) + " '" +
                   s.message() + "' executor '" + s.executor_id().value() + "'";
      }
      // What the daemons logged of it, for the post-mortem.
      std::string logs;
      auto grep = [&](const std::string& who, const std::string& text) {
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) {
          if (line.find(id + " ") != std::string::npos ||
              line.find(id + ",") != std::string::npos ||
              line.find(id + ":") != std::string::npos || line.ends_with(id)) {
            logs += who + ": " + line + "\n";
          }
        }
      };
      grep("master", cluster.master().Stderr());
      for (int a = 0; a < kAgents; ++a)
        grep("agent " + std::to_string(a), cluster.agent(a).Stderr());
      ADD_FAILURE() << id << " ended " << t->second.size() << " times:" << updates << "\n" << logs;
    }
  }
  std::cout << "chaos: launched " << launched.size() << " (" << launcher.in_groups()
            << " in task groups)";
  for (const auto& [state, n] : by_state) std::cout << ", " << state << " " << n;
  std::cout << ", unknown to the master (launch lost with it) " << never_but_unknown
            << ", ended twice " << twice << ", unaccounted " << missing.size() << std::endl;
  for (const auto& [state, message] : why) {
    if (!message.empty()) std::cout << "chaos: " << state << ", e.g.: " << message << std::endl;
  }
  std::cout << "chaos: actions:";
  for (const auto& [action, n] : actions) std::cout << " " << action << " x" << n << ";";
  std::cout << std::endl;
  for (const auto& s : missing) ADD_FAILURE() << s.task_id().value() << " unaccounted for";
  EXPECT_TRUE(missing.empty()) << cluster.master().Stderr();
  EXPECT_GT(launched.size(), static_cast<size_t>(kTasksKept));
}

}  // namespace
}  // namespace keel::test
