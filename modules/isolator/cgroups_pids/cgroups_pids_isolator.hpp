// CgroupsPidsIsolator (`cgroups/pids`): caps how many tasks (processes and
// threads: the kernel counts each thread) a container may have at once,
// pids.max = `max_pids`, the same on v1 and v2. A fork or clone beyond it
// fails with EAGAIN inside the container; nothing is killed.
//
// Measures `processes` (the pids in cgroup.procs) and `threads`
// (pids.current, which counts every task).
#pragma once

#include <cstdint>

#include "modules/isolator/cgroups/cgroups_isolator.hpp"

namespace keel::modules {

class CgroupsPidsIsolator : public CgroupsIsolator {
 public:
  // Reads cgroups_hierarchy, cgroups_root and max_pids (at least 1). Throws
  // when the pids controller cannot be found or max_pids is not positive.
  explicit CgroupsPidsIsolator(ModuleContext& context);

 protected:
  Status ApplyLimits(const ContainerId& id, const Resources& resources, bool first) override;
  Status Measure(const ContainerId& id, const Resources& resources,
                 ResourceStatistics* stats) override;

 private:
  int64_t max_pids_;
};

}  // namespace keel::modules
