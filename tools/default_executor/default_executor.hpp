// DefaultExecutor: what keel-default-executor does with the agent's events,
// following Mesos's default executor (src/launcher/default_executor.cpp):
//
// * LAUNCH_GROUP: every task of the group gets TASK_STARTING, is started as
//   its own process group in its own nested sandbox (task_process.hpp), and
//   gets TASK_RUNNING. A plain LAUNCH is a group of one.
// * A task that ends reports TASK_FINISHED (exit 0), TASK_FAILED (other exit
//   or a signal; "Command exited with status N" / "Command terminated by
//   signal N (...)"), or TASK_KILLED (it was being killed).
// * A task that ends TASK_FAILED or TASK_KILLED takes its group with it: the
//   others are killed and report TASK_KILLED. So a KILL of one task kills
//   its whole group, as in Mesos.
// * A kill is SIGTERM to the task's process group, then SIGKILL after the
//   grace period: the KILL's kill_policy, else the task's, else 3 s. A
//   framework with TASK_KILLING_STATE gets TASK_KILLING first.
// * max_completion_time: past it the task is killed at once and reports
//   TASK_FAILED with REASON_MAX_COMPLETION_TIME_REACHED.
// * SHUTDOWN kills every task; then the executor leaves.
// * Once every task has ended (after at least one launch) and every update
//   is acknowledged, the executor leaves; it waits for acknowledgements at
//   most the shutdown grace period.
//
// Threading: Post() and PostExit() from any thread; everything else runs on
// the thread that calls Run(), which is the one thread that forks.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "keel/executor/executor_client.hpp"
#include "task_process.hpp"

namespace keel::default_executor {

using executor::Event;

class DefaultExecutor {
 public:
  using Clock = std::chrono::steady_clock;

  // `client` must outlive this; its handlers should Post() here.
  DefaultExecutor(executor::ExecutorClient& client, TaskContext context);

  // An event to handle on Run()'s thread.
  void Post(Event event);
  // A child ended with `wait_status` (from the reaper).
  void PostExit(pid_t pid, int wait_status);
  // Reaps every child (this process should be a child subreaper, so that
  // orphaned grandchildren come here too), forever; run it on its own thread.
  void ReapChildren();

  // Handles events until it is time to leave; returns the exit status: 0, or
  // 1 when the executor never got to subscribe.
  int Run();

 private:
  struct Task {
    v1::TaskInfo info;
    size_t group = 0;
    TaskSandbox sandbox;
    pid_t pid = 0;  // also its process group
    bool killing = false;
    bool past_completion_time = false;
    std::optional<Clock::time_point> escalate_at;  // SIGKILL then
    std::optional<Clock::time_point> complete_by;  // max_completion_time
  };
  struct Group {
    std::vector<std::string> tasks;
    bool killing = false;
  };
  struct Item {
    std::optional<Event> event;
    pid_t pid = 0;
    int wait_status = 0;
  };

  void Handle(const Event& event);
  void LaunchGroup(const std::vector<v1::TaskInfo>& tasks);
  void Exited(pid_t pid, int wait_status);
  void KillTask(const std::string& id, const v1::KillPolicy* policy);
  void KillGroup(size_t group);
  void StartKill(Task& task, std::chrono::nanoseconds grace);
  void Shutdown();
  void OnTimers(Clock::time_point now);
  std::optional<Clock::time_point> NextTimer() const;
  // Leaves when nothing runs and nothing waits for an acknowledgement.
  void MaybeLeave();
  std::chrono::nanoseconds GraceOf(const Task& task) const;
  void SendUpdate(const v1::TaskInfo& task, v1::TaskState state, const std::string& message = "",
                  std::optional<v1::TaskStatus::Reason> reason = std::nullopt);

  executor::ExecutorClient& client_;
  const TaskContext context_;

  std::mutex mu_;  // guards queue_ and spawned_
  std::condition_variable wake_;
  std::deque<Item> queue_;
  std::condition_variable reaper_wake_;
  uint64_t spawned_ = 0;

  // Run()'s thread only.
  std::map<std::string, Task> tasks_;  // running (or being killed)
  std::map<pid_t, std::string> pids_;
  std::vector<Group> groups_;
  v1::FrameworkInfo framework_;
  bool subscribed_once_ = false;
  bool launched_ = false;
  bool shutting_down_ = false;
  bool done_ = false;
  std::optional<Clock::time_point> leave_by_;  // acknowledgements wait until then
};

}  // namespace keel::default_executor
