// Isolator: enforces and measures one resource of a container.
//
// The native containerizer calls every configured isolator for each container:
//   Prepare()  before the task's process exists; may ask for namespaces,
//              mounts and environment for the child (LaunchInfo);
//   Isolate()  once the child exists (its pid) but before it runs the task;
//   Usage()    whenever the agent samples statistics;
//   Cleanup()  after every process of the container is gone.
// Prepare runs in the configured order, Cleanup in reverse. After an agent
// restart, Recover() comes first, once, with the containers still there.
//
// Threading: on the agent's core strand, one call at a time. Calls are quick
// file-system operations (cgroup writes); anything that waits (an OOM event)
// is reported later through the callback given to Watch().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keel/module.hpp"
#include "keel/resources.hpp"
#include "keel/status.hpp"

namespace keel {

using ContainerId = std::string;

struct ContainerConfig {
  std::string sandbox_dir;  // the task's sandbox on the host
  std::string user;         // empty: the agent's user
  Resources resources;      // what the container was given
};

// What an isolator asks of the child process. Merged across isolators.
struct LaunchInfo {
  int clone_namespaces = 0;  // CLONE_NEWPID, CLONE_NEWNS, ... (or'ed)
  std::map<std::string, std::string> environment;
  struct Mount {
    std::string source;
    std::string target;
    std::string type;
    unsigned long flags = 0;
    std::string options;
  };
  std::vector<Mount> mounts;  // made inside the child's mount namespace
};

// A container a previous run of the agent launched, as the agent
// checkpointed it: handed to Recover() after a restart.
struct RecoveredContainer {
  ContainerId id;
  ContainerConfig config;
  // The container's first process, as Isolate() was given it; filled in by
  // the containerizer for its isolators (0: it no longer runs).
  int pid = 0;
};

// Why a container must end (reported by Watch()).
struct ContainerLimitation {
  std::string reason;   // "REASON_CONTAINER_LIMITATION_MEMORY", ...
  std::string message;  // for the operator and the framework
};

// Mesos's ResourceStatistics, the fields Keel fills.
struct ResourceStatistics {
  double timestamp = 0;  // seconds since the epoch
  double cpus_user_time_secs = 0;
  double cpus_system_time_secs = 0;
  std::optional<double> cpus_limit;
  uint64_t mem_rss_bytes = 0;
  std::optional<uint64_t> mem_limit_bytes;
  std::optional<uint64_t> processes;
  std::optional<uint64_t> threads;
};

class Isolator : public Module {
 public:
  // Before any other call, when the agent starts over a previous run's work
  // dir: takes back `containers` (their processes may still run, or may have
  // ended while no agent ran) as if this isolator had prepared and isolated
  // them, so Watch(), Signal(), Usage() and Cleanup() work on them.
  // Containers the containerizer finds but nobody wants any more (orphans)
  // it ends with Signal() and Cleanup() of their ids, not through this. An
  // error fails the agent's start. Stateless isolators keep the default.
  virtual Status Recover(const std::vector<RecoveredContainer>& containers) { return Status::Ok(); }
  virtual Result<LaunchInfo> Prepare(const ContainerId& id, const ContainerConfig& config) = 0;
  // REQUIRES: Prepare(id) succeeded. `pid` is the container's first process.
  virtual Status Isolate(const ContainerId& id, int pid) = 0;
  // Registers the callback the isolator calls (on the core strand) when the
  // container hits a limit. Isolators that impose no limit never call it.
  // Cleanup() may still report, synchronously, a limit that ended the
  // container (its event can arrive after the container's last process was
  // reaped), so report the termination only after Cleanup() returns.
  virtual void Watch(const ContainerId& id,
                     std::function<void(const ContainerLimitation&)> on_limit) {}
  // Sends `signal` to every process of the container, including those that
  // left its process group or double-forked, and returns true; false when
  // this isolator does not know the container's processes (only cgroups
  // isolators do). The containerizer kills through this when it can: a
  // process group is only a hint.
  virtual bool Signal(const ContainerId& id, int signal) { return false; }
  // New resources for a running container.
  virtual Status Update(const ContainerId& id, const Resources& resources) = 0;
  // Adds this isolator's measurements to `stats` (several isolators fill one).
  virtual Status Usage(const ContainerId& id, ResourceStatistics* stats) = 0;
  // REQUIRES: no process of the container is left.
  virtual Status Cleanup(const ContainerId& id) = 0;
};

}  // namespace keel
