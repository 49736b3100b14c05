#include "modules/allocator/binpack/bin_packing_allocator.hpp"

#include <gtest/gtest.h>

#include "tests/support/allocator_builders.hpp"

namespace keel::modules {
namespace {

using namespace std::chrono_literals;

using test::Agent;
using test::R;
using test::Spec;

class BinPackTest : public ::testing::Test {
 protected:
  BinPackTest() : allocator_(AllocatorOptions{}, [this] { return now_; }) {}

  std::chrono::steady_clock::time_point now_{};
  BinPackingAllocator allocator_;
};

TEST_F(BinPackTest, NewAllocationGoesToTheBusierAgent) {
  // "b-busy" sorts after "a-idle": only its use can put it first.
  allocator_.AddAgent("a-idle", Agent("cpus:4;mem:4096"));
  AgentSpec busy = Agent("cpus:4;mem:4096");
  busy.used["f0"] = R("cpus:3;mem:3072");
  allocator_.AddAgent("b-busy", busy);
  EXPECT_GT(allocator_.Utilisation("b-busy"), allocator_.Utilisation("a-idle"));

  allocator_.AddFramework("f1", Spec({"*"}), {}, true);
  auto offers = allocator_.Allocate();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].framework, "f1");
  EXPECT_EQ(offers[0].agent, "b-busy");
  EXPECT_EQ(offers[0].resources, R("cpus:1;mem:1024"));
  // One offer per framework role and step: the idle agent comes up only at
  // the next step, once the busy one has nothing left.
  auto next = allocator_.Allocate();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].agent, "a-idle");
}

TEST_F(BinPackTest, DeclinedBusyAgentMakesWayForTheNextOne) {
  allocator_.AddAgent("a-idle", Agent("cpus:4;mem:4096"));
  AgentSpec busy = Agent("cpus:4;mem:4096");
  busy.used["f0"] = R("cpus:3;mem:3072");
  allocator_.AddAgent("b-busy", busy);
  allocator_.AddFramework("f1", Spec({"*"}), {}, true);
  auto offers = allocator_.Allocate();
  ASSERT_EQ(offers.size(), 1u);
  allocator_.RecoverResources("f1", "b-busy", offers[0].resources, 5s);
  auto next = allocator_.Allocate();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].agent, "a-idle");
}

TEST_F(BinPackTest, RefusalFilterHidesAnAgentOnlyWhileItLasts) {
  allocator_.AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_.AddFramework("f1", Spec({"*"}), {}, true);
  auto offers = allocator_.Allocate();
  ASSERT_EQ(offers.size(), 1u);
  allocator_.RecoverResources("f1", "a1", offers[0].resources, 5s);
  EXPECT_TRUE(allocator_.Allocate().empty());
  now_ += 6s;
  auto next = allocator_.Allocate();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].resources, R("cpus:4;mem:4096"));
}

TEST_F(BinPackTest, EqualFrameworksTakeTurns) {
  allocator_.AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_.AddFramework("f1", Spec({"*"}), {}, true);
  allocator_.AddFramework("f2", Spec({"*"}), {}, true);
  std::map<FrameworkId, int> count;
  for (int i = 0; i < 4; ++i) {
    for (const auto& o : allocator_.Allocate()) {
      count[o.framework]++;
      allocator_.RecoverResources(o.framework, o.agent, o.resources, std::nullopt);
    }
  }
  EXPECT_EQ(count["f1"], 2);
  EXPECT_EQ(count["f2"], 2);
}

}  // namespace
}  // namespace keel::modules
