// OomWatcher: one thread that waits, with epoll, for the kernel to report an
// OOM in any of the memory cgroups it watches.
//
//   v1: an eventfd registered through the cgroup's cgroup.event_control on
//       its memory.oom_control; the kernel signals it when the cgroup runs
//       out of memory (as it starts to OOM-kill).
//   v2: inotify on the cgroup's memory.events (the kernel reports each
//       change as a modification); a report when its oom_kill count has
//       grown since the last look.
//
// The thread starts in Start(), not in the constructor, and stops (joined)
// in the destructor. Watch() and Unwatch() may be called from any one
// thread at a time (the isolator calls them on the core strand); after
// Unwatch(token) returns, `on_oom` is not called for `token` any more,
// except by a call already running.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "keel/status.hpp"
#include "modules/isolator/cgroups/cgroup.hpp"

namespace keel::modules {

class OomWatcher {
 public:
  // `on_oom(token)` runs on the watcher's thread, without the watcher's
  // lock held; it must return quickly (post the work elsewhere).
  explicit OomWatcher(std::function<void(uint64_t token)> on_oom);
  ~OomWatcher();
  OomWatcher(const OomWatcher&) = delete;
  OomWatcher& operator=(const OomWatcher&) = delete;

  // Makes the epoll set and starts the thread; a second call does nothing.
  Status Start();
  bool started() const { return thread_.joinable(); }

  // Starts watching `cgroup` (a memory cgroup) and returns the token its
  // reports carry. REQUIRES: Start() succeeded. Errors name the file.
  Result<uint64_t> Watch(const Cgroup& cgroup);
  // Stops watching; an unknown token is fine.
  void Unwatch(uint64_t token);

 private:
  struct Entry {
    int event_fd = -1;       // v1
    int inotify_wd = -1;     // v2
    std::string events;      // v2: path of memory.events
    uint64_t oom_kills = 0;  // v2: last oom_kill seen
  };

  Status MakeDescriptors();
  void Run();
  void OnEventFd(uint64_t token);
  void OnInotify();

  std::function<void(uint64_t)> on_oom_;
  std::mutex mutex_;
  std::map<uint64_t, Entry> entries_;
  std::map<int, uint64_t> tokens_by_wd_;
  uint64_t next_token_ = 1;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  int inotify_fd_ = -1;
  std::thread thread_;
};

}  // namespace keel::modules
