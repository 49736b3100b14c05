#include "modules/containerizer/native/process_reaper.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace keel::modules {
namespace {

// Epoll data of the wake eventfd; no process has pid 0.
constexpr uint64_t kWakeToken = 0;

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

std::string ErrnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Result<std::unique_ptr<ProcessReaper>> ProcessReaper::Create() {
  // Probe now so that a kernel without pidfds fails Start(), not every Launch().
  int probe = PidfdOpen(::getpid());
  if (probe < 0) return Status::Error(ErrnoText("pidfd_open"));
  ::close(probe);

  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Status::Error(ErrnoText("epoll_create1"));
  int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    Status error = Status::Error(ErrnoText("eventfd"));
    ::close(epoll_fd);
    return error;
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeToken;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event) != 0) {
    Status error = Status::Error(ErrnoText("epoll_ctl"));
    ::close(wake_fd);
    ::close(epoll_fd);
    return error;
  }
  std::unique_ptr<ProcessReaper> reaper(new ProcessReaper(epoll_fd, wake_fd));

  // The thread starts with every signal blocked so that the daemon's signals
  // go to the threads that expect them.
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &previous);
  Status started;
  try {
    reaper->thread_ = std::thread(&ProcessReaper::Run, reaper.get());
  } catch (const std::system_error& e) {
    started = Status::Error(std::string("cannot start the reaper thread: ") + e.what());
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (!started.ok()) return started;
  return reaper;
}

ProcessReaper::ProcessReaper(int epoll_fd, int wake_fd) : epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}

ProcessReaper::~ProcessReaper() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    ssize_t written = ::write(wake_fd_, &one, sizeof(one));
    (void)written;  // an eventfd write can only fail on overflow, which still wakes
    thread_.join();
  }
  for (auto& [pid, watched] : watched_) ::close(watched.pidfd);
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

Status ProcessReaper::Watch(pid_t pid, ExitCallback on_exit) {
  int pidfd = PidfdOpen(pid);
  if (pidfd < 0) return Status::Error(ErrnoText("pidfd_open"));
  return Add(pid, pidfd, std::move(on_exit), true);
}

Status ProcessReaper::Adopt(pid_t pid, int pidfd, ExitCallback on_exit) {
  return Add(pid, pidfd, std::move(on_exit), false);
}

Status ProcessReaper::Add(pid_t pid, int pidfd, ExitCallback on_exit, bool child) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (watched_.count(pid) != 0) {
    ::close(pidfd);
    return Status::Error("process " + std::to_string(pid) + " is already watched");
  }
  // A running epoll_wait() sees descriptors added from another thread, so a
  // registration needs no wake-up.
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = static_cast<uint64_t>(pid);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pidfd, &event) != 0) {
    Status error = Status::Error(ErrnoText("epoll_ctl"));
    ::close(pidfd);
    return error;
  }
  watched_.emplace(pid, Watched{pidfd, std::move(on_exit), child});
  return Status::Ok();
}

bool ProcessReaper::SignalGroup(pid_t pid, int signal) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = watched_.find(pid);
  if (it == watched_.end()) return false;
  if (!it->second.child) {
    // An adopted leader is not a zombie we hold: once its pidfd is readable
    // its pid, hence its group id, may be reused at any moment.
    pollfd ended{it->second.pidfd, POLLIN, 0};
    if (::poll(&ended, 1, 0) != 0) return false;
  }
  ::killpg(pid, signal);
  return true;
}

void ProcessReaper::Run() {
  for (;;) {
    epoll_event events[16];
    int count = ::epoll_wait(epoll_fd_, events, 16, -1);
    if (count < 0) {
      if (errno == EINTR) continue;
      return;  // only EBADF/EINVAL, i.e. a bug; the destructor still reaps
    }
    for (int i = 0; i < count; ++i) {
      if (events[i].data.u64 == kWakeToken) return;
      Reap(static_cast<pid_t>(events[i].data.u64));
    }
  }
}

void ProcessReaper::Reap(pid_t pid) {
  ExitCallback on_exit;
  int status = kUnknownStatus;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = watched_.find(pid);
    if (it == watched_.end()) return;
    if (it->second.child) {
      // Leaves nothing of the task behind; see the header for why now.
      ::killpg(pid, SIGKILL);
      // A readable pidfd means every thread of the leader has exited, but it
      // may become waitable a moment later: WNOHANG would answer 0 and the
      // level-triggered pidfd would spin this loop until then. The wait
      // blocks only this thread, and only for that moment.
      int wait_status = 0;
      pid_t reaped;
      do {
        reaped = ::waitpid(pid, &wait_status, 0);
      } while (reaped < 0 && errno == EINTR);
      if (reaped == pid) status = wait_status;
    }
    // Closing alone would not leave the epoll set while a child cloned
    // since still holds a copy of the descriptor (until its exec closes
    // it), and the dead pid's level-triggered pidfd would spin this loop.
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.pidfd, nullptr);
    ::close(it->second.pidfd);
    on_exit = std::move(it->second.on_exit);
    watched_.erase(it);
  }
  on_exit(status);
}

}  // namespace keel::modules
