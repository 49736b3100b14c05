#include "modules/isolator/namespaces_pid/pid_namespace_isolator.hpp"

#include <sched.h>
#include <sys/mount.h>

namespace keel::modules {

Result<LaunchInfo> PidNamespaceIsolator::LaunchFor(const ContainerConfig&) {
  LaunchInfo info;
  // A mount namespace too: /proc must be mounted anew to show the pid
  // namespace, and that mount must not replace the host's.
  info.clone_namespaces = CLONE_NEWPID | CLONE_NEWNS;
  info.mounts.push_back({"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""});
  return info;
}

}  // namespace keel::modules
