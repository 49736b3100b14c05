#include "modules/isolator/cgroups_mem/oom_watcher.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <vector>

namespace keel::modules {
namespace {

// epoll tags besides the tokens (which start at 1).
constexpr uint64_t kStopTag = 0;
constexpr uint64_t kInotifyTag = std::numeric_limits<uint64_t>::max();

uint64_t OomKills(const std::string& events_path, bool* ok) {
  int fd = ::open(events_path.c_str(), O_RDONLY | O_CLOEXEC);
  *ok = fd >= 0;
  if (fd < 0) return 0;
  char buffer[1024];
  ssize_t n = ::read(fd, buffer, sizeof(buffer) - 1);
  ::close(fd);
  *ok = n > 0;
  if (n <= 0) return 0;
  auto values = ParseFlatKeyed(std::string_view(buffer, static_cast<size_t>(n)));
  auto it = values.find("oom_kill");
  return it == values.end() ? 0 : it->second;
}

}  // namespace

OomWatcher::OomWatcher(std::function<void(uint64_t token)> on_oom) : on_oom_(std::move(on_oom)) {}

OomWatcher::~OomWatcher() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    // An eventfd write of 1 cannot block or fail short of a counter overflow.
    [[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  for (auto& [token, entry] : entries_) {
    if (entry.event_fd >= 0) ::close(entry.event_fd);
  }
  for (int fd : {inotify_fd_, stop_fd_, epoll_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

Status OomWatcher::Start() {
  if (thread_.joinable()) return Status::Ok();
  Status made = MakeDescriptors();
  if (!made.ok()) {
    for (int* fd : {&inotify_fd_, &stop_fd_, &epoll_fd_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
    return made;
  }
  thread_ = std::thread([this] { Run(); });
  ::pthread_setname_np(thread_.native_handle(), "keel-oom-watch");
  return Status::Ok();
}

Status OomWatcher::MakeDescriptors() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return Status::Error("cannot create an epoll set: " + DescribeErrno(errno));
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return Status::Error("cannot create an eventfd: " + DescribeErrno(errno));
  inotify_fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ < 0) {
    return Status::Error("cannot create an inotify instance: " + DescribeErrno(errno));
  }
  for (auto [fd, tag] : {std::pair{stop_fd_, kStopTag}, std::pair{inotify_fd_, kInotifyTag}}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = tag;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
      return Status::Error("cannot add to the epoll set: " + DescribeErrno(errno));
    }
  }
  return Status::Ok();
}

Result<uint64_t> OomWatcher::Watch(const Cgroup& cgroup) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t token = next_token_++;
  Entry entry;
  if (cgroup.mount().version == CgroupVersion::kV2) {
    entry.events = cgroup.path() + "/memory.events";
    bool ok = false;
    entry.oom_kills = OomKills(entry.events, &ok);
    if (!ok) return Status::Error("cannot read " + entry.events + ": " + DescribeErrno(errno));
    entry.inotify_wd = ::inotify_add_watch(inotify_fd_, entry.events.c_str(), IN_MODIFY);
    if (entry.inotify_wd < 0) {
      return Status::Error("cannot watch " + entry.events + " (inotify): " + DescribeErrno(errno));
    }
    tokens_by_wd_[entry.inotify_wd] = token;
  } else {
    const std::string control = cgroup.path() + "/memory.oom_control";
    int control_fd = ::open(control.c_str(), O_RDONLY | O_CLOEXEC);
    if (control_fd < 0)
      return Status::Error("cannot open " + control + ": " + DescribeErrno(errno));
    entry.event_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (entry.event_fd < 0) {
      ::close(control_fd);
      return Status::Error("cannot create an eventfd: " + DescribeErrno(errno));
    }
    // The kernel takes what it needs from both descriptors while handling
    // the write; the registration lives until the eventfd is closed or the
    // cgroup removed.
    Status registered = cgroup.Write(
        "cgroup.event_control", std::to_string(entry.event_fd) + " " + std::to_string(control_fd));
    ::close(control_fd);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = token;
    if (registered.ok() && ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, entry.event_fd, &event) != 0) {
      registered = Status::Error("cannot add an eventfd to the epoll set: " + DescribeErrno(errno));
    }
    if (!registered.ok()) {
      ::close(entry.event_fd);
      return registered;
    }
  }
  entries_[token] = std::move(entry);
  return token;
}

void OomWatcher::Unwatch(uint64_t token) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return;
  if (it->second.event_fd >= 0) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.event_fd, nullptr);
    // Closing the eventfd also ends the kernel's registration.
    ::close(it->second.event_fd);
  }
  if (it->second.inotify_wd >= 0) {
    // Fails harmlessly (EINVAL) when the cgroup is already gone.
    ::inotify_rm_watch(inotify_fd_, it->second.inotify_wd);
    tokens_by_wd_.erase(it->second.inotify_wd);
  }
  entries_.erase(it);
}

void OomWatcher::Run() {
  epoll_event events[16];
  for (;;) {
    int n = ::epoll_wait(epoll_fd_, events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the epoll set is broken: nothing more can be watched
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kStopTag) return;
      if (tag == kInotifyTag) {
        OnInotify();
      } else {
        OnEventFd(tag);
      }
    }
  }
}

void OomWatcher::OnEventFd(uint64_t token) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(token);
    if (it == entries_.end()) return;  // unwatched since epoll_wait returned
    uint64_t count = 0;
    if (::read(it->second.event_fd, &count, sizeof(count)) != sizeof(count)) return;
  }
  on_oom_(token);
}

void OomWatcher::OnInotify() {
  alignas(inotify_event) char buffer[4096];
  std::vector<std::pair<uint64_t, std::string>> changed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (;;) {
      ssize_t n = ::read(inotify_fd_, buffer, sizeof(buffer));
      if (n <= 0) break;
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        if ((event->mask & IN_MODIFY) == 0) continue;
        auto it = tokens_by_wd_.find(event->wd);
        if (it == tokens_by_wd_.end()) continue;
        changed.emplace_back(it->second, entries_[it->second].events);
      }
    }
  }
  for (const auto& [token, events] : changed) {
    bool ok = false;
    const uint64_t kills = OomKills(events, &ok);
    if (!ok) continue;
    bool grew = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = entries_.find(token);
      if (it == entries_.end()) continue;
      grew = kills > it->second.oom_kills;
      if (grew) it->second.oom_kills = kills;
    }
    if (grew) on_oom_(token);
  }
}

}  // namespace keel::modules
