// NativeContainerizer (`native`): runs each task as a process group forked in
// its sandbox, isolated by the configured isolators. keel-container-init
// comes first in every container: it makes the namespaces' mounts, runs the
// task, and records how it ended (container_record.hpp), so that containers
// outlive the agent and a restarted agent takes them back (Recover()).
//
// Threading: every public method, and every Post()ed continuation, runs on the
// core strand. The ProcessReaper's thread only Post()s exits here.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "keel/containerizer.hpp"
#include "modules/containerizer/native/container_record.hpp"
#include "modules/containerizer/native/process_reaper.hpp"

namespace keel::modules {

class NativeContainerizer : public Containerizer {
 public:
  explicit NativeContainerizer(ModuleContext& context);
  // Leaves the containers running, for the next agent to recover.
  ~NativeContainerizer() override;

  Status Start(const std::vector<Isolator*>& isolators) override;
  Status Launch(const ContainerLaunch& launch, TerminationCallback on_exit) override;
  Status Recover(const std::vector<RecoveredContainer>& containers,
                 RecoveredCallback on_exit) override;
  Status Kill(const ContainerId& id, int signal) override;
  Status Destroy(const ContainerId& id) override;
  Result<ResourceStatistics> Usage(const ContainerId& id) override;
  std::vector<ContainerId> Containers() const override;

 private:
  struct Container {
    uint64_t serial;  // tells a container from a later one with the same id
    pid_t pid;
    TerminationCallback on_exit;
    std::optional<ContainerLimitation> limitation;
    std::shared_ptr<void> child_memory;  // until the child is reaped
  };

  Result<LaunchInfo> PrepareAll(const ContainerLaunch& launch);
  Status IsolateAll(const ContainerId& id, pid_t pid);
  // Signals the container's process group, and every process of the
  // container through the isolators that know them (cgroups).
  void SignalAll(const ContainerId& id, pid_t pid, int signal);
  // Cleans up the first `count` isolators, last first.
  void CleanupFirst(size_t count, const ContainerId& id);
  // Watches `pid` (a child, or adopted through `pidfd` >= 0) and keeps the
  // container's record.
  Status Track(const ContainerId& id, pid_t pid, int pidfd, TerminationCallback on_exit,
               std::shared_ptr<void> child_memory);
  // Ends a container that is not tracked (an orphan, or one found ended):
  // kills what is left of it, cleans up its isolators, drops its record.
  void Discard(const ContainerId& id, const std::optional<InitProcess>& init);
  void WatchLimits(const ContainerId& id, uint64_t serial);
  void OnLimit(const ContainerId& id, uint64_t serial, const ContainerLimitation& limitation);
  void OnExit(const ContainerId& id, uint64_t serial, int wait_status);
  Container* Find(const ContainerId& id, uint64_t serial);

  ModuleContext& context_;
  // keel-container-init; empty when not found (launches that need it fail).
  std::string init_path_;
  std::unique_ptr<ContainerRecords> records_;
  std::vector<Isolator*> isolators_;
  std::map<ContainerId, Container> containers_;
  uint64_t next_serial_ = 1;
  // Continuations Post()ed from elsewhere hold a weak reference and do
  // nothing once this is gone.
  std::shared_ptr<NativeContainerizer*> self_;
  // Declared last: destroyed first, so its thread is gone before the rest.
  std::unique_ptr<ProcessReaper> reaper_;
};

}  // namespace keel::modules
