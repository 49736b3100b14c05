#include "modules/isolator/cgroups_cpu/cgroups_cpu_isolator.hpp"

#include <unistd.h>

#include <algorithm>

namespace keel::modules {
namespace {

std::vector<ControllerMount> CpuMounts(const ModuleContext& context) {
  const CgroupsParameters parameters = ReadCgroupsParameters(context.parameters());
  ControllerMount cpu = FindControllerOrThrow(parameters, "cpu");
  // On v2 cpu.stat has the times; on v1 they are cpuacct's.
  if (cpu.version == CgroupVersion::kV2) return {cpu};
  return {cpu, FindControllerOrThrow(parameters, "cpuacct")};
}

}  // namespace

uint64_t CpuSharesFor(int64_t cpus_millis) {
  const uint64_t shares = static_cast<uint64_t>(std::max<int64_t>(cpus_millis, 0)) * 1024 / 1000;
  return std::max<uint64_t>(shares, 2);
}

uint64_t CfsQuotaUsFor(int64_t cpus_millis) {
  const uint64_t quota =
      static_cast<uint64_t>(std::max<int64_t>(cpus_millis, 0)) * kCfsPeriodUs / 1000;
  return std::max<uint64_t>(quota, 1000);
}

uint64_t CpuWeightForShares(uint64_t shares) {
  return std::clamp<uint64_t>(shares * 100 / 1024, 1, 10000);
}

CgroupsCpuIsolator::CgroupsCpuIsolator(ModuleContext& context)
    : CgroupsIsolator(context, CpuMounts(context)),
      cfs_quota_(context.parameters().GetBool("cfs_quota")),
      v2_(MountOf("cpu").version == CgroupVersion::kV2) {}

Status CgroupsCpuIsolator::ApplyLimits(const ContainerId& id, const Resources& resources,
                                       bool first) {
  if (resources.Names().count("cpus") == 0) return Status::Ok();
  const int64_t millis = resources.GetScalar("cpus").millis();
  const Cgroup cgroup = CgroupOf(id, "cpu");
  const uint64_t shares = CpuSharesFor(millis);
  Status s = v2_ ? cgroup.Write("cpu.weight", std::to_string(CpuWeightForShares(shares)))
                 : cgroup.Write("cpu.shares", std::to_string(shares));
  if (s.ok() && cfs_quota_) {
    const std::string quota = std::to_string(CfsQuotaUsFor(millis));
    if (v2_) {
      s = cgroup.Write("cpu.max", quota + " " + std::to_string(kCfsPeriodUs));
    } else {
      s = cgroup.Write("cpu.cfs_period_us", std::to_string(kCfsPeriodUs));
      if (s.ok()) s = cgroup.Write("cpu.cfs_quota_us", quota);
    }
  }
  return s.ok() ? s : Fail(id, s.message());
}

Status CgroupsCpuIsolator::Measure(const ContainerId& id, const Resources& resources,
                                   ResourceStatistics* stats) {
  if (resources.Names().count("cpus") != 0) stats->cpus_limit = resources.GetScalar("cpus").value();
  if (v2_) {
    auto times = CgroupOf(id, "cpu").ReadFlatKeyed("cpu.stat");
    if (!times.ok()) return Fail(id, times.status().message());
    stats->cpus_user_time_secs = static_cast<double>(times.value()["user_usec"]) / 1e6;
    stats->cpus_system_time_secs = static_cast<double>(times.value()["system_usec"]) / 1e6;
    return Status::Ok();
  }
  auto ticks = CgroupOf(id, "cpuacct").ReadFlatKeyed("cpuacct.stat");
  if (!ticks.ok()) return Fail(id, ticks.status().message());
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  stats->cpus_user_time_secs = static_cast<double>(ticks.value()["user"]) / hz;
  stats->cpus_system_time_secs = static_cast<double>(ticks.value()["system"]) / hz;
  return Status::Ok();
}

}  // namespace keel::modules
