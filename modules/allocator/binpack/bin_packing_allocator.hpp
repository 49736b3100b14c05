// BinPackingAllocator (`binpack`): fills the busiest agents first so that
// idle agents stay idle and can be scaled down.
//
// Each allocation step serves every eligible (framework, role) at most once,
// roles short of their quota guarantee first, then lowest allocation first,
// and offers it the most-used agent (highest fraction of its total
// allocated) that still has something offerable for it. Serving each
// (framework, role) once per step is what keeps idle agents idle: demand is
// met from the busiest agents, and a framework that wants more is offered
// the next-busiest agent on the next step.
//
// Threading: called on one thread at a time (see keel/allocator.hpp).
#pragma once

#include <cstdint>

#include "modules/allocator/core/bookkeeping_allocator.hpp"

namespace keel::modules {

class BinPackingAllocator : public BookkeepingAllocator {
 public:
  explicit BinPackingAllocator(AllocatorOptions options,
                               Clock clock = std::chrono::steady_clock::now);

  std::vector<Allocation> Allocate() override;

  // Largest fraction of any scalar of the agent's total that is allocated
  // (0 for an unknown agent).
  double Utilisation(const AgentId& agent) const;

 private:
  static double Utilisation(const Agent& agent);

  uint64_t step_ = 0;
  // (framework, role) -> the step that last served it: the round-robin
  // tie-break between frameworks holding equal amounts.
  std::map<std::pair<FrameworkId, std::string>, uint64_t> last_served_;
};

}  // namespace keel::modules
