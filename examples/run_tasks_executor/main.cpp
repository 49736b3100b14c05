// keel-example-executor: the smallest complete custom executor on the SDK's
// executor client (keel/executor/executor_client.hpp). The agent starts it
// for the tasks of keel-example-framework --executor=PATH; it
//   - runs each LAUNCHed task's command (TaskInfo.command, or TaskInfo.data
//     as a shell command: a task that names an executor carries no command)
//     as a child process in its own process group, in the sandbox;
//   - reports TASK_RUNNING, then TASK_FINISHED, TASK_FAILED or TASK_KILLED;
//   - on KILL sends the task SIGTERM, and SIGKILL after its grace period;
//   - answers each MESSAGE from the scheduler with "echo: <data>";
//   - on SHUTDOWN kills its tasks and exits once they have ended.
// Everything it needs comes from the environment the agent sets
// (MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, ...).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "keel/executor/executor_client.hpp"

extern char** environ;

namespace {

using keel::executor::Event;
using keel::executor::ExecutorClient;
using keel::executor::ExecutorOptions;

using Clock = std::chrono::steady_clock;

struct RunningTask {
  keel::v1::TaskID id;
  std::chrono::nanoseconds grace{std::chrono::seconds(3)};
  bool killed = false;
  Clock::time_point sigkill_at;  // when killed
};

class RunTasksExecutor {
 public:
  explicit RunTasksExecutor(const ExecutorOptions& options) : client_(options) {
    client_.On(Event::LAUNCH, [this](const Event& e) { Launch(e.launch().task()); });
    client_.On(Event::KILL, [this](const Event& e) { Kill(e.kill().task_id().value()); });
    client_.On(Event::MESSAGE, [this](const Event& e) {
      if (auto s = client_.Message("echo: " + e.message().data()); !s.ok()) {
        std::cerr << "cannot answer a message: " << s.message() << std::endl;
      }
    });
    client_.On(Event::SHUTDOWN, [this](const Event&) { Shutdown(); });
    client_.On(Event::ERROR,
               [](const Event& e) { std::cerr << "agent error: " << e.error().message() << "\n"; });
  }

  // Runs until SHUTDOWN and every task has ended; returns the exit status.
  // This thread reaps the tasks and escalates kills; handlers run on the
  // client's.
  int Run() {
    client_.Start();
    for (;;) {
      int status = 0;
      pid_t pid;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) Ended(pid, status);
      std::unique_lock<std::mutex> lock(mu_);
      if (shutting_down_ && tasks_.empty()) break;
      for (auto& [pid, task] : tasks_) {
        if (task.killed && Clock::now() >= task.sigkill_at) ::kill(-pid, SIGKILL);
      }
      changed_.wait_for(lock, std::chrono::milliseconds(50));
    }
    // Give the agent a moment to acknowledge the last updates.
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    while (client_.unacknowledged_updates() > 0 && !client_.ended() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    client_.Stop();
    return 0;
  }

 private:
  void Update(const keel::v1::TaskID& id, keel::v1::TaskState state, const std::string& message) {
    keel::v1::TaskStatus status;
    *status.mutable_task_id() = id;
    status.set_state(state);
    if (!message.empty()) status.set_message(message);
    if (auto s = client_.Update(status); !s.ok()) std::cerr << s.message() << std::endl;
  }

  void Launch(const keel::v1::TaskInfo& task) {
    const std::string command = task.has_command() ? task.command().value() : task.data();
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_ || command.empty()) {
      Update(task.task_id(), keel::v1::TASK_FAILED,
             shutting_down_ ? "the executor is shutting down" : "the task has no command");
      return;
    }
    // argv and environment made before fork(): the child of a threaded
    // process may only make async-signal-safe calls.
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      if (std::string(*e).rfind("MESOS_TASK_ID=", 0) != 0) env.emplace_back(*e);
    }
    env.push_back("MESOS_TASK_ID=" + task.task_id().value());
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      ::execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
      ::_exit(127);
    }
    if (pid < 0) {
      Update(task.task_id(), keel::v1::TASK_FAILED, "cannot fork");
      return;
    }
    ::setpgid(pid, pid);
    RunningTask running;
    running.id = task.task_id();
    if (task.kill_policy().has_grace_period()) {
      running.grace = std::chrono::nanoseconds(task.kill_policy().grace_period().nanoseconds());
    }
    tasks_[pid] = running;
    std::cerr << "task " << task.task_id().value() << " runs as pid " << pid << std::endl;
    Update(task.task_id(), keel::v1::TASK_RUNNING, "");
    changed_.notify_all();
  }

  void Ended(pid_t pid, int status) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tasks_.find(pid);
    if (it == tasks_.end()) return;
    ::kill(-pid, SIGKILL);  // what the task left behind in its process group
    keel::v1::TaskState state = keel::v1::TASK_FAILED;
    std::string message;
    if (WIFEXITED(status)) {
      if (WEXITSTATUS(status) == 0 && !it->second.killed) state = keel::v1::TASK_FINISHED;
      message = "Command exited with status " + std::to_string(WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
      message = "Command terminated by signal " + std::to_string(WTERMSIG(status));
    }
    if (it->second.killed) state = keel::v1::TASK_KILLED;
    Update(it->second.id, state, message);
    tasks_.erase(it);
    changed_.notify_all();
  }

  // SIGTERM now, SIGKILL after the grace period (from Run()). REQUIRES: mu_ held.
  void KillLocked(pid_t pid, RunningTask& task) {
    if (task.killed) return;
    task.killed = true;
    task.sigkill_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(task.grace);
    ::kill(-pid, SIGTERM);
  }

  void Kill(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [pid, task] : tasks_) {
      if (task.id.value() == id) KillLocked(pid, task);
    }
  }

  void Shutdown() {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    for (auto& [pid, task] : tasks_) KillLocked(pid, task);
    changed_.notify_all();
  }

  ExecutorClient client_;
  std::mutex mu_;  // guards the fields below
  std::condition_variable changed_;
  std::map<pid_t, RunningTask> tasks_;
  bool shutting_down_ = false;
};

}  // namespace

int main() {
  auto options = ExecutorOptions::FromEnvironment();
  if (!options.ok()) {
    std::cerr << "keel-example-executor: " << options.status().message() << std::endl;
    return 1;
  }
  RunTasksExecutor executor(*options);
  return executor.Run();
}
