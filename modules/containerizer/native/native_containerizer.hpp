// NativeContainerizer (`native`): runs each task as a process group forked in
// its sandbox, isolated by the configured isolators. Namespaces and mounts
// they ask for are made by keel-container-init, which then runs the task.
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
#include "modules/containerizer/native/process_reaper.hpp"

namespace keel::modules {

class NativeContainerizer : public Containerizer {
 public:
  explicit NativeContainerizer(ModuleContext& context);
  // SIGKILLs every process of every live container, reaps them and cleans
  // up their isolators (which the daemon destroys after this) before
  // returning.
  ~NativeContainerizer() override;

  Status Start(const std::vector<Isolator*>& isolators) override;
  Status Launch(const ContainerLaunch& launch, TerminationCallback on_exit) override;
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
    // Read end of the pipe a pid namespace's init reports the task's wait
    // status on; -1 without one.
    std::shared_ptr<int> status_reader;
  };

  Result<LaunchInfo> PrepareAll(const ContainerLaunch& launch);
  Status IsolateAll(const ContainerId& id, pid_t pid);
  // Signals the container's process group, and every process of the
  // container through the isolators that know them (cgroups).
  void SignalAll(const ContainerId& id, pid_t pid, int signal);
  // Cleans up the first `count` isolators, last first.
  void CleanupFirst(size_t count, const ContainerId& id);
  void WatchLimits(const ContainerId& id, uint64_t serial);
  void OnLimit(const ContainerId& id, uint64_t serial, const ContainerLimitation& limitation);
  void OnExit(const ContainerId& id, uint64_t serial, int wait_status);
  Container* Find(const ContainerId& id, uint64_t serial);

  ModuleContext& context_;
  // keel-container-init; empty when not found (launches that need it fail).
  std::string init_path_;
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
