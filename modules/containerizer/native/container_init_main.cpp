// keel-container-init: what the native containerizer runs first in a
// container that asked for namespaces or mounts, before the task.
//
//   keel-container-init [--namespaces=FLAGS] [--mount SRC TARGET TYPE FLAGS DATA]...
//                       [--user UID GID GROUPS] -- EXECUTABLE ARGV...
//
// It is a program of its own, not code in the agent's cloned child, because
// entering a pid namespace needs a fork() and a waiting init, and mounting
// needs ordinary libc: neither is safe in a child that shares the agent's
// memory. Started as root in the task's sandbox with the task's stdio and
// environment, it:
//  1. unshares the namespaces (CLONE_NEWNS also makes every mount a slave,
//     so nothing mounted here reaches the host);
//  2. with CLONE_NEWPID, forks: the child is pid 1 of the new namespace, an
//     init that reaps every orphan and passes on signals; this process stays
//     outside, waits for it and ends the way the task ended (same exit code
//     or same signal), which an init inside cannot do: the kernel ignores
//     signals an init sends itself;
//  3. mounts (proc after the fork, so that it shows the new namespace);
//  4. switches to the task's user and executes the task (as pid 2 under the
//     init, or in place without a pid namespace).
// When the task's first process ends, the init exits and the kernel kills
// whatever the task left in the namespace.
//
// Errors go to stderr (the sandbox's) prefixed with the program's name, and
// end it with status 127, as the containerizer's own setup failures do.
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kSetupFailed = 127;

struct Mount {
  std::string source, target, type, data;
  unsigned long flags = 0;
};

struct Options {
  int namespaces = 0;
  std::vector<Mount> mounts;
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  char** task_argv = nullptr;  // executable, then argv
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "keel-container-init: %s\n", what.c_str());
  std::exit(kSetupFailed);
}

[[noreturn]] void DieErrno(const std::string& what) { Die(what + ": " + std::strerror(errno)); }

unsigned long Number(const char* text, const char* what) {
  char* end = nullptr;
  errno = 0;
  const unsigned long value = std::strtoul(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0')
    Die(std::string("bad ") + what + " '" + text + "'");
  return value;
}

Options Parse(int argc, char** argv) {
  Options o;
  int i = 1;
  auto next = [&](const char* what) -> char* {
    if (i >= argc) Die(std::string("missing ") + what);
    return argv[i++];
  };
  while (i < argc) {
    const std::string arg = argv[i++];
    if (arg == "--") break;
    if (arg.rfind("--namespaces=", 0) == 0) {
      o.namespaces = static_cast<int>(Number(arg.c_str() + 13, "namespace flags"));
    } else if (arg == "--mount") {
      Mount m;
      m.source = next("mount source");
      m.target = next("mount target");
      m.type = next("mount type");
      m.flags = Number(next("mount flags"), "mount flags");
      m.data = next("mount data");
      o.mounts.push_back(std::move(m));
    } else if (arg == "--user") {
      o.switch_user = true;
      o.uid = static_cast<uid_t>(Number(next("uid"), "uid"));
      o.gid = static_cast<gid_t>(Number(next("gid"), "gid"));
      const std::string groups = next("groups");
      size_t start = 0;
      while (start < groups.size()) {
        size_t comma = groups.find(',', start);
        if (comma == std::string::npos) comma = groups.size();
        o.groups.push_back(
            static_cast<gid_t>(Number(groups.substr(start, comma - start).c_str(), "group")));
        start = comma + 1;
      }
    } else {
      Die("unknown argument '" + arg + "'");
    }
  }
  if (i >= argc - 1) Die("no task to run (expected -- EXECUTABLE ARGV...)");
  o.task_argv = argv + i;
  return o;
}

void MountAll(const Options& o) {
  for (const Mount& m : o.mounts) {
    if (::mount(m.source.c_str(), m.target.c_str(), m.type.empty() ? nullptr : m.type.c_str(),
                m.flags, m.data.empty() ? nullptr : m.data.c_str()) != 0) {
      DieErrno("cannot mount " + m.source + " on " + m.target);
    }
  }
}

[[noreturn]] void ExecTask(const Options& o) {
  if (o.switch_user) {
    if (::setgroups(o.groups.size(), o.groups.data()) != 0) DieErrno("cannot set groups");
    if (::setresgid(o.gid, o.gid, o.gid) != 0) DieErrno("cannot set group");
    if (::setresuid(o.uid, o.uid, o.uid) != 0) DieErrno("cannot set user");
  }
  ::execve(o.task_argv[0], o.task_argv + 1, environ);
  DieErrno(std::string("cannot execute ") + o.task_argv[0]);
}

// Signals an operator or the agent sends to stop a task.
constexpr int kPassedOn[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT};

volatile sig_atomic_t g_forward_to = 0;  // 0: nobody yet; -1: everyone in the namespace

void PassOn(int sig) {
  const pid_t to = g_forward_to;
  if (to != 0) ::kill(to, sig);
}

void InstallPassOn(pid_t to) {
  g_forward_to = to;
  struct sigaction action {};
  action.sa_handler = PassOn;
  action.sa_flags = SA_RESTART;
  ::sigemptyset(&action.sa_mask);
  for (int sig : kPassedOn) ::sigaction(sig, &action, nullptr);
}

void Unblock() {
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void Block(sigset_t* previous) {
  sigset_t all;
  ::sigfillset(&all);
  ::sigprocmask(SIG_BLOCK, &all, previous);
}

void RestoreDefaults() {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  ::sigemptyset(&action.sa_mask);
  for (int sig : kPassedOn) ::sigaction(sig, &action, nullptr);
}

// Pid 1 of the namespace: starts the task, reaps everything, and reports
// the task's wait status on `report` when the task ends.
[[noreturn]] void RunInit(const Options& o, int report) {
  // proc (and any other mount) now shows this pid namespace.
  MountAll(o);
  sigset_t previous;
  Block(&previous);
  const pid_t task = ::fork();
  if (task < 0) DieErrno("cannot fork the task");
  if (task == 0) {
    ::close(report);
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    ExecTask(o);
  }
  // The kernel delivers to a namespace's init only signals it handles: pass
  // them on to every process of the namespace.
  InstallPassOn(-1);
  Unblock();
  int status = 0;
  for (;;) {
    int s = 0;
    const pid_t reaped = ::waitpid(-1, &s, 0);
    if (reaped == task) {
      status = s;
      break;
    }
    if (reaped < 0 && errno == ECHILD) break;
  }
  ssize_t written;
  do {
    written = ::write(report, &status, sizeof(status));
  } while (written < 0 && errno == EINTR);
  ::_exit(0);
}

// Ends this process as the task ended.
[[noreturn]] void EndLike(int status) {
  if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    // The task may have dumped core already; this process must not.
    struct rlimit none {};
    ::setrlimit(RLIMIT_CORE, &none);
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    ::sigaction(sig, &action, nullptr);
    Unblock();
    ::kill(::getpid(), sig);
  }
  ::_exit(kSetupFailed);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);

  if (o.namespaces != 0 && ::unshare(o.namespaces) != 0) {
    DieErrno("cannot unshare namespaces " + std::to_string(o.namespaces));
  }
  if ((o.namespaces & CLONE_NEWNS) != 0 &&
      ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    DieErrno("cannot make the container's mounts slaves of the host's");
  }
  if ((o.namespaces & CLONE_NEWPID) == 0) {
    MountAll(o);
    ExecTask(o);
  }

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) DieErrno("cannot make a pipe");
  sigset_t previous;
  Block(&previous);
  const pid_t init = ::fork();
  if (init < 0) DieErrno("cannot fork the namespace's init");
  if (init == 0) {
    ::close(report[0]);
    // Whoever kills the watcher outright kills the container.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) ::_exit(kSetupFailed);
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    RunInit(o, report[1]);
  }
  ::close(report[1]);
  // Nothing should outlive this process's watcher unnoticed: the agent
  // signals this process's group, which the init and the task share; a
  // signal sent to this pid alone is passed on to the init.
  InstallPassOn(init);
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);

  int init_status = 0;
  while (::waitpid(init, &init_status, 0) < 0 && errno == EINTR) {
  }
  RestoreDefaults();
  int task_status = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &task_status, sizeof(task_status));
  } while (n < 0 && errno == EINTR);
  // No report: the init itself was killed (SIGKILL from the agent).
  EndLike(n == sizeof(task_status) ? task_status : init_status);
}
