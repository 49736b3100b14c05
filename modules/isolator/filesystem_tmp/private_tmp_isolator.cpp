#include "modules/isolator/filesystem_tmp/private_tmp_isolator.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace keel::modules {

Result<LaunchInfo> PrivateTmpIsolator::LaunchFor(const ContainerConfig& config) {
  if (config.sandbox_dir.empty() || config.sandbox_dir[0] != '/') {
    return Status::Error("the container has no absolute sandbox path ('" + config.sandbox_dir +
                         "')");
  }
  // Made here, not by the container's first process: the bind mount needs
  // its source before the task runs, whoever the task runs as.
  const std::string tmp = config.sandbox_dir + "/tmp";
  std::error_code ec;
  std::filesystem::create_directories(tmp, ec);
  if (ec) return Status::Error("cannot create " + tmp + ": " + ec.message());
  // Like the host's /tmp: anyone may write, only owners may remove.
  if (::chmod(tmp.c_str(), 01777) != 0) {
    return Status::Error("cannot chmod " + tmp + ": " + std::strerror(errno));
  }
  LaunchInfo info;
  info.clone_namespaces = CLONE_NEWNS;
  info.mounts.push_back({tmp, "/tmp", "", MS_BIND | MS_REC, ""});
  return info;
}

}  // namespace keel::modules
