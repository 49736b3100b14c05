// keel-master's description for the shared daemon runtime: its config
// schema, defaults, checks and the modules its config names.
#pragma once

#include "kernel/runtime/daemon.hpp"

namespace keel::master {

runtime::DaemonSpec MasterDaemonSpec();

}  // namespace keel::master
