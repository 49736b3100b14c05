// Checks a task of an ACCEPT before the master launches it. A task that fails
// gets TASK_ERROR with REASON_TASK_INVALID and the message returned here.
#pragma once

#include <optional>
#include <string>

#include "keel/resources.hpp"
#include "kernel/master/cluster_state.hpp"

namespace keel::master {

// An id becomes a directory name on the agent: no '/', NUL, "." or "..".
std::optional<std::string> ValidateId(const std::string& what, const std::string& id);

// An executor a task (or a task group) names.
std::optional<std::string> ValidateExecutor(const Framework& framework,
                                            const v1::ExecutorInfo& executor);

// On success returns nothing and sets `*resources` to what the task uses,
// which `available` (the accepted offers' remainder) holds in full.
std::optional<std::string> ValidateTask(const Framework& framework, const Agent& agent,
                                        const v1::TaskInfo& task, const Resources& available,
                                        Resources* resources);

}  // namespace keel::master
