// ChildSpec: everything a container's first process needs, computed before
// fork() because the forked child of a threaded daemon may only make
// async-signal-safe calls (no allocation, no NSS lookups, no locale).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keel/containerizer.hpp"
#include "keel/status.hpp"

namespace keel::modules {

// The PATH a task gets when the agent has none.
inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct UserIdentity {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, `gid` included
  std::string home;
};

struct ChildSpec {
  std::string executable;  // a path, already searched in PATH
  std::vector<std::string> argv;
  std::vector<std::string> envp;  // "NAME=value"
  std::string working_dir;        // the sandbox
  // Directories of the sandbox's path that do not exist yet, outermost
  // first: the child makes them, in parallel with the daemon, which only
  // checked which are missing (creating inodes is most of a launch's cost).
  std::vector<std::string> make_dirs;
  std::string stdout_path;
  std::string stderr_path;
  std::optional<UserIdentity> user;  // set only when the task runs as another user
  // Namespaces the child is cloned into (CLONE_NEWPID, CLONE_NEWNS, ...).
  int clone_namespaces = 0;
};

// `isolator_environment` is the merge of the isolators' LaunchInfo.
Result<ChildSpec> BuildChildSpec(const ContainerLaunch& launch,
                                 const std::map<std::string, std::string>& isolator_environment);

// The task's environment: the agent's PATH and HOME only, then the isolators'
// variables, then the task's own, each overriding the one before: what the
// framework asked for wins.
std::map<std::string, std::string> TaskEnvironment(
    const CommandSpec& command, const std::map<std::string, std::string>& isolator_environment);

// `file` itself when it holds a '/', else the first executable `<dir>/<file>`
// of `path` (colon separated), as execvp() would find it.
std::optional<std::string> SearchPath(const std::string& file, const std::string& path);

Result<UserIdentity> LookUpUser(const std::string& name);

// Makes `spec` clone its child into the namespaces `info` asks for and run
// keel-container-init (at `init_path`) there, which makes the mounts, then
// runs the task as `spec` described it: as the task's user (so the child
// itself stays root), and records how it ended in `record_dir`.
void WrapInContainerInit(const LaunchInfo& info, const std::string& init_path,
                         const std::string& record_dir, ChildSpec* spec);

}  // namespace keel::modules
