// keel-container-init: the first process of every container the native
// containerizer starts, and the task's supervisor.
//
//   keel-container-init --record=DIR [--namespaces=FLAGS]
//                       [--mount SRC TARGET TYPE FLAGS DATA]...
//                       [--user UID GID GROUPS] -- EXECUTABLE ARGV...
//
// The containerizer clones it into the namespaces already (FLAGS says which),
// as root, in the task's sandbox with the task's stdio and environment. It is
// a program of its own, not code in the agent's cloned child, because a
// supervisor forks and waits, a pid namespace needs an init, and mounting
// wants ordinary libc: none of it is safe in a child that shares the agent's
// memory. It:
//  1. opens DIR (the containerizer's record of the container, on the host)
//     before any mount can hide it;
//  2. with CLONE_NEWNS, makes every mount a slave, so nothing mounted here
//     reaches the host, and makes the mounts (proc among them, showing the
//     new pid namespace);
//  3. forks the task as its user and waits for it, reaping every orphan
//     (pid 1 of a pid namespace, else a child subreaper). With a pid
//     namespace it passes the signals that stop a task on to the whole
//     namespace; without one the containerizer signals the task's process
//     group, which the task shares with this process, and this one only
//     waits;
//  4. when the task ends, writes its wait status to DIR/exit_status (by
//     rename, so a reader sees all of it or nothing) and exits; with a pid
//     namespace the kernel then kills whatever the task left.
// Because this process, not the agent, waits for the task and records how it
// ended, a task outlives an agent that is killed or restarted: the next agent
// reads the record (or watches this process until it ends). An init cannot
// end as the task did (the kernel ignores signals an init sends itself), so
// the record, not this process's own status, is the task's.
//
// Errors go to stderr (the sandbox's) prefixed with the program's name, and
// end it with status 127, as the containerizer's own setup failures do.
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
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
  std::string record_dir;
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
    } else if (arg.rfind("--record=", 0) == 0) {
      o.record_dir = arg.substr(9);
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
  if (o.record_dir.empty()) Die("missing --record=DIR");
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

// 0: nobody (the task gets signals with its group); -1: everyone in the namespace.
volatile sig_atomic_t g_forward_to = 0;

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

// Writes the task's wait status into the record directory, whole or not at
// all (a reader after a crash sees either no file or the status).
void Record(int record_fd, int status) {
  const int fd =
      ::openat(record_fd, "exit_status.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "keel-container-init: cannot record the task's exit: %s\n",
                 std::strerror(errno));
    return;
  }
  const std::string text = std::to_string(status) + "\n";
  ssize_t written;
  do {
    written = ::write(fd, text.data(), text.size());
  } while (written < 0 && errno == EINTR);
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()) ||
      ::renameat(record_fd, "exit_status.tmp", record_fd, "exit_status") != 0) {
    std::fprintf(stderr, "keel-container-init: cannot record the task's exit: %s\n",
                 std::strerror(errno));
  }
}

// Starts the task, reaps everything that comes to this process, and records
// the task's wait status when the task ends.
[[noreturn]] void Supervise(const Options& o, int record_fd) {
  const bool init = (o.namespaces & CLONE_NEWPID) != 0;
  // Outside a pid namespace, orphans of the task come here rather than to
  // the host's init, so they are reaped as the task's.
  if (!init && ::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) DieErrno("cannot become a subreaper");
  sigset_t previous;
  Block(&previous);
  const pid_t task = ::fork();
  if (task < 0) DieErrno("cannot fork the task");
  if (task == 0) {
    ::close(record_fd);
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    ExecTask(o);
  }
  // The kernel delivers to a namespace's init only signals it handles: pass
  // them on to every process of the namespace. Outside one, the task gets
  // its signals with its process group; this process must not end of them.
  InstallPassOn(init ? -1 : 0);
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
  Record(record_fd, status);
  // The exit code for whoever reads this process's own status; a signal
  // shows as 128 + its number, as shells report it.
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  const int record_fd = ::open(o.record_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (record_fd < 0) DieErrno("cannot open the container's record " + o.record_dir);

  if ((o.namespaces & CLONE_NEWNS) != 0 &&
      ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    DieErrno("cannot make the container's mounts slaves of the host's");
  }
  MountAll(o);
  if ((o.namespaces & CLONE_NEWPID) != 0 && ::getpid() != 1) {
    Die("--namespaces has CLONE_NEWPID but this is not pid 1 of a namespace");
  }
  Supervise(o, record_fd);
}
