// Cgroup: one container's cgroup in one hierarchy, such as
// /sys/fs/cgroup/memory/keel/<container id> (v1) or /sys/fs/cgroup/keel/<id>
// (v2): making it, its control files, its processes, killing them and
// removing it.
//
// Every call is a few file-system operations on cgroupfs and returns
// quickly, except KillAll() and Remove(), which wait (bounded by their
// timeout) for the kernel to empty and release the cgroup. Errors name the
// path and the errno ("... /sys/fs/cgroup/memory/keel/c1/memory.limit_in_bytes:
// EBUSY (Device or resource busy)"). Not thread-safe; cheap to copy.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "keel/status.hpp"
#include "modules/isolator/cgroups/cgroup_layout.hpp"

namespace keel::modules {

// errno as "ENOENT (No such file or directory)".
std::string DescribeErrno(int error);

// "key value" lines, as in memory.stat, cpu.stat, cpuacct.stat,
// memory.events and memory.oom_control. Lines that are not a key and an
// unsigned number are skipped.
std::map<std::string, uint64_t> ParseFlatKeyed(std::string_view text);

class Cgroup {
 public:
  // The cgroup `relative` ("keel/<id>") below `mount`'s mount point.
  Cgroup(ControllerMount mount, std::string relative);

  const ControllerMount& mount() const { return mount_; }
  const std::string& path() const { return path_; }
  bool Exists() const;

  // mkdir -p of the path; existing directories are fine. On v2, first
  // enables the controller ("+memory" in cgroup.subtree_control) in the mount
  // root and in every directory between it and this cgroup, so that this
  // cgroup has the controller's files; this cgroup's own subtree_control is
  // left alone (its processes live in it).
  Status Create() const;

  // Writes `value` to the control file `file` ("memory.limit_in_bytes").
  Status Write(std::string_view file, std::string_view value) const;
  Result<std::string> Read(std::string_view file) const;
  // Read() then ParseFlatKeyed().
  Result<std::map<std::string, uint64_t>> ReadFlatKeyed(std::string_view file) const;

  // Moves process `pid` (all its threads) into this cgroup.
  Status AddProcess(pid_t pid) const;
  // Every process in this cgroup and in the cgroups below it (cgroup.procs);
  // none when the cgroup does not exist.
  Result<std::vector<pid_t>> Processes() const;
  // Sends `signal` once to every process of Processes(). A SIGKILL on v2 goes
  // through cgroup.kill where the kernel has it (5.14), which also catches
  // processes forked meanwhile.
  Status Signal(int signal) const;
  // SIGKILLs every process and waits until none is left, for at most
  // `timeout`. v2 with cgroup.kill: one write, then waiting. Otherwise
  // rounds of reading cgroup.procs and SIGKILLing what it lists until it
  // lists nothing. Fails, naming the pids left, at the timeout.
  Status KillAll(std::chrono::milliseconds timeout) const;

  // The names of the cgroups directly below this one.
  Result<std::vector<std::string>> Children() const;
  // A cgroup directly below this one, made empty (mkdir; existing is fine).
  Status CreateChild(const std::string& name) const;
  // rmdir of the child `name`; already gone is fine.
  Status RemoveChild(const std::string& name) const;

  // Removes every cgroup below this one, deepest first, then this one.
  // rmdir refused with EBUSY (the kernel releases an emptied cgroup a little
  // after its last process exits) is retried until `timeout`. A cgroup that
  // is already gone is fine.
  Status Remove(std::chrono::milliseconds timeout) const;

 private:
  ControllerMount mount_;
  std::string path_;
};

}  // namespace keel::modules
