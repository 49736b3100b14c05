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
//
// It is C, built static against musl where musl-gcc is installed (else
// glibc): it is exec'd once per task, and glibc's static start-up (probing
// the CPU's caches through CPUID, which traps to the hypervisor in a VM) cost
// about 300 us per exec on the 2-core VM, against under 200 for musl's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

enum { kSetupFailed = 127 };

struct Mount {
  const char* source;
  const char* target;
  const char* type;
  const char* data;
  unsigned long flags;
};

struct Options {
  int namespaces;
  const char* record_dir;
  struct Mount* mounts;
  size_t mount_count;
  int switch_user;
  uid_t uid;
  gid_t gid;
  gid_t* groups;
  size_t group_count;
  char** task_argv;  // executable, then argv
};

static void Die(const char* format, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void Die(const char* format, ...) {
  va_list args;
  va_start(args, format);
  fputs("keel-container-init: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(kSetupFailed);
}

static unsigned long Number(const char* text, const char* what) {
  char* end = NULL;
  errno = 0;
  const unsigned long value = strtoul(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0') Die("bad %s '%s'", what, text);
  return value;
}

static char* Next(int argc, char** argv, int* i, const char* what) {
  if (*i >= argc) Die("missing %s", what);
  return argv[(*i)++];
}

static void* Allocate(size_t count, size_t size) {
  void* p = calloc(count == 0 ? 1 : count, size);
  if (p == NULL) Die("out of memory");
  return p;
}

static void ParseGroups(char* text, struct Options* o) {
  size_t count = 1;
  for (const char* c = text; *c != '\0'; ++c) count += *c == ',';
  o->groups = Allocate(count, sizeof(gid_t));
  o->group_count = 0;
  for (char* start = text; *start != '\0';) {
    char* comma = strchr(start, ',');
    if (comma != NULL) *comma = '\0';
    o->groups[o->group_count++] = (gid_t)Number(start, "group");
    if (comma == NULL) break;
    start = comma + 1;
  }
}

static struct Options Parse(int argc, char** argv) {
  struct Options o;
  memset(&o, 0, sizeof(o));
  // At most one mount per five arguments.
  o.mounts = Allocate((size_t)argc / 5 + 1, sizeof(struct Mount));
  int i = 1;
  while (i < argc) {
    const char* arg = argv[i++];
    if (strcmp(arg, "--") == 0) break;
    if (strncmp(arg, "--namespaces=", 13) == 0) {
      o.namespaces = (int)Number(arg + 13, "namespace flags");
    } else if (strncmp(arg, "--record=", 9) == 0) {
      o.record_dir = arg + 9;
    } else if (strcmp(arg, "--mount") == 0) {
      struct Mount* m = &o.mounts[o.mount_count++];
      m->source = Next(argc, argv, &i, "mount source");
      m->target = Next(argc, argv, &i, "mount target");
      m->type = Next(argc, argv, &i, "mount type");
      m->flags = Number(Next(argc, argv, &i, "mount flags"), "mount flags");
      m->data = Next(argc, argv, &i, "mount data");
    } else if (strcmp(arg, "--user") == 0) {
      o.switch_user = 1;
      o.uid = (uid_t)Number(Next(argc, argv, &i, "uid"), "uid");
      o.gid = (gid_t)Number(Next(argc, argv, &i, "gid"), "gid");
      ParseGroups(Next(argc, argv, &i, "groups"), &o);
    } else {
      Die("unknown argument '%s'", arg);
    }
  }
  if (o.record_dir == NULL || *o.record_dir == '\0') Die("missing --record=DIR");
  if (i >= argc - 1) Die("no task to run (expected -- EXECUTABLE ARGV...)");
  o.task_argv = argv + i;
  return o;
}

static void MountAll(const struct Options* o) {
  for (size_t i = 0; i < o->mount_count; ++i) {
    const struct Mount* m = &o->mounts[i];
    if (mount(m->source, m->target, *m->type == '\0' ? NULL : m->type, m->flags,
              *m->data == '\0' ? NULL : m->data) != 0) {
      Die("cannot mount %s on %s: %s", m->source, m->target, strerror(errno));
    }
  }
}

static void ExecTask(const struct Options* o) __attribute__((noreturn));
static void ExecTask(const struct Options* o) {
  if (o->switch_user) {
    if (setgroups(o->group_count, o->groups) != 0) Die("cannot set groups: %s", strerror(errno));
    if (setresgid(o->gid, o->gid, o->gid) != 0) Die("cannot set group: %s", strerror(errno));
    if (setresuid(o->uid, o->uid, o->uid) != 0) Die("cannot set user: %s", strerror(errno));
  }
  execve(o->task_argv[0], o->task_argv + 1, environ);
  Die("cannot execute %s: %s", o->task_argv[0], strerror(errno));
}

// Signals an operator or the agent sends to stop a task.
static const int kPassedOn[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT};

// 0: nobody (the task gets signals with its group); -1: everyone in the namespace.
static volatile sig_atomic_t g_forward_to = 0;

static void PassOn(int sig) {
  const pid_t to = g_forward_to;
  if (to != 0) kill(to, sig);
}

static void InstallPassOn(pid_t to) {
  g_forward_to = to;
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = PassOn;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < sizeof(kPassedOn) / sizeof(kPassedOn[0]); ++i) {
    sigaction(kPassedOn[i], &action, NULL);
  }
}

// Writes the task's wait status into the record directory, whole or not at
// all (a reader after a crash sees either no file or the status).
static void Record(int record_fd, int status) {
  const int fd = openat(record_fd, "exit_status.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    fprintf(stderr, "keel-container-init: cannot record the task's exit: %s\n", strerror(errno));
    return;
  }
  char text[32];
  const int length = snprintf(text, sizeof(text), "%d\n", status);
  ssize_t written;
  do {
    written = write(fd, text, (size_t)length);
  } while (written < 0 && errno == EINTR);
  close(fd);
  if (written != length || renameat(record_fd, "exit_status.tmp", record_fd, "exit_status") != 0) {
    fprintf(stderr, "keel-container-init: cannot record the task's exit: %s\n", strerror(errno));
  }
}

// Starts the task, reaps everything that comes to this process, and records
// the task's wait status when the task ends.
static void Supervise(const struct Options* o, int record_fd) __attribute__((noreturn));
static void Supervise(const struct Options* o, int record_fd) {
  const int init = (o->namespaces & CLONE_NEWPID) != 0;
  // Outside a pid namespace, orphans of the task come here rather than to
  // the host's init, so they are reaped as the task's.
  if (!init && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    Die("cannot become a subreaper: %s", strerror(errno));
  }
  sigset_t all, previous;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &previous);
  const pid_t task = fork();
  if (task < 0) Die("cannot fork the task: %s", strerror(errno));
  if (task == 0) {
    close(record_fd);
    sigprocmask(SIG_SETMASK, &previous, NULL);
    ExecTask(o);
  }
  // The kernel delivers to a namespace's init only signals it handles: pass
  // them on to every process of the namespace. Outside one, the task gets
  // its signals with its process group; this process must not end of them.
  InstallPassOn(init ? -1 : 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  int status = 0;
  for (;;) {
    int s = 0;
    const pid_t reaped = waitpid(-1, &s, 0);
    if (reaped == task) {
      status = s;
      break;
    }
    if (reaped < 0 && errno == ECHILD) break;
  }
  Record(record_fd, status);
  // The exit code for whoever reads this process's own status; a signal
  // shows as 128 + its number, as shells report it.
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

int main(int argc, char** argv) {
  const struct Options o = Parse(argc, argv);
  const int record_fd = open(o.record_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (record_fd < 0) {
    Die("cannot open the container's record %s: %s", o.record_dir, strerror(errno));
  }
  if ((o.namespaces & CLONE_NEWNS) != 0 && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) {
    Die("cannot make the container's mounts slaves of the host's: %s", strerror(errno));
  }
  MountAll(&o);
  if ((o.namespaces & CLONE_NEWPID) != 0 && getpid() != 1) {
    Die("--namespaces has CLONE_NEWPID but this is not pid 1 of a namespace");
  }
  Supervise(&o, record_fd);
}
