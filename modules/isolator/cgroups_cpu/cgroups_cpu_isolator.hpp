// CgroupsCpuIsolator (`cgroups/cpu`): weighs containers' CPU time against
// each other by their `cpus` resource, optionally caps it (CFS quota), and
// measures it.
//
//   v1: cpu.shares = cpus x 1024 (at least 2), and with `cfs_quota`
//       cpu.cfs_period_us = 100000, cpu.cfs_quota_us = cpus x period (at
//       least 1000); user and system time from cpuacct.stat. The cgroup is
//       made in the cpu and the cpuacct hierarchies (one if co-mounted).
//   v2: cpu.weight from those shares as systemd maps them (shares x 100 /
//       1024, within 1..10000), with `cfs_quota` cpu.max = "<quota> 100000";
//       user and system time from cpu.stat.
//
// A container without a `cpus` resource keeps the kernel's defaults.
#pragma once

#include <cstdint>

#include "modules/isolator/cgroups/cgroups_isolator.hpp"

namespace keel::modules {

inline constexpr uint64_t kCfsPeriodUs = 100000;

// From the `cpus` resource in thousandths (Scalar::millis()), as Mesos does.
uint64_t CpuSharesFor(int64_t cpus_millis);
uint64_t CfsQuotaUsFor(int64_t cpus_millis);
// cgroup v2 cpu.weight for v1 shares (systemd's cgroup_cpu_shares_to_weight).
uint64_t CpuWeightForShares(uint64_t shares);

class CgroupsCpuIsolator : public CgroupsIsolator {
 public:
  // Reads cgroups_hierarchy, cgroups_root and cfs_quota. Throws when the cpu
  // controller (and on v1 the cpuacct one) cannot be found.
  explicit CgroupsCpuIsolator(ModuleContext& context);

 protected:
  Status ApplyLimits(const ContainerId& id, const Resources& resources, bool first) override;
  Status Measure(const ContainerId& id, const Resources& resources,
                 ResourceStatistics* stats) override;

 private:
  bool cfs_quota_;
  bool v2_;
};

}  // namespace keel::modules
