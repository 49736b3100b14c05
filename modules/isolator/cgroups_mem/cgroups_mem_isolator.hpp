// CgroupsMemIsolator (`cgroups/mem`): limits a container's memory to its
// `mem` resource (MB; at least 32 MB, as Mesos), measures it, and reports an
// OOM kill inside the container as a limitation.
//
//   v1: memory.soft_limit_in_bytes and memory.limit_in_bytes; RSS is
//       memory.stat's total_rss; OOM through an eventfd on
//       memory.oom_control (cgroup.event_control).
//   v2: memory.max (memory.high set to "max"); RSS is memory.stat's anon;
//       OOM from memory.events (oom_kill), watched with inotify.
//
// Update() always rewrites the soft limit but raises the hard limit only:
// lowering it under a running task could OOM-kill it on the spot (Mesos
// does the same).
//
// OOM: the limitation is reason "REASON_CONTAINER_LIMITATION_MEMORY" with a
// message as Mesos writes it ("Memory limit exceeded: Requested: 64MB
// Maximum Used: 64MB", then a few memory.stat lines), reported once per
// container through the Watch() callback on the core strand. One thread of
// the isolator (OomWatcher), started by the first Prepare() and stopped by
// the destructor, waits for every container's OOM events. The OOM-killed
// task can be reaped before that event reaches the strand, so Cleanup()
// looks at the kernel's OOM-kill counter itself and, if it shows a kill that
// was not reported yet, calls the callback synchronously before removing
// the cgroup: the containerizer calls Cleanup() before it reports the
// termination, so the reason is never lost.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "modules/isolator/cgroups/cgroups_isolator.hpp"
#include "modules/isolator/cgroups_mem/oom_watcher.hpp"

namespace keel::modules {

inline constexpr uint64_t kMinMemoryBytes = 32ull << 20;

// Bytes as Mesos prints them: in the largest unit that loses nothing
// ("64MB", "65532KB", "1000B").
std::string FormatBytes(uint64_t bytes);

class CgroupsMemIsolator : public CgroupsIsolator {
 public:
  // Reads cgroups_hierarchy and cgroups_root. Throws when the memory
  // controller cannot be found. Starts no thread.
  explicit CgroupsMemIsolator(ModuleContext& context);
  ~CgroupsMemIsolator() override;

  void Watch(const ContainerId& id,
             std::function<void(const ContainerLimitation&)> on_limit) override;

 protected:
  Status ApplyLimits(const ContainerId& id, const Resources& resources, bool first) override;
  Status Measure(const ContainerId& id, const Resources& resources,
                 ResourceStatistics* stats) override;
  Status OnPrepared(const ContainerId& id) override;
  // As OnPrepared(), but every OOM kill the cgroup ever saw counts: one
  // while no agent ran ended the container as surely.
  Status OnRecovered(const ContainerId& id) override;
  void OnCleanup(const ContainerId& id) override;

 private:
  struct OomState {
    uint64_t token = 0;
    uint64_t kills_before = 0;  // the cgroup's OOM-kill count when prepared
    std::function<void(const ContainerLimitation&)> on_limit;
    bool seen = false;  // an OOM event arrived
    bool reported = false;
  };

  // On the strand: an OOM event for `token` from the watcher.
  void OnOomEvent(uint64_t token);
  // The cgroup's OOM-kill count (v1: oom_kill of memory.oom_control, v2:
  // oom_kill of memory.events), or nothing if it cannot be read.
  std::optional<uint64_t> OomKills(const ContainerId& id) const;
  // Whether usage ever reached the cgroup's limit (v1 memory.failcnt, v2
  // the max count of memory.events): tells an OOM at the container's limit
  // from a kill by the host's global OOM killer.
  bool LimitWasHit(const ContainerId& id) const;
  void Report(const ContainerId& id, OomState& oom);
  std::string DescribeLimitExceeded(const ContainerId& id) const;

  bool v2_;
  std::map<ContainerId, OomState> ooms_;
  std::map<uint64_t, ContainerId> ids_by_token_;
  std::shared_ptr<CgroupsMemIsolator*> self_;
  // Declared last: destroyed (its thread joined) first.
  std::unique_ptr<OomWatcher> watcher_;
};

}  // namespace keel::modules
