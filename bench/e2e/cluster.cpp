// Starts the daemons as an operator would, from the bench's own build, and
// makes sure they stop with the bench whatever way it ends.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <sstream>

#include "bench/e2e/e2e.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/subprocess.hpp"

namespace keel::bench {

namespace {

using test::Subprocess;
using test::TempDir;

// Daemons to SIGTERM if the bench itself is interrupted, since they run in
// their own process groups and would outlive it.
std::atomic<pid_t> g_daemons[2] = {0, 0};

void OnInterrupt(int signal) {
  for (auto& pid : g_daemons) {
    if (pid_t p = pid.load(); p > 0) ::kill(p, SIGTERM);
  }
  ::_exit(128 + signal);
}

std::string Tail(const std::string& text, int lines) {
  size_t pos = text.size();
  while (lines-- > 0 && pos > 0) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

void Stop(std::unique_ptr<Subprocess>& daemon, const char* name, std::atomic<pid_t>& slot) {
  if (!daemon) return;
  daemon->Signal(SIGTERM);
  auto status = daemon->Wait(std::chrono::seconds(10));
  if (!status) {
    std::fprintf(stderr, "warning: %s did not stop within 10 s of SIGTERM; killed\n", name);
  } else if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    std::fprintf(stderr, "warning: %s stopped with wait status %d\n", name, *status);
  }
  daemon.reset();  // SIGKILLs if still running
  slot = 0;
}

}  // namespace

struct Cluster::Impl {
  TempDir master_dir, agent_dir;
  uint16_t master_port = 0, agent_port = 0;
  std::unique_ptr<Subprocess> master, agent;
};

Cluster::Cluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Cluster::~Cluster() {
  // The agent first, so that the master does not see it vanish mid-run.
  Stop(impl_->agent, "keel-agent", g_daemons[1]);
  Stop(impl_->master, "keel-master", g_daemons[0]);
}

std::string Cluster::master() const { return "127.0.0.1:" + std::to_string(impl_->master_port); }

std::string Cluster::LogTails() const {
  std::ostringstream out;
  if (impl_->master) out << "--- keel-master stderr (tail)\n" << Tail(impl_->master->Stderr(), 15);
  if (impl_->agent) out << "--- keel-agent stderr (tail)\n" << Tail(impl_->agent->Stderr(), 15);
  return out.str();
}

Result<std::unique_ptr<Cluster>> Cluster::Start(const std::string& bin_dir,
                                                const std::string& isolation) {
  for (const char* name : {"keel-master", "keel-agent"}) {
    if (::access((bin_dir + "/" + name).c_str(), X_OK) != 0) {
      return Status::Error("no executable " + bin_dir + "/" + name + " (see --bin_dir)");
    }
  }
  ::signal(SIGINT, OnInterrupt);
  ::signal(SIGTERM, OnInterrupt);
  std::unique_ptr<Cluster> cluster(new Cluster(std::make_unique<Impl>()));
  Impl& c = *cluster->impl_;
  c.master_port = test::FreePort();
  c.master = std::make_unique<Subprocess>(std::vector<std::string>{
      bin_dir + "/keel-master", "--ip=127.0.0.1", "--port=" + std::to_string(c.master_port),
      "--work_dir=" + c.master_dir.path(), "--allocation_interval=100ms"});
  g_daemons[0] = c.master->pid();
  if (!test::WaitForHttp("127.0.0.1", c.master_port, "/health", 200, 10000)) {
    return Status::Error("keel-master did not answer /health within 10 s\n" + cluster->LogTails());
  }
  c.agent_port = test::FreePort();
  c.agent = std::make_unique<Subprocess>(std::vector<std::string>{
      bin_dir + "/keel-agent", "--master=" + cluster->master(),
      "--listen=127.0.0.1:" + std::to_string(c.agent_port), "--work_dir=" + c.agent_dir.path(),
      std::string("--resources=") + kAgentResources, "--isolation=" + isolation,
      "--containerizers=native"});
  g_daemons[1] = c.agent->pid();
  if (!test::WaitForHttp("127.0.0.1", c.agent_port, "/health", 200, 10000)) {
    return Status::Error("keel-agent did not answer /health within 10 s\n" + cluster->LogTails());
  }
  return cluster;
}

}  // namespace keel::bench
