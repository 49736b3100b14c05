// Test support for module tests: a ModuleContext whose core strand is the
// test's own thread. Post() and RunAfter() queue work; DrainUntil() runs it
// (posted work first, then timers that are due) until a condition holds.
// Header-only, so that module tests, which link only their modules' logic,
// can use it.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "keel/module.hpp"
#include "keel/parameters.hpp"

namespace keel::test {

class StrandModuleContext : public ModuleContext {
 public:
  explicit StrandModuleContext(std::string name, std::string work_dir = "")
      : name_(std::move(name)), work_dir_(std::move(work_dir)) {}

  Parameters& mutable_parameters() { return parameters_; }
  std::vector<std::string> logs() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return logs_;
  }

  const std::string& module_name() const override { return name_; }
  const Parameters& parameters() const override { return parameters_; }
  std::string work_dir() const override { return work_dir_; }
  void Log(LogLevel, std::string_view message) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    logs_.emplace_back(message);
  }
  void Post(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(fn));
  }
  std::shared_ptr<TimerHandle> RunAfter(std::chrono::nanoseconds delay,
                                        std::function<void()> fn) override {
    auto timer = std::make_shared<Timer>();
    std::lock_guard<std::mutex> lock(mutex_);
    timers_.push_back({std::chrono::steady_clock::now() + delay, timer, std::move(fn)});
    return timer;
  }
  void IncrementCounter(std::string_view, uint64_t) override {}
  void SetGauge(std::string_view, double) override {}

  // Runs what is due until `done` holds (true) or `timeout` passes (false).
  bool DrainUntil(const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      RunDue();
      if (done()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // Runs everything posted so far and every timer that is due.
  void RunDue() {
    while (std::function<void()> fn = NextDue()) fn();
  }

 private:
  class Timer : public TimerHandle {
   public:
    void Cancel() override { cancelled = true; }
    std::atomic<bool> cancelled{false};
  };
  struct Pending {
    std::chrono::steady_clock::time_point due;
    std::shared_ptr<Timer> handle;
    std::function<void()> fn;
  };

  std::function<void()> NextDue() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!queue_.empty()) {
      std::function<void()> fn = std::move(queue_.front());
      queue_.pop_front();
      return fn;
    }
    const auto now = std::chrono::steady_clock::now();
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->due > now) {
        ++it;
        continue;
      }
      std::function<void()> fn;
      if (!it->handle->cancelled) fn = std::move(it->fn);
      it = timers_.erase(it);
      if (fn) return fn;
    }
    return nullptr;
  }

  std::string name_;
  std::string work_dir_;
  Parameters parameters_;
  mutable std::mutex mutex_;
  mutable std::vector<std::string> logs_;
  std::deque<std::function<void()>> queue_;
  std::vector<Pending> timers_;
};

}  // namespace keel::test
