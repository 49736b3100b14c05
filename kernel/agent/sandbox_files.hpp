// GET /files/read and /files/browse on the agent, in Mesos's shapes, for
// task sandboxes only. Paths are Mesos's virtual ones:
//   /frameworks/<framework>/executors/<task>/runs/latest[/<file>]
// (for command tasks the executor id is the task id). Anything that leaves
// the sandbox (.., a symlink pointing out) is refused with 403.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace keel::http {
class Server;
}

namespace keel::agent {

// The sandbox directory of a task, if the agent knows it.
using SandboxLookup = std::function<std::optional<std::string>(const std::string& framework_id,
                                                               const std::string& task_id)>;

void RouteSandboxFiles(http::Server& server, SandboxLookup lookup);

}  // namespace keel::agent
