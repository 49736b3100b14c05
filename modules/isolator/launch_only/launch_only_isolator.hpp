// LaunchOnlyIsolator: the base of isolators whose whole work is to shape a
// container's launch (namespaces, mounts) through LaunchInfo. What they set
// up lives in the container's own namespaces and ends with its last process,
// so there is nothing to enforce, measure or clean up afterwards; the base
// only tracks which containers are prepared, so misuse gets a clear error.
#pragma once

#include <set>
#include <string>

#include "keel/isolator.hpp"

namespace keel::modules {

class LaunchOnlyIsolator : public Isolator {
 public:
  Result<LaunchInfo> Prepare(const ContainerId& id, const ContainerConfig& config) final;
  Status Isolate(const ContainerId& id, int pid) final;
  // What it set up lives on in the containers' namespaces: only the ids.
  Status Recover(const std::vector<RecoveredContainer>& containers) final;
  Status Update(const ContainerId& id, const Resources& resources) final;
  Status Usage(const ContainerId& id, ResourceStatistics* stats) final;
  Status Cleanup(const ContainerId& id) final;

 protected:
  explicit LaunchOnlyIsolator(std::string name) : name_(std::move(name)) {}
  // What the container's first process must be started with.
  virtual Result<LaunchInfo> LaunchFor(const ContainerConfig& config) = 0;

 private:
  Status Known(const ContainerId& id) const;

  std::string name_;
  std::set<ContainerId> prepared_;
};

}  // namespace keel::modules
