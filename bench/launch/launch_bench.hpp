// bench/launch: what starting one task costs, from the call that launches it
// to the moment the task's own code runs (it writes to a FIFO the bench
// holds), for bare process starts and for Keel's containerizers, in one run.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace keel::bench {

// One launch: started at `start`, the task ran at `ran`, and everything
// (exit, cleanup) was over at `done`.
struct LaunchTiming {
  double to_exec_ms = 0;
  double cycle_ms = 0;
};

struct CaseResult {
  std::string name;
  std::vector<LaunchTiming> launches;
  std::string error;  // the case could not run here
};

// A per-launch directory with a FIFO named `ready` the task writes to.
class ReadySignal {
 public:
  explicit ReadySignal(const std::string& dir);
  ~ReadySignal();
  ReadySignal(const ReadySignal&) = delete;
  ReadySignal& operator=(const ReadySignal&) = delete;
  const std::string& dir() const { return dir_; }
  std::string fifo() const { return dir_ + "/ready"; }
  // Waits until the task wrote; false after `timeout`.
  bool Wait(std::chrono::milliseconds timeout);

 private:
  std::string dir_;
  int fd_ = -1;
};

using Clock = std::chrono::steady_clock;
inline double MillisSince(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

// The same shell one-liner every case runs: tell the bench, then exit.
std::string TaskScript(const std::string& fifo);

// Runs `launches` launches of a case, each with its own ReadySignal
// directory under `work`; an exception ends the case with its message.
CaseResult RunCase(const std::string& name, const std::string& work, int launches,
                   const std::function<LaunchTiming(int, ReadySignal&)>& launch_and_wait);

// (a) fork + exec of /bin/sh.
CaseResult BareForkExec(const std::string& work, int launches);
// (b) the same, each into fresh cpu, memory and pids cgroups (v1 here) with
// the limits the isolators would write.
CaseResult ForkExecIntoCgroups(const std::string& work, int launches);
// (c) the native containerizer, loaded as the agent loads it, with the
// isolators named (the headline: cgroups/cpu, cgroups/mem, cgroups/pids and
// namespaces/pid).
CaseResult NativeContainerizer(const std::string& module_dir, const std::string& work,
                               const std::vector<std::string>& isolation, int launches);
// (d) `runc run` of a busybox bundle made by hand, with the config the oci
// containerizer writes, over the image's root file system read-only.
CaseResult BareRunc(const std::string& rootfs, const std::string& work, int launches);
// (e) the oci containerizer running the imported busybox image.
CaseResult OciContainerizer(const std::string& module_dir, const std::string& work,
                            const std::string& image, int launches);

// The containerizers the two cases above loaded (once per run) go.
void UnloadContainerizers();

}  // namespace keel::bench
