// Test support: terse builders for allocator tests (resources in Mesos's
// text form, framework and agent specs), and gtest printing of Resources.
#pragma once

#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "keel/allocator.hpp"

namespace keel {

// gtest prints Resources in their text form.
inline void PrintTo(const Resources& r, std::ostream* os) { *os << "'" << r.ToString() << "'"; }

namespace test {

inline Resources R(const std::string& text) { return *Resources::Parse(text); }

inline FrameworkSpec Spec(std::vector<std::string> roles, std::set<std::string> caps = {}) {
  FrameworkSpec s;
  s.roles = std::move(roles);
  s.capabilities = std::move(caps);
  return s;
}

inline AgentSpec Agent(const std::string& resources) {
  AgentSpec a;
  a.hostname = "host";
  a.total = R(resources);
  return a;
}

}  // namespace test
}  // namespace keel
