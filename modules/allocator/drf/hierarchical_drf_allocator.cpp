#include "modules/allocator/drf/hierarchical_drf_allocator.hpp"

namespace keel::modules {

HierarchicalDrfAllocator::HierarchicalDrfAllocator(AllocatorOptions options, Clock clock)
    : BookkeepingAllocator(std::move(options), std::move(clock)) {}

double HierarchicalDrfAllocator::RoleShare(const Role& role) const {
  return Share(role.subtree_allocated) / role.weight;
}

// From scratch at each step: shares all move whenever the cluster's total
// does (an agent added or removed), and rebuilding is cheaper than keeping
// them sorted through every event between steps.
void HierarchicalDrfAllocator::BuildOrders() {
  children_.clear();
  frameworks_in_.clear();
  BuildOrder(roles_.at(""));
}

bool HierarchicalDrfAllocator::BuildOrder(Role& node) {
  bool any = false;
  ShareOrder<Role> children;
  for (Role* child : node.children) {
    if (!BuildOrder(*child)) continue;
    children.Set(child, &child->name, RoleShare(*child));
    any = true;
  }
  if (!node.frameworks.empty()) {
    ShareOrder<Framework>& order = frameworks_in_[&node];
    for (Framework* f : node.frameworks) {
      auto held = f->allocated.find(node.name);
      order.Set(f, &f->id, held == f->allocated.end() ? 0.0 : Share(held->second));
    }
    children.Set(&node, &node.name, Share(node.own_allocated) / node.weight);
    any = true;
  }
  if (any) children_[&node] = std::move(children);
  return any;
}

std::vector<Allocation> HierarchicalDrfAllocator::Allocate() {
  now_ = Now();
  BuildOrders();
  BeginStep();
  Role& root = roles_.at("");
  std::vector<Allocation> result;
  const std::vector<Agent*> candidates(agents_with_free().begin(), agents_with_free().end());
  for (Agent* a : candidates) {
    Agent& agent = *a;
    if (!agent.active) continue;
    // Keep handing out chunks of this agent until nobody takes one: one
    // role's reservation may be left after the unreserved part went.
    while (!agent.free.empty()) {
      std::optional<Allocation> granted;
      for (Role* role : UnmetRoles()) {
        if ((granted = TryNode(*role, agent, false))) break;
      }
      if (!granted) granted = TryNode(root, agent, true);
      if (!granted) break;
      AfterGrant(*granted);
      result.push_back(std::move(*granted));
    }
  }
  return result;
}

std::optional<Allocation> HierarchicalDrfAllocator::TryNode(Role& node, Agent& agent,
                                                            bool keep_headroom) {
  auto order = children_.find(&node);
  if (order == children_.end()) return std::nullopt;
  // Returns right after a grant: the grant reorders the set being walked.
  for (const auto& entry : order->second) {
    Role* next = entry.client;
    auto granted =
        next == &node ? TryRole(node, agent, keep_headroom) : TryNode(*next, agent, keep_headroom);
    if (granted) return granted;
  }
  return std::nullopt;
}

std::optional<Allocation> HierarchicalDrfAllocator::TryRole(Role& role, Agent& agent,
                                                            bool keep_headroom) {
  auto order = frameworks_in_.find(&role);
  if (order == frameworks_in_.end()) return std::nullopt;
  Resources usable = UsableBy(role, agent);
  if (keep_headroom) usable = KeepingHeadroom(role, std::move(usable));
  if (usable.empty()) return std::nullopt;
  for (const auto& entry : order->second) {
    Framework& f = *entry.client;
    if (!MayOffer(f, role.name, agent, usable, now_)) continue;
    Allocation granted = Grant(f, role.name, agent, std::move(usable));
    Reorder(f, role);
    return granted;
  }
  return std::nullopt;
}

void HierarchicalDrfAllocator::Reorder(Framework& framework, Role& role) {
  frameworks_in_[&role].Set(&framework, &framework.id, Share(framework.allocated[role.name]));
  children_[&role].Set(&role, &role.name, Share(role.own_allocated) / role.weight);
  for (Role* node = &role; node->parent != nullptr; node = node->parent) {
    children_[node->parent].Set(node, &node->name, RoleShare(*node));
  }
}

}  // namespace keel::modules
