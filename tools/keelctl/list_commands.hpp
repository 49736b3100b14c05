// keelctl agents, frameworks, tasks: what the master runs, as aligned
// tables (CPUS in cores, MEM in MB), or with --json as the JSON array of the
// master's own entries.
#pragma once

#include "tools/keelctl/master_client.hpp"

namespace keel::keelctl {

// Each takes the client's flags (master, principal, secret, secret_file) and
// json; Frameworks and Tasks also `all` (completed frameworks, ended tasks
// the master still remembers). Each returns an ExitCode.
int Agents(const FlagMap& flags);
int Frameworks(const FlagMap& flags);
int Tasks(const FlagMap& flags);

}  // namespace keel::keelctl
