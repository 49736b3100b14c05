// keelctl run: runs one shell command as a task on the cluster, shows its
// states, prints its stdout and exits with its exit code (like mesos-execute).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace keel::keelctl {

// `flags`: master (HOST:PORT, required), cpus, mem, name. `command`: the
// words after `--`: one word is a shell command line, several are quoted
// one by one into one (so `-- sh -c 'a; b'` runs as typed). Returns the
// task's exit code, 1 when it ended without one, 2 when it could not run.
int Run(const std::map<std::string, std::string>& flags, const std::vector<std::string>& command);

}  // namespace keel::keelctl
