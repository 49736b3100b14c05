// Test support: a real keel-master and keel-agent on loopback, started as an
// operator would (processes, flags, work dirs), for tests of the cluster.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.hpp"

namespace keel::test {

// The build's binary `name` (bin/keel-master ...).
std::string Bin(const std::string& name);

// Polls GET `target` until its 200 body contains `needle`.
bool WaitForBody(uint16_t port, const std::string& target, const std::string& needle,
                 std::chrono::milliseconds timeout);

struct ClusterOptions {
  std::string master_json;                // a config file for the master, if any
  std::vector<std::string> master_flags;  // added to the defaults below
  std::vector<std::string> agent_flags;
  bool with_agent = true;
};

class LocalCluster {
 public:
  explicit LocalCluster(ClusterOptions options = {});
  // The master with `master_json` as its config, and an agent unless told not.
  explicit LocalCluster(const std::string& master_json, bool with_agent = true);
  // Stops the agent with its tasks (SIGUSR1: it ends its containers and
  // removes their cgroups), then the master (SIGTERM). What does not stop in
  // time is killed.
  ~LocalCluster();

  // "127.0.0.1:<port>" of the master's HTTP endpoint.
  std::string master_address() const;
  // (Re)starts the agent with the same work dir and flags, and `extra`.
  void StartAgent(const std::vector<std::string>& extra = {});
  // Stops the master (SIGTERM, as an operator would; SIGKILL, as a crash)
  // and starts it again on the same port and work dir with the same flags.
  void RestartMaster(int signal = SIGTERM);
  // The two halves of RestartMaster, for what happens in between.
  void StopMaster(int signal = SIGTERM);
  void StartMaster();
  std::string agent_work_dir() const { return dir.path() + "/a"; }

  TempDir dir;
  uint16_t master_port = FreePort();
  uint16_t agent_port = FreePort();
  std::unique_ptr<Subprocess> master, agent;

 private:
  ClusterOptions options_;
};

}  // namespace keel::test
