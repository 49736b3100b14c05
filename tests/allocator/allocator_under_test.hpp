// One allocator of the conformance suite, by name, as the suite drives it:
// the built-ins ("drf", "binpack") on a clock the test moves, and the SDK
// template's "round-robin" loaded from its module library by the kernel's
// module loader with its manifest's default parameters, on the real clock.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "keel/allocator.hpp"

namespace keel::test {

// Every allocator the suite runs against.
std::vector<std::string> AllAllocators();
// Those whose options the tests set (the built-ins' shared defaults, such as
// min_allocatable_resources).
std::vector<std::string> BuiltInAllocators();

// gtest parameter names: "round-robin" -> "round_robin".
std::string AllocatorTestName(const std::string& allocator);

class AllocatorUnderTest {
 public:
  explicit AllocatorUnderTest(const std::string& name);
  ~AllocatorUnderTest();
  // The built-ins' clock reads this object.
  AllocatorUnderTest(const AllocatorUnderTest&) = delete;
  AllocatorUnderTest& operator=(const AllocatorUnderTest&) = delete;

  Allocator* operator->() { return allocator_.get(); }
  Allocator& operator*() { return *allocator_; }

  // The time the allocator sees.
  std::chrono::steady_clock::time_point Now() const;
  // Moves the allocator's clock forward by `by`: the test's clock for the
  // built-ins, a sleep for an allocator on the real clock. Keep waits short
  // (hundreds of milliseconds): the real-clock allocator really waits.
  void Advance(std::chrono::nanoseconds by);
  bool on_real_clock() const { return real_clock_; }

 private:
  bool real_clock_ = false;
  std::chrono::steady_clock::time_point fake_now_{};
  std::shared_ptr<Allocator> allocator_;
};

}  // namespace keel::test
