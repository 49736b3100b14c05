// PidNamespaceIsolator (`namespaces/pid`): each container in a pid namespace
// of its own, with /proc showing only that namespace. The native
// containerizer's keel-container-init is the namespace's init: it reaps
// orphans, and when the task's first process ends the kernel kills every
// process left in the namespace.
#pragma once

#include "modules/isolator/launch_only/launch_only_isolator.hpp"

namespace keel::modules {

class PidNamespaceIsolator : public LaunchOnlyIsolator {
 public:
  PidNamespaceIsolator() : LaunchOnlyIsolator("namespaces/pid") {}

 protected:
  Result<LaunchInfo> LaunchFor(const ContainerConfig& config) override;
};

}  // namespace keel::modules
