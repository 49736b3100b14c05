#include "modules/isolator/cgroups_pids/cgroups_pids_isolator.hpp"

#include <sstream>
#include <stdexcept>

namespace keel::modules {
namespace {

int64_t MaxPids(const ModuleContext& context) {
  const int64_t max = context.parameters().GetInt("max_pids");
  if (max < 1) {
    throw std::invalid_argument("parameter 'max_pids': must be at least 1 (got " +
                                std::to_string(max) + ")");
  }
  return max;
}

std::vector<ControllerMount> PidsMounts(const ModuleContext& context) {
  return {FindControllerOrThrow(ReadCgroupsParameters(context.parameters()), "pids")};
}

}  // namespace

CgroupsPidsIsolator::CgroupsPidsIsolator(ModuleContext& context)
    : CgroupsIsolator(context, PidsMounts(context)), max_pids_(MaxPids(context)) {}

Status CgroupsPidsIsolator::ApplyLimits(const ContainerId& id, const Resources&, bool first) {
  // The limit is the isolator's, not a resource: nothing to change later.
  if (!first) return Status::Ok();
  Status s = CgroupOf(id, "pids").Write("pids.max", std::to_string(max_pids_));
  return s.ok() ? s : Fail(id, s.message());
}

Status CgroupsPidsIsolator::Measure(const ContainerId& id, const Resources&,
                                    ResourceStatistics* stats) {
  const Cgroup cgroup = CgroupOf(id, "pids");
  Result<std::vector<pid_t>> processes = cgroup.Processes();
  if (!processes.ok()) return Fail(id, processes.status().message());
  Result<std::string> current = cgroup.Read("pids.current");
  if (!current.ok()) return Fail(id, current.status().message());
  uint64_t tasks = 0;
  if (!(std::istringstream(*current) >> tasks)) {
    return Fail(id, cgroup.path() + "/pids.current: not a number: '" + *current + "'");
  }
  stats->processes = processes->size();
  stats->threads = tasks;
  return Status::Ok();
}

}  // namespace keel::modules
