#include "modules/allocator/drf/hierarchical_drf_allocator.hpp"

#include <gtest/gtest.h>

#include "tests/support/allocator_builders.hpp"

namespace keel::modules {
namespace {

using namespace std::chrono_literals;
using test::Agent;
using test::R;
using test::Spec;

class DrfTest : public ::testing::Test {
 protected:
  DrfTest() : allocator_(AllocatorOptions{}, [this] { return now_; }) {}

  std::chrono::steady_clock::time_point now_{};
  HierarchicalDrfAllocator allocator_;
};

TEST_F(DrfTest, SingleFrameworkGetsTheWholeAgent) {
  allocator_.AddAgent("a1", Agent("cpus:4;mem:4096;ports:[31000-32000]"));
  allocator_.AddFramework("f1", Spec({"*"}), {}, true);
  auto offers = allocator_.Allocate();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].framework, "f1");
  EXPECT_EQ(offers[0].agent, "a1");
  EXPECT_EQ(offers[0].role, "*");
  EXPECT_EQ(offers[0].resources, R("cpus:4;mem:4096;ports:[31000-32000]"));
  // Allocated until recovered: nothing more to offer.
  EXPECT_TRUE(allocator_.Allocate().empty());
  allocator_.RecoverResources("f1", "a1", R("cpus:4;mem:4096;ports:[31000-32000]"), 0s);
  EXPECT_EQ(allocator_.Allocate().size(), 1u);
}

TEST_F(DrfTest, TwoFrameworksSplitAgentsByDominantShare) {
  test::AddAgents(allocator_, 10, "cpus:1;mem:1024");
  allocator_.AddFramework("f1", Spec({"*"}), {}, true);
  allocator_.AddFramework("f2", Spec({"*"}), {}, true);
  auto count = test::OffersPerFramework(allocator_.Allocate());
  EXPECT_EQ(count["f1"], 5);
  EXPECT_EQ(count["f2"], 5);
}

TEST_F(DrfTest, WeightsShiftTheSplit) {
  test::AddAgents(allocator_, 9, "cpus:1;mem:1024");
  allocator_.AddFramework("f1", Spec({"heavy"}), {}, true);
  allocator_.AddFramework("f2", Spec({"light"}), {}, true);
  allocator_.UpdateWeights({{"heavy", 2.0}});
  auto count = test::OffersPerFramework(allocator_.Allocate());
  EXPECT_EQ(count["f1"], 6);
  EXPECT_EQ(count["f2"], 3);
}

TEST_F(DrfTest, HierarchicalRolesShareAtTheTopFirst) {
  test::AddAgents(allocator_, 8, "cpus:1;mem:1024");
  allocator_.AddFramework("eng-a", Spec({"eng/a"}), {}, true);
  allocator_.AddFramework("eng-b", Spec({"eng/b"}), {}, true);
  allocator_.AddFramework("ops", Spec({"ops"}), {}, true);
  auto count = test::OffersPerFramework(allocator_.Allocate());
  // eng and ops split the cluster; eng's half is split between a and b.
  EXPECT_EQ(count["ops"], 4);
  EXPECT_EQ(count["eng-a"], 2);
  EXPECT_EQ(count["eng-b"], 2);
}

TEST_F(DrfTest, DominantShareDecidesNotCount) {
  allocator_.AddAgent("a1", Agent("cpus:10;mem:100"));
  allocator_.AddFramework("cpu-heavy", Spec({"*"}), {{"a1", R("cpus:5")}}, true);
  allocator_.AddFramework("mem-light", Spec({"*"}), {{"a1", R("mem:10")}}, true);
  auto offers = allocator_.Allocate();
  ASSERT_EQ(offers.size(), 1u);
  // 50% cpu vs 10% mem: the lighter framework is offered the rest.
  EXPECT_EQ(offers[0].framework, "mem-light");
  EXPECT_EQ(offers[0].resources, R("cpus:5;mem:90"));
}

TEST_F(DrfTest, ReservedResourcesGoOnlyToTheirRole) {
  allocator_.AddAgent("a1", Agent("cpus(eng):2;mem(eng):512"));
  allocator_.AddFramework("other", Spec({"ops"}), {}, true);
  EXPECT_TRUE(allocator_.Allocate().empty());
  allocator_.AddFramework("eng", Spec({"eng"}), {}, true);
  auto offers = allocator_.Allocate();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].framework, "eng");
  EXPECT_EQ(offers[0].resources, R("cpus(eng):2;mem(eng):512"));
}

TEST_F(DrfTest, RefusalFilterHoldsUntilExpiryAndReviveClearsIt) {
  allocator_.AddAgent("a1", Agent("cpus:1;mem:1024"));
  allocator_.AddFramework("f1", Spec({"*"}), {}, true);
  auto offers = allocator_.Allocate();
  ASSERT_EQ(offers.size(), 1u);
  allocator_.RecoverResources("f1", "a1", offers[0].resources, 5s);
  EXPECT_TRUE(allocator_.Allocate().empty());
  now_ += 4s;
  EXPECT_TRUE(allocator_.Allocate().empty());
  now_ += 2s;
  offers = allocator_.Allocate();
  ASSERT_EQ(offers.size(), 1u);
  allocator_.RecoverResources("f1", "a1", offers[0].resources, 1h);
  EXPECT_TRUE(allocator_.Allocate().empty());
  allocator_.Revive("f1", {});
  EXPECT_EQ(allocator_.Allocate().size(), 1u);
}

TEST_F(DrfTest, FilteredFrameworkLetsTheNextOneHaveIt) {
  allocator_.AddAgent("a1", Agent("cpus:1;mem:1024"));
  allocator_.AddFramework("f1", Spec({"*"}), {}, true);
  auto first = allocator_.Allocate();
  ASSERT_EQ(first.size(), 1u);
  allocator_.AddFramework("f2", Spec({"*"}), {}, true);
  allocator_.RecoverResources(first[0].framework, "a1", first[0].resources, 1h);
  auto second = allocator_.Allocate();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].framework, "f2");
}

TEST_F(DrfTest, SuppressedAndInactiveFrameworksGetNothing) {
  allocator_.AddAgent("a1", Agent("cpus:1;mem:1024"));
  allocator_.AddFramework("f1", Spec({"*"}), {}, false);
  EXPECT_TRUE(allocator_.Allocate().empty());
  allocator_.ActivateFramework("f1");
  allocator_.Suppress("f1", {});
  EXPECT_TRUE(allocator_.Allocate().empty());
  allocator_.Revive("f1", {"*"});
  EXPECT_EQ(allocator_.Allocate().size(), 1u);
}

TEST_F(DrfTest, LeftoverBelowMinimumIsNotOffered) {
  allocator_.AddAgent("a1", Agent("cpus:0.005;mem:16;disk:100"));
  allocator_.AddFramework("f1", Spec({"*"}), {}, true);
  EXPECT_TRUE(allocator_.Allocate().empty());
  allocator_.UpdateAgent("a1", R("cpus:0.005;mem:32"));
  EXPECT_EQ(allocator_.Allocate().size(), 1u);
}

TEST_F(DrfTest, QuotaLimitIsNeverExceeded) {
  test::AddAgents(allocator_, 4, "cpus:4;mem:4096");
  allocator_.AddFramework("f1", Spec({"capped"}), {}, true);
  allocator_.UpdateQuota("capped", Quota{Resources(), R("cpus:6")});
  Resources total;
  for (const auto& o : allocator_.Allocate()) total += o.resources;
  EXPECT_EQ(total.GetScalar("cpus"), Scalar::FromDouble(6));
}

TEST_F(DrfTest, QuotaGuaranteeComesFirst) {
  allocator_.AddAgent("a1", Agent("cpus:1;mem:1024"));
  allocator_.AddAgent("a2", Agent("cpus:1;mem:1024"));
  allocator_.AddFramework("big", Spec({"big"}), {}, true);
  allocator_.AddFramework("guaranteed", Spec({"zz-guaranteed"}), {}, true);
  allocator_.UpdateWeights({{"big", 100}});
  allocator_.UpdateQuota("zz-guaranteed", Quota{R("cpus:1"), Resources()});
  auto count = test::OffersPerFramework(allocator_.Allocate());
  EXPECT_EQ(count["guaranteed"], 1);
  EXPECT_EQ(count["big"], 1);
}

TEST_F(DrfTest, GpuAgentsOnlyForGpuFrameworks) {
  allocator_.AddAgent("gpu", Agent("cpus:4;mem:4096;gpus:1"));
  allocator_.AddFramework("plain", Spec({"*"}), {}, true);
  EXPECT_TRUE(allocator_.Allocate().empty());
  allocator_.AddFramework("ml", Spec({"*"}, {"GPU_RESOURCES"}), {}, true);
  auto offers = allocator_.Allocate();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].framework, "ml");
}

TEST_F(DrfTest, RemovingAnAgentOrFrameworkForgetsItsResources) {
  allocator_.AddAgent("a1", Agent("cpus:1;mem:1024"));
  allocator_.AddFramework("f1", Spec({"*"}), {}, true);
  ASSERT_EQ(allocator_.Allocate().size(), 1u);
  allocator_.RemoveFramework("f1");
  allocator_.AddFramework("f2", Spec({"*"}), {}, true);
  auto offers = allocator_.Allocate();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].framework, "f2");
  allocator_.RemoveAgent("a1");
  EXPECT_TRUE(allocator_.Allocated("f2", "*").empty());
  EXPECT_TRUE(allocator_.Allocate().empty());
}

TEST_F(DrfTest, MultiRoleFrameworkIsOfferedPerRole) {
  allocator_.AddAgent("a1", Agent("cpus:1;mem:1024"));
  allocator_.AddAgent("a2", Agent("cpus(b):1;mem(b):1024"));
  allocator_.AddFramework("f1", test::MultiRole({"a", "b"}), {}, true);
  std::set<std::string> roles;
  for (const auto& o : allocator_.Allocate()) roles.insert(o.role);
  EXPECT_EQ(roles, (std::set<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace keel::modules
