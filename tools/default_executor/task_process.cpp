#include "task_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace keel::default_executor {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// `name` searched in `path` as execvp would, for an executable file.
std::optional<std::string> SearchPath(const std::string& name, const std::string& path) {
  size_t start = 0;
  for (;;) {
    const size_t end = path.find(':', start);
    std::string dir =
        path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
    if (end == std::string::npos) return std::nullopt;
    start = end + 1;
  }
}

Result<SpawnSpec::User> LookUpUser(const std::string& name) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return Status::Error("no user '" + name + "' on this agent");
  }
  SpawnSpec::User user{name, found->pw_uid, found->pw_gid, {}};
  int count = 64;
  user.groups.resize(count);
  if (::getgrouplist(name.c_str(), found->pw_gid, user.groups.data(), &count) < 0) {
    user.groups.resize(count);
    ::getgrouplist(name.c_str(), found->pw_gid, user.groups.data(), &count);
  }
  user.groups.resize(count);
  return user;
}

Status TouchFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Error("cannot create " + path + ": " + std::strerror(errno));
  ::close(fd);
  return Status::Ok();
}

}  // namespace

Result<TaskSandbox> MakeTaskSandbox(const std::string& executor_sandbox, const std::string& task_id,
                                    const std::string& container_id) {
  if (task_id.empty() || task_id == "." || task_id == ".." ||
      task_id.find('/') != std::string::npos) {
    return Status::Error("task id '" + task_id + "' cannot name a directory");
  }
  const fs::path root(executor_sandbox);
  TaskSandbox sandbox;
  sandbox.container_id = container_id;
  sandbox.dir = (root / "containers" / container_id).string();
  sandbox.link = (root / "tasks" / task_id).string();
  std::error_code ec;
  fs::create_directories(sandbox.dir, ec);
  if (ec) return Status::Error("cannot create " + sandbox.dir + ": " + ec.message());
  fs::create_directories(root / "tasks", ec);
  if (ec) return Status::Error("cannot create " + (root / "tasks").string() + ": " + ec.message());
  // Relative, so that it holds both inside the executor's container and on
  // the agent's filesystem.
  if (fs::symlink_status(sandbox.link, ec).type() != fs::file_type::not_found) {
    fs::remove(sandbox.link, ec);
  }
  fs::create_symlink(fs::path("..") / "containers" / container_id, sandbox.link, ec);
  if (ec) return Status::Error("cannot create " + sandbox.link + ": " + ec.message());
  for (const char* file : {"stdout", "stderr"}) {
    if (auto s = TouchFile(sandbox.dir + "/" + file); !s.ok()) return s;
  }
  return sandbox;
}

Result<SpawnSpec> BuildSpawnSpec(const v1::TaskInfo& task, const TaskSandbox& sandbox,
                                 const TaskContext& context) {
  const std::string& id = task.task_id().value();
  if (!task.has_command()) {
    return Status::Error("task " + id + " has no command; the default executor runs commands");
  }
  if (task.has_container() &&
      (task.container().type() == v1::ContainerInfo::DOCKER ||
       (task.container().has_mesos() && task.container().mesos().has_image()))) {
    return Status::Error("task " + id +
                         " asks for a container image; keel-default-executor runs its tasks in "
                         "the executor's own container (give the image to the executor)");
  }
  const v1::CommandInfo& command = task.command();

  std::map<std::string, std::string> env = context.environment;
  for (const char* secret :
       {"MESOS_EXECUTOR_AUTHENTICATION_TOKEN", "KEEL_EXECUTOR_AUTHENTICATION_TOKEN"}) {
    env.erase(secret);
  }
  auto set = [&env](const std::string& name, const std::string& value) {
    env["MESOS_" + name] = env["KEEL_" + name] = value;
  };
  set("SANDBOX", sandbox.dir);
  set("DIRECTORY", context.directory + "/containers/" + sandbox.container_id);
  set("TASK_ID", id);
  for (const auto& resource : task.resources()) {
    if (resource.has_allocation_info() && !resource.allocation_info().role().empty()) {
      env["MESOS_ALLOCATION_ROLE"] = resource.allocation_info().role();
      break;
    }
  }
  for (const auto& variable : command.environment().variables()) {
    if (variable.type() != v1::Environment::Variable::SECRET) {
      env[variable.name()] = variable.value();
    } else if (variable.secret().type() == v1::Secret::VALUE) {
      env[variable.name()] = variable.secret().value().data();
    } else {
      return Status::Error("environment variable " + variable.name() + " of task " + id +
                           " is a secret reference, which keel-default-executor cannot resolve");
    }
  }
  if (env.count("PATH") == 0) env["PATH"] = kDefaultPath;

  SpawnSpec spec;
  if (command.shell()) {
    if (command.value().empty()) return Status::Error("task " + id + " has an empty command");
    spec.executable = "/bin/sh";
    spec.argv = {"sh", "-c", command.value()};
  } else {
    if (command.value().empty()) return Status::Error("task " + id + " names no executable");
    // As in Mesos, `arguments` is the whole argv, argv[0] included.
    spec.argv = command.arguments().empty() ? std::vector<std::string>{command.value()}
                                            : std::vector<std::string>(command.arguments().begin(),
                                                                       command.arguments().end());
    if (command.value().find('/') != std::string::npos) {
      spec.executable = command.value();
    } else if (auto found = SearchPath(command.value(), env["PATH"])) {
      spec.executable = *found;
    } else {
      return Status::Error("Failed to launch: '" + command.value() + "' is not in PATH (" +
                           env["PATH"] + ")");
    }
  }
  for (const auto& [name, value] : env) spec.envp.push_back(name + "=" + value);
  spec.working_dir = sandbox.dir;
  spec.stdout_path = sandbox.dir + "/stdout";
  spec.stderr_path = sandbox.dir + "/stderr";

  if (!command.user().empty()) {
    auto user = LookUpUser(command.user());
    if (!user.ok()) return Status::Error("task " + id + ": " + user.status().message());
    if (user->uid != ::geteuid()) {
      if (::geteuid() != 0) {
        return Status::Error("task " + id + " asks to run as " + command.user() +
                             ", but the executor runs as uid " + std::to_string(::geteuid()) +
                             " and cannot switch users");
      }
      spec.user = *user;
    }
  }
  return spec;
}

Result<pid_t> Spawn(const SpawnSpec& spec) {
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : spec.envp) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  const int out = ::open(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int err = ::open(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2] = {-1, -1};
  auto close_all = [&] {
    for (int fd : {out, err, null, report[0], report[1]}) {
      if (fd >= 0) ::close(fd);
    }
  };
  if (out < 0 || err < 0 || null < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    const std::string why = std::strerror(errno);
    close_all();
    return Status::Error("Failed to launch: cannot set up the task's files: " + why);
  }

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const std::string why = std::strerror(errno);
    close_all();
    return Status::Error("Failed to launch: fork: " + why);
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    ::setpgid(0, 0);
    // The task leader goes with the executor, whatever kills it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(null, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    int failed = 0;
    if (spec.user) {
      if (::setgroups(spec.user->groups.size(), spec.user->groups.data()) != 0 ||
          ::setgid(spec.user->gid) != 0 || ::setuid(spec.user->uid) != 0) {
        failed = errno;
      }
    }
    if (failed == 0 && ::chdir(spec.working_dir.c_str()) != 0) failed = errno;
    if (failed == 0) {
      ::execve(spec.executable.c_str(), argv.data(), envp.data());
      failed = errno;
    }
    (void)!::write(report[1], &failed, sizeof(failed));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so that a kill right after cannot miss the group
  ::close(report[1]);
  report[1] = -1;
  int failed = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &failed, sizeof(failed));
  } while (n < 0 && errno == EINTR);
  close_all();
  if (n == static_cast<ssize_t>(sizeof(failed))) {
    // The child exits 127; the reaper collects it.
    return Status::Error("Failed to launch '" + spec.executable + "': " + std::strerror(failed));
  }
  return pid;
}

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return "Command exited with status " + std::to_string(WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return "Command terminated by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "Command ended with wait status " + std::to_string(wait_status);
}

}  // namespace keel::default_executor
