// HierarchicalDrfAllocator (`drf`): Mesos's hierarchical dominant resource
// fairness.
//
// Each allocation step walks the agents with free resources and gives each
// free chunk to one (framework, role): roles below their quota guarantee
// first, then the role with the lowest weighted dominant share, descending
// the role tree ("eng" before "eng/ml"), then the framework of that role
// with the lowest dominant share. A role's share counts everything
// allocated to it and to its descendants.
//
// Threading: called on the master's strand only (see keel/allocator.hpp).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "keel/allocator.hpp"

namespace keel::modules {

struct DrfOptions {
  // An offer must hold at least one of these amounts (Mesos's
  // min_allocatable_resources: "cpus:0.01;mem:32" = cpus >= 0.01 or mem >= 32).
  Resources min_allocatable = Resources::Scalar("cpus", 0.01) + Resources::Scalar("mem", 32);
  std::set<std::string> fairness_excluded;  // resource names left out of shares
  std::map<std::string, double> weights;    // role -> weight; others weigh 1
  bool filter_gpu_resources = true;         // GPU agents only for GPU_RESOURCES frameworks
};

class HierarchicalDrfAllocator : public Allocator {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit HierarchicalDrfAllocator(DrfOptions options,
                                    Clock clock = std::chrono::steady_clock::now);

  void AddFramework(const FrameworkId& id, const FrameworkSpec& spec,
                    const std::map<AgentId, Resources>& used, bool active) override;
  void UpdateFramework(const FrameworkId& id, const FrameworkSpec& spec) override;
  void RemoveFramework(const FrameworkId& id) override;
  void ActivateFramework(const FrameworkId& id) override;
  void DeactivateFramework(const FrameworkId& id) override;

  void AddAgent(const AgentId& id, const AgentSpec& spec) override;
  void UpdateAgent(const AgentId& id, const Resources& total) override;
  void RemoveAgent(const AgentId& id) override;
  void ActivateAgent(const AgentId& id) override;
  void DeactivateAgent(const AgentId& id) override;

  void RecoverResources(const FrameworkId& framework, const AgentId& agent,
                        const Resources& resources,
                        std::optional<std::chrono::nanoseconds> refuse_for) override;
  void Suppress(const FrameworkId& framework, const std::set<std::string>& roles) override;
  void Revive(const FrameworkId& framework, const std::set<std::string>& roles) override;
  void UpdateWeights(const std::map<std::string, double>& weights) override;
  void UpdateQuota(const std::string& role, const Quota& quota) override;

  std::vector<Allocation> Allocate() override;

  // For metrics and tests.
  size_t framework_count() const { return frameworks_.size(); }
  size_t agent_count() const { return agents_.size(); }
  // What `framework` holds in `role` (all agents).
  Resources Allocated(const FrameworkId& framework, const std::string& role) const;

 private:
  struct Filter {
    AgentId agent;
    std::string role;
    Resources refused;
    std::chrono::steady_clock::time_point expiry;
  };
  struct Framework {
    FrameworkSpec spec;
    bool active = true;
    std::map<std::string, Resources> allocated;  // role -> total
    std::vector<Filter> filters;
  };
  struct Agent {
    std::string hostname;
    Resources total;
    bool active = true;
    // framework -> role -> what it holds here
    std::map<FrameworkId, std::map<std::string, Resources>> allocated;
  };

  std::vector<std::string> Roles(const FrameworkSpec& spec) const;
  void Allocate(const FrameworkId& framework, const std::string& role, const AgentId& agent,
                const Resources& resources);
  void Release(const FrameworkId& framework, const std::string& role, const AgentId& agent,
               const Resources& resources);
  Resources Free(const Agent& agent) const;
  double Share(const Resources& allocated) const;
  double RoleShare(const std::string& role) const;
  double Weight(const std::string& role) const;
  // Roles with frameworks, in the order they get the next chunk.
  std::vector<std::string> RoleOrder() const;
  void AppendRoleOrder(const std::string& node, std::vector<std::string>* out) const;
  std::vector<FrameworkId> FrameworkOrder(const std::string& role) const;
  bool Offerable(const Resources& resources, const Framework& framework) const;
  bool Filtered(Framework& framework, const AgentId& agent, const std::string& role,
                const Resources& resources);
  Resources WithinQuotaLimits(const std::string& role, const Resources& offer) const;

  DrfOptions options_;
  Clock clock_;
  std::map<FrameworkId, Framework> frameworks_;
  std::map<AgentId, Agent> agents_;
  Resources cluster_total_;
  std::map<std::string, std::set<FrameworkId>> role_frameworks_;  // role -> subscribed frameworks
  std::map<std::string, Resources> subtree_allocated_;            // role and its descendants
  std::map<std::string, Quota> quotas_;
};

}  // namespace keel::modules
