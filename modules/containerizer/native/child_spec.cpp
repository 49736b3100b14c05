#include "modules/containerizer/native/child_spec.hpp"

#include <sys/stat.h>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace keel::modules {
namespace {

std::optional<std::string> AgentVariable(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace

std::map<std::string, std::string> TaskEnvironment(
    const CommandSpec& command, const std::map<std::string, std::string>& isolator_environment) {
  std::map<std::string, std::string> env;
  env["PATH"] = AgentVariable("PATH").value_or(kDefaultPath);
  if (auto home = AgentVariable("HOME")) env["HOME"] = *home;
  for (const auto& [name, value] : isolator_environment) env[name] = value;
  for (const auto& [name, value] : command.environment) env[name] = value;
  return env;
}

std::optional<std::string> SearchPath(const std::string& file, const std::string& path) {
  if (file.empty()) return std::nullopt;
  if (file.find('/') != std::string::npos) return file;
  size_t start = 0;
  for (;;) {
    size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? end : end - start);
    // An empty entry means the current directory, as for execvp().
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + file;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (end == std::string::npos) return std::nullopt;
    start = end + 1;
  }
}

Result<UserIdentity> LookUpUser(const std::string& name) {
  long size_hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size_hint > 0 ? static_cast<size_t>(size_hint) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  int error;
  while ((error = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
         ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  if (error != 0) {
    return Status::Error("cannot look up user '" + name + "': " + std::strerror(error));
  }
  if (found == nullptr) return Status::Error("unknown user '" + name + "'");

  UserIdentity user;
  user.name = name;
  user.uid = entry.pw_uid;
  user.gid = entry.pw_gid;
  user.home = entry.pw_dir != nullptr ? entry.pw_dir : "";
  int count = 16;
  user.groups.resize(static_cast<size_t>(count));
  while (::getgrouplist(name.c_str(), user.gid, user.groups.data(), &count) < 0) {
    user.groups.resize(static_cast<size_t>(count));  // getgrouplist() said how many
  }
  user.groups.resize(static_cast<size_t>(count));
  return user;
}

Result<ChildSpec> BuildChildSpec(const ContainerLaunch& launch,
                                 const std::map<std::string, std::string>& isolator_environment) {
  const CommandSpec& command = launch.command;
  if (launch.config.sandbox_dir.empty()) {
    return Status::Error("container '" + launch.id + "' has no sandbox directory");
  }
  ChildSpec spec;
  spec.working_dir = launch.config.sandbox_dir;
  if (spec.working_dir.empty() || spec.working_dir[0] != '/') {
    return Status::Error("sandbox '" + spec.working_dir + "' is not an absolute path");
  }
  // What is missing now; a sibling launched just before may make some of it
  // first, which the child takes in its stride (EEXIST).
  std::string dir = spec.working_dir;
  while (dir.size() > 1) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return Status::Error("sandbox path " + dir + " is not a directory");
      break;
    }
    spec.make_dirs.insert(spec.make_dirs.begin(), dir);
    const size_t slash = dir.find_last_of('/');
    dir = slash == 0 ? "/" : dir.substr(0, slash);
  }
  spec.stdout_path = spec.working_dir + "/stdout";
  spec.stderr_path = spec.working_dir + "/stderr";

  std::map<std::string, std::string> env = TaskEnvironment(command, isolator_environment);

  const std::string& user_name = !command.user.empty() ? command.user : launch.config.user;
  if (!user_name.empty()) {
    Result<UserIdentity> user = LookUpUser(user_name);
    if (!user.ok()) return user.status();
    if (user->uid != ::geteuid()) {
      if (::geteuid() != 0) {
        return Status::Error("cannot run container '" + launch.id + "' as user '" + user_name +
                             "': the agent is not root");
      }
      // The task's HOME is its user's, unless the framework set one.
      if (command.environment.count("HOME") == 0) env["HOME"] = user->home;
      spec.user = std::move(user).value();
    }
  }

  if (command.shell) {
    spec.executable = "/bin/sh";
    spec.argv = {"/bin/sh", "-c", command.value};
  } else {
    std::optional<std::string> executable = SearchPath(command.value, env["PATH"]);
    if (!executable) {
      return Status::Error("container '" + launch.id + "': command '" + command.value +
                           "' not found in PATH");
    }
    spec.executable = *executable;
    // As in Mesos, `arguments` is the whole argv, argv[0] included.
    spec.argv =
        command.arguments.empty() ? std::vector<std::string>{command.value} : command.arguments;
  }

  for (const auto& [name, value] : env) spec.envp.push_back(name + "=" + value);
  return spec;
}

void WrapInContainerInit(const LaunchInfo& info, const std::string& init_path,
                         const std::string& record_dir, ChildSpec* spec) {
  std::vector<std::string> argv = {init_path, "--record=" + record_dir};
  spec->clone_namespaces = info.clone_namespaces;
  if (info.clone_namespaces != 0) {
    argv.push_back("--namespaces=" + std::to_string(info.clone_namespaces));
  }
  for (const LaunchInfo::Mount& m : info.mounts) {
    argv.insert(argv.end(),
                {"--mount", m.source, m.target, m.type, std::to_string(m.flags), m.options});
  }
  if (spec->user) {
    std::string groups;
    for (gid_t g : spec->user->groups) groups += (groups.empty() ? "" : ",") + std::to_string(g);
    if (groups.empty()) groups = std::to_string(spec->user->gid);
    argv.insert(argv.end(), {"--user", std::to_string(spec->user->uid),
                             std::to_string(spec->user->gid), groups});
    spec->user.reset();
  }
  argv.push_back("--");
  argv.push_back(spec->executable);
  argv.insert(argv.end(), spec->argv.begin(), spec->argv.end());
  spec->executable = init_path;
  spec->argv = std::move(argv);
}

}  // namespace keel::modules
