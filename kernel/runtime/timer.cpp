#include "kernel/runtime/timer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace keel::runtime {

struct Timer::Impl {
  explicit Impl(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  // Bumped by every Start and Cancel: a completion from an older generation
  // must not run, even if Asio already queued it before the cancel.
  uint64_t generation = 0;
  bool pending = false;
};

Timer::Timer(boost::asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {}

Timer::~Timer() { Cancel(); }

void Timer::Start(std::chrono::nanoseconds delay, std::function<void()> fn) {
  Cancel();
  const uint64_t generation = impl_->generation;
  impl_->pending = true;
  impl_->timer.expires_after(delay);
  std::weak_ptr<Impl> weak = impl_;
  impl_->timer.async_wait(
      [weak, generation, fn = std::move(fn)](const boost::system::error_code& ec) {
        auto impl = weak.lock();
        if (!impl || ec || impl->generation != generation) return;
        impl->pending = false;
        fn();
      });
}

void Timer::Cancel() {
  ++impl_->generation;
  impl_->pending = false;
  impl_->timer.cancel();
}

bool Timer::pending() const { return impl_->pending; }

}  // namespace keel::runtime
