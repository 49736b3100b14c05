// Refusal filters of one framework (Mesos's Filters.refuse_seconds): after
// declining resources of an agent for a role, the framework is not offered
// a subset of them there again until the filter expires.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "keel/allocator.hpp"

namespace keel::modules {

class OfferFilters {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  void Add(const AgentId& agent, const std::string& role, const Resources& refused,
           TimePoint expiry);
  // True when an unexpired filter of (agent, role) covers all of `offer`.
  // Drops the expired filters of that agent on the way.
  bool Filters(const AgentId& agent, const std::string& role, const Resources& offer,
               TimePoint now);
  void ForgetAgent(const AgentId& agent) { by_agent_.erase(agent); }
  // Revive: all roles when `roles` is empty.
  void Clear(const std::set<std::string>& roles);
  bool empty() const { return by_agent_.empty(); }

 private:
  struct Filter {
    std::string role;
    Resources refused;
    TimePoint expiry;
  };
  // Keyed by agent because the question is always about one agent, and a
  // framework may hold filters on thousands.
  std::unordered_map<AgentId, std::vector<Filter>> by_agent_;
};

}  // namespace keel::modules
