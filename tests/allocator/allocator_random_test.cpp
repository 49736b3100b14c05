// Every allocator through a long random run of what a master tells it, with
// the contract's invariants checked after every step against a model the
// test keeps on its own: what each framework holds on each agent, per role,
// according to the offers it received minus what it gave back.
//
// After every step:
//  * an offer is on a known, active agent, to a known, active framework, in
//    one of its roles that it has not suppressed, and reserved resources in
//    it are reserved for that role;
//  * an offer holds only what is free on the agent (never offered twice,
//    never more than the agent has);
//  * no offer to a (framework, agent, role) is a subset of what it refused
//    there while that refusal filter lasts;
//  * an allocation step never takes a role (with its descendants) above a
//    quota limit.
// And every few thousand events, a quiet phase (everybody active, revived,
// no quota guarantees holding resources back; only allocation steps until
// one offers nothing) checks that every free resource some framework may use
// within its roles' quota limits has been offered: recovered resources come
// back, and a role below its limit is not starved.
//
// The seed is printed; KEEL_ALLOCATOR_SEED=<seed> replays a run (exactly for
// the built-ins, whose clock the test moves; the real-clock allocator's
// filters may expire at other steps).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <random>
#include <sstream>
#include <tuple>

#include "tests/allocator/allocator_under_test.hpp"
#include "tests/support/allocator_builders.hpp"

namespace keel {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;
using test::R;

// Events per run, for every allocator: the real-clock one sleeps when the
// run moves time, about 570 times 3 ms in 100,000 events (1.7 s).
constexpr int kEvents = 100'000;
// A quiet phase every this many events.
constexpr int kQuietEvery = 2'500;

// A small cluster, so that agents fill up and frameworks compete for them.
constexpr int kAgentIds = 12;
constexpr int kFrameworkIds = 8;
const std::vector<std::string> kRoles = {"*", "a", "a/x", "a/y", "b"};
const std::vector<std::string> kQuotaRoles = {"a", "a/x", "a/y", "b"};
// Amounts are multiples of 0.5 cpus and 256 MB (limits and the pieces given
// back too), so that a free chunk with any cpus or mem in it is above the
// built-ins' minimum offer (cpus:0.01 or mem:32).
const std::vector<std::string> kAgentShapes = {
    "cpus:4;mem:4096;ports:[31000-31009]",
    "cpus:8;mem:2048",
    "cpus:2;mem:8192;cpus(a):2;mem(a):1024",
    "cpus:4;mem:4096;cpus(a/x):1;mem(b):512",
};
constexpr int64_t kCpuUnit = 500;      // millis
constexpr int64_t kMemUnit = 256'000;  // millis
const Scalar kMinCpus = Scalar::FromMillis(10);
const Scalar kMinMem = Scalar::FromMillis(32'000);

bool InSubtree(const std::string& role, const std::string& ancestor) {
  return role == ancestor || role.starts_with(ancestor + "/");
}

std::string Names(const std::set<std::string>& roles) {
  std::string out = "{";
  for (const auto& r : roles) out += (out.size() > 1 ? "," : "") + r;
  return out + "}";
}

uint64_t SeedFromEnvironment() {
  if (const char* seed = std::getenv("KEEL_ALLOCATOR_SEED"))
    return std::strtoull(seed, nullptr, 10);
  return std::random_device()();
}

class RandomRun {
 public:
  RandomRun(test::AllocatorUnderTest& allocator, uint64_t seed)
      : allocator_(allocator), seed_(seed), rng_(seed) {}

  // Runs `events` events; the first violation stops the run and is returned
  // (empty when there was none).
  std::string Run(int events) {
    for (step_ = 1; step_ <= events && failure_.empty(); ++step_) {
      if (step_ % kQuietEvery == 0) {
        QuietPhase();
      } else {
        RandomEvent();
      }
    }
    if (failure_.empty()) QuietPhase();
    return failure_;
  }

  int offers() const { return offers_; }
  int filtered_recoveries() const { return filtered_recoveries_; }
  int quiet_phases() const { return quiet_phases_; }

 private:
  struct AgentState {
    Resources free;
    bool active = true;
  };
  struct FrameworkState {
    std::vector<std::string> roles;
    std::set<std::string> suppressed;
    bool active = true;
    bool multi_role = false;
  };
  struct Filter {
    Resources refused;
    // The allocator's filter lasts at least until then: the refusal's
    // duration from before RecoverResources was called.
    TimePoint until;
  };
  using Key = std::pair<FrameworkId, AgentId>;
  using FilterKey = std::tuple<FrameworkId, AgentId, std::string>;

  enum Event {
    kAllocate,
    kRecover,
    kAddAgent,
    kRemoveAgent,
    kActivateAgent,
    kDeactivateAgent,
    kAddFramework,
    kRemoveFramework,
    kActivateFramework,
    kDeactivateFramework,
    kSuppress,
    kRevive,
    kChangeRoles,
    kUpdateQuota,
    kUpdateWeights,
    kAdvanceTime,
  };

  void RandomEvent() {
    // Relative weights, in the order of Event: allocation steps and
    // recoveries most of the time, as at a master.
    static const std::vector<double> weights = {
        300, 220, 30, 20, 20, 20, 30, 20, 20, 20, 40, 40, 40, 40, 10, 5,
    };
    std::discrete_distribution<int> pick(weights.begin(), weights.end());
    const auto event = static_cast<Event>(pick(rng_));
    switch (event) {
      case kAllocate:
        AllocateStep();
        break;
      case kRecover:
        Recover();
        break;
      case kAddAgent:
        AddAgent();
        break;
      case kRemoveAgent:
        if (auto* id = Any(agents_)) RemoveAgent(*id);
        break;
      case kActivateAgent:
      case kDeactivateAgent:
        if (auto* id = Any(agents_)) {
          const bool active = event == kActivateAgent;
          Describe(std::string(active ? "ActivateAgent(" : "DeactivateAgent(") + *id + ")");
          active ? allocator_->ActivateAgent(*id) : allocator_->DeactivateAgent(*id);
          agents_[*id].active = active;
        }
        break;
      case kAddFramework:
        AddFramework();
        break;
      case kRemoveFramework:
        if (auto* id = Any(frameworks_)) RemoveFramework(*id);
        break;
      case kActivateFramework:
      case kDeactivateFramework:
        if (auto* id = Any(frameworks_)) {
          const bool active = event == kActivateFramework;
          Describe(std::string(active ? "ActivateFramework(" : "DeactivateFramework(") + *id + ")");
          active ? allocator_->ActivateFramework(*id) : allocator_->DeactivateFramework(*id);
          frameworks_[*id].active = active;
        }
        break;
      case kSuppress:
        if (auto* id = Any(frameworks_)) Suppress(*id);
        break;
      case kRevive:
        if (auto* id = Any(frameworks_))
          Revive(*id, Coin(0.3) ? std::set<std::string>{} : std::set{Pick(kRoles)});
        break;
      case kChangeRoles:
        ChangeRoles();
        break;
      case kUpdateQuota:
        UpdateQuota(Pick(kQuotaRoles), RandomQuota());
        break;
      case kUpdateWeights: {
        const std::string role = Pick(kQuotaRoles);
        const double weight = Pick(std::vector<double>{0.5, 1, 2, 3});
        Describe("UpdateWeights(" + role + "=" + std::to_string(weight) + ")");
        allocator_->UpdateWeights({{role, weight}});
        break;
      }
      case kAdvanceTime: {
        const auto by = std::chrono::milliseconds(Uniform(1, 5));
        Describe("advance time " + std::to_string(by.count()) + " ms");
        allocator_.Advance(by);
        break;
      }
    }
  }

  // --- Events and what the model makes of them. ---

  // One allocation step, every offer checked; returns the number of offers.
  size_t AllocateStep() {
    Describe("Allocate()");
    const auto offers = allocator_->Allocate();
    // A refusal lasting beyond this was certainly in force whenever in the
    // step the allocator read its clock.
    const TimePoint after = allocator_.Now();
    std::map<std::string, Resources> granted;  // role -> this step's grants
    for (const auto& offer : offers) {
      if (!CheckOffer(offer, after)) return offers.size();
      AgentState& agent = agents_[offer.agent];
      agent.free -= offer.resources;
      held_[{offer.framework, offer.agent}][offer.role] += offer.resources;
      held_by_role_[offer.role] += offer.resources;
      granted[offer.role] += offer.resources;
      ++offers_;
    }
    CheckQuotaLimits(granted);
    return offers.size();
  }

  bool CheckOffer(const Allocation& o, TimePoint after) {
    auto violation = [&](const std::string& why) {
      return Fail("offer of '" + o.resources.ToString() + "' on " + o.agent + " to " + o.framework +
                  " (role " + o.role + "): " + why);
    };
    auto agent = agents_.find(o.agent);
    if (agent == agents_.end()) return violation("the agent was removed");
    if (!agent->second.active) return violation("the agent is inactive");
    auto framework = frameworks_.find(o.framework);
    if (framework == frameworks_.end()) return violation("the framework was removed");
    const FrameworkState& f = framework->second;
    if (!f.active) return violation("the framework is inactive");
    if (std::find(f.roles.begin(), f.roles.end(), o.role) == f.roles.end()) {
      return violation("the framework is not subscribed to the role");
    }
    if (f.suppressed.count(o.role)) return violation("the role is suppressed");
    if (o.resources.empty()) return violation("the offer is empty");
    for (const auto& entry : o.resources.entries()) {
      if (entry.role != "*" && entry.role != o.role) {
        return violation("it holds resources reserved for " + entry.role);
      }
    }
    if (!agent->second.free.Contains(o.resources)) {
      return violation("only '" + agent->second.free.ToString() +
                       "' is free there (offered twice, or more than the agent has)");
    }
    auto filters = filters_.find({o.framework, o.agent, o.role});
    if (filters != filters_.end()) {
      // Expired filters can never apply again: the clock only moves forward.
      std::erase_if(filters->second, [&](const Filter& f) { return f.until <= after; });
      for (const auto& filter : filters->second) {
        if (filter.refused.Contains(o.resources)) {
          return violation("it refused '" + filter.refused.ToString() +
                           "' there and the filter still holds");
        }
      }
    }
    return true;
  }

  // A step may not take a role subtree above a limit in any resource it
  // granted to that subtree. (A subtree may already be above a limit lowered
  // under its usage: then it may not be granted more of that resource.)
  void CheckQuotaLimits(const std::map<std::string, Resources>& granted) {
    if (!failure_.empty() || granted.empty()) return;
    for (const auto& [limited, limits] : limits_) {
      Resources granted_here, held_here;
      for (const auto& [role, resources] : granted) {
        if (InSubtree(role, limited)) granted_here += resources;
      }
      if (granted_here.empty()) continue;
      for (const auto& [role, resources] : held_by_role_) {
        if (InSubtree(role, limited)) held_here += resources;
      }
      for (const auto& limit : limits.entries()) {
        if (granted_here.GetScalar(limit.name) > Scalar() &&
            held_here.GetScalar(limit.name) > limit.scalar) {
          Fail("role " + limited + " and its descendants hold " +
               held_here.GetScalar(limit.name).ToString() + " " + limit.name +
               " after this step, above its quota limit of " + limit.scalar.ToString());
          return;
        }
      }
    }
  }

  void Recover() {
    if (held_.empty()) return;
    auto held = std::next(held_.begin(), Uniform(0, static_cast<int>(held_.size()) - 1));
    const auto [framework, agent] = held->first;
    auto& roles = held->second;
    // A part of what it holds in one role, or everything: a framework
    // holding in several roles on the agent gives all back, since the call
    // does not say which role's resources come back.
    std::map<std::string, Resources> parts = roles;
    if (roles.size() == 1 && Coin(0.5)) {
      Resources part = RandomPart(roles.begin()->second);
      if (!part.empty()) parts.begin()->second = part;
    }
    Resources all;
    for (const auto& [role, part] : parts) all += part;
    std::optional<std::chrono::nanoseconds> refuse_for;
    if (Coin(0.4)) {
      refuse_for = std::chrono::milliseconds(Uniform(1, 30));
    } else if (Coin(0.2)) {
      refuse_for = 0s;  // no filter
    }
    std::ostringstream call;
    call << "RecoverResources(" << framework << ", " << agent << ", '" << all.ToString() << "', "
         << (refuse_for ? std::to_string(refuse_for->count() / 1'000'000) + " ms" : "none") << ")";
    Describe(call.str());
    const TimePoint before = allocator_.Now();
    allocator_->RecoverResources(framework, agent, all, refuse_for);

    for (const auto& [role, part] : parts) {
      roles[role] -= part;
      if (roles[role].empty()) roles.erase(role);
      held_by_role_[role] -= part;
      if (refuse_for && refuse_for->count() > 0) {
        filters_[{framework, agent, role}].push_back({part, before + *refuse_for});
      }
    }
    if (refuse_for && refuse_for->count() > 0) ++filtered_recoveries_;
    agents_[agent].free += all;
    if (roles.empty()) held_.erase(held);
  }

  void AddAgent() {
    const AgentId id = "a" + std::to_string(Uniform(0, kAgentIds - 1));
    if (agents_.count(id)) return;
    const std::string shape = Pick(kAgentShapes);
    Describe("AddAgent(" + id + ", '" + shape + "')");
    allocator_->AddAgent(id, test::Agent(shape));
    agents_[id] = {R(shape), true};
  }

  // Whatever was held on the agent is gone with it; so are the filters.
  void RemoveAgent(const AgentId id) {
    Describe("RemoveAgent(" + id + ")");
    allocator_->RemoveAgent(id);
    std::erase_if(held_, [&](const auto& held) {
      if (held.first.second != id) return false;
      for (const auto& [role, resources] : held.second) held_by_role_[role] -= resources;
      return true;
    });
    std::erase_if(filters_, [&](const auto& f) { return std::get<1>(f.first) == id; });
    agents_.erase(id);
  }

  void AddFramework() {
    const FrameworkId id = "f" + std::to_string(Uniform(0, kFrameworkIds - 1));
    if (frameworks_.count(id)) return;
    FrameworkState f;
    f.multi_role = Coin(0.4);
    f.roles = f.multi_role ? RandomRoles() : std::vector{Pick(kRoles)};
    if (Coin(0.1)) f.suppressed.insert(Pick(f.roles));
    f.active = Coin(0.9);
    Describe("AddFramework(" + id + ", roles " + Names({f.roles.begin(), f.roles.end()}) +
             ", suppressed " + Names(f.suppressed) + (f.active ? ", active)" : ", inactive)"));
    allocator_->AddFramework(id, SpecOf(f), {}, f.active);
    frameworks_[id] = f;
  }

  // Whatever it held is free again; its filters are gone.
  void RemoveFramework(const FrameworkId id) {
    Describe("RemoveFramework(" + id + ")");
    allocator_->RemoveFramework(id);
    std::erase_if(held_, [&](const auto& held) {
      if (held.first.first != id) return false;
      for (const auto& [role, resources] : held.second) {
        held_by_role_[role] -= resources;
        agents_[held.first.second].free += resources;
      }
      return true;
    });
    std::erase_if(filters_, [&](const auto& f) { return std::get<0>(f.first) == id; });
    frameworks_.erase(id);
  }

  void Suppress(const FrameworkId& id) {
    FrameworkState& f = frameworks_[id];
    const std::set<std::string> roles =
        Coin(0.3) ? std::set<std::string>{} : std::set{Pick(f.roles)};
    Describe("Suppress(" + id + ", " + Names(roles) + ")");
    allocator_->Suppress(id, roles);
    if (roles.empty()) {
      f.suppressed.insert(f.roles.begin(), f.roles.end());
    } else {
      f.suppressed.insert(roles.begin(), roles.end());
    }
  }

  // Unsuppresses the roles and clears their filters (all roles when empty).
  void Revive(const FrameworkId& id, const std::set<std::string>& roles) {
    Describe("Revive(" + id + ", " + Names(roles) + ")");
    allocator_->Revive(id, roles);
    FrameworkState& f = frameworks_[id];
    std::erase_if(filters_, [&](const auto& filter) {
      return std::get<0>(filter.first) == id &&
             (roles.empty() || roles.count(std::get<2>(filter.first)));
    });
    if (roles.empty()) {
      f.suppressed.clear();
    } else {
      for (const auto& role : roles) f.suppressed.erase(role);
    }
  }

  // A MULTI_ROLE framework subscribes to other roles (UPDATE_FRAMEWORK); the
  // master carries its suppressed roles over. What it holds in roles it
  // left stays held in them until given back.
  void ChangeRoles() {
    std::vector<FrameworkId> multi;
    for (const auto& [id, f] : frameworks_) {
      if (f.multi_role) multi.push_back(id);
    }
    if (multi.empty()) return;
    const FrameworkId id = Pick(multi);
    FrameworkState& f = frameworks_[id];
    f.roles = RandomRoles();
    std::erase_if(f.suppressed, [&](const std::string& role) {
      return std::find(f.roles.begin(), f.roles.end(), role) == f.roles.end();
    });
    Describe("UpdateFramework(" + id + ", roles " + Names({f.roles.begin(), f.roles.end()}) +
             ", suppressed " + Names(f.suppressed) + ")");
    allocator_->UpdateFramework(id, SpecOf(f));
  }

  void UpdateQuota(const std::string& role, const Quota& quota) {
    Describe("UpdateQuota(" + role + ", guarantees '" + quota.guarantees.ToString() +
             "', limits '" + quota.limits.ToString() + "')");
    allocator_->UpdateQuota(role, quota);
    if (quota.limits.empty()) {
      limits_.erase(role);
    } else {
      limits_[role] = quota.limits;
    }
  }

  // Everybody active and revived, no guarantees: then allocation steps alone
  // must hand out every free resource somebody may use within the limits.
  void QuietPhase() {
    ++quiet_phases_;
    for (auto& [id, agent] : agents_) {
      allocator_->ActivateAgent(id);
      agent.active = true;
    }
    std::vector<FrameworkId> ids;
    for (auto& [id, f] : frameworks_) ids.push_back(id);
    for (const auto& id : ids) {
      allocator_->ActivateFramework(id);
      frameworks_[id].active = true;
      Revive(id, {});
    }
    for (const auto& role : kQuotaRoles) {
      auto limits = limits_.find(role);
      UpdateQuota(role, Quota{Resources(), limits == limits_.end() ? Resources() : limits->second});
    }
    constexpr int kMaxSteps = 200;
    for (int steps = 0;; ++steps) {
      if (steps == kMaxSteps) {
        Fail("quiet phase: still offering after " + std::to_string(kMaxSteps) + " steps");
        return;
      }
      const size_t offered = AllocateStep();
      if (!failure_.empty()) return;
      if (offered == 0) break;
    }
    Describe("end of a quiet phase");
    for (const auto& [agent_id, agent] : agents_) {
      for (const auto& [framework_id, f] : frameworks_) {
        for (const auto& role : f.roles) {
          Resources usable = agent.free.Unreserved();
          if (role != "*") usable += agent.free.ReservedFor(role);
          const Scalar cpus = std::min(usable.GetScalar("cpus"), Room(role, "cpus"));
          const Scalar mem = std::min(usable.GetScalar("mem"), Room(role, "mem"));
          if (cpus >= kMinCpus || mem >= kMinMem) {
            Fail("'" + usable.ToString() + "' of " + agent_id + " is free and was never offered (" +
                 framework_id + " in role " + role + " may use " + cpus.ToString() + " cpus and " +
                 mem.ToString() + " mem of it within its quota limits)");
            return;
          }
        }
      }
    }
  }

  // How much more of `name` the role may be granted: the least any limit of
  // it or an ancestor leaves, counting the whole subtree of that limit.
  Scalar Room(const std::string& role, const std::string& name) {
    Scalar room = Scalar::FromMillis(std::numeric_limits<int64_t>::max());
    for (const auto& [limited, limits] : limits_) {
      if (!InSubtree(role, limited) || !limits.Names().count(name)) continue;
      Scalar held;
      for (const auto& [r, resources] : held_by_role_) {
        if (InSubtree(r, limited)) held += resources.GetScalar(name);
      }
      room = std::min(room, std::max(limits.GetScalar(name) - held, Scalar()));
    }
    return room;
  }

  // --- Randomness. ---

  int Uniform(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }
  bool Coin(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <class T>
  const T& Pick(const std::vector<T>& from) {
    return from[Uniform(0, static_cast<int>(from.size()) - 1)];
  }
  // A random key of a map; null when it is empty.
  template <class Map>
  const typename Map::key_type* Any(const Map& map) {
    if (map.empty()) return nullptr;
    return &std::next(map.begin(), Uniform(0, static_cast<int>(map.size()) - 1))->first;
  }

  std::vector<std::string> RandomRoles() {
    std::vector<std::string> roles;
    for (const auto& role : kRoles) {
      if (Coin(0.4)) roles.push_back(role);
    }
    if (roles.empty()) roles.push_back(Pick(kRoles));
    return roles;
  }

  FrameworkSpec SpecOf(const FrameworkState& f) {
    FrameworkSpec spec = f.multi_role ? test::MultiRole(f.roles) : test::Spec(f.roles);
    spec.suppressed_roles = f.suppressed;
    return spec;
  }

  // Limits (and sometimes guarantees within them) in whole units; none
  // about a third of the time.
  Quota RandomQuota() {
    Quota quota;
    if (Coin(0.3)) return quota;
    const int cpus = Uniform(0, 16);
    const int mem = Uniform(0, 32);
    if (Coin(0.7)) quota.limits += Resources::Scalar("cpus", cpus * 0.5);
    if (Coin(0.7)) quota.limits += Resources::Scalar("mem", mem * 256.0);
    if (Coin(0.2) && cpus > 0)
      quota.guarantees += Resources::Scalar("cpus", Uniform(1, cpus) * 0.5);
    if (quota.limits.GetScalar("cpus") < quota.guarantees.GetScalar("cpus")) {
      quota.limits += Resources::Scalar("cpus", cpus * 0.5);
    }
    return quota;
  }

  // A random part of `held`: some whole units of each scalar, and ranges
  // either whole or not at all.
  Resources RandomPart(const Resources& held) {
    Resources part;
    for (const auto& entry : held.entries()) {
      Resource piece = entry;
      if (entry.type == Resource::Type::kScalar) {
        const int64_t unit = entry.name == "cpus" ? kCpuUnit : kMemUnit;
        const int units = static_cast<int>(entry.scalar.millis() / unit);
        piece.scalar = Scalar::FromMillis(Uniform(0, units) * unit);
      } else if (Coin(0.5)) {
        continue;
      }
      if (!piece.empty()) (void)part.Add(piece);
    }
    return part;
  }

  // --- Reporting. ---

  void Describe(std::string event) { event_ = std::move(event); }

  bool Fail(const std::string& what) {
    if (failure_.empty()) {
      failure_ = "seed " + std::to_string(seed_) + ", step " + std::to_string(step_) + " (" +
                 event_ + "): " + what + " [replay: KEEL_ALLOCATOR_SEED=" + std::to_string(seed_) +
                 "]";
    }
    return false;
  }

  test::AllocatorUnderTest& allocator_;
  const uint64_t seed_;
  std::mt19937_64 rng_;
  int step_ = 0;
  std::string event_;
  std::string failure_;
  int offers_ = 0;
  int filtered_recoveries_ = 0;
  int quiet_phases_ = 0;

  // The model.
  std::map<AgentId, AgentState> agents_;
  std::map<FrameworkId, FrameworkState> frameworks_;
  std::map<Key, std::map<std::string, Resources>> held_;  // per role
  std::map<std::string, Resources> held_by_role_;         // in exactly that role
  std::map<std::string, Resources> limits_;
  std::map<FilterKey, std::vector<Filter>> filters_;
};

class AllocatorRandomTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AllocatorRandomTest, InvariantsHoldAfterEveryStepOfARandomRun) {
  test::AllocatorUnderTest allocator(GetParam());
  const uint64_t seed = SeedFromEnvironment();
  std::cout << "[   SEED   ] " << GetParam() << ": " << seed
            << " (replay with KEEL_ALLOCATOR_SEED=" << seed << ")" << std::endl;
  RecordProperty("seed", std::to_string(seed));

  RandomRun run(allocator, seed);
  const std::string failure = run.Run(kEvents);
  ASSERT_TRUE(failure.empty()) << failure;
  // The run did exercise the allocator: offers made, filters set, quiet
  // phases passed.
  EXPECT_GT(run.offers(), kEvents / 20);
  EXPECT_GT(run.filtered_recoveries(), kEvents / 100);
  EXPECT_EQ(run.quiet_phases(), kEvents / kQuietEvery + 1);
}

INSTANTIATE_TEST_SUITE_P(Allocators, AllocatorRandomTest,
                         ::testing::ValuesIn(test::AllAllocators()),
                         [](const auto& info) { return test::AllocatorTestName(info.param); });

}  // namespace
}  // namespace keel
