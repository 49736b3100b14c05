#include "modules/isolator/posix_usage/posix_usage_isolator.hpp"

#include <unistd.h>

#include <chrono>
#include <unordered_map>

#include "modules/isolator/posix_usage/proc_stat.hpp"

namespace keel::modules {

PosixUsageIsolator::Container* PosixUsageIsolator::Find(const ContainerId& id) {
  auto it = containers_.find(id);
  return it == containers_.end() ? nullptr : &it->second;
}

Result<LaunchInfo> PosixUsageIsolator::Prepare(const ContainerId& id,
                                               const ContainerConfig& config) {
  if (containers_.count(id) != 0) {
    return Status::Error("posix/usage: container '" + id + "' is already prepared");
  }
  containers_[id].resources = config.resources;
  return LaunchInfo{};
}

Status PosixUsageIsolator::Isolate(const ContainerId& id, int pid) {
  Container* c = Find(id);
  if (c == nullptr) return Status::Error("posix/usage: unknown container '" + id + "'");
  c->pid = pid;
  return Status::Ok();
}

Status PosixUsageIsolator::Recover(const std::vector<RecoveredContainer>& containers) {
  for (const RecoveredContainer& c : containers) {
    if (c.pid > 0) containers_[c.id] = Container{c.config.resources, c.pid};
  }
  return Status::Ok();
}

Status PosixUsageIsolator::Update(const ContainerId& id, const Resources& resources) {
  Container* c = Find(id);
  if (c == nullptr) return Status::Error("posix/usage: unknown container '" + id + "'");
  c->resources = resources;
  return Status::Ok();
}

Status PosixUsageIsolator::Usage(const ContainerId& id, ResourceStatistics* stats) {
  Container* c = Find(id);
  if (c == nullptr) return Status::Error("posix/usage: unknown container '" + id + "'");

  stats->timestamp =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (c->resources.Names().count("cpus")) {
    stats->cpus_limit = c->resources.GetScalar("cpus").value();
  }
  if (c->resources.Names().count("mem")) {
    stats->mem_limit_bytes =
        static_cast<uint64_t>(c->resources.GetScalar("mem").millis()) * 1024 * 1024 / 1000;
  }

  // One pass over /proc builds the parent -> children map; the container is
  // the subtree under its first process.
  std::unordered_map<pid_t, std::vector<ProcStat>> children;
  std::optional<ProcStat> root;
  if (c->pid > 0) {
    for (pid_t pid : ListPids()) {
      auto s = ReadProcStat(pid);
      if (!s || s->state == 'Z') continue;
      if (s->pid == c->pid) root = s;
      children[s->ppid].push_back(*s);
    }
  }
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t processes = 0, threads = 0, rss = 0;
  double user = 0, system = 0;
  std::vector<ProcStat> todo;
  if (root) todo.push_back(*root);
  while (!todo.empty()) {
    ProcStat s = todo.back();
    todo.pop_back();
    ++processes;
    threads += static_cast<uint64_t>(s.num_threads);
    user += static_cast<double>(s.utime_ticks) / ticks;
    system += static_cast<double>(s.stime_ticks) / ticks;
    rss += ReadRssPages(s.pid).value_or(0) * page;
    for (const auto& child : children[s.pid]) todo.push_back(child);
  }
  stats->processes = processes;
  stats->threads = threads;
  stats->cpus_user_time_secs = user;
  stats->cpus_system_time_secs = system;
  stats->mem_rss_bytes = rss;
  return Status::Ok();
}

Status PosixUsageIsolator::Cleanup(const ContainerId& id) {
  if (containers_.erase(id) == 0) {
    return Status::Error("posix/usage: unknown container '" + id + "'");
  }
  return Status::Ok();
}

}  // namespace keel::modules
