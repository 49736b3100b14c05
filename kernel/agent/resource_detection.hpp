// What an agent offers: detected from the machine, as Mesos does, with the
// operator's --resources taking precedence for every name it gives.
#pragma once

#include <string>

#include "keel/resources.hpp"
#include "keel/status.hpp"

namespace keel::agent {

// As Mesos detects them: cpus, the online CPUs; mem, MemTotal less 1 GiB for
// the host (half when under 2 GiB); disk, the work dir's file system less
// 5 GiB (half when under 10 GiB); ports 31000-32000.
Result<Resources> DetectResources(const std::string& work_dir);

// `detected` with every resource named in `given` (Mesos --resources text)
// replaced by the given one. Errors name the entry.
Result<Resources> AgentResources(const std::string& work_dir, const std::string& given);

}  // namespace keel::agent
