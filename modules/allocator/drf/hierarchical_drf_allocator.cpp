#include "modules/allocator/drf/hierarchical_drf_allocator.hpp"

#include <algorithm>

namespace keel::modules {

namespace {

// "eng/ml/a" -> {"eng", "eng/ml", "eng/ml/a"}.
std::vector<std::string> SelfAndAncestors(const std::string& role) {
  std::vector<std::string> out;
  for (size_t pos = role.find('/'); pos != std::string::npos; pos = role.find('/', pos + 1)) {
    out.push_back(role.substr(0, pos));
  }
  out.push_back(role);
  return out;
}

std::string Parent(const std::string& role) {
  auto slash = role.rfind('/');
  return slash == std::string::npos ? "" : role.substr(0, slash);
}

}  // namespace

HierarchicalDrfAllocator::HierarchicalDrfAllocator(DrfOptions options, Clock clock)
    : options_(std::move(options)), clock_(std::move(clock)) {}

std::vector<std::string> HierarchicalDrfAllocator::Roles(const FrameworkSpec& spec) const {
  if (spec.roles.empty()) return {"*"};
  // Only MULTI_ROLE frameworks may hold several roles; the master validates,
  // this keeps the allocator safe if it did not.
  if (spec.roles.size() > 1 && !spec.capabilities.count("MULTI_ROLE")) {
    return {spec.roles.front()};
  }
  return spec.roles;
}

void HierarchicalDrfAllocator::AddFramework(const FrameworkId& id, const FrameworkSpec& spec,
                                            const std::map<AgentId, Resources>& used, bool active) {
  if (frameworks_.count(id)) RemoveFramework(id);
  Framework& f = frameworks_[id];
  f.spec = spec;
  f.active = active;
  const auto roles = Roles(spec);
  for (const auto& role : roles) role_frameworks_[role].insert(id);
  // Existing usage (a failed-over framework) counts toward its first role.
  for (const auto& [agent, resources] : used) {
    if (agents_.count(agent)) Allocate(id, roles.front(), agent, resources);
  }
}

void HierarchicalDrfAllocator::UpdateFramework(const FrameworkId& id, const FrameworkSpec& spec) {
  auto it = frameworks_.find(id);
  if (it == frameworks_.end()) return;
  for (const auto& role : Roles(it->second.spec)) role_frameworks_[role].erase(id);
  it->second.spec = spec;
  for (const auto& role : Roles(spec)) role_frameworks_[role].insert(id);
}

void HierarchicalDrfAllocator::RemoveFramework(const FrameworkId& id) {
  auto it = frameworks_.find(id);
  if (it == frameworks_.end()) return;
  for (auto& [agent_id, agent] : agents_) {
    auto held = agent.allocated.find(id);
    if (held == agent.allocated.end()) continue;
    auto roles = held->second;  // Release() edits the map being walked
    for (const auto& [role, resources] : roles) Release(id, role, agent_id, resources);
  }
  for (const auto& role : Roles(it->second.spec)) {
    role_frameworks_[role].erase(id);
    if (role_frameworks_[role].empty()) role_frameworks_.erase(role);
  }
  frameworks_.erase(it);
}

void HierarchicalDrfAllocator::ActivateFramework(const FrameworkId& id) {
  if (auto it = frameworks_.find(id); it != frameworks_.end()) it->second.active = true;
}

void HierarchicalDrfAllocator::DeactivateFramework(const FrameworkId& id) {
  if (auto it = frameworks_.find(id); it != frameworks_.end()) it->second.active = false;
}

void HierarchicalDrfAllocator::AddAgent(const AgentId& id, const AgentSpec& spec) {
  if (agents_.count(id)) RemoveAgent(id);
  Agent& agent = agents_[id];
  agent.hostname = spec.hostname;
  agent.total = spec.total;
  cluster_total_ += spec.total;
  for (const auto& [framework, resources] : spec.used) {
    auto f = frameworks_.find(framework);
    std::string role = f == frameworks_.end() ? "*" : Roles(f->second.spec).front();
    Allocate(framework, role, id, resources);
  }
}

void HierarchicalDrfAllocator::UpdateAgent(const AgentId& id, const Resources& total) {
  auto it = agents_.find(id);
  if (it == agents_.end()) return;
  cluster_total_ -= it->second.total;
  it->second.total = total;
  cluster_total_ += total;
}

void HierarchicalDrfAllocator::RemoveAgent(const AgentId& id) {
  auto it = agents_.find(id);
  if (it == agents_.end()) return;
  auto held = it->second.allocated;
  for (const auto& [framework, roles] : held) {
    for (const auto& [role, resources] : roles) Release(framework, role, id, resources);
  }
  cluster_total_ -= it->second.total;
  agents_.erase(id);
  for (auto& [fid, f] : frameworks_) {
    std::erase_if(f.filters, [&](const Filter& filter) { return filter.agent == id; });
  }
}

void HierarchicalDrfAllocator::ActivateAgent(const AgentId& id) {
  if (auto it = agents_.find(id); it != agents_.end()) it->second.active = true;
}

void HierarchicalDrfAllocator::DeactivateAgent(const AgentId& id) {
  if (auto it = agents_.find(id); it != agents_.end()) it->second.active = false;
}

void HierarchicalDrfAllocator::Allocate(const FrameworkId& framework, const std::string& role,
                                        const AgentId& agent, const Resources& resources) {
  agents_[agent].allocated[framework][role] += resources;
  if (auto f = frameworks_.find(framework); f != frameworks_.end()) {
    f->second.allocated[role] += resources;
  }
  for (const auto& r : SelfAndAncestors(role)) subtree_allocated_[r] += resources;
}

void HierarchicalDrfAllocator::Release(const FrameworkId& framework, const std::string& role,
                                       const AgentId& agent, const Resources& resources) {
  auto a = agents_.find(agent);
  if (a == agents_.end()) return;
  auto& held = a->second.allocated[framework][role];
  // Never give back more than is held: a confused caller must not inflate
  // the free pool.
  Resources released = held - (held - resources);
  held -= released;
  if (held.empty()) a->second.allocated[framework].erase(role);
  if (a->second.allocated[framework].empty()) a->second.allocated.erase(framework);
  if (auto f = frameworks_.find(framework); f != frameworks_.end()) {
    f->second.allocated[role] -= released;
  }
  for (const auto& r : SelfAndAncestors(role)) subtree_allocated_[r] -= released;
}

void HierarchicalDrfAllocator::RecoverResources(
    const FrameworkId& framework, const AgentId& agent, const Resources& resources,
    std::optional<std::chrono::nanoseconds> refuse_for) {
  auto a = agents_.find(agent);
  if (a == agents_.end()) return;
  auto held = a->second.allocated.find(framework);
  if (held == a->second.allocated.end()) return;
  Resources left = resources;
  auto roles = held->second;
  for (const auto& [role, resources_in_role] : roles) {
    Resources part = resources_in_role - (resources_in_role - left);
    if (part.empty()) continue;
    Release(framework, role, agent, part);
    left -= part;
    auto f = frameworks_.find(framework);
    if (f != frameworks_.end() && refuse_for && refuse_for->count() > 0) {
      f->second.filters.push_back({agent, role, part, clock_() + *refuse_for});
    }
  }
}

void HierarchicalDrfAllocator::Suppress(const FrameworkId& framework,
                                        const std::set<std::string>& roles) {
  auto f = frameworks_.find(framework);
  if (f == frameworks_.end()) return;
  if (roles.empty()) {
    for (const auto& r : Roles(f->second.spec)) f->second.spec.suppressed_roles.insert(r);
  } else {
    f->second.spec.suppressed_roles.insert(roles.begin(), roles.end());
  }
}

void HierarchicalDrfAllocator::Revive(const FrameworkId& framework,
                                      const std::set<std::string>& roles) {
  auto f = frameworks_.find(framework);
  if (f == frameworks_.end()) return;
  auto& suppressed = f->second.spec.suppressed_roles;
  if (roles.empty()) {
    suppressed.clear();
    f->second.filters.clear();
    return;
  }
  for (const auto& r : roles) suppressed.erase(r);
  std::erase_if(f->second.filters, [&](const Filter& filter) { return roles.count(filter.role); });
}

void HierarchicalDrfAllocator::UpdateWeights(const std::map<std::string, double>& weights) {
  for (const auto& [role, weight] : weights) options_.weights[role] = weight;
}

void HierarchicalDrfAllocator::UpdateQuota(const std::string& role, const Quota& quota) {
  if (quota.guarantees.empty() && quota.limits.empty()) {
    quotas_.erase(role);
  } else {
    quotas_[role] = quota;
  }
}

Resources HierarchicalDrfAllocator::Allocated(const FrameworkId& framework,
                                              const std::string& role) const {
  auto f = frameworks_.find(framework);
  if (f == frameworks_.end()) return {};
  auto r = f->second.allocated.find(role);
  return r == f->second.allocated.end() ? Resources() : r->second;
}

Resources HierarchicalDrfAllocator::Free(const Agent& agent) const {
  Resources free = agent.total;
  for (const auto& [framework, roles] : agent.allocated) {
    for (const auto& [role, resources] : roles) free -= resources;
  }
  return free;
}

double HierarchicalDrfAllocator::Share(const Resources& allocated) const {
  double share = 0;
  for (const auto& name : allocated.Names()) {
    if (options_.fairness_excluded.count(name)) continue;
    double total = cluster_total_.GetScalar(name).value();
    if (total <= 0) continue;
    share = std::max(share, allocated.GetScalar(name).value() / total);
  }
  return share;
}

double HierarchicalDrfAllocator::Weight(const std::string& role) const {
  auto it = options_.weights.find(role);
  return it == options_.weights.end() || it->second <= 0 ? 1.0 : it->second;
}

double HierarchicalDrfAllocator::RoleShare(const std::string& role) const {
  auto it = subtree_allocated_.find(role);
  double share = it == subtree_allocated_.end() ? 0 : Share(it->second);
  return share / Weight(role);
}

std::vector<std::string> HierarchicalDrfAllocator::RoleOrder() const {
  std::vector<std::string> out;
  AppendRoleOrder("", &out);
  return out;
}

// Depth-first, lowest share first at every level. A role that has
// frameworks and children competes with its children as if it were one of
// them (Mesos's "virtual leaf").
void HierarchicalDrfAllocator::AppendRoleOrder(const std::string& node,
                                               std::vector<std::string>* out) const {
  std::set<std::string> children;
  for (const auto& [role, frameworks] : role_frameworks_) {
    if (frameworks.empty()) continue;
    for (const auto& r : SelfAndAncestors(role)) {
      if (Parent(r) == node && r != node) children.insert(r);
    }
  }
  struct Entry {
    double share;
    std::string role;
    bool leaf;
  };
  std::vector<Entry> entries;
  for (const auto& child : children) entries.push_back({RoleShare(child), child, false});
  if (!node.empty()) {
    auto it = role_frameworks_.find(node);
    if (it != role_frameworks_.end() && !it->second.empty()) {
      auto own = [&] {
        Resources r;
        for (const auto& fid : it->second) {
          auto f = frameworks_.find(fid);
          if (f == frameworks_.end()) continue;
          auto a = f->second.allocated.find(node);
          if (a != f->second.allocated.end()) r += a->second;
        }
        return Share(r) / Weight(node);
      }();
      entries.push_back({own, node, true});
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.share, a.role) < std::tie(b.share, b.role);
  });
  for (const auto& e : entries) {
    if (e.leaf) {
      out->push_back(e.role);
    } else {
      AppendRoleOrder(e.role, out);
    }
  }
}

std::vector<FrameworkId> HierarchicalDrfAllocator::FrameworkOrder(const std::string& role) const {
  std::vector<std::pair<double, FrameworkId>> order;
  auto it = role_frameworks_.find(role);
  if (it == role_frameworks_.end()) return {};
  for (const auto& id : it->second) {
    const Framework& f = frameworks_.at(id);
    auto a = f.allocated.find(role);
    order.emplace_back(a == f.allocated.end() ? 0.0 : Share(a->second), id);
  }
  std::sort(order.begin(), order.end());
  std::vector<FrameworkId> out;
  for (auto& [share, id] : order) out.push_back(std::move(id));
  return out;
}

bool HierarchicalDrfAllocator::Offerable(const Resources& resources,
                                         const Framework& framework) const {
  if (resources.empty()) return false;
  Resources minimum = framework.spec.min_allocatable.value_or(options_.min_allocatable);
  if (minimum.empty()) return true;
  // Any one of the minimum's amounts is enough; reserved resources count.
  for (const auto& entry : minimum.entries()) {
    if (entry.type == Resource::Type::kScalar) {
      if (resources.GetScalar(entry.name) >= entry.scalar) return true;
    } else {
      Resources one;
      (void)one.Add(entry);
      if (resources.Contains(one)) return true;
    }
  }
  return false;
}

bool HierarchicalDrfAllocator::Filtered(Framework& framework, const AgentId& agent,
                                        const std::string& role, const Resources& resources) {
  const auto now = clock_();
  std::erase_if(framework.filters, [&](const Filter& f) { return f.expiry <= now; });
  for (const auto& f : framework.filters) {
    if (f.agent == agent && f.role == role && f.refused.Contains(resources)) return true;
  }
  return false;
}

Resources HierarchicalDrfAllocator::WithinQuotaLimits(const std::string& role,
                                                      const Resources& offer) const {
  Resources out = offer;
  for (const auto& r : SelfAndAncestors(role)) {
    auto q = quotas_.find(r);
    if (q == quotas_.end() || q->second.limits.empty()) continue;
    auto used_it = subtree_allocated_.find(r);
    Resources used = used_it == subtree_allocated_.end() ? Resources() : used_it->second;
    Resources trimmed;
    for (const auto& entry : out.entries()) {
      Resource e = entry;
      if (e.type == Resource::Type::kScalar && q->second.limits.Names().count(e.name)) {
        Scalar limit = q->second.limits.GetScalar(e.name);
        Scalar headroom = limit - used.GetScalar(e.name);
        if (headroom < e.scalar) e.scalar = headroom;
      }
      if (!e.empty()) (void)trimmed.Add(e);
    }
    out = trimmed;
  }
  return out;
}

std::vector<Allocation> HierarchicalDrfAllocator::Allocate() {
  std::vector<Allocation> result;
  for (auto& [agent_id, agent] : agents_) {
    if (!agent.active) continue;
    const bool gpu_agent = agent.total.GetScalar("gpus") > Scalar();
    // Keep handing out chunks of this agent until nobody takes one: one
    // role's reservation may be left after the unreserved part went.
    bool progress = true;
    while (progress) {
      progress = false;
      Resources free = Free(agent);
      if (free.empty()) break;

      // Roles short of their guarantees go first, lowest share first.
      std::vector<std::string> order;
      std::vector<std::pair<double, std::string>> guaranteed;
      for (const auto& [role, quota] : quotas_) {
        if (quota.guarantees.empty()) continue;
        auto used = subtree_allocated_.find(role);
        if (used != subtree_allocated_.end() && used->second.Contains(quota.guarantees)) continue;
        if (role_frameworks_.count(role)) guaranteed.emplace_back(RoleShare(role), role);
      }
      std::sort(guaranteed.begin(), guaranteed.end());
      for (const auto& g : guaranteed) order.push_back(g.second);
      for (const auto& role : RoleOrder()) order.push_back(role);

      for (const auto& role : order) {
        Resources usable = free.Unreserved();
        if (role != "*") usable += free.ReservedFor(role);
        Resources candidate = WithinQuotaLimits(role, usable);
        if (candidate.empty()) continue;
        for (const auto& framework_id : FrameworkOrder(role)) {
          Framework& f = frameworks_.at(framework_id);
          if (!f.active || f.spec.suppressed_roles.count(role)) continue;
          if (options_.filter_gpu_resources && gpu_agent &&
              !f.spec.capabilities.count("GPU_RESOURCES")) {
            continue;
          }
          if (!Offerable(candidate, f)) continue;
          if (Filtered(f, agent_id, role, candidate)) continue;
          Allocate(framework_id, role, agent_id, candidate);
          result.push_back({framework_id, role, agent_id, candidate});
          progress = true;
          break;
        }
        if (progress) break;
      }
    }
  }
  return result;
}

}  // namespace keel::modules
