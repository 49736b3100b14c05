#include "modules/allocator/binpack/bin_packing_allocator.hpp"

#include <algorithm>
#include <tuple>

namespace keel::modules {

BinPackingAllocator::BinPackingAllocator(AllocatorOptions options, Clock clock)
    : BookkeepingAllocator(std::move(options), std::move(clock)) {}

double BinPackingAllocator::Utilisation(const AgentId& agent) const {
  auto it = agents_.find(agent);
  return it == agents_.end() ? 0.0 : Utilisation(it->second);
}

double BinPackingAllocator::Utilisation(const Agent& agent) {
  double utilisation = 0;
  for (const auto& entry : agent.total.entries()) {
    if (entry.type != Resource::Type::kScalar) continue;
    const double total = agent.total.GetScalar(entry.name).value();
    if (total <= 0) continue;
    const double used = total - agent.free.GetScalar(entry.name).value();
    utilisation = std::max(utilisation, used / total);
  }
  return utilisation;
}

std::vector<Allocation> BinPackingAllocator::Allocate() {
  ++step_;
  const auto now = Now();
  BeginStep();

  // Agents with something free, most used first, ties by id. Sorted once per
  // step: an agent only gets busier while the step runs.
  std::vector<std::pair<double, Agent*>> agents;
  for (Agent* agent : agents_with_free()) {
    if (agent->active) agents.emplace_back(Utilisation(*agent), agent);
  }
  std::sort(agents.begin(), agents.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return a.second->id < b.second->id;
  });

  // Eligible (framework, role) pairs: roles short of a guarantee first, then
  // lowest dominant share, then the one served longest ago.
  struct Candidate {
    bool guaranteed;
    double share;
    uint64_t last_served;
    Framework* framework;
    Role* role;
  };
  const auto unmet = UnmetRoles();
  auto short_of_guarantee = [&](const Role* role) {
    for (; role != nullptr; role = role->parent) {
      if (std::find(unmet.begin(), unmet.end(), role) != unmet.end()) return true;
    }
    return false;
  };
  std::vector<Candidate> candidates;
  for (auto& [id, f] : frameworks_) {
    if (!f.active) continue;
    for (const auto& role : f.roles) {
      if (f.spec.suppressed_roles.count(role)) continue;
      Role* node = FindRole(role);
      auto held = f.allocated.find(role);
      auto served = last_served_.find({id, role});
      candidates.push_back({short_of_guarantee(node),
                            held == f.allocated.end() ? 0.0 : Share(held->second),
                            served == last_served_.end() ? 0 : served->second, &f, node});
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.guaranteed != b.guaranteed) return a.guaranteed;
    return std::tie(a.share, a.last_served, a.framework->id, a.role->name) <
           std::tie(b.share, b.last_served, b.framework->id, b.role->name);
  });

  std::vector<Allocation> result;
  size_t first = 0;  // agents before it have nothing left
  for (const auto& c : candidates) {
    while (first < agents.size() && agents[first].second->free.empty()) ++first;
    for (size_t i = first; i < agents.size(); ++i) {
      Agent& agent = *agents[i].second;
      if (agent.free.empty()) continue;
      Resources usable = KeepingHeadroom(*c.role, UsableBy(*c.role, agent));
      if (!MayOffer(*c.framework, c.role->name, agent, usable, now)) continue;
      result.push_back(Grant(*c.framework, c.role->name, agent, std::move(usable)));
      AfterGrant(result.back());
      last_served_[{c.framework->id, c.role->name}] = step_;
      break;
    }
  }
  // Forget frameworks that left, so the map does not grow without bound.
  std::erase_if(last_served_,
                [&](const auto& entry) { return frameworks_.count(entry.first.first) == 0; });
  return result;
}

}  // namespace keel::modules
