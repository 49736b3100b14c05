// One task of keel-default-executor as a process: its nested sandbox, its
// command line and environment, the fork and exec.
//
// A task's sandbox is laid out as Mesos's default executor lays out its
// nested containers':
//   <executor sandbox>/containers/<container id>/         the task's working directory
//   <executor sandbox>/containers/<container id>/stdout   its standard output
//   <executor sandbox>/containers/<container id>/stderr   its standard error
//   <executor sandbox>/tasks/<task id> -> ../containers/<container id>
// (the symlink is how the web UI and tools find a task's files by its id).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keel/status.hpp"
#include "keel/v1/mesos.pb.h"

namespace keel::default_executor {

struct TaskSandbox {
  std::string container_id;
  std::string dir;   // the task's working directory, as the executor sees it
  std::string link;  // <sandbox>/tasks/<task id>
};

// Makes the directories, the symlink and empty stdout and stderr files.
Result<TaskSandbox> MakeTaskSandbox(const std::string& executor_sandbox, const std::string& task_id,
                                    const std::string& container_id);

// What the executor passes on to every task.
struct TaskContext {
  std::map<std::string, std::string> environment;  // the executor's own
  std::string sandbox;                             // MESOS_SANDBOX of the executor
  std::string directory;                           // MESOS_DIRECTORY of the executor
};

// Everything the forked child needs, computed before fork(): the child of a
// threaded process may only make async-signal-safe calls.
struct SpawnSpec {
  std::string executable;  // a path, already searched in PATH
  std::vector<std::string> argv;
  std::vector<std::string> envp;  // "NAME=value"
  std::string working_dir;
  std::string stdout_path;
  std::string stderr_path;
  // Set only when the task runs as another user than the executor.
  struct User {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
  };
  std::optional<User> user;
};

// The task's command (`/bin/sh -c value` for shell commands, else value with
// `arguments` as the whole argv, as in Mesos) and environment: the
// executor's, minus its authentication token, then MESOS_SANDBOX,
// MESOS_DIRECTORY, MESOS_TASK_ID (and KEEL_ twins) and MESOS_ALLOCATION_ROLE
// for the task, then the task's own variables, which win. An error when the
// task has no command, asks for a container image, names a secret this
// executor cannot resolve, or a user it cannot become.
Result<SpawnSpec> BuildSpawnSpec(const v1::TaskInfo& task, const TaskSandbox& sandbox,
                                 const TaskContext& context);

// Forks and execs `spec` as the leader of a new process group (so that a kill
// reaches everything the task started). The pid, which is also the process
// group id, or why the command could not be started (exec's errno included).
Result<pid_t> Spawn(const SpawnSpec& spec);

// "Command exited with status N" / "Command terminated by signal N (Name)".
std::string DescribeExit(int wait_status);

}  // namespace keel::default_executor
