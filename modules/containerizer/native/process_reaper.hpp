// ProcessReaper: reaps the process-group leaders it watches, on one
// background thread, without ever calling waitpid(-1) (the agent and the
// tests have other children that are not ours to reap).
//
// Each leader is watched through a pidfd in an epoll set. When it exits, the
// rest of its group is SIGKILLed *before* the leader is reaped: until then the
// leader is a zombie whose pid, hence its group id, cannot be reused, so the
// signal cannot reach an unrelated process. SignalGroup() takes the same lock for
// the same reason.
//
// After an agent restart the containers' first processes are no longer its
// children: Adopt() watches such a process for its end only (its parent, the
// host's init, reaps it).
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "keel/status.hpp"

namespace keel::modules {

class ProcessReaper {
 public:
  // Passed to a callback when someone else reaped the process first, and
  // for every adopted process.
  static constexpr int kUnknownStatus = -1;
  using ExitCallback = std::function<void(int wait_status)>;

  // Fails when the kernel has no pidfd_open (Linux < 5.3).
  static Result<std::unique_ptr<ProcessReaper>> Create();
  // Stops watching; the processes run on (a later agent adopts them).
  // Callbacks are not called.
  ~ProcessReaper();
  ProcessReaper(const ProcessReaper&) = delete;
  ProcessReaper& operator=(const ProcessReaper&) = delete;

  // `pid` must be our child and the leader of its own process group.
  // `on_exit` is called once, on the reaper's thread, after the leader is
  // reaped.
  Status Watch(pid_t pid, ExitCallback on_exit);
  // Watches `pid`, which is not our child, through `pidfd` (taken over);
  // `on_exit` gets kUnknownStatus when it ends. Nothing of its group is
  // killed then: its group id may already be another's.
  Status Adopt(pid_t pid, int pidfd, ExitCallback on_exit);
  // Sends `signal` to the group of a watched leader. False when `pid` is not
  // watched (it was never, or it has already been reaped).
  bool SignalGroup(pid_t pid, int signal);

 private:
  struct Watched {
    int pidfd;
    ExitCallback on_exit;
    bool child;  // false: adopted
  };
  Status Add(pid_t pid, int pidfd, ExitCallback on_exit, bool child);

  ProcessReaper(int epoll_fd, int wake_fd);
  void Run();
  void Reap(pid_t pid);

  const int epoll_fd_;
  const int wake_fd_;  // an eventfd: written to stop the thread
  std::mutex mutex_;
  std::map<pid_t, Watched> watched_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace keel::modules
