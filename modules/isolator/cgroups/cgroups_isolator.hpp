// CgroupsIsolator: the part cgroups/cpu, cgroups/mem and cgroups/pids share.
//
// Each container gets one cgroup in every hierarchy the isolator uses,
// <controller mount>/<cgroups_root>/<container id>: Prepare() makes it,
// Isolate() moves the container's first process into it (its children
// follow by themselves), Signal() reaches every process in it, and Cleanup()
// SIGKILLs whatever is left, waits until the cgroup is empty and removes it.
// A subclass writes the limits (ApplyLimits) and reads the measurements
// (Measure).
//
// Sharing a cgroup: on v2 the three isolators use the same directory
// (/sys/fs/cgroup/keel/<id>), and on v1 controllers can be mounted together.
// So that the first Cleanup() does not remove a cgroup another isolator
// still needs (cgroups/mem reads its OOM counter in Cleanup), each isolator
// holds each of its cgroups with an empty child cgroup named
// "keel-held-by-<isolator>" ("keel-held-by-cgroups-mem"); Cleanup() removes
// its own and removes the cgroup only when no other hold is left. Child
// cgroups without controllers enabled do not change how the container's
// processes are limited.
//
// Container ids become directory names: an id that is empty, "." or "..",
// or holds '/', a newline or NUL is refused. Cleanup() works from the id
// alone, so it also removes the cgroup of a container this instance never
// prepared (one from before an agent restart) and is a no-op for an id
// without cgroups. Several agents may share a host and cgroups_root: each
// only touches the cgroups of the ids it is given, and never removes
// cgroups_root itself.
//
// Threading: as every isolator, on the agent's core strand, one call at a
// time. Cleanup() may wait for the kernel: at most kKillTimeout for the
// processes to die and kRemoveTimeout for the kernel to release the cgroup;
// usually a few milliseconds.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "keel/isolator.hpp"
#include "modules/isolator/cgroups/cgroup.hpp"
#include "modules/isolator/cgroups/cgroup_layout.hpp"

namespace keel::modules {

// The parameters every cgroups isolator takes.
struct CgroupsParameters {
  std::string hierarchy;  // cgroups_hierarchy: "/sys/fs/cgroup"
  std::string root;       // cgroups_root, without leading or trailing '/': "keel"
};

// Reads and checks `cgroups_hierarchy` (an absolute path) and `cgroups_root`
// (a relative path without "." or ".." parts). Throws std::invalid_argument
// naming the parameter.
CgroupsParameters ReadCgroupsParameters(const Parameters& parameters);

// FindController(), or std::runtime_error with its message.
ControllerMount FindControllerOrThrow(const CgroupsParameters& parameters,
                                      const std::string& controller);

class CgroupsIsolator : public Isolator {
 public:
  static constexpr std::chrono::milliseconds kKillTimeout{1000};
  static constexpr std::chrono::milliseconds kRemoveTimeout{500};

  ~CgroupsIsolator() override;

  // Makes the cgroups, writes the limits. Fails for an id already prepared
  // and, naming the path, when the kernel refuses a directory or a write
  // (what was made is removed again). Asks nothing of the child: the
  // LaunchInfo is empty.
  Result<LaunchInfo> Prepare(const ContainerId& id, const ContainerConfig& config) final;
  Status Isolate(const ContainerId& id, int pid) final;
  // Takes back the containers whose cgroups exist (the others ended and
  // were cleaned up, or never got one): their limits stay as written.
  Status Recover(const std::vector<RecoveredContainer>& containers) final;
  // Sends `signal` to every process in the container's cgroup (a SIGKILL on
  // v2 through cgroup.kill) and returns true; false for an id that has no
  // cgroup. A process that cannot be signalled is logged.
  bool Signal(const ContainerId& id, int signal) final;
  // Rewrites the limits for `resources`.
  Status Update(const ContainerId& id, const Resources& resources) final;
  Status Usage(const ContainerId& id, ResourceStatistics* stats) final;
  // Kills what is left, waits for the cgroups to empty and removes them
  // (see the file comment). Fine for an id without cgroups. Errors name the
  // paths; the isolator forgets the container even then, and a later
  // Cleanup() of the same id tries again.
  Status Cleanup(const ContainerId& id) final;

 protected:
  // `mounts`: where each controller the isolator uses is; the first is the
  // isolator's own, whose cgroup Signal() reads. Reads the common
  // parameters from `context`.
  CgroupsIsolator(ModuleContext& context, std::vector<ControllerMount> mounts);

  // Writes the limits for `resources`; `first` when called by Prepare().
  virtual Status ApplyLimits(const ContainerId& id, const Resources& resources, bool first) = 0;
  // Fills this isolator's fields of `stats`; `resources` are the
  // container's as last given.
  virtual Status Measure(const ContainerId& id, const Resources& resources,
                         ResourceStatistics* stats) = 0;
  // After Prepare() made the cgroups and wrote the limits.
  virtual Status OnPrepared(const ContainerId& id) { return Status::Ok(); }
  // For a container Recover() took back.
  virtual Status OnRecovered(const ContainerId& id) { return OnPrepared(id); }
  // First thing in Cleanup() of a prepared container (and when Prepare()
  // fails after making the cgroups), while the cgroups still exist.
  virtual void OnCleanup(const ContainerId& id) {}

  // The container's cgroup in `controller`'s hierarchy. REQUIRES: the
  // isolator was given `controller`'s mount.
  Cgroup CgroupOf(const ContainerId& id, const std::string& controller) const;
  const ControllerMount& MountOf(const std::string& controller) const;
  bool Known(const ContainerId& id) const { return containers_.count(id) != 0; }
  ModuleContext& context() const { return context_; }
  // "cgroups/mem: container 'c1': <what>"
  Status Fail(const ContainerId& id, const std::string& what) const;

 private:
  // One Cgroup per distinct directory (co-mounted controllers share one).
  std::vector<Cgroup> CgroupsOf(const ContainerId& id) const;
  // Drops this isolator's hold, kills, removes unless held by another.
  void Teardown(const ContainerId& id, std::vector<std::string>* errors);

  ModuleContext& context_;
  CgroupsParameters parameters_;
  std::vector<ControllerMount> mounts_;
  std::string hold_name_;
  bool needs_hold_ = false;
  std::map<ContainerId, Resources> containers_;
};

}  // namespace keel::modules
