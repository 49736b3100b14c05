// Test support: terse builders for allocator tests (resources in Mesos's
// text form, framework and agent specs), what a master does with offers
// (allocate until nothing more comes, give offers back), and gtest printing
// of Resources and Allocations.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "keel/allocator.hpp"

namespace keel {

// gtest prints Resources and Scalars in their text form.
inline void PrintTo(const Resources& r, std::ostream* os) { *os << "'" << r.ToString() << "'"; }
inline void PrintTo(const Scalar& s, std::ostream* os) { *os << s.ToString(); }

inline void PrintTo(const Allocation& a, std::ostream* os) {
  *os << "{" << a.framework << " (" << a.role << ") on " << a.agent << ": '"
      << a.resources.ToString() << "'}";
}

namespace test {

inline Resources R(const std::string& text) { return *Resources::Parse(text); }

inline FrameworkSpec Spec(std::vector<std::string> roles, std::set<std::string> caps = {}) {
  FrameworkSpec s;
  s.roles = std::move(roles);
  s.capabilities = std::move(caps);
  return s;
}

// A framework subscribed to several roles (only MULTI_ROLE ones may be).
inline FrameworkSpec MultiRole(std::vector<std::string> roles) {
  return Spec(std::move(roles), {"MULTI_ROLE"});
}

inline AgentSpec Agent(const std::string& resources) {
  AgentSpec a;
  a.hostname = "host";
  a.total = R(resources);
  return a;
}

// `count` agents "a0", "a1", ... with the same resources.
inline void AddAgents(Allocator& allocator, int count, const std::string& resources) {
  for (int i = 0; i < count; ++i) allocator.AddAgent("a" + std::to_string(i), Agent(resources));
}

// Allocation steps until one offers nothing (at most `max_steps`), offers
// kept. Allocators differ in how much one step offers; this is what they all
// have offered once they are done.
inline std::vector<Allocation> AllocateUntilQuiet(Allocator& allocator, int max_steps = 20) {
  std::vector<Allocation> all;
  for (int i = 0; i < max_steps; ++i) {
    auto step = allocator.Allocate();
    if (step.empty()) break;
    all.insert(all.end(), step.begin(), step.end());
  }
  return all;
}

// Every offer declined, without a filter.
inline void RecoverAll(Allocator& allocator, const std::vector<Allocation>& offers) {
  for (const auto& o : offers) {
    allocator.RecoverResources(o.framework, o.agent, o.resources, std::nullopt);
  }
}

inline std::map<FrameworkId, int> OffersPerFramework(const std::vector<Allocation>& offers) {
  std::map<FrameworkId, int> count;
  for (const auto& o : offers) count[o.framework]++;
  return count;
}

}  // namespace test
}  // namespace keel
