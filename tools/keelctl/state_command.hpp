// keelctl state: the master's /master/state, summed up for a person (or,
// with --json, as the master sent it).
#pragma once

#include "tools/keelctl/master_client.hpp"

namespace keel::keelctl {

// `flags`: the client's (master, principal, secret, secret_file) and json.
// Returns an ExitCode.
int State(const FlagMap& flags);

}  // namespace keel::keelctl
