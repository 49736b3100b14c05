// The cgroups runc makes for a container (its linux.cgroupsPath in every
// hierarchy), as the containerizer reads, signals and removes them: usage,
// OOM kills, the processes in them. cgroup v1 (and hybrid, whose v2
// hierarchy is only cleaned up) and a pure cgroup v2 host are both read.
//
// Threading: CgroupLayout is immutable once detected; its methods read and
// write small cgroup files and may be called from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "keel/isolator.hpp"
#include "keel/status.hpp"

namespace keel::modules::oci {

class CgroupLayout {
 public:
  // From /proc/self/mountinfo; an error when no cgroup is mounted.
  static Result<CgroupLayout> Detect();

  bool unified() const { return unified_; }

  // Adds cpu times, memory, processes and threads of the container whose
  // cgroups path is `path` ("/keel-oci/<id>"); missing cgroups add nothing.
  void AddUsage(const std::string& path, ResourceStatistics* stats) const;
  // How many processes the kernel's OOM killer killed in the container.
  uint64_t OomKills(const std::string& path) const;
  // The pids of the container's processes.
  std::vector<pid_t> Pids(const std::string& path) const;
  // Sends `signal` to every process of the container (through pidfds, so a
  // pid reused meanwhile is never signalled); returns how many it reached.
  int SignalAll(const std::string& path, int signal) const;
  // Removes the container's cgroup in every hierarchy. REQUIRES: no process
  // is left in it.
  Status Remove(const std::string& path) const;
  // The container's cgroup directories that still exist.
  std::vector<std::string> Existing(const std::string& path) const;

 private:
  std::string Dir(const std::string& subsystem, const std::string& path) const;

  bool unified_ = false;
  std::string unified_root_;                       // the cgroup2 mount (v2, or hybrid's)
  std::map<std::string, std::string> subsystems_;  // v1: "memory" -> its mount point
  std::vector<std::string> hierarchies_;           // every cgroup mount point
};

}  // namespace keel::modules::oci
