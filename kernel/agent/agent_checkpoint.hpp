// AgentCheckpoint: the agent's state in <work_dir>/meta/, for recovery.
//
//   meta/boot_id        the host's boot id when the records were written: a
//                       record from before a reboot describes containers
//                       that no longer exist;
//   meta/tasks/<name>   one keel.internal.TaskRecord per task that has a
//                       container, an executor or unacknowledged updates;
//   meta/executors/<container id>
//                       one keel.internal.ExecutorRecord per executor.
//
// Records are written whole by rename and not synced: they must survive the
// agent's death, which leaves the page cache intact; a machine's crash ends
// its containers too, and the boot id tells the next agent so.
#pragma once

#include <map>
#include <string>

#include "keel/internal/agent_checkpoint.pb.h"
#include "keel/status.hpp"

namespace keel::agent {

class AgentCheckpoint {
 public:
  explicit AgentCheckpoint(const std::string& work_dir);

  // Makes meta/tasks/ and meta/executors/. False when the records there
  // were written before the host last booted (they are removed then):
  // nothing of them runs.
  Result<bool> Open();
  // Every record, by name. A record that cannot be read is logged and
  // moved aside (<name>.unreadable), never silently dropped.
  std::map<std::string, internal::TaskRecord> ReadTasks() const;
  std::map<std::string, internal::ExecutorRecord> ReadExecutors() const;
  Status Write(const std::string& name, const internal::TaskRecord& record) const;
  Status Write(const std::string& name, const internal::ExecutorRecord& record) const;
  void RemoveTask(const std::string& name) const;
  void RemoveExecutor(const std::string& name) const;
  // Removes every record (recover=cleanup; a host that rebooted).
  void Clear() const;

 private:
  std::string meta_dir_;
  std::string tasks_dir_;
  std::string executors_dir_;
};

// The host's boot id (/proc/sys/kernel/random/boot_id); empty if unknown.
std::string HostBootId();

}  // namespace keel::agent
