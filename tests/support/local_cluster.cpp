#include "tests/support/local_cluster.hpp"

#include <signal.h>

#include <thread>

#include "tests/support/http_client.hpp"

namespace keel::test {

std::string Bin(const std::string& name) { return BuildDir() + "/bin/" + name; }

bool WaitForBody(uint16_t port, const std::string& target, const std::string& needle,
                 std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = HttpRequest("127.0.0.1", port, "GET", target);
    if (r.status == 200 && r.body.find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

LocalCluster::LocalCluster(const std::string& master_json, bool with_agent)
    : LocalCluster(ClusterOptions{master_json, {}, {}, with_agent}) {}

LocalCluster::LocalCluster(ClusterOptions options) : options_(std::move(options)) {
  StartMaster();
  if (options_.with_agent) StartAgent();
}

void LocalCluster::StartMaster() {
  std::vector<std::string> argv = {Bin("keel-master"), "--ip=127.0.0.1",
                                   "--port=" + std::to_string(master_port),
                                   "--work_dir=" + dir.path() + "/m"};
  if (!options_.master_json.empty()) {
    WriteFile(dir.path() + "/master.json", options_.master_json);
    argv.insert(argv.begin() + 1, "--config=" + dir.path() + "/master.json");
  }
  argv.insert(argv.end(), options_.master_flags.begin(), options_.master_flags.end());
  master = std::make_unique<Subprocess>(argv);
}

LocalCluster::~LocalCluster() {
  for (auto* daemon : {&agent, &master}) {
    if (*daemon && (*daemon)->running()) {
      // SIGTERM would leave the agent's tasks running for a later agent.
      (*daemon)->Signal(daemon == &agent ? SIGUSR1 : SIGTERM);
      (*daemon)->Wait(std::chrono::seconds(15));
    }
    daemon->reset();
  }
}

void LocalCluster::RestartMaster(int signal) {
  StopMaster(signal);
  StartMaster();
}

void LocalCluster::StopMaster(int signal) {
  master->Signal(signal);
  // The new master must bind the same port: the old one has to be gone first
  // (resetting the Subprocess kills what did not stop in time).
  master->Wait(std::chrono::seconds(10));
  master.reset();
}

std::string LocalCluster::master_address() const {
  return "127.0.0.1:" + std::to_string(master_port);
}

void LocalCluster::StartAgent(const std::vector<std::string>& extra) {
  agent.reset();
  std::vector<std::string> argv = {Bin("keel-agent"), "--master=" + master_address(),
                                   "--ip=127.0.0.1", "--port=" + std::to_string(agent_port),
                                   "--work_dir=" + agent_work_dir()};
  argv.insert(argv.end(), options_.agent_flags.begin(), options_.agent_flags.end());
  argv.insert(argv.end(), extra.begin(), extra.end());
  agent = std::make_unique<Subprocess>(argv);
  // Serving before the test asks it anything (loading the containerizers
  // takes a moment, more in sanitizer builds). An agent that never comes up
  // is the test's to find out, except one whose port another test took
  // between FreePort() and its bind: that one gets another port.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (WaitForHttp("127.0.0.1", agent_port, "/health", 200, 15000)) return;
    if (agent->running() || agent->Stderr().find("in use") == std::string::npos) return;
    agent_port = FreePort();
    argv[3] = "--port=" + std::to_string(agent_port);
    agent = std::make_unique<Subprocess>(argv);
  }
}

}  // namespace keel::test
