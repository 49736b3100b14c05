// BookkeepingAllocator: what every built-in allocator must remember, kept
// once. It implements every event call of keel/allocator.hpp (frameworks,
// agents, recovered resources and filters, suppression, weights, quotas)
// and answers the questions a policy asks ("what may this framework be
// offered of this agent for this role now?"); a subclass only decides the
// order in Allocate() and calls Grant().
//
// Accounting invariants, relied on by the conformance suite:
//  * agent.free == agent.total - sum(agent.allocated), never negative;
//  * a role's subtree usage is the sum over it and its descendants;
//  * resources only come back through RecoverResources, RemoveFramework
//    and RemoveAgent, and never more than was allocated.
//
// Threading: called on one thread at a time (see keel/allocator.hpp).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "keel/allocator.hpp"
#include "modules/allocator/core/offer_filters.hpp"
#include "modules/allocator/core/scalar_quantities.hpp"

namespace keel::modules {

struct AllocatorOptions {
  // An offer must hold at least one of these amounts (Mesos's
  // min_allocatable_resources: "cpus:0.01;mem:32" = cpus >= 0.01 or mem >= 32).
  Resources min_allocatable = Resources::Scalar("cpus", 0.01) + Resources::Scalar("mem", 32);
  std::set<std::string> fairness_excluded;  // resource names left out of shares
  std::map<std::string, double> weights;    // role -> weight; others weigh 1
  bool filter_gpu_resources = true;         // GPU agents only for GPU_RESOURCES frameworks
};

class BookkeepingAllocator : public Allocator {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  void AddFramework(const FrameworkId& id, const FrameworkSpec& spec,
                    const std::map<AgentId, Resources>& used, bool active) final;
  void UpdateFramework(const FrameworkId& id, const FrameworkSpec& spec) final;
  void RemoveFramework(const FrameworkId& id) final;
  void ActivateFramework(const FrameworkId& id) final;
  void DeactivateFramework(const FrameworkId& id) final;

  void AddAgent(const AgentId& id, const AgentSpec& spec) final;
  void UpdateAgent(const AgentId& id, const Resources& total) final;
  void RemoveAgent(const AgentId& id) final;
  void ActivateAgent(const AgentId& id) final;
  void DeactivateAgent(const AgentId& id) final;

  void RecoverResources(const FrameworkId& framework, const AgentId& agent,
                        const Resources& resources,
                        std::optional<std::chrono::nanoseconds> refuse_for) final;
  void Suppress(const FrameworkId& framework, const std::set<std::string>& roles) final;
  void Revive(const FrameworkId& framework, const std::set<std::string>& roles) final;
  void UpdateWeights(const std::map<std::string, double>& weights) final;
  void UpdateQuota(const std::string& role, const Quota& quota) final;

  // For metrics and tests.
  size_t framework_count() const { return frameworks_.size(); }
  size_t agent_count() const { return agents_.size(); }
  // What `framework` holds in `role` (all agents).
  Resources Allocated(const FrameworkId& framework, const std::string& role) const;
  // What the role and its descendants hold.
  Resources RoleAllocated(const std::string& role) const;

 protected:
  BookkeepingAllocator(AllocatorOptions options, Clock clock);

  struct Agent;
  struct Framework {
    FrameworkId id;
    FrameworkSpec spec;
    std::vector<std::string> roles;  // the roles it may be offered for
    bool active = true;
    std::map<std::string, ScalarQuantities> allocated;  // role -> total over agents
    std::unordered_set<Agent*> holds_on;                // agents where it holds something
    OfferFilters filters;
  };
  struct Agent {
    AgentId id;
    std::string hostname;
    Resources total;
    Resources free;
    bool active = true;
    bool has_gpus = false;
    bool has_reservations = false;  // some of its total is reserved for a role
    // (framework, role) -> what it holds here
    std::map<std::pair<FrameworkId, std::string>, Resources> allocated;
  };
  // A node of the role tree: every role a framework subscribed to or a
  // quota names, and their ancestors, under the root "".
  struct Role {
    std::string name;
    Role* parent = nullptr;
    std::set<Role*> children;
    std::set<Framework*> frameworks;     // subscribed to exactly this role
    ScalarQuantities own_allocated;      // held in exactly this role
    ScalarQuantities subtree_allocated;  // held in it and its descendants
    double weight = 1.0;
    Quota quota;
  };

  // Whether `framework` may be offered `available` of `agent` for `role`
  // now (the agent's free resources usable by the role, already cut to what
  // the policy allows): not when the framework is inactive, suppressed for
  // the role, refused them with a filter, may not see GPUs, or they are less
  // than its minimum allocatable resources.
  bool MayOffer(Framework& framework, const std::string& role, const Agent& agent,
                const Resources& available, std::chrono::steady_clock::time_point now);
  // The agent's free resources a framework in `role` may use: unreserved
  // plus those reserved for the role, cut to the quota limits of the role
  // and its ancestors.
  Resources UsableBy(const Role& role, const Agent& agent) const;
  // Records that `resources` of `agent` are now `framework`'s, for `role`.
  Allocation Grant(Framework& framework, const std::string& role, Agent& agent,
                   Resources resources);

  // Quota guarantees within one allocation step (Mesos's two stages): roles
  // short of their guarantees are served first, and grants to the others
  // leave enough unreserved resources free to meet those guarantees.
  // BeginStep() walks every agent, but only while some guarantee is unmet.
  void BeginStep();
  // Roles short of their guarantees, lowest share first.
  std::vector<Role*> UnmetRoles() const;
  // `usable` cut so that granting it to `role` keeps the headroom; as is
  // when the role (or an ancestor) is itself short of its guarantee.
  Resources KeepingHeadroom(const Role& role, Resources usable) const;
  // To be called after each Grant() of the step.
  void AfterGrant(const Allocation& allocation);

  // Dominant share of `allocated` in the cluster (excluded names left out).
  double Share(const ScalarQuantities& allocated) const;
  // Guarantees not yet met by the role's subtree usage (zero when met).
  Resources UnmetGuarantees(const Role& role) const;
  Role& RoleNamed(const std::string& name);  // creates the node and its ancestors
  Role* FindRole(const std::string& name);

  const AllocatorOptions& options() const { return options_; }
  std::chrono::steady_clock::time_point Now() const { return clock_(); }

  // The agents with something free, by id: what a step has to walk. Kept
  // by every change of an agent's free resources, so that a step costs
  // what is free, not the size of the cluster. A step that grants from it
  // walks a copy (Grant() may take an agent out).
  struct ById {
    bool operator()(const Agent* a, const Agent* b) const { return a->id < b->id; }
  };
  const std::set<Agent*, ById>& agents_with_free() const { return with_free_; }

  std::map<FrameworkId, Framework> frameworks_;
  std::map<AgentId, Agent> agents_;
  std::map<std::string, Role> roles_;  // "" is the root
  ScalarQuantities cluster_total_;

 private:
  std::vector<std::string> RolesOf(const FrameworkSpec& spec) const;
  void JoinRoles(Framework& framework);
  void LeaveRoles(Framework& framework);
  void Release(const FrameworkId& framework, const std::string& role, Agent& agent,
               const Resources& resources);
  void Account(Framework* framework, const std::string& role, const Resources& delta, bool add);
  Framework* FindFramework(const FrameworkId& id);
  bool AboveMinimum(const Resources& offer, const Framework& framework) const;

  // After any change of agent.free: keeps with_free_.
  void NoteFree(Agent& agent);

  std::set<Agent*, ById> with_free_;
  AllocatorOptions options_;
  Clock clock_;
  int guaranteed_roles_ = 0;
  // Step state of the guarantees (see BeginStep).
  std::vector<Role*> unmet_roles_;
  Resources headroom_pool_;    // unreserved free scalars on active agents
  Resources headroom_needed_;  // sum of the unmet guarantees
};

// The options both built-in allocators read from their manifest parameters
// (min_allocatable_resources, filter_gpu_resources, and when the manifest
// has them fairness_excluded_resource_names and weights). Throws
// std::invalid_argument naming the parameter at fault.
AllocatorOptions AllocatorOptionsFrom(const Parameters& parameters);

}  // namespace keel::modules
