#include "modules/containerizer/oci/runc.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "modules/containerizer/oci/rooted_files.hpp"

namespace keel::modules::oci {
namespace {

constexpr const char* kPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr size_t kMaxOutput = 64 * 1024;

class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
};

Result<pid_t> Spawn(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd) {
  if (argv.empty()) return Status::Error("nothing to run");
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, stdout_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, stderr_fd, STDERR_FILENO);
  // Nothing else of the agent's: runc and its supervisor outlive the agent,
  // and an inherited listening socket would keep the next agent from its port.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &all);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                            POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_USEVFORK);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::string path_env = std::string("PATH=") + kPath;
  char* envp[] = {path_env.data(), nullptr};
  pid_t pid = -1;
  int error = posix_spawn(&pid, argv[0].c_str(), &setup.actions, &setup.attr, args.data(), envp);
  if (error != 0) return Status::Error(ErrnoText("cannot start " + argv[0], error));
  return pid;
}

}  // namespace

Result<pid_t> SpawnProcess(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd) {
  return Spawn(argv, stdout_fd, stderr_fd);
}

Result<RunOutput> RunToEnd(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Status::Error(ErrnoText("pipe"));
  Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  Result<pid_t> pid = Spawn(argv, write_end.get(), write_end.get());
  write_end = Fd();
  if (!pid.ok()) return pid.status();
  RunOutput result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool killed = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(*pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd p{read_end.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buffer[4096];
    ssize_t n = ::read(read_end.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // every writer closed: it ended (or closed its output)
    if (result.output.size() < kMaxOutput) result.output.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::Error(ErrnoText("waitpid " + argv[0]));
  }
  result.wait_status = status;
  if (killed) {
    return Status::Error(argv[0] + " did not finish within " + std::to_string(timeout.count()) +
                         " ms: killed");
  }
  return result;
}

std::string FindExecutable(const std::string& name) {
  if (name.empty()) return "";
  auto executable = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) return executable(name) ? name : "";
  const char* env = std::getenv("PATH");
  std::string dirs = std::string(env ? env : "") + ":" + kPath;
  std::string dir;
  for (size_t i = 0; i <= dirs.size(); ++i) {
    if (i < dirs.size() && dirs[i] != ':') {
      dir += dirs[i];
      continue;
    }
    if (!dir.empty() && executable(dir + "/" + name)) return dir + "/" + name;
    dir.clear();
  }
  return "";
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return "was killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "ended with wait status " + std::to_string(wait_status);
}

bool ValidContainerId(const std::string& id) {
  if (id.empty() || id.size() > 128 || id[0] == '.') return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '+';
    if (!ok) return false;
  }
  return true;
}

}  // namespace keel::modules::oci
