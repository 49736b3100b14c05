// HierarchicalDrfAllocator (`drf`): Mesos's hierarchical dominant resource
// fairness.
//
// Each allocation step walks the agents with free resources and gives each
// free chunk to one (framework, role): roles short of their quota guarantee
// first, then down the role tree ("eng" before "eng/ml") the child with the
// lowest weighted dominant share at every level, then the framework of that
// role with the lowest dominant share. A role's share counts everything
// allocated to it and to its descendants; a role that has both frameworks
// and child roles competes with its children as one more child (Mesos's
// "virtual leaf").
//
// Cost: the orders are built once per step (O(F log F) for F frameworks)
// and each grant moves the framework and the role path it changed
// (O(depth log n)), so a step is O(A log F) for A agents with free
// resources, when the first framework in order takes each agent.
//
// Threading: called on one thread at a time (see keel/allocator.hpp).
#pragma once

#include <optional>
#include <unordered_map>

#include "modules/allocator/core/bookkeeping_allocator.hpp"
#include "modules/allocator/drf/share_order.hpp"

namespace keel::modules {

class HierarchicalDrfAllocator : public BookkeepingAllocator {
 public:
  explicit HierarchicalDrfAllocator(AllocatorOptions options,
                                    Clock clock = std::chrono::steady_clock::now);

  std::vector<Allocation> Allocate() override;

 private:
  void BuildOrders();
  bool BuildOrder(Role& node);  // true when its subtree has frameworks
  std::optional<Allocation> TryNode(Role& node, Agent& agent, bool keep_headroom);
  std::optional<Allocation> TryRole(Role& role, Agent& agent, bool keep_headroom);
  void Reorder(Framework& framework, Role& role);
  double RoleShare(const Role& role) const;

  // Per step: each role node's children (and itself, as the virtual leaf,
  // when it has frameworks), and each role's frameworks.
  std::unordered_map<Role*, ShareOrder<Role>> children_;
  std::unordered_map<Role*, ShareOrder<Framework>> frameworks_in_;
  std::chrono::steady_clock::time_point now_;
};

}  // namespace keel::modules
