// PosixUsageIsolator (`posix/usage`): measures a container's processes from
// /proc where cgroups are not available. It limits nothing.
//
// A container's processes are its first process and that process's
// descendants at the time of measuring. A process that double-forks and is
// re-parented to init escapes the count: POSIX gives no way to follow it
// (the cgroups isolators do).
#pragma once

#include <map>

#include "keel/isolator.hpp"

namespace keel::modules {

class PosixUsageIsolator : public Isolator {
 public:
  PosixUsageIsolator() = default;

  Result<LaunchInfo> Prepare(const ContainerId& id, const ContainerConfig& config) override;
  Status Isolate(const ContainerId& id, int pid) override;
  Status Recover(const std::vector<RecoveredContainer>& containers) override;
  Status Update(const ContainerId& id, const Resources& resources) override;
  Status Usage(const ContainerId& id, ResourceStatistics* stats) override;
  Status Cleanup(const ContainerId& id) override;

 private:
  struct Container {
    Resources resources;
    int pid = 0;
  };
  Container* Find(const ContainerId& id);

  std::map<ContainerId, Container> containers_;
};

}  // namespace keel::modules
