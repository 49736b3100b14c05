// A one-shot, restartable timer on a daemon's io_context, without Asio in the
// header. The callback runs on the io thread; Cancel() and destruction
// guarantee it will not run afterwards.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace keel::runtime {

class Timer {
 public:
  explicit Timer(boost::asio::io_context& io);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Runs `fn` after `delay`; a pending run is cancelled first.
  void Start(std::chrono::nanoseconds delay, std::function<void()> fn);
  void Cancel();
  bool pending() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace keel::runtime
