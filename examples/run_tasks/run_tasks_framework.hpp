// RunTasksFramework: launches N copies of one shell command on whatever
// offers come and reports every task's state changes, like Mesos's
// "test framework". The smallest complete framework on SchedulerClient.
// With an executor, the tasks go to that custom executor, which gets a
// message when each task runs and whose messages are printed.
#pragma once

#include <signal.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "keel/scheduler/scheduler_client.hpp"

namespace keel::examples {

struct RunTasksOptions {
  std::string master;  // HOST:PORT
  std::string user;    // Unix user the tasks run as
  int tasks = 0;
  std::string command = "echo hello from $MESOS_TASK_ID";
  double cpus = 0.1;
  double mem = 32;  // MB
  std::string name = "keel-example-framework";
  // Path of keel-example-executor (or any executor) on the agents: the tasks
  // go to that one custom executor instead of being command tasks.
  std::string executor;
};

// How a run ended; main() turns it into the exit code.
enum class Outcome { kAllFinished, kSomeFailed, kError, kInterrupted };

class RunTasksFramework {
 public:
  explicit RunTasksFramework(RunTasksOptions options);

  // Subscribes and blocks until every task is terminal, the master sends
  // ERROR or stays unreachable for 30 s, or one of `interrupts` arrives (they
  // must be blocked in every thread, so that only this call receives them).
  // Tears the framework down before returning.
  Outcome Run(const sigset_t& interrupts);
  // Why Run() returned kError.
  std::string error() const;

 private:
  void OnOffers(const v1::scheduler::Event& event);
  void OnUpdate(const v1::scheduler::Event& event);
  void OnMessage(const v1::scheduler::Event& event);
  // Sends the task's executor a MESSAGE (--executor).
  void GreetExecutor(const v1::TaskStatus& status);
  Outcome Wait(const sigset_t& interrupts);
  v1::TaskInfo MakeTask(int index, const v1::Offer& offer) const;

  const RunTasksOptions options_;
  scheduler::SchedulerClient client_;
  int launched_ = 0;  // only on the client's thread

  mutable std::mutex mu_;                        // guards the fields below
  std::map<std::string, v1::TaskState> states_;  // latest state of each task
  int finished_ = 0;
  int failed_ = 0;  // terminal but not TASK_FINISHED
  std::string error_;
  bool connected_ = false;
  bool tearing_down_ = false;
  std::chrono::steady_clock::time_point unreachable_since_;
  std::string last_disconnect_;
};

}  // namespace keel::examples
