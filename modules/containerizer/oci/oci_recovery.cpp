// OciContainerizer::Recover: what a previous agent's containers became while
// no agent ran, from their bundles (keel-container-init's records).
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "modules/containerizer/oci/oci_containerizer.hpp"
#include "modules/containerizer/oci/runc.hpp"
#include "modules/containerizer/oci/runtime_spec.hpp"

namespace keel::modules::oci {

Status OciContainerizer::Recover(const std::vector<RecoveredContainer>& containers,
                                 RecoveredCallback on_exit) {
  if (!started_) return Status::Error("oci: Recover() before Start()");
  std::set<ContainerId> listed;
  for (const RecoveredContainer& c : containers) {
    listed.insert(c.id);
    RecoverOne(c, on_exit);
  }
  // What the agent did not record (it died during a launch) goes.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(store_->containers_dir(), ec)) {
    const ContainerId id = entry.path().filename().string();
    if (listed.count(id) != 0 || !ValidContainerId(id)) continue;
    context_.Log(LogLevel::kInfo, "destroying container '" + id + "' of the agent's last run");
    if (auto init = records_->ReadInit(id)) {
      const int pidfd = OpenIfRunning(*init);
      if (pidfd >= 0) {
        ::killpg(init->pid, SIGKILL);  // init and runc; the cgroup's in TearDown
        ::close(pidfd);
      }
    }
    const std::string failed = TearDown(id, BundleOf(id), CgroupsPathOf(id));
    if (!failed.empty()) context_.Log(LogLevel::kWarning, "container '" + id + "': " + failed);
  }
  return Status::Ok();
}

void OciContainerizer::RecoverOne(const RecoveredContainer& listed,
                                  const RecoveredCallback& on_exit) {
  const ContainerId& id = listed.id;
  Container container;
  container.serial = next_serial_++;
  container.plan.id = id;
  container.plan.bundle = BundleOf(id);
  container.plan.sandbox = listed.config.sandbox_dir;
  container.plan.cgroups_path = CgroupsPathOf(id);
  ContainerLaunch as_launched;
  as_launched.config = listed.config;
  container.memory_limit = MemoryLimitBytes(as_launched);
  container.cpus = CpusOf(as_launched);
  container.state = State::kRunning;
  container.cancelled = std::make_shared<std::atomic<bool>>(false);
  container.on_exit = [on_exit, id](const ContainerTermination& t) { on_exit(id, t); };
  const uint64_t serial = container.serial;

  const std::optional<InitProcess> init = records_->ReadInit(id);
  const int pidfd = init ? OpenIfRunning(*init) : -1;
  if (pidfd >= 0) {
    container.runc_pid = init->pid;
    containers_.emplace(id, std::move(container));
    if (Status s = WatchInit(id, serial, init->pid, pidfd); !s.ok()) {
      context_.Log(LogLevel::kError, "container '" + id + "': cannot watch it: " + s.message());
      (void)Destroy(id);
      return;
    }
    ArmTimer(id, serial);
    return;
  }
  // It ended while no agent ran (its status is recorded), or never started.
  if (!init || !records_->ReadExitStatus(id)) {
    const std::string failed = TearDown(id, container.plan.bundle, container.plan.cgroups_path);
    if (!failed.empty()) context_.Log(LogLevel::kWarning, "container '" + id + "': " + failed);
    ContainerTermination lost;
    lost.message = "The agent restarted and found no record of how the container ended";
    context_.Post([on_exit, id, lost] { on_exit(id, lost); });
    return;
  }
  // CleanUp() reads the recorded status, removes what is left and reports.
  container.state = State::kEnding;
  const Plan plan = container.plan;
  containers_.emplace(id, std::move(container));
  worker_.Submit([this, plan, serial] { CleanUp(plan, serial, ProcessReaper::kUnknownStatus); });
}

}  // namespace keel::modules::oci
