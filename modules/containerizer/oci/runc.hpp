// How the `oci` containerizer runs runc: `runc run` as a long-lived child
// (the container's supervisor, whose exit is the container's), and short
// commands (`runc delete`) run to their end on the worker thread.
//
// Children are started with posix_spawn (glibc's is a vfork: no copy of the
// agent's page tables), with default signal dispositions, an empty signal
// mask, stdin from /dev/null and only PATH in their environment.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "keel/status.hpp"

namespace keel::modules::oci {

// An id runc accepts for a container (and a bundle's directory name).
bool ValidContainerId(const std::string& id);

// runc's exit status for a container that a signal ended: 128 + the signal.
inline constexpr int kSignalExitOffset = 128;

// Starts `argv` (argv[0] a path) leading a new process group, its stdout and
// stderr on `stdout_fd` and `stderr_fd`. The caller reaps it.
Result<pid_t> SpawnProcess(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd);

struct RunOutput {
  int wait_status = 0;
  std::string output;  // stdout and stderr, the first 64 KiB
};

// Runs `argv` to its end, or SIGKILLs it after `timeout`. Blocks.
Result<RunOutput> RunToEnd(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

// `name` itself if it holds a '/', else the first executable `<dir>/<name>`
// of $PATH and the usual system directories; empty if there is none.
std::string FindExecutable(const std::string& name);

// "exited with status 3", "was killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int wait_status);

}  // namespace keel::modules::oci
