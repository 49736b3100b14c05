// An agent's own credential file (Mesos's --credential):
// {"principal": "...", "secret": "..."}. Holding a secret, it is refused when
// others may read it; errors name the file.
#pragma once

#include <string>

#include "keel/config/config.pb.h"
#include "keel/status.hpp"

namespace keel::runtime {

Result<config::Credential> ReadCredentialFile(const std::string& path);

}  // namespace keel::runtime
