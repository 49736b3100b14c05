// ContainerRecord: what the native containerizer keeps of a container on
// disk, so that an agent started again finds it: the directory
// <module work dir>/containers/<id>/ holding
//   init         "<pid> <start time>" of the container's keel-container-init,
//                written once it exists;
//   exit_status  the task's wait status, written by keel-container-init when
//                the task ends (see container_init_main.cpp).
// Both are written whole by rename and never synced: they must survive the
// agent's death, not the machine's (a reboot ends every container anyway).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keel/status.hpp"

namespace keel::modules {

struct InitProcess {
  pid_t pid = 0;
  uint64_t start_time = 0;  // clock ticks since boot (/proc/<pid>/stat)
};

class ContainerRecords {
 public:
  explicit ContainerRecords(std::string root) : root_(std::move(root)) {}

  Status Init();  // makes the root directory
  std::string DirOf(const std::string& id) const { return root_ + "/" + id; }
  Status Create(const std::string& id) const;
  Status WriteInit(const std::string& id, const InitProcess& init) const;
  std::optional<InitProcess> ReadInit(const std::string& id) const;
  std::optional<int> ReadExitStatus(const std::string& id) const;
  void Remove(const std::string& id) const;
  // Ids of every record, in no order.
  std::vector<std::string> List() const;

 private:
  std::string root_;
};

// The start time of `pid`, which with the pid names one process for good;
// nullopt when no such process exists.
std::optional<uint64_t> ProcessStartTime(pid_t pid);

// A pidfd of `init`'s process if it still runs (the same process: its start
// time matches), else -1.
int OpenIfRunning(const InitProcess& init);

// keel-container-init beside the running program (a build tree's bin/), in
// ../libexec/keel/ (installed: /usr/sbin/keel-agent, /usr/libexec/keel/), or
// in ../bin/ (a build tree's tests/); empty if in none.
std::string FindContainerInit();

}  // namespace keel::modules
