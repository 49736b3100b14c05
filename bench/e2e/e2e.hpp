// What keel-bench-e2e measures: no-op tasks through master, agent and
// containerizer, and the bare fork+exec loop they are compared with.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "keel/status.hpp"

namespace keel::bench {

// The tasks' shape; the agent's resources fit kTasksAtOnce of them.
inline constexpr const char* kCommand = "true";
inline constexpr double kTaskCpus = 0.01;
inline constexpr double kTaskMem = 4;
inline constexpr const char* kAgentResources = "cpus:64;mem:65536;disk:1024";
inline constexpr int kTasksAtOnce = 6400;  // 64 / 0.01 cpus; mem allows 16384
// What the framework launches per ACCEPT; the rest of the offer comes back
// at once (refuse_seconds 0) as the next offer.
inline constexpr int kTasksPerAccept = 16;
// Launches the framework lets be outstanding (accepted, not yet RUNNING).
inline constexpr int kMaxInFlight = 4;

// Runs `/bin/sh -c <kCommand>` `count` times, at most `concurrency` at once;
// returns the seconds from the first fork to the last reap.
Result<double> BareForkExec(int count, int concurrency);

// A keel-master and a keel-agent on free loopback ports with temp work dirs;
// stopped (SIGTERM, then wait) when destroyed.
class Cluster {
 public:
  // `isolation`: the agent's isolators (its --isolation flag).
  static Result<std::unique_ptr<Cluster>> Start(const std::string& bin_dir,
                                                const std::string& isolation);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  std::string master() const;  // HOST:PORT of the scheduler API
  // The last lines of both daemons' stderr, for a failure report.
  std::string LogTails() const;

 private:
  struct Impl;
  explicit Cluster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct E2eFigures {
  double seconds = 0;                        // first ACCEPT to last TASK_FINISHED
  std::vector<double> accept_to_running_ms;  // one per task
  int offers = 0;
  int accepts = 0;
};

// Launches `count` tasks through a SchedulerClient framework, as fast as
// offers come, and waits for all to finish. An error names the first task
// that did not finish, or why the cluster never ran them.
Result<E2eFigures> RunTasks(const std::string& master, int count);

}  // namespace keel::bench
