// OciContainerizer (`oci`): runs tasks that name a container image, from
// the agent's image store (image_store.hpp), with runc.
//
// Each container gets a runc bundle in <module work_dir>/containers/<id>/:
// rootfs/ (an overlay of the image's rootfs, or that rootfs read-only, see
// README.md), config.json (runtime_spec.hpp) and runc's log. `runc run
// --keep` is the container's supervisor: the agent's child, watched through
// a pidfd (native's ProcessReaper), exiting with the container's status.
// runc enforces cpu, memory and pids through the container's cgroups
// (/<cgroups_root>-oci/<id>), which the containerizer reads for Usage() and
// for OOM kills; the isolators handed to Start() are not used.
//
// Unlike `native`, `oci` does not let containers outlive the agent: runc is
// the agent's child, and the container's status is runc's. Its destructor
// kills its containers, and Recover() destroys what an agent that died left
// (reporting the listed containers ended) rather than reattaching.
//
// Threading: every public method, and every Post()ed continuation, runs on
// the core strand and returns at once. Preparing a bundle, starting runc and
// cleaning up after it (runc delete, unmount, removing the bundle) run on a
// worker thread, in order; the reaper's thread only Post()s exits.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keel/containerizer.hpp"
#include "modules/containerizer/native/container_record.hpp"
#include "modules/containerizer/native/process_reaper.hpp"
#include "modules/containerizer/oci/cgroups.hpp"
#include "modules/containerizer/oci/image_store.hpp"
#include "modules/containerizer/oci/worker.hpp"

namespace keel::modules::oci {

class OciContainerizer : public Containerizer {
 public:
  explicit OciContainerizer(ModuleContext& context);
  // Leaves the containers running, as the native containerizer does: each
  // `runc run` is supervised by keel-container-init, which records runc's
  // end in the bundle, and the next agent's Recover() takes them back.
  // on_exit callbacks are not called.
  ~OciContainerizer() override;

  Status Start(const std::vector<Isolator*>& isolators) override;
  bool CanLaunch(const ContainerLaunch& launch) const override { return launch.image.has_value(); }
  Status Launch(const ContainerLaunch& launch, TerminationCallback on_exit) override;
  // Takes back the listed containers whose keel-container-init still runs,
  // reports those that ended meanwhile with runc's recorded status (after
  // removing what they left), and destroys every other container a previous
  // agent left (runc state, mounts, bundles, cgroups).
  Status Recover(const std::vector<RecoveredContainer>& containers,
                 RecoveredCallback on_exit) override;
  Status Kill(const ContainerId& id, int signal) override;
  Status Destroy(const ContainerId& id) override;
  Result<ResourceStatistics> Usage(const ContainerId& id) override;
  std::vector<ContainerId> Containers() const override;

  // How the rootfs of each container is made (parameter `rootfs`, after "auto").
  enum class RootfsMode { kOverlay, kReadOnly };

  // What the worker needs to set a container up and tear it down; a copy
  // travels with each job.
  struct Plan {
    ContainerId id;
    std::string bundle;        // containers/<id>
    std::string image_dir;     // images/<name>/<tag>
    std::string image_rootfs;  // image_dir/rootfs
    std::string sandbox;       // on the host
    std::string cgroups_path;  // "/keel-oci/<id>"
    std::string config_json;
    uint32_t uid = 0, gid = 0;
    RootfsMode rootfs_mode = RootfsMode::kOverlay;
  };

 private:
  enum class State { kPreparing, kRunning, kEnding };
  struct Container {
    uint64_t serial;
    State state = State::kPreparing;
    Plan plan;
    uint64_t memory_limit = 0;
    double cpus = 0;
    pid_t runc_pid = -1;
    TerminationCallback on_exit;
    std::optional<ContainerLimitation> limitation;
    bool destroying = false;
    int destroy_rounds = 0;
    // Set on the strand, read by the worker before it starts runc.
    std::shared_ptr<std::atomic<bool>> cancelled;
    std::shared_ptr<TimerHandle> timer;
  };

  Container* Find(const ContainerId& id, uint64_t serial);
  // Continuations posted by the worker and the reaper.
  void OnStarted(const ContainerId& id, uint64_t serial, pid_t pid);
  void OnStartFailed(const ContainerId& id, uint64_t serial, const std::string& message);
  void OnRuncExit(const ContainerId& id, uint64_t serial, int wait_status);
  void OnCleanedUp(const ContainerId& id, uint64_t serial, int wait_status, uint64_t oom_kills,
                   const std::string& runc_error);
  // Polls for OOM kills while running, and repeats SIGKILL while destroying.
  void ArmTimer(const ContainerId& id, uint64_t serial);
  void OnTimer(const ContainerId& id, uint64_t serial);
  void KillAll(Container& container);
  ContainerLimitation MemoryLimitation(const Container& container) const;

  // Worker side (no access to containers_).
  void PrepareAndStart(const Plan& plan, uint64_t serial,
                       std::shared_ptr<std::atomic<bool>> cancelled);
  Status PrepareBundle(const Plan& plan);
  void CleanUp(const Plan& plan, uint64_t serial, int wait_status);
  // Removes runc's state, the mount, the bundle and the cgroups of `id`;
  // a summary of what failed, empty when nothing did.
  std::string TearDown(const ContainerId& id, const std::string& bundle,
                       const std::string& cgroups_path);
  // Recover()'s: one listed container, by what its bundle records.
  void RecoverOne(const RecoveredContainer& listed, const RecoveredCallback& on_exit);
  // The reaper watches `pid`, the container's keel-container-init.
  Status WatchInit(const ContainerId& id, uint64_t serial, pid_t pid, int pidfd);
  std::vector<std::string> Runc(std::vector<std::string> args) const;
  std::string BundleOf(const ContainerId& id) const;       // containers/<id>
  std::string CgroupsPathOf(const ContainerId& id) const;  // /<cgroups_root>-oci/<id>

  ModuleContext& context_;
  // Parameters.
  std::string runc_;
  std::string runc_root_;
  int64_t max_pids_;
  bool cfs_quota_;
  std::string cgroups_root_;
  std::string rootfs_parameter_;
  std::string init_path_;  // keel-container-init

  bool started_ = false;
  RootfsMode rootfs_mode_ = RootfsMode::kOverlay;
  std::unique_ptr<ImageStore> store_;
  // Bundles double as keel-container-init's records (init, exit_status).
  std::unique_ptr<ContainerRecords> records_;
  CgroupLayout cgroups_;
  std::map<ContainerId, Container> containers_;
  uint64_t next_serial_ = 1;
  std::shared_ptr<OciContainerizer*> self_;
  // Destroyed before the rest (declared last), in this order by the destructor.
  Worker worker_;
  std::unique_ptr<ProcessReaper> reaper_;
};

}  // namespace keel::modules::oci
