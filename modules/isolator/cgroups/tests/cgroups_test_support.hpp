// What the cgroups isolators' tests share: a module context whose posted
// work the test runs, real child processes held until they are isolated,
// unique container ids, and the check that nothing is left behind.
//
// The tests run against this host's real cgroups, as root; as another user
// they skip. Several test processes may run at once: every container id is
// unique, so they never share a cgroup.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "keel/module.hpp"

namespace keel::modules::cgroups_test {

using namespace std::chrono_literals;

class FakeContext : public ModuleContext {
 public:
  explicit FakeContext(std::string name) : name_(std::move(name)) {
    parameters_.Set("cgroups_hierarchy", std::string("/sys/fs/cgroup"));
    parameters_.Set("cgroups_root", std::string("keel"));
  }
  Parameters& mutable_parameters() { return parameters_; }

  const std::string& module_name() const override { return name_; }
  const Parameters& parameters() const override { return parameters_; }
  std::string work_dir() const override { return ""; }
  void Log(LogLevel, std::string_view message) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    logs_.emplace_back(message);
  }
  void Post(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(fn));
  }
  std::shared_ptr<TimerHandle> RunAfter(std::chrono::nanoseconds, std::function<void()>) override {
    ADD_FAILURE() << "the cgroups isolators use no timers";
    return nullptr;
  }
  void IncrementCounter(std::string_view, uint64_t) override {}
  void SetGauge(std::string_view, double) override {}

  // Runs what was posted, as the core strand would, until `done` holds or
  // `timeout` passes.
  bool DrainUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      RunPosted();
      if (done()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
  }
  void RunPosted() {
    for (;;) {
      std::function<void()> fn;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (queue_.empty()) return;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }

 private:
  std::string name_;
  Parameters parameters_;
  mutable std::mutex mutex_;
  mutable std::vector<std::string> logs_;
  std::deque<std::function<void()>> queue_;
};

inline std::string UniqueId(const std::string& prefix) {
  std::random_device random;
  std::ostringstream id;
  id << prefix << "-" << ::getpid() << "-" << std::hex << random() << random();
  return id.str();
}

inline bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Gone, or a zombie waiting for a parent that is not this test.
inline bool ProcessGone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

inline bool DirectoryExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// A forked child that waits, before doing anything, until Release(); then
// runs `body(report_fd)` and exits 0. It leads its own process group. The
// test process has threads (the OOM watcher's), so `body` must keep to
// async-signal-safe calls: no malloc, no locks (mmap, fork, write, pause,
// _exit are fine). What the child writes to `report_fd` the test reads with
// ReadReport().
class TestChild {
 public:
  explicit TestChild(std::function<void(int report_fd)> body) {
    int go[2], report[2];
    if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);  // its own group, as a container's first process
      ::close(go[1]);
      ::close(report[0]);
      char byte;
      if (::read(go[0], &byte, 1) != 1) ::_exit(1);
      body(report[1]);
      ::_exit(0);
    }
    ::setpgid(pid_, pid_);
    ::close(go[0]);
    ::close(report[1]);
    go_fd_ = go[1];
    report_fd_ = report[0];
  }
  ~TestChild() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (go_fd_ >= 0) ::close(go_fd_);
    if (report_fd_ >= 0) ::close(report_fd_);
  }
  TestChild(const TestChild&) = delete;
  TestChild& operator=(const TestChild&) = delete;

  pid_t pid() const { return pid_; }
  bool Release() { return ::write(go_fd_, "x", 1) == 1; }

  // Reads exactly `size` bytes the child wrote, within `timeout`.
  bool ReadReport(void* data, size_t size, std::chrono::milliseconds timeout = 5s) {
    char* out = static_cast<char*>(data);
    size_t got = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got < size) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd p{report_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      ssize_t n = ::read(report_fd_, out + got, size - got);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return true;
  }

  // The child's wait status, or -1 if it is still running at `timeout`.
  int Wait(std::chrono::milliseconds timeout = 5s) {
    int status = -1;
    bool done = WaitUntil(
        [&] {
          pid_t r = ::waitpid(pid_, &status, WNOHANG);
          return r == pid_ || r < 0;
        },
        timeout);
    if (!done) return -1;
    reaped_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int go_fd_ = -1;
  int report_fd_ = -1;
};

// Writes `value` to `fd` (from a child: async-signal-safe).
inline void Report(int fd, int value) {
  [[maybe_unused]] ssize_t n = ::write(fd, &value, sizeof(value));
}

inline std::string ReadFileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace keel::modules::cgroups_test

// Makes `var` (a std::unique_ptr<TYPE>) from `context`, or skips the test
// when not root or when this host lacks the controller.
#define KEEL_MAKE_ISOLATOR_OR_SKIP(var, TYPE, context)                                      \
  if (::geteuid() != 0) GTEST_SKIP() << "the cgroups tests need root";                      \
  std::unique_ptr<TYPE> var;                                                                \
  try {                                                                                     \
    var = std::make_unique<TYPE>(context);                                                  \
  } catch (const std::exception& e) {                                                       \
    GTEST_SKIP() << "this host cannot run " << (context).module_name() << ": " << e.what(); \
  }
