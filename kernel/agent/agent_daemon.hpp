// keel-agent's description for the shared daemon runtime: its config
// schema, defaults, checks and the modules its config names.
#pragma once

#include "kernel/runtime/daemon.hpp"

namespace keel::agent {

runtime::DaemonSpec AgentDaemonSpec();

}  // namespace keel::agent
