// The runc bundle's config.json (OCI runtime spec 1.0) for one launch: the
// process from the task's command or the image's Entrypoint and Cmd, the
// environment, user and working directory, namespaces, mounts (the sandbox
// at /mnt/mesos/sandbox) and the resources as cgroup limits.
//
// Threading: plain functions; BuildProcess reads the image's /etc/passwd and
// /etc/group (small files) on the calling thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "keel/containerizer.hpp"
#include "keel/status.hpp"
#include "modules/containerizer/oci/image_store.hpp"

namespace keel::modules::oci {

// Where the task's sandbox is inside the container.
inline constexpr const char* kContainerSandbox = "/mnt/mesos/sandbox";

struct ProcessSpec {
  std::vector<std::string> args;
  std::vector<std::string> env;  // "NAME=value"
  std::string cwd;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
};

// The process: args (shell: /bin/sh -c VALUE; otherwise VALUE and the
// arguments after argv[0]; no command: the image's Entrypoint and Cmd, or
// Entrypoint and the task's arguments), env (the image's, then the task's,
// then MESOS_SANDBOX/KEEL_SANDBOX = /mnt/mesos/sandbox; PATH and HOME if
// neither sets them), cwd (the image's WorkingDir, else the sandbox), user
// (the task's, else the image's, else root; names looked up in the image's
// /etc/passwd and /etc/group). An error says what is missing.
Result<ProcessSpec> BuildProcess(const ContainerLaunch& launch, const StoredImage& image);

struct RuntimeOptions {
  std::string rootfs;            // root.path
  bool readonly_rootfs = false;  // the image's own rootfs: read-only, with a tmpfs at /tmp
  std::string cgroups_path;      // "/keel-oci/<id>"
  int64_t max_pids = 0;          // 0: no limit
  bool cfs_quota = false;
};

// config.json's text.
std::string RuntimeConfigJson(const ProcessSpec& process, const ContainerLaunch& launch,
                              const RuntimeOptions& options);

// The memory limit for `launch` in bytes (mem MB); 0 for none.
uint64_t MemoryLimitBytes(const ContainerLaunch& launch);
double CpusOf(const ContainerLaunch& launch);

}  // namespace keel::modules::oci
