// Test support: a master and several agents, each a "host" in a network
// namespace of its own, wired to one bridge in a switch namespace (which
// keeps the host's firewall and bridge settings out of it), so that a test
// can cut, heal, stop or kill one host. The test process reaches every host
// from the root namespace through the switch. Needs root and iproute2.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.hpp"

namespace keel::test {

class NetnsCluster {
 public:
  // Why hosts cannot be made here (not root, no `ip`, no netns), or "".
  static std::string Unusable();

  NetnsCluster(int agents, std::vector<std::string> master_flags,
               std::vector<std::string> agent_flags);
  ~NetnsCluster();
  NetnsCluster(const NetnsCluster&) = delete;
  NetnsCluster& operator=(const NetnsCluster&) = delete;

  // "IP:5050" of the master's HTTP endpoint, reachable from the test.
  std::string master_address() const;
  std::string agent_ip(int i) const;
  std::string agent_work_dir(int i) const;

  // The host's link to the switch goes down (nothing in or out) / up.
  void Cut(int agent);
  void Heal(int agent);
  void StartAgent(int agent);
  // Stops the master with `signal` (SIGKILL: it dies) and starts it again
  // with the same work dir and flags.
  void RestartMaster(int signal);

  Subprocess& master() { return *master_; }
  Subprocess& agent(int i) { return *agents_[static_cast<size_t>(i)]; }

 private:
  std::string Namespace(int host) const;  // host 0: the master
  std::string Ip(int host) const;
  std::string SwitchPort(int host) const;
  void AddHost(int host);
  void StartMaster();
  // Stops the daemons and removes the namespaces and links (also those of a
  // constructor that failed half-way).
  void TearDown();
  void Build(int agents);

  std::string tag_;     // unique to this process
  std::string subnet_;  // "100.X.Y."
  TempDir dir_;
  int agents_count_;
  std::vector<std::string> master_flags_;
  std::vector<std::string> agent_flags_;
  std::unique_ptr<Subprocess> master_;
  std::vector<std::unique_ptr<Subprocess>> agents_;
};

}  // namespace keel::test
