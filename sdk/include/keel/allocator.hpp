// Allocator: decides which framework is offered which agent's resources.
//
// The master tells the allocator about frameworks, agents and resources that
// come back (declined, unused, freed by finished tasks); at every allocation
// step the allocator answers with a list of Allocations, each of which the
// master turns into one offer.
//
// Threading: every call arrives on one thread of the master's that serves
// the allocator alone, one call at a time, in the order the master made
// them; never on the master's core strand, so a long Allocate() delays
// offers but not registrations, status updates or scheduler calls. The
// master checks each Allocation against its own state when the step's
// result comes back (an agent or framework gone since is given back).
// An allocator needs no locks unless it starts threads of its own.
//
// Resources passed in are unreserved or reserved for a role; the allocator
// owns no resources itself, it only remembers what it was told.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "keel/module.hpp"
#include "keel/resources.hpp"

namespace keel {

using FrameworkId = std::string;
using AgentId = std::string;

struct FrameworkSpec {
  std::vector<std::string> roles;            // at least one; "*" is the default role
  std::set<std::string> suppressed_roles;    // roles not to be offered to
  std::set<std::string> capabilities;        // "MULTI_ROLE", "GPU_RESOURCES", ...
  std::optional<Resources> min_allocatable;  // overrides the allocator's default
};

struct AgentSpec {
  std::string hostname;
  Resources total;
  // What frameworks already use on the agent (an agent re-registering).
  std::map<FrameworkId, Resources> used;
};

// Guarantees and limits of one role, as scalar resources.
struct Quota {
  Resources guarantees;
  Resources limits;
};

// One offer to make: `resources` of `agent` to `framework` for `role`. From
// the moment Allocate() returns it, the allocator counts these resources as
// allocated to the framework until RecoverResources() gives them back.
struct Allocation {
  FrameworkId framework;
  std::string role;
  AgentId agent;
  Resources resources;
};

class Allocator : public Module {
 public:
  // Frameworks. `used` is what the framework already runs (failover).
  virtual void AddFramework(const FrameworkId& id, const FrameworkSpec& spec,
                            const std::map<AgentId, Resources>& used, bool active) = 0;
  virtual void UpdateFramework(const FrameworkId& id, const FrameworkSpec& spec) = 0;
  virtual void RemoveFramework(const FrameworkId& id) = 0;
  // An inactive framework (disconnected, failing over) is offered nothing.
  virtual void ActivateFramework(const FrameworkId& id) = 0;
  virtual void DeactivateFramework(const FrameworkId& id) = 0;

  // Agents.
  virtual void AddAgent(const AgentId& id, const AgentSpec& spec) = 0;
  virtual void UpdateAgent(const AgentId& id, const Resources& total) = 0;
  virtual void RemoveAgent(const AgentId& id) = 0;
  virtual void ActivateAgent(const AgentId& id) = 0;
  virtual void DeactivateAgent(const AgentId& id) = 0;

  // Resources allocated to `framework` on `agent` come back (declined, unused
  // part of an accept, rescinded offer, finished task). With `refuse_for`, the
  // framework is not offered these resources on that agent again for that
  // long (Mesos's Filters.refuse_seconds); zero means no filter.
  virtual void RecoverResources(const FrameworkId& framework, const AgentId& agent,
                                const Resources& resources,
                                std::optional<std::chrono::nanoseconds> refuse_for) = 0;

  // Stop / resume offering to some roles of a framework (empty set: all its
  // roles). Revive also clears the framework's refusal filters for them.
  virtual void Suppress(const FrameworkId& framework, const std::set<std::string>& roles) = 0;
  virtual void Revive(const FrameworkId& framework, const std::set<std::string>& roles) = 0;

  // Operator policy. A role without a weight weighs 1.0.
  virtual void UpdateWeights(const std::map<std::string, double>& weights) = 0;
  virtual void UpdateQuota(const std::string& role, const Quota& quota) = 0;

  // One allocation step: what to offer now. Returns nothing when nothing is
  // free or nobody wants it.
  virtual std::vector<Allocation> Allocate() = 0;
};

}  // namespace keel
