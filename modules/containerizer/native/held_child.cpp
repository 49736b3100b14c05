#include "modules/containerizer/native/held_child.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace keel::modules {
namespace {

// A child sharing the daemon's memory also shares the cloning thread's errno:
// the calls it makes on its normal path (read, which a signal may interrupt,
// and mkdir, which may find a directory a sibling just made) go through
// RawSyscall3, which reports errors in its result and never writes errno.
// Other architectures, and AddressSanitizer builds (whose per-thread state
// the child would change under the cloning thread's feet), fork instead.
#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(__SANITIZE_ADDRESS__)
constexpr bool kShareMemory = true;
#else
constexpr bool kShareMemory = false;
#endif

// A system call returning -errno on failure.
long RawSyscall3(long number, long a, long b, long c) {
#if defined(__x86_64__)
  long result;
  asm volatile("syscall"
               : "=a"(result)
               : "a"(number), "D"(a), "S"(b), "d"(c)
               : "rcx", "r11", "memory");
  return result;
#elif defined(__aarch64__)
  register long x8 asm("x8") = number;
  register long x0 asm("x0") = a;
  register long x1 asm("x1") = b;
  register long x2 asm("x2") = c;
  asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
#else
  long result = ::syscall(number, a, b, c);
  return result < 0 ? -errno : result;
#endif
}

// The exit statuses documented in the header.
constexpr int kNotReleased = 126;
constexpr int kSetupFailed = 127;

// --- Child side: async-signal-safe calls only from here to ChildMain's end.
// The child shares the daemon's memory: it allocates nothing and touches only
// its own stack and the ChildMemory below. A failing call writes errno of the
// daemon thread that cloned it; the daemon never reads errno without a
// failing call of its own in between.

void WriteAll(const char* text) {
  size_t left = ::strlen(text);
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, text, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    left -= static_cast<size_t>(n);
  }
}

[[noreturn]] void Fail(const char* what, const char* detail, int error) {
  char digits[16];
  char* p = digits + sizeof(digits);
  *--p = '\0';
  do {
    *--p = static_cast<char>('0' + error % 10);
    error /= 10;
  } while (error > 0 && p > digits);
  WriteAll("keel native containerizer: cannot ");
  WriteAll(what);
  WriteAll(" ");
  WriteAll(detail);
  WriteAll(": errno ");
  WriteAll(p);
  WriteAll("\n");
  ::_exit(kSetupFailed);
}

// Puts `path` on `target`, without the close-on-exec flag.
void OpenOnto(const char* path, int flags, int target) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) Fail("open", path, errno);
  if (fd == target) {
    // dup2() onto itself would leave O_CLOEXEC set and exec would close it.
    ::fcntl(fd, F_SETFD, 0);
    return;
  }
  if (::dup2(fd, target) < 0) Fail("redirect to", path, errno);
  ::close(fd);
}

struct ChildArgs {
  const ChildSpec* spec;
  char* const* argv;
  char* const* envp;
  int hold_fd;
  int parent_end;
};

[[noreturn]] void ChildMain(const ChildArgs& args);

// Everything the child reads before execve(), kept alive by its owner.
struct ChildMemory {
  static constexpr size_t kStackBytes = 256 * 1024;
  ChildSpec spec;
  std::vector<char*> argv;
  std::vector<char*> envp;
  ChildArgs args{};
  void* stack = MAP_FAILED;
  ~ChildMemory() {
    if (stack != MAP_FAILED) ::munmap(stack, kStackBytes);
  }
};

int ChildEntry(void* memory) { ChildMain(static_cast<ChildMemory*>(memory)->args); }

[[noreturn]] void ChildMain(const ChildArgs& args) {
  ::setpgid(0, 0);
  // The daemon's handlers must not run in the child, and the task expects
  // the defaults (a daemon typically ignores SIGPIPE).
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  // Only signals sigaction() accepts: a failing call would write errno into
  // the daemon thread's storage (see above).
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || (sig > SIGSYS && sig < SIGRTMIN)) continue;
    ::sigaction(sig, &default_action, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Our copy of the parent's end would keep the hold open forever.
  ::close(args.parent_end);
  char go = 0;
  long n;
  do {
    n = RawSyscall3(SYS_read, args.hold_fd, reinterpret_cast<long>(&go), 1);
  } while (n == -EINTR);
  if (n != 1) ::_exit(kNotReleased);
  ::close(args.hold_fd);

  const ChildSpec& spec = *args.spec;
  // Everything below runs after Isolate(), charged to the container.
  for (const std::string& dir : spec.make_dirs) {
    const long made = RawSyscall3(SYS_mkdirat, AT_FDCWD, reinterpret_cast<long>(dir.c_str()), 0755);
    if (made < 0 && made != -EEXIST) Fail("create", dir.c_str(), static_cast<int>(-made));
  }
  if (::chdir(spec.working_dir.c_str()) != 0) Fail("enter", spec.working_dir.c_str(), errno);
  OpenOnto("/dev/null", O_RDONLY, STDIN_FILENO);
  OpenOnto(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, STDOUT_FILENO);
  OpenOnto(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, STDERR_FILENO);
  // Nothing of the daemon's but stdio: its listening sockets (not all made
  // close-on-exec), pipes and pidfds would live on in a task that outlives
  // the agent, and keep the next agent from its port.
#ifdef SYS_close_range
  if (RawSyscall3(SYS_close_range, 3, ~0U, 0) < 0)
#endif
  {
    for (long fd = 3; fd < 65536; ++fd) RawSyscall3(SYS_close, fd, 0, 0);
  }

  if (spec.user) {
    // Raw system calls: glibc's wrappers synchronise every thread of the
    // process, machinery that is not safe to use after fork().
    const UserIdentity& user = *spec.user;
    if (::syscall(SYS_setgroups, user.groups.size(), user.groups.data()) != 0) {
      Fail("set the groups of", user.name.c_str(), errno);
    }
    if (::syscall(SYS_setresgid, user.gid, user.gid, user.gid) != 0) {
      Fail("set the group of", user.name.c_str(), errno);
    }
    if (::syscall(SYS_setresuid, user.uid, user.uid, user.uid) != 0) {
      Fail("become", user.name.c_str(), errno);
    }
  }

  ::execve(spec.executable.c_str(), args.argv, args.envp);
  Fail("execute", spec.executable.c_str(), errno);
}

// --- Parent side.

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const auto& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

Result<HeldChild> HeldChild::Fork(const ChildSpec& given) {
  auto memory = std::make_shared<ChildMemory>();
  memory->spec = given;
  memory->argv = CStrings(memory->spec.argv);
  memory->envp = CStrings(memory->spec.envp);
  memory->stack = ::mmap(nullptr, ChildMemory::kStackBytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (memory->stack == MAP_FAILED) {
    return Status::Error(std::string("cannot map a stack: ") + std::strerror(errno));
  }

  // A socket rather than a pipe: send(MSG_NOSIGNAL) cannot raise SIGPIPE in
  // the daemon if the child is already gone.
  int hold[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, hold) != 0) {
    return Status::Error(std::string("socketpair: ") + std::strerror(errno));
  }
  const int child_end = hold[0];
  const int parent_end = hold[1];

  // Blocked across fork() so that no signal reaches the child before it has
  // reset the daemon's handlers.
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &previous);
  memory->args =
      ChildArgs{&memory->spec, memory->argv.data(), memory->envp.data(), child_end, parent_end};
  char* stack_top = static_cast<char*>(memory->stack) + ChildMemory::kStackBytes;
  pid_t pid;
  if (kShareMemory) {
    pid = ::clone(ChildEntry, stack_top, CLONE_VM | SIGCHLD | memory->spec.clone_namespaces,
                  memory.get());
  } else if (memory->spec.clone_namespaces != 0) {
    // fork() with namespaces: clone's raw form, without a new stack.
    pid = static_cast<pid_t>(
        ::syscall(SYS_clone, SIGCHLD | memory->spec.clone_namespaces, 0, 0, 0, 0));
    if (pid == 0) ChildMain(memory->args);
  } else {
    pid = ::fork();
    if (pid == 0) ChildMain(memory->args);
  }
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ::close(child_end);
  if (pid < 0) {
    ::close(parent_end);
    return Status::Error(std::string("clone: ") + std::strerror(fork_errno));
  }
  // Also done by the child: whichever runs first, the group exists before
  // anyone signals it.
  ::setpgid(pid, pid);
  return HeldChild(pid, parent_end, std::move(memory));
}

HeldChild::HeldChild(HeldChild&& other) noexcept
    : pid_(other.pid_), hold_fd_(other.hold_fd_), memory_(std::move(other.memory_)) {
  other.hold_fd_ = -1;
}

HeldChild::~HeldChild() { Abort(); }

Status HeldChild::Release() {
  if (hold_fd_ < 0) return Status::Error("child " + std::to_string(pid_) + " is not held");
  const char go = 1;
  ssize_t n;
  do {
    n = ::send(hold_fd_, &go, 1, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  const int send_errno = errno;
  ::close(hold_fd_);
  hold_fd_ = -1;
  // The child is gone (killed from outside); its exit is reported as usual.
  if (n != 1)
    return Status::Error(std::string("cannot release the child: ") + std::strerror(send_errno));
  return Status::Ok();
}

void HeldChild::Abort() {
  if (hold_fd_ < 0) return;
  ::close(hold_fd_);
  hold_fd_ = -1;
  ::killpg(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace keel::modules
