// Worker: one background thread running jobs in the order submitted, for
// what the containerizer must not do on the core strand (mounting, writing
// a bundle, waiting for `runc delete`, removing trees). Jobs report back
// through ModuleContext::Post.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "keel/status.hpp"

namespace keel::modules::oci {

class Worker {
 public:
  Worker() = default;
  // Stop()s.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread with every signal blocked (the daemon's signals go to
  // the threads that expect them).
  Status Start();
  // Queues `job`; dropped if the worker is stopping.
  void Submit(std::function<void()> job);
  // Drops the jobs not yet begun, waits for the one running and joins.
  void Stop();

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // guarded by mutex_
  bool stopping_ = false;                   // guarded by mutex_
  std::thread thread_;
};

}  // namespace keel::modules::oci
