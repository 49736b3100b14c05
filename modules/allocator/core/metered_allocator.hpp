// MeteredAllocator<A>: a built-in allocator as a module: options from the
// manifest's parameters, and the allocator's metrics around each step.
#pragma once

#include <chrono>

#include "modules/allocator/core/bookkeeping_allocator.hpp"

namespace keel::modules {

template <class A>
class MeteredAllocator : public A {
 public:
  explicit MeteredAllocator(ModuleContext& context)
      : A(AllocatorOptionsFrom(context.parameters())), context_(context) {}

  std::vector<Allocation> Allocate() override {
    const auto start = std::chrono::steady_clock::now();
    auto allocations = A::Allocate();
    context_.IncrementCounter("allocation_runs");
    context_.IncrementCounter("offers_made", allocations.size());
    context_.SetGauge("allocation_run_ms", std::chrono::duration<double, std::milli>(
                                               std::chrono::steady_clock::now() - start)
                                               .count());
    context_.SetGauge("frameworks", static_cast<double>(A::framework_count()));
    context_.SetGauge("agents", static_cast<double>(A::agent_count()));
    return allocations;
  }

 private:
  ModuleContext& context_;
};

}  // namespace keel::modules
