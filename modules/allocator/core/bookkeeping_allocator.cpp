#include "modules/allocator/core/bookkeeping_allocator.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "modules/allocator/core/role_path.hpp"

namespace keel::modules {

namespace {

// The intersection of `held` and `wanted`: never give back more than is held,
// so that a confused caller cannot inflate the free pool.
Resources Common(const Resources& held, const Resources& wanted) { return held - (held - wanted); }

// Scalars of `offer` cut so that each named in `room` stays within it; the
// room is shared by every role's entry of that name.
Resources CutToRoom(const Resources& offer, std::map<std::string, Scalar> room) {
  Resources out;
  for (const auto& entry : offer.entries()) {
    Resource e = entry;
    auto it = room.find(e.name);
    if (e.type == Resource::Type::kScalar && it != room.end()) {
      if (it->second < e.scalar) e.scalar = std::max(it->second, Scalar());
      it->second -= e.scalar;
    }
    if (!e.empty()) (void)out.Add(e);
  }
  return out;
}

}  // namespace

BookkeepingAllocator::BookkeepingAllocator(AllocatorOptions options, Clock clock)
    : options_(std::move(options)), clock_(std::move(clock)) {
  roles_[""].name = "";
  for (const auto& [role, weight] : options_.weights) RoleNamed(role).weight = weight;
}

BookkeepingAllocator::Role& BookkeepingAllocator::RoleNamed(const std::string& name) {
  auto it = roles_.find(name);
  if (it != roles_.end()) return it->second;
  Role& parent = RoleNamed(ParentRole(name));
  Role& role = roles_[name];
  role.name = name;
  role.parent = &parent;
  parent.children.insert(&role);
  return role;
}

BookkeepingAllocator::Role* BookkeepingAllocator::FindRole(const std::string& name) {
  auto it = roles_.find(name);
  return it == roles_.end() ? nullptr : &it->second;
}

std::vector<std::string> BookkeepingAllocator::RolesOf(const FrameworkSpec& spec) const {
  if (spec.roles.empty()) return {"*"};
  // Only MULTI_ROLE frameworks may hold several roles; the master validates,
  // this keeps the allocator safe if it did not.
  if (spec.roles.size() > 1 && !spec.capabilities.count("MULTI_ROLE")) {
    return {spec.roles.front()};
  }
  return spec.roles;
}

void BookkeepingAllocator::JoinRoles(Framework& framework) {
  framework.roles = RolesOf(framework.spec);
  for (const auto& role : framework.roles) RoleNamed(role).frameworks.insert(&framework);
}

void BookkeepingAllocator::LeaveRoles(Framework& framework) {
  for (const auto& role : framework.roles) {
    if (Role* r = FindRole(role)) r->frameworks.erase(&framework);
  }
}

void BookkeepingAllocator::AddFramework(const FrameworkId& id, const FrameworkSpec& spec,
                                        const std::map<AgentId, Resources>& used, bool active) {
  if (frameworks_.count(id)) RemoveFramework(id);
  Framework& f = frameworks_[id];
  f.id = id;
  f.spec = spec;
  f.active = active;
  JoinRoles(f);
  // Usage it brings back (a failed-over framework) counts toward its first
  // role: the master's view of which role a task ran under is not passed.
  for (const auto& [agent_id, resources] : used) {
    auto a = agents_.find(agent_id);
    if (a == agents_.end()) continue;
    Resources held = Common(a->second.free, resources);
    if (!held.empty()) Grant(f, f.roles.front(), a->second, held);
  }
}

void BookkeepingAllocator::UpdateFramework(const FrameworkId& id, const FrameworkSpec& spec) {
  auto it = frameworks_.find(id);
  if (it == frameworks_.end()) return;
  LeaveRoles(it->second);
  it->second.spec = spec;
  JoinRoles(it->second);
}

void BookkeepingAllocator::RemoveFramework(const FrameworkId& id) {
  auto it = frameworks_.find(id);
  if (it == frameworks_.end()) return;
  Framework& f = it->second;
  const auto agents = f.holds_on;  // Release() edits it
  for (Agent* held_on : agents) {
    Agent& agent = *held_on;
    for (auto held = agent.allocated.lower_bound({id, ""});
         held != agent.allocated.end() && held->first.first == id;) {
      auto next = std::next(held);
      const std::string role = held->first.second;
      const Resources resources = held->second;
      Release(id, role, agent, resources);
      held = next;
    }
  }
  LeaveRoles(f);
  frameworks_.erase(it);
}

void BookkeepingAllocator::ActivateFramework(const FrameworkId& id) {
  if (auto it = frameworks_.find(id); it != frameworks_.end()) it->second.active = true;
}

void BookkeepingAllocator::DeactivateFramework(const FrameworkId& id) {
  if (auto it = frameworks_.find(id); it != frameworks_.end()) it->second.active = false;
}

void BookkeepingAllocator::AddAgent(const AgentId& id, const AgentSpec& spec) {
  if (agents_.count(id)) RemoveAgent(id);
  Agent& agent = agents_[id];
  agent.id = id;
  agent.hostname = spec.hostname;
  agent.total = spec.total;
  agent.free = spec.total;
  agent.has_gpus = spec.total.GetScalar("gpus") > Scalar();
  agent.has_reservations = spec.total.Unreserved() != spec.total;
  cluster_total_.Add(spec.total);
  for (const auto& [framework_id, resources] : spec.used) {
    Resources held = Common(agent.free, resources);
    if (held.empty()) continue;
    auto f = frameworks_.find(framework_id);
    if (f != frameworks_.end()) {
      Grant(f->second, f->second.roles.front(), agent, held);
    } else {
      // A framework the master has not re-added yet: its usage still is not
      // free; it comes back through RecoverResources or RemoveAgent.
      agent.allocated[{framework_id, "*"}] += held;
      agent.free -= held;
      Account(nullptr, "*", held, true);
    }
  }
  NoteFree(agent);
}

void BookkeepingAllocator::NoteFree(Agent& agent) {
  if (agent.free.empty()) {
    with_free_.erase(&agent);
  } else {
    with_free_.insert(&agent);
  }
}

void BookkeepingAllocator::UpdateAgent(const AgentId& id, const Resources& total) {
  auto it = agents_.find(id);
  if (it == agents_.end()) return;
  Agent& agent = it->second;
  cluster_total_.Subtract(agent.total);
  agent.total = total;
  agent.has_gpus = total.GetScalar("gpus") > Scalar();
  agent.has_reservations = total.Unreserved() != total;
  cluster_total_.Add(total);
  agent.free = total;
  for (const auto& [key, resources] : agent.allocated) agent.free -= resources;
  NoteFree(agent);
}

void BookkeepingAllocator::RemoveAgent(const AgentId& id) {
  auto it = agents_.find(id);
  if (it == agents_.end()) return;
  Agent& agent = it->second;
  while (!agent.allocated.empty()) {
    auto held = agent.allocated.begin();
    const auto [framework, role] = held->first;
    const Resources resources = held->second;
    Release(framework, role, agent, resources);
  }
  cluster_total_.Subtract(agent.total);
  for (auto& [fid, f] : frameworks_) f.filters.ForgetAgent(id);
  with_free_.erase(&agent);
  agents_.erase(it);
}

void BookkeepingAllocator::ActivateAgent(const AgentId& id) {
  if (auto it = agents_.find(id); it != agents_.end()) it->second.active = true;
}

void BookkeepingAllocator::DeactivateAgent(const AgentId& id) {
  if (auto it = agents_.find(id); it != agents_.end()) it->second.active = false;
}

BookkeepingAllocator::Framework* BookkeepingAllocator::FindFramework(const FrameworkId& id) {
  auto it = frameworks_.find(id);
  return it == frameworks_.end() ? nullptr : &it->second;
}

void BookkeepingAllocator::Account(Framework* framework, const std::string& role,
                                   const Resources& delta, bool add) {
  if (framework != nullptr) {
    ScalarQuantities& held = framework->allocated[role];
    if (add) {
      held.Add(delta);
    } else {
      held.Subtract(delta);
      if (held.empty()) framework->allocated.erase(role);
    }
  }
  Role* node = &RoleNamed(role);
  if (add) {
    node->own_allocated.Add(delta);
  } else {
    node->own_allocated.Subtract(delta);
  }
  for (; node != nullptr && !node->name.empty(); node = node->parent) {
    if (add) {
      node->subtree_allocated.Add(delta);
    } else {
      node->subtree_allocated.Subtract(delta);
    }
  }
}

Allocation BookkeepingAllocator::Grant(Framework& framework, const std::string& role, Agent& agent,
                                       Resources resources) {
  auto [held, added] = agent.allocated.try_emplace({framework.id, role}, resources);
  if (!added) held->second += resources;
  agent.free -= resources;
  NoteFree(agent);
  framework.holds_on.insert(&agent);
  Account(&framework, role, resources, true);
  return {framework.id, role, agent.id, std::move(resources)};
}

void BookkeepingAllocator::Release(const FrameworkId& framework, const std::string& role,
                                   Agent& agent, const Resources& resources) {
  auto held = agent.allocated.find({framework, role});
  if (held == agent.allocated.end()) return;
  Resources released = Common(held->second, resources);
  held->second -= released;
  Framework* f = FindFramework(framework);
  if (held->second.empty()) {
    agent.allocated.erase(held);
    auto other = agent.allocated.lower_bound({framework, ""});
    if (f != nullptr && (other == agent.allocated.end() || other->first.first != framework)) {
      f->holds_on.erase(&agent);
    }
  }
  agent.free += released;
  NoteFree(agent);
  Account(f, role, released, false);
}

void BookkeepingAllocator::RecoverResources(const FrameworkId& framework, const AgentId& agent_id,
                                            const Resources& resources,
                                            std::optional<std::chrono::nanoseconds> refuse_for) {
  auto a = agents_.find(agent_id);
  if (a == agents_.end()) return;
  Agent& agent = a->second;
  auto f = frameworks_.find(framework);
  const bool filter = f != frameworks_.end() && refuse_for && refuse_for->count() > 0;
  const auto expiry = filter ? clock_() + *refuse_for : std::chrono::steady_clock::time_point();
  Resources left = resources;
  for (auto held = agent.allocated.lower_bound({framework, ""});
       held != agent.allocated.end() && held->first.first == framework && !left.empty();) {
    auto next = std::next(held);
    const std::string role = held->first.second;
    Resources part = Common(held->second, left);
    if (!part.empty()) {
      left -= part;
      Release(framework, role, agent, part);
      if (filter) f->second.filters.Add(agent_id, role, part, expiry);
    }
    held = next;
  }
}

void BookkeepingAllocator::Suppress(const FrameworkId& framework,
                                    const std::set<std::string>& roles) {
  auto f = frameworks_.find(framework);
  if (f == frameworks_.end()) return;
  auto& suppressed = f->second.spec.suppressed_roles;
  if (roles.empty()) {
    suppressed.insert(f->second.roles.begin(), f->second.roles.end());
  } else {
    suppressed.insert(roles.begin(), roles.end());
  }
}

void BookkeepingAllocator::Revive(const FrameworkId& framework,
                                  const std::set<std::string>& roles) {
  auto f = frameworks_.find(framework);
  if (f == frameworks_.end()) return;
  auto& suppressed = f->second.spec.suppressed_roles;
  if (roles.empty()) {
    suppressed.clear();
  } else {
    for (const auto& r : roles) suppressed.erase(r);
  }
  f->second.filters.Clear(roles);
}

void BookkeepingAllocator::UpdateWeights(const std::map<std::string, double>& weights) {
  for (const auto& [role, weight] : weights) RoleNamed(role).weight = weight > 0 ? weight : 1.0;
}

void BookkeepingAllocator::UpdateQuota(const std::string& role, const Quota& quota) {
  Role& node = RoleNamed(role);
  if (!node.quota.guarantees.empty()) --guaranteed_roles_;
  node.quota = quota;
  if (!node.quota.guarantees.empty()) ++guaranteed_roles_;
}

Resources BookkeepingAllocator::Allocated(const FrameworkId& framework,
                                          const std::string& role) const {
  auto f = frameworks_.find(framework);
  if (f == frameworks_.end()) return {};
  auto r = f->second.allocated.find(role);
  return r == f->second.allocated.end() ? Resources() : r->second.ToResources();
}

Resources BookkeepingAllocator::RoleAllocated(const std::string& role) const {
  auto it = roles_.find(role);
  return it == roles_.end() ? Resources() : it->second.subtree_allocated.ToResources();
}

Resources BookkeepingAllocator::UsableBy(const Role& role, const Agent& agent) const {
  Resources usable = agent.free.Unreserved();
  if (agent.has_reservations && role.name != "*") usable += agent.free.ReservedFor(role.name);
  for (const Role* node = &role; node != nullptr && !node->name.empty(); node = node->parent) {
    if (node->quota.limits.empty()) continue;
    std::map<std::string, Scalar> room;
    for (const auto& limit : node->quota.limits.entries()) {
      if (limit.type != Resource::Type::kScalar) continue;
      // Negative when the limit was lowered below what the role holds.
      room[limit.name] = limit.scalar - node->subtree_allocated.Get(limit.name);
    }
    usable = CutToRoom(usable, std::move(room));
  }
  return usable;
}

bool BookkeepingAllocator::MayOffer(Framework& framework, const std::string& role,
                                    const Agent& agent, const Resources& available,
                                    std::chrono::steady_clock::time_point now) {
  if (!framework.active || framework.spec.suppressed_roles.count(role)) return false;
  if (agent.has_gpus && options_.filter_gpu_resources &&
      !framework.spec.capabilities.count("GPU_RESOURCES")) {
    return false;
  }
  if (!AboveMinimum(available, framework)) return false;
  if (!framework.filters.empty() && framework.filters.Filters(agent.id, role, available, now)) {
    return false;
  }
  return true;
}

bool BookkeepingAllocator::AboveMinimum(const Resources& offer, const Framework& framework) const {
  if (offer.empty()) return false;
  const Resources& minimum =
      framework.spec.min_allocatable ? *framework.spec.min_allocatable : options_.min_allocatable;
  if (minimum.empty()) return true;
  // Any one of the minimum's amounts is enough; reserved resources count.
  for (const auto& entry : minimum.entries()) {
    if (entry.type == Resource::Type::kScalar) {
      if (offer.GetScalar(entry.name) >= entry.scalar) return true;
    } else {
      Resources one;
      (void)one.Add(entry);
      if (offer.Contains(one)) return true;
    }
  }
  return false;
}

double BookkeepingAllocator::Share(const ScalarQuantities& allocated) const {
  double share = 0;
  for (const auto& [name, amount] : allocated.entries()) {
    if (amount <= Scalar()) continue;
    if (!options_.fairness_excluded.empty() && options_.fairness_excluded.count(name)) continue;
    const double total = cluster_total_.Get(name).value();
    if (total > 0) share = std::max(share, amount.value() / total);
  }
  return share;
}

Resources BookkeepingAllocator::UnmetGuarantees(const Role& role) const {
  Resources unmet;
  for (const auto& entry : role.quota.guarantees.entries()) {
    if (entry.type != Resource::Type::kScalar) continue;
    Scalar held = role.subtree_allocated.Get(entry.name);
    if (held < entry.scalar) unmet += Resources::Scalar(entry.name, (entry.scalar - held).value());
  }
  return unmet;
}

void BookkeepingAllocator::BeginStep() {
  unmet_roles_.clear();
  headroom_needed_ = Resources();
  headroom_pool_ = Resources();
  if (guaranteed_roles_ == 0) return;
  for (auto& [name, role] : roles_) {
    Resources unmet = UnmetGuarantees(role);
    if (unmet.empty()) continue;
    unmet_roles_.push_back(&role);
    headroom_needed_ += unmet;
  }
  if (unmet_roles_.empty()) return;
  for (const auto& [id, agent] : agents_) {
    if (agent.active) headroom_pool_ += agent.free.Unreserved();
  }
}

std::vector<BookkeepingAllocator::Role*> BookkeepingAllocator::UnmetRoles() const {
  std::vector<std::pair<double, Role*>> order;
  for (Role* role : unmet_roles_) {
    order.emplace_back(Share(role->subtree_allocated) / role->weight, role);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second->name) < std::tie(b.first, b.second->name);
  });
  std::vector<Role*> out;
  for (const auto& [share, role] : order) out.push_back(role);
  return out;
}

Resources BookkeepingAllocator::KeepingHeadroom(const Role& role, Resources usable) const {
  if (unmet_roles_.empty()) return usable;
  for (const Role* node = &role; node != nullptr; node = node->parent) {
    if (std::find(unmet_roles_.begin(), unmet_roles_.end(), node) != unmet_roles_.end()) {
      return usable;
    }
  }
  std::map<std::string, Scalar> room;
  for (const auto& needed : headroom_needed_.entries()) {
    if (needed.type != Resource::Type::kScalar) continue;
    room[needed.name] = headroom_pool_.GetScalar(needed.name) - needed.scalar;
  }
  // Only unreserved resources are kept back: the role's own reservations
  // are its to take.
  Resources kept = CutToRoom(usable.Unreserved(), std::move(room));
  if (role.name != "*") kept += usable.ReservedFor(role.name);
  return kept;
}

void BookkeepingAllocator::AfterGrant(const Allocation& allocation) {
  if (unmet_roles_.empty()) return;
  headroom_pool_ -= allocation.resources.Unreserved();
  headroom_needed_ = Resources();
  std::erase_if(unmet_roles_, [&](Role* role) {
    Resources unmet = UnmetGuarantees(*role);
    headroom_needed_ += unmet;
    return unmet.empty();
  });
}

AllocatorOptions AllocatorOptionsFrom(const Parameters& p) {
  AllocatorOptions options;
  auto minimum = Resources::Parse(p.GetString("min_allocatable_resources"));
  if (!minimum.ok()) {
    throw std::invalid_argument("parameter min_allocatable_resources: " +
                                minimum.status().message());
  }
  options.min_allocatable = *minimum;
  options.filter_gpu_resources = p.GetBool("filter_gpu_resources");
  if (p.Has("fairness_excluded_resource_names")) {
    for (const auto& name : p.GetList("fairness_excluded_resource_names")) {
      options.fairness_excluded.insert(name);
    }
  }
  if (!p.Has("weights")) return options;
  // "eng=2,ml=3", as Mesos's --weights.
  std::stringstream weights(p.GetString("weights"));
  std::string item;
  while (std::getline(weights, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    double weight = 0;
    try {
      weight = eq == std::string::npos ? 0 : std::stod(item.substr(eq + 1));
    } catch (...) {
    }
    if (eq == 0 || weight <= 0) {
      throw std::invalid_argument("parameter weights: '" + item +
                                  "' is not role=weight with a positive weight");
    }
    options.weights[item.substr(0, eq)] = weight;
  }
  return options;
}

}  // namespace keel::modules
