// keelctl kill TASK: asks the master to kill one task (POST
// /master/kill_task, as its framework would) and waits for it to end.
#pragma once

#include <string>
#include <vector>

#include "tools/keelctl/master_client.hpp"

namespace keel::keelctl {

// `words`: the task id alone. `flags`: the client's, framework (which
// framework's task, when several have one of that id) and timeout (how long
// to wait for a terminal state: 30s by default; "45", "45s", "2mins").
// Prints the task's terminal state; returns kExitOk once the task has ended
// (killed or otherwise), kExitFailed when it is still not terminal at the
// timeout, or the lookup's and the master's failures.
int Kill(const FlagMap& flags, const std::vector<std::string>& words);

}  // namespace keel::keelctl
