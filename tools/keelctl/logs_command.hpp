// keelctl logs TASK: a task's stdout (or stderr) from its sandbox, read
// through its agent's /files/read, optionally followed until the task ends.
#pragma once

#include <string>
#include <vector>

#include "tools/keelctl/master_client.hpp"

namespace keel::keelctl {

// `words`: the task id alone. `flags`: the client's, framework (which
// framework's task, when several have one of that id), stderr, follow
// (poll every 500 ms; return once the task is terminal and its output all
// printed) and tail (the last N lines only). Returns an ExitCode.
int Logs(const FlagMap& flags, const std::vector<std::string>& words);

}  // namespace keel::keelctl
