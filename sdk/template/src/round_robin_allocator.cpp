// A deliberately simple allocator: frameworks take turns, and each turn is
// one agent's free resources for one of the framework's roles. It shows the
// whole module contract in one short file: state kept across calls,
// resources given back (recovered, or freed when a framework or agent
// leaves), reservations, suppression, refusal filters and quota limits
// honoured, and a parameter read from the manifest.
//
// What it leaves out, as a real allocator would not: fairness (turns only),
// weights, quota guarantees and a minimum offer size; and a refusal filter
// hides the whole agent from the framework's role, not only the refused
// resources.
#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <tuple>

#include "keel/allocator.hpp"

namespace example {

using keel::AgentId;
using keel::FrameworkId;
using keel::Resources;
using Clock = std::chrono::steady_clock;

class RoundRobinAllocator : public keel::Allocator {
 public:
  explicit RoundRobinAllocator(keel::ModuleContext& context)
      : context_(context),
        max_offers_per_step_(context.parameters().GetInt("max_offers_per_step")) {
    if (max_offers_per_step_ <= 0) {
      throw std::invalid_argument("max_offers_per_step must be positive");
    }
  }

  // Calls naming a framework or agent that is gone change nothing.

  void AddFramework(const FrameworkId& id, const keel::FrameworkSpec& spec,
                    const std::map<AgentId, Resources>& used, bool active) override {
    frameworks_[id] = {spec, active};
    turns_.push_back(id);
    for (const auto& [agent, resources] : used) Hold(agent, id, RolesOf(spec).front(), resources);
  }
  void UpdateFramework(const FrameworkId& id, const keel::FrameworkSpec& spec) override {
    if (auto f = frameworks_.find(id); f != frameworks_.end()) f->second.spec = spec;
  }
  void RemoveFramework(const FrameworkId& id) override {
    // What it held is free again.
    for (auto& [agent_id, agent] : agents_) {
      std::erase_if(agent.held, [&](const auto& held) {
        const auto& [holder, role] = held.first;
        if (holder != id) return false;
        used_by_role_[role] -= held.second;
        return true;
      });
    }
    frameworks_.erase(id);
    std::erase(turns_, id);
    std::erase_if(filters_, [&](const auto& f) { return std::get<0>(f.first) == id; });
  }
  void ActivateFramework(const FrameworkId& id) override {
    if (auto f = frameworks_.find(id); f != frameworks_.end()) f->second.active = true;
  }
  void DeactivateFramework(const FrameworkId& id) override {
    if (auto f = frameworks_.find(id); f != frameworks_.end()) f->second.active = false;
  }

  void AddAgent(const AgentId& id, const keel::AgentSpec& spec) override {
    RemoveAgent(id);
    agents_[id].total = spec.total;
    for (const auto& [framework, resources] : spec.used) {
      auto f = frameworks_.find(framework);
      Hold(id, framework, f == frameworks_.end() ? "*" : RolesOf(f->second.spec).front(),
           resources);
    }
  }
  void UpdateAgent(const AgentId& id, const Resources& total) override {
    if (auto a = agents_.find(id); a != agents_.end()) a->second.total = total;
  }
  void RemoveAgent(const AgentId& id) override {
    auto a = agents_.find(id);
    if (a == agents_.end()) return;
    for (const auto& [key, resources] : a->second.held) used_by_role_[key.second] -= resources;
    agents_.erase(a);
    std::erase_if(filters_, [&](const auto& f) { return std::get<1>(f.first) == id; });
  }
  void ActivateAgent(const AgentId& id) override {
    if (auto a = agents_.find(id); a != agents_.end()) a->second.active = true;
  }
  void DeactivateAgent(const AgentId& id) override {
    if (auto a = agents_.find(id); a != agents_.end()) a->second.active = false;
  }

  void RecoverResources(const FrameworkId& framework, const AgentId& agent,
                        const Resources& resources,
                        std::optional<std::chrono::nanoseconds> refuse_for) override {
    auto a = agents_.find(agent);
    if (a == agents_.end()) return;
    // The call does not say for which role the resources were held: take
    // them from whichever of the framework's roles holds them here.
    Resources left = resources;
    for (auto& [key, held] : a->second.held) {
      const auto& [holder, role] = key;
      if (holder != framework) continue;
      const Resources part = held - (held - left);  // what of `left` this role holds
      if (part.empty()) continue;
      held -= part;
      used_by_role_[role] -= part;
      left -= part;
      if (refuse_for && refuse_for->count() > 0) {
        // A later, shorter refusal must not cut an earlier, longer one short.
        auto& until = filters_[{framework, agent, role}];
        until = std::max(until, Clock::now() + *refuse_for);
      }
    }
    std::erase_if(a->second.held, [](const auto& held) { return held.second.empty(); });
  }

  void Suppress(const FrameworkId& id, const std::set<std::string>& roles) override {
    auto f = frameworks_.find(id);
    if (f == frameworks_.end()) return;
    auto& suppressed = f->second.spec.suppressed_roles;
    if (roles.empty()) {
      for (const auto& role : RolesOf(f->second.spec)) suppressed.insert(role);
    } else {
      suppressed.insert(roles.begin(), roles.end());
    }
  }
  // Unsuppresses the roles (all when empty) and forgets their filters.
  void Revive(const FrameworkId& id, const std::set<std::string>& roles) override {
    auto f = frameworks_.find(id);
    if (f == frameworks_.end()) return;
    auto revived = [&](const std::string& role) { return roles.empty() || roles.count(role); };
    std::erase_if(f->second.spec.suppressed_roles, revived);
    std::erase_if(filters_, [&](const auto& filter) {
      return std::get<0>(filter.first) == id && revived(std::get<2>(filter.first));
    });
  }

  // Round-robin knows no weights and ignores quota guarantees; it accepts
  // them. Quota limits it must honour: a role is never offered beyond them.
  void UpdateWeights(const std::map<std::string, double>&) override {}
  void UpdateQuota(const std::string& role, const keel::Quota& quota) override {
    limits_[role] = quota.limits;
  }

  std::vector<keel::Allocation> Allocate() override {
    std::vector<keel::Allocation> out;
    const auto now = Clock::now();
    for (auto& [agent_id, agent] : agents_) {
      if (static_cast<int64_t>(out.size()) >= max_offers_per_step_) break;
      if (!agent.active) continue;
      Resources free = agent.total;
      for (const auto& [key, held] : agent.held) free -= held;
      if (free.empty()) continue;
      // One full turn over the frameworks at most: the first willing one wins.
      for (size_t tries = 0; tries < turns_.size(); ++tries) {
        FrameworkId id = turns_.front();
        turns_.pop_front();
        turns_.push_back(id);
        if (auto offer = OfferTo(id, agent_id, free, now)) {
          Hold(agent_id, id, offer->role, offer->resources);
          out.push_back(std::move(*offer));
          break;
        }
      }
    }
    context_.IncrementCounter("allocation_runs");
    return out;
  }

 private:
  struct Framework {
    keel::FrameworkSpec spec;  // spec.suppressed_roles kept up to date
    bool active = true;
  };
  struct Agent {
    Resources total;
    bool active = true;
    std::map<std::pair<FrameworkId, std::string>, Resources> held;  // (framework, role)
  };

  static std::vector<std::string> RolesOf(const keel::FrameworkSpec& spec) {
    return spec.roles.empty() ? std::vector<std::string>{"*"} : spec.roles;
  }
  // "a/b" is in the subtree of "a": a quota limit of "a" caps it.
  static bool InSubtree(const std::string& role, const std::string& ancestor) {
    return role == ancestor || role.starts_with(ancestor + "/");
  }

  // What framework `id` may be offered of an agent's `free` resources, for
  // the first of its roles that may take some.
  std::optional<keel::Allocation> OfferTo(const FrameworkId& id, const AgentId& agent,
                                          const Resources& free, Clock::time_point now) const {
    const Framework& f = frameworks_.at(id);
    if (!f.active) return std::nullopt;
    for (const auto& role : RolesOf(f.spec)) {
      if (f.spec.suppressed_roles.count(role)) continue;
      auto filter = filters_.find({id, agent, role});
      if (filter != filters_.end() && filter->second > now) continue;
      // Resources reserved for a role go to that role only.
      Resources usable = free.Unreserved();
      if (role != "*") usable += free.ReservedFor(role);
      usable = WithinLimits(role, usable);
      if (!usable.empty()) return keel::Allocation{id, role, agent, usable};
    }
    return std::nullopt;
  }

  // `offer` cut so that `role` and each of its ancestors stay within their
  // quota limits, counting what their whole subtree holds.
  Resources WithinLimits(const std::string& role, const Resources& offer) const {
    std::map<std::string, keel::Scalar> room;  // the tightest, per resource name
    for (const auto& [limited, limits] : limits_) {
      if (!InSubtree(role, limited)) continue;
      Resources used;
      for (const auto& [r, held] : used_by_role_) {
        if (InSubtree(r, limited)) used += held;
      }
      for (const auto& limit : limits.entries()) {
        const keel::Scalar left = limit.scalar - used.GetScalar(limit.name);
        auto [it, added] = room.try_emplace(limit.name, left);
        if (!added) it->second = std::min(it->second, left);
      }
    }
    Resources within;
    for (keel::Resource entry : offer.entries()) {
      auto it = room.find(entry.name);
      if (entry.type == keel::Resource::Type::kScalar && it != room.end()) {
        // Unreserved and reserved entries of one name share the room.
        entry.scalar = std::min(entry.scalar, std::max(it->second, keel::Scalar()));
        it->second -= entry.scalar;
      }
      if (!entry.empty()) (void)within.Add(entry);
    }
    return within;
  }

  void Hold(const AgentId& agent, const FrameworkId& framework, const std::string& role,
            const Resources& resources) {
    auto a = agents_.find(agent);
    if (a == agents_.end()) return;
    a->second.held[{framework, role}] += resources;
    used_by_role_[role] += resources;
  }

  keel::ModuleContext& context_;
  const int64_t max_offers_per_step_;
  std::map<FrameworkId, Framework> frameworks_;
  std::deque<FrameworkId> turns_;
  std::map<AgentId, Agent> agents_;
  std::map<std::string, Resources> used_by_role_;  // held in exactly that role
  std::map<std::string, Resources> limits_;        // quota limits per role
  // (framework, agent, role) -> refused until
  std::map<std::tuple<FrameworkId, AgentId, std::string>, Clock::time_point> filters_;
};

}  // namespace example

KEEL_MODULE_LIBRARY(KEEL_MODULE(kAllocator, "round-robin", "0.1.0",
                                "Offers each agent's free resources whole to frameworks in turn",
                                example::RoundRobinAllocator));
