// PrivateTmpIsolator (`filesystem/tmp`): each container sees its sandbox's
// `tmp/` as /tmp, in a mount namespace of its own, so tasks cannot read or
// clobber each other's (or the host's) temporary files, and what a task
// leaves there is kept and removed with its sandbox.
#pragma once

#include "modules/isolator/launch_only/launch_only_isolator.hpp"

namespace keel::modules {

class PrivateTmpIsolator : public LaunchOnlyIsolator {
 public:
  PrivateTmpIsolator() : LaunchOnlyIsolator("filesystem/tmp") {}

 protected:
  Result<LaunchInfo> LaunchFor(const ContainerConfig& config) override;
};

}  // namespace keel::modules
