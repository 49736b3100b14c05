// A deliberately simple allocator: every active framework takes its turn, and
// each turn is one agent's free resources. It shows the whole module contract
// (state kept across calls, resources given back, filters honoured, a
// parameter read from the manifest) in one short file.
#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <stdexcept>

#include "keel/allocator.hpp"

namespace example {

using keel::AgentId;
using keel::FrameworkId;
using keel::Resources;

class RoundRobinAllocator : public keel::Allocator {
 public:
  explicit RoundRobinAllocator(keel::ModuleContext& context)
      : context_(context),
        max_offers_per_step_(context.parameters().GetInt("max_offers_per_step")) {
    if (max_offers_per_step_ <= 0) {
      throw std::invalid_argument("max_offers_per_step must be positive");
    }
  }

  void AddFramework(const FrameworkId& id, const keel::FrameworkSpec& spec,
                    const std::map<AgentId, Resources>& used, bool active) override {
    frameworks_[id] = {spec, active};
    for (const auto& [agent, resources] : used) Use(agent, resources);
    turns_.push_back(id);
  }
  void UpdateFramework(const FrameworkId& id, const keel::FrameworkSpec& spec) override {
    frameworks_[id].spec = spec;
  }
  void RemoveFramework(const FrameworkId& id) override {
    frameworks_.erase(id);
    std::erase(turns_, id);
    std::erase_if(filters_, [&](const auto& f) { return f.first.first == id; });
  }
  void ActivateFramework(const FrameworkId& id) override { frameworks_[id].active = true; }
  void DeactivateFramework(const FrameworkId& id) override { frameworks_[id].active = false; }

  void AddAgent(const AgentId& id, const keel::AgentSpec& spec) override {
    agents_[id] = {spec.total, Resources(), true};
    for (const auto& [framework, resources] : spec.used) Use(id, resources);
  }
  void UpdateAgent(const AgentId& id, const Resources& total) override {
    agents_[id].total = total;
  }
  void RemoveAgent(const AgentId& id) override { agents_.erase(id); }
  void ActivateAgent(const AgentId& id) override { agents_[id].active = true; }
  void DeactivateAgent(const AgentId& id) override { agents_[id].active = false; }

  void RecoverResources(const FrameworkId& framework, const AgentId& agent,
                        const Resources& resources,
                        std::optional<std::chrono::nanoseconds> refuse_for) override {
    auto it = agents_.find(agent);
    if (it == agents_.end()) return;
    it->second.allocated -= resources;
    if (refuse_for && refuse_for->count() > 0) {
      filters_[{framework, agent}] = std::chrono::steady_clock::now() + *refuse_for;
    }
  }

  void Suppress(const FrameworkId& id, const std::set<std::string>&) override {
    frameworks_[id].suppressed = true;
  }
  void Revive(const FrameworkId& id, const std::set<std::string>&) override {
    frameworks_[id].suppressed = false;
    std::erase_if(filters_, [&](const auto& f) { return f.first.first == id; });
  }
  // Round-robin knows neither weights nor quotas; it accepts and ignores them.
  void UpdateWeights(const std::map<std::string, double>&) override {}
  void UpdateQuota(const std::string&, const keel::Quota&) override {}

  std::vector<keel::Allocation> Allocate() override {
    std::vector<keel::Allocation> out;
    const auto now = std::chrono::steady_clock::now();
    for (auto& [agent_id, agent] : agents_) {
      if (!agent.active || static_cast<int64_t>(out.size()) >= max_offers_per_step_) continue;
      Resources free = agent.total - agent.allocated;
      if (free.empty()) continue;
      // One full turn over the frameworks at most: the first willing one wins.
      for (size_t tries = 0; tries < turns_.size(); ++tries) {
        FrameworkId id = turns_.front();
        turns_.pop_front();
        turns_.push_back(id);
        const Framework& f = frameworks_[id];
        auto filter = filters_.find({id, agent_id});
        if (!f.active || f.suppressed || (filter != filters_.end() && filter->second > now)) {
          continue;
        }
        agent.allocated += free;
        out.push_back({id, f.spec.roles.empty() ? "*" : f.spec.roles.front(), agent_id, free});
        break;
      }
    }
    context_.IncrementCounter("allocation_runs");
    return out;
  }

 private:
  struct Framework {
    keel::FrameworkSpec spec;
    bool active = true;
    bool suppressed = false;
  };
  struct Agent {
    Resources total;
    Resources allocated;
    bool active = true;
  };

  void Use(const AgentId& agent, const Resources& resources) {
    agents_[agent].allocated += resources;
  }

  keel::ModuleContext& context_;
  const int64_t max_offers_per_step_;
  std::map<FrameworkId, Framework> frameworks_;
  std::deque<FrameworkId> turns_;
  std::map<AgentId, Agent> agents_;
  std::map<std::pair<FrameworkId, AgentId>, std::chrono::steady_clock::time_point> filters_;
};

}  // namespace example

KEEL_MODULE_LIBRARY(KEEL_MODULE(kAllocator, "round-robin", "0.1.0",
                                "Offers each agent's free resources whole to frameworks in turn",
                                example::RoundRobinAllocator));
