// Which isolator and containerizer modules an agent loads: as its config
// names them, or, where it names none, what this machine can use.
#pragma once

#include <string>
#include <vector>

#include "kernel/runtime/daemon.hpp"

namespace keel::config {
class AgentConfig;
}

namespace keel::agent {

// The isolators when the config names none (neither `isolators` nor
// Mesos's `isolation`): cgroups/cpu, cgroups/mem and cgroups/pids where this
// process may make cgroups for all three controllers (v1 or v2), else
// posix/usage. Namespaces and /tmp isolation are never turned on unasked:
// they change what a task sees.
std::vector<std::string> DetectedIsolation();

// The containerizers when the config names none: native, and oci as well
// where the agent is root and `runc` is on the PATH.
std::vector<std::string> DetectedContainerizers();

// Every module request of the config, in the order they load: isolators,
// containerizers, transport, authenticators. Conflicting fields (both
// `isolators` and `isolation`, both `containerizer` and `containerizers`)
// go to `errors`, naming them.
std::vector<runtime::ModuleRequest> AgentModuleRequests(const config::AgentConfig& config,
                                                        std::vector<std::string>* errors);

}  // namespace keel::agent
