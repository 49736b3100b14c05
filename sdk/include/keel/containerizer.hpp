// Containerizer: turns a task into a running, watched, killable container.
//
// The agent hands it each task's command (or image) with the resources the
// task was given; the containerizer starts the process in isolation (through
// the isolators the agent loaded for it), reports when it ends and kills
// every process of the container on Destroy().
//
// Containers outlive the agent: destroying a containerizer leaves its
// containers running, and the next agent over the same work dir takes them
// back through Recover(). The agent Destroy()s what it wants gone first.
//
// Threading: on the agent's core strand. Launch() and Destroy() start work and
// return at once; the end of a container is reported through the callback
// given to Launch() (or Recover()), on the core strand.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keel/isolator.hpp"
#include "keel/module.hpp"
#include "keel/status.hpp"

namespace keel {

struct CommandSpec {
  bool shell = true;                   // run `value` with /bin/sh -c
  std::string value;                   // the shell command, or the executable
  std::vector<std::string> arguments;  // argv when !shell
  std::map<std::string, std::string> environment;
  std::string user;
};

struct ContainerLaunch {
  ContainerId id;
  // config.sandbox_dir may not exist yet: the containerizer makes it (the
  // agent leaves it to the container's own process, off the agent's strand).
  ContainerConfig config;
  CommandSpec command;
  std::optional<std::string> image;  // for image-based containerizers
};

struct ContainerTermination {
  std::optional<int> exit_status;  // as from waitpid()
  std::optional<ContainerLimitation> limitation;
  std::string message;
};

class Containerizer : public Module {
 public:
  using TerminationCallback = std::function<void(const ContainerTermination&)>;
  using RecoveredCallback = std::function<void(const ContainerId&, const ContainerTermination&)>;

  // Called once before any launch with the isolators the agent loaded, in
  // configured order. The containerizer does not own them; they outlive it
  // (the agent destroys modules last loaded first).
  virtual Status Start(const std::vector<Isolator*>& isolators) = 0;
  // Whether this containerizer runs `launch` at all. An agent with several
  // containerizers gives each launch to the first that says yes; the
  // default takes exactly the launches without an image.
  virtual bool CanLaunch(const ContainerLaunch& launch) const { return !launch.image.has_value(); }
  virtual Status Launch(const ContainerLaunch& launch, TerminationCallback on_exit) = 0;
  // Once, after Start() and before any Launch(), when the agent starts over
  // the work dir of a previous run: `containers` are those the agent had
  // checkpointed as launched through this containerizer. It reattaches to
  // each (recovering the isolators first) and calls `on_exit` once for each
  // when it ends, at once for those that ended while no agent ran (with the
  // exit status the container recorded). Containers of its own that are not
  // listed it destroys. The default cannot reattach: it returns an error,
  // and the agent reports those tasks lost.
  virtual Status Recover(const std::vector<RecoveredContainer>& containers,
                         RecoveredCallback on_exit) {
    return Status::Error("this containerizer cannot recover containers");
  }
  // Sends `signal` to every process of the container (the agent's graceful
  // kill: SIGTERM, then Destroy() after the grace period). A containerizer
  // that cannot signal returns an error and the agent destroys at once.
  virtual Status Kill(const ContainerId& id, int signal) {
    return Status::Error("this containerizer cannot signal containers");
  }
  // Kills every process of the container; `on_exit` of Launch() follows.
  virtual Status Destroy(const ContainerId& id) = 0;
  virtual Result<ResourceStatistics> Usage(const ContainerId& id) = 0;
  virtual std::vector<ContainerId> Containers() const = 0;
};

}  // namespace keel
