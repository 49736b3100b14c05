#include "modules/containerizer/oci/worker.hpp"

#include <signal.h>

#include <system_error>

namespace keel::modules::oci {

Worker::~Worker() { Stop(); }

Status Worker::Start() {
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &previous);
  Status started;
  try {
    thread_ = std::thread(&Worker::Run, this);
  } catch (const std::system_error& e) {
    started = Status::Error(std::string("cannot start the worker thread: ") + e.what());
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return started;
}

void Worker::Submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void Worker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Worker::Run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace keel::modules::oci
