#include "tests/support/netns_cluster.hpp"

#include <signal.h>
#include <unistd.h>

#include <stdexcept>

#include "tests/support/http_client.hpp"
#include "tests/support/local_cluster.hpp"

namespace keel::test {
namespace {

constexpr uint16_t kMasterPort = 5050;
constexpr uint16_t kAgentPort = 5051;

void RunIp(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = RunCommand(argv, std::chrono::seconds(10));
  if (r.exit_code != 0) {
    std::string line;
    for (const auto& a : argv) line += a + " ";
    throw std::runtime_error("netns cluster: `" + line + "` failed: " + r.err);
  }
}

void RunIpQuietly(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  (void)RunCommand(argv, std::chrono::seconds(10));
}

}  // namespace

std::string NetnsCluster::Unusable() {
  if (::geteuid() != 0) return "needs root";
  RunResult r = RunCommand({"ip", "netns", "list"}, std::chrono::seconds(5));
  if (r.exit_code != 0) return "no usable `ip netns` (iproute2): " + r.err;
  return "";
}

NetnsCluster::NetnsCluster(int agents, std::vector<std::string> master_flags,
                           std::vector<std::string> agent_flags)
    : tag_("k" + std::to_string(::getpid() % 100000)),
      agents_count_(agents),
      master_flags_(std::move(master_flags)),
      agent_flags_(std::move(agent_flags)) {
  const int pid = ::getpid();
  // 100.64.0.0/10 (shared address space): kept off real networks.
  subnet_ = "100." + std::to_string(64 + (pid >> 8) % 64) + "." + std::to_string(pid & 255) + ".";
  try {
    Build(agents);
  } catch (...) {
    TearDown();
    throw;
  }
}

void NetnsCluster::Build(int agents) {
  const std::string sw = Namespace(-1);
  RunIp({"netns", "add", sw});
  RunIp({"-n", sw, "link", "set", "lo", "up"});
  RunIp({"-n", sw, "link", "add", "br0", "type", "bridge"});
  RunIp({"-n", sw, "link", "set", "br0", "up"});
  // The test's own way in, from the root namespace.
  RunIp({"link", "add", tag_ + "r", "type", "veth", "peer", "name", "root", "netns", sw});
  RunIp({"-n", sw, "link", "set", "root", "master", "br0", "up"});
  RunIp({"addr", "add", subnet_ + "1/24", "dev", tag_ + "r"});
  RunIp({"link", "set", tag_ + "r", "up"});
  for (int host = 0; host <= agents; ++host) AddHost(host);

  StartMaster();
  agents_.resize(static_cast<size_t>(agents));
  for (int i = 0; i < agents; ++i) StartAgent(i);
}

NetnsCluster::~NetnsCluster() { TearDown(); }

void NetnsCluster::TearDown() {
  // Daemons first, stopped as an operator would (the agents end their
  // tasks), then the namespaces: deleting a namespace deletes its end of
  // each veth, and so the other end.
  for (auto& agent : agents_) {
    if (agent && agent->running()) {
      agent->Signal(SIGUSR1);  // with its tasks; SIGTERM would leave them
      agent->Wait(std::chrono::seconds(15));
    }
  }
  agents_.clear();
  if (master_ && master_->running()) {
    master_->Signal(SIGTERM);
    master_->Wait(std::chrono::seconds(10));
  }
  master_.reset();
  for (int host = 0; host <= agents_count_; ++host) RunIpQuietly({"netns", "del", Namespace(host)});
  RunIpQuietly({"netns", "del", Namespace(-1)});
  RunIpQuietly({"link", "del", tag_ + "r"});
}

std::string NetnsCluster::Namespace(int host) const {
  if (host < 0) return "keel-" + tag_ + "-switch";
  return "keel-" + tag_ + (host == 0 ? std::string("-master") : "-agent" + std::to_string(host));
}

std::string NetnsCluster::Ip(int host) const { return subnet_ + std::to_string(host + 2); }

std::string NetnsCluster::SwitchPort(int host) const { return "h" + std::to_string(host); }

void NetnsCluster::AddHost(int host) {
  const std::string ns = Namespace(host);
  const std::string sw = Namespace(-1);
  RunIp({"netns", "add", ns});
  RunIp({"-n", ns, "link", "set", "lo", "up"});
  RunIp({"-n", sw, "link", "add", SwitchPort(host), "type", "veth", "peer", "name", "eth0", "netns",
         ns});
  RunIp({"-n", sw, "link", "set", SwitchPort(host), "master", "br0", "up"});
  RunIp({"-n", ns, "addr", "add", Ip(host) + "/24", "dev", "eth0"});
  RunIp({"-n", ns, "link", "set", "eth0", "up"});
}

std::string NetnsCluster::master_address() const {
  return Ip(0) + ":" + std::to_string(kMasterPort);
}

std::string NetnsCluster::agent_ip(int i) const { return Ip(i + 1); }

std::string NetnsCluster::agent_work_dir(int i) const {
  return dir_.path() + "/a" + std::to_string(i);
}

void NetnsCluster::StartAgent(int i) {
  auto& slot = agents_[static_cast<size_t>(i)];
  slot.reset();
  std::vector<std::string> argv = {"ip",
                                   "netns",
                                   "exec",
                                   Namespace(i + 1),
                                   Bin("keel-agent"),
                                   "--master=" + master_address(),
                                   "--ip=" + agent_ip(i),
                                   "--port=" + std::to_string(kAgentPort),
                                   "--work_dir=" + agent_work_dir(i)};
  argv.insert(argv.end(), agent_flags_.begin(), agent_flags_.end());
  slot = std::make_unique<Subprocess>(argv);
  if (!WaitForHttp(agent_ip(i), kAgentPort, "/health", 200, 10000)) {
    throw std::runtime_error("netns cluster: agent " + std::to_string(i) +
                             " did not come up: " + slot->Stderr());
  }
}

void NetnsCluster::StartMaster() {
  std::vector<std::string> argv = {"ip",
                                   "netns",
                                   "exec",
                                   Namespace(0),
                                   Bin("keel-master"),
                                   "--ip=" + Ip(0),
                                   "--port=" + std::to_string(kMasterPort),
                                   "--work_dir=" + dir_.path() + "/m"};
  argv.insert(argv.end(), master_flags_.begin(), master_flags_.end());
  master_ = std::make_unique<Subprocess>(argv);
  if (!WaitForHttp(Ip(0), kMasterPort, "/health", 200, 10000)) {
    throw std::runtime_error("netns cluster: the master did not come up: " + master_->Stderr());
  }
}

void NetnsCluster::RestartMaster(int signal) {
  master_->Signal(signal);
  master_->Wait(std::chrono::seconds(10));
  master_.reset();
  StartMaster();
}

void NetnsCluster::Cut(int agent) {
  RunIp({"-n", Namespace(-1), "link", "set", SwitchPort(agent + 1), "down"});
}

void NetnsCluster::Heal(int agent) {
  RunIp({"-n", Namespace(-1), "link", "set", SwitchPort(agent + 1), "up"});
}

}  // namespace keel::test
