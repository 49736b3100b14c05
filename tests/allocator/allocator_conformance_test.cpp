// The contract of keel/allocator.hpp, asserted against every allocator: the
// built-ins and the SDK template's (loaded as a module, on the real clock).
// Allocators differ in how many offers one step makes (drf hands out every
// agent, binpack serves each framework role once, round-robin caps offers
// per step), so the assertions hold for any number of offers per step: they
// look at who gets what, never at how much arrives in one step.
//
// Filter durations are hundreds of milliseconds: the real-clock allocator
// really waits them out.
#include <gtest/gtest.h>

#include "tests/allocator/allocator_under_test.hpp"
#include "tests/support/allocator_builders.hpp"

namespace keel {
namespace {

using namespace std::chrono_literals;
using test::Agent;
using test::MultiRole;
using test::R;
using test::Spec;

class AllocatorConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  AllocatorConformanceTest() : allocator_(GetParam()) {}

  std::vector<Allocation> AllocateUntilQuiet() { return test::AllocateUntilQuiet(*allocator_); }
  void RecoverAll(const std::vector<Allocation>& offers) { test::RecoverAll(*allocator_, offers); }

  test::AllocatorUnderTest allocator_;
};

TEST_P(AllocatorConformanceTest, OffersOnlyActiveFrameworks) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  allocator_->AddFramework("f2", Spec({"*"}), {}, false);
  auto offers = AllocateUntilQuiet();
  ASSERT_FALSE(offers.empty());
  for (const auto& o : offers) EXPECT_EQ(o.framework, "f1");
  RecoverAll(offers);

  allocator_->DeactivateFramework("f1");
  EXPECT_TRUE(allocator_->Allocate().empty());

  allocator_->ActivateFramework("f2");
  offers = AllocateUntilQuiet();
  ASSERT_FALSE(offers.empty());
  for (const auto& o : offers) EXPECT_EQ(o.framework, "f2");
}

TEST_P(AllocatorConformanceTest, DeactivatedOrRemovedAgentIsNotOffered) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_->AddAgent("a2", Agent("cpus:4;mem:4096"));
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  allocator_->DeactivateAgent("a1");
  auto offers = AllocateUntilQuiet();
  ASSERT_FALSE(offers.empty());
  for (const auto& o : offers) EXPECT_EQ(o.agent, "a2");
  RecoverAll(offers);

  allocator_->ActivateAgent("a1");
  allocator_->RemoveAgent("a2");
  offers = AllocateUntilQuiet();
  ASSERT_FALSE(offers.empty());
  for (const auto& o : offers) EXPECT_EQ(o.agent, "a1");
}

TEST_P(AllocatorConformanceTest, AllocatedResourcesAreNotOfferedTwiceUntilRecovered) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096;ports:[31000-32000]"));
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  allocator_->AddFramework("f2", Spec({"*"}), {}, true);
  auto offers = allocator_->Allocate();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].agent, "a1");
  EXPECT_EQ(offers[0].resources, R("cpus:4;mem:4096;ports:[31000-32000]"));
  EXPECT_TRUE(AllocateUntilQuiet().empty());

  // Recovered without a filter: offered again at the very next step.
  allocator_->RecoverResources(offers[0].framework, "a1", offers[0].resources, std::nullopt);
  auto again = allocator_->Allocate();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].resources, offers[0].resources);
}

TEST_P(AllocatorConformanceTest, PartialRecoveryOffersOnlyWhatCameBack) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  auto offers = allocator_->Allocate();
  ASSERT_EQ(offers.size(), 1u);
  allocator_->RecoverResources("f1", "a1", R("cpus:1;mem:1024"), 0s);
  auto again = allocator_->Allocate();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].resources, R("cpus:1;mem:1024"));
}

TEST_P(AllocatorConformanceTest, ResourcesOfARemovedFrameworkAreOfferedAgain) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  ASSERT_FALSE(AllocateUntilQuiet().empty());
  allocator_->RemoveFramework("f1");
  allocator_->AddFramework("f2", Spec({"*"}), {}, true);
  auto offers = AllocateUntilQuiet();
  Resources to_f2;
  for (const auto& o : offers) {
    EXPECT_EQ(o.framework, "f2");
    to_f2 += o.resources;
  }
  EXPECT_EQ(to_f2, R("cpus:4;mem:4096"));
}

TEST_P(AllocatorConformanceTest, RefusalFilterHoldsUntilExpiry) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  auto offers = allocator_->Allocate();
  ASSERT_EQ(offers.size(), 1u);
  allocator_->RecoverResources("f1", "a1", offers[0].resources, 500ms);
  EXPECT_TRUE(allocator_->Allocate().empty());
  allocator_.Advance(250ms);
  EXPECT_TRUE(allocator_->Allocate().empty());
  allocator_.Advance(350ms);
  auto again = allocator_->Allocate();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].framework, "f1");
}

TEST_P(AllocatorConformanceTest, RefusalFilterLeavesOtherFrameworksAlone) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  allocator_->AddFramework("f2", Spec({"*"}), {}, true);
  auto offers = allocator_->Allocate();
  ASSERT_EQ(offers.size(), 1u);
  const FrameworkId refuser = offers[0].framework;
  const FrameworkId other = refuser == "f1" ? "f2" : "f1";
  allocator_->RecoverResources(refuser, "a1", offers[0].resources, 500ms);
  auto next = allocator_->Allocate();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].framework, other);
  // Back from the other framework, the agent is still hidden from the refuser.
  allocator_->RecoverResources(other, "a1", next[0].resources, std::nullopt);
  allocator_->DeactivateFramework(other);
  EXPECT_TRUE(allocator_->Allocate().empty());
  allocator_.Advance(600ms);
  auto after = allocator_->Allocate();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].framework, refuser);
}

TEST_P(AllocatorConformanceTest, LaterShorterFilterDoesNotShortenAnEarlierOne) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  ASSERT_EQ(allocator_->Allocate().size(), 1u);
  // Half refused for an hour goes to f2...
  allocator_->RecoverResources("f1", "a1", R("cpus:2;mem:2048"), 1h);
  allocator_->AddFramework("f2", Spec({"*"}), {}, true);
  auto to_f2 = AllocateUntilQuiet();
  ASSERT_EQ(to_f2.size(), 1u);
  EXPECT_EQ(to_f2[0].framework, "f2");
  allocator_->DeactivateFramework("f2");
  // ...then the other half is refused briefly: once that brief filter is
  // over, the hour-long one still covers what is free.
  allocator_->RecoverResources("f1", "a1", R("cpus:2;mem:2048"), 100ms);
  allocator_.Advance(200ms);
  EXPECT_TRUE(AllocateUntilQuiet().empty());
}

TEST_P(AllocatorConformanceTest, SuppressStopsOffersAndReviveResumesThem) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  allocator_->Suppress("f1", {});
  EXPECT_TRUE(allocator_->Allocate().empty());
  allocator_->Revive("f1", {});
  EXPECT_EQ(allocator_->Allocate().size(), 1u);
}

TEST_P(AllocatorConformanceTest, FrameworkSubscribedSuppressedGetsNothingUntilRevived) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  FrameworkSpec spec = Spec({"eng"});
  spec.suppressed_roles = {"eng"};
  allocator_->AddFramework("f1", spec, {}, true);
  EXPECT_TRUE(AllocateUntilQuiet().empty());
  allocator_->Revive("f1", {"eng"});
  EXPECT_FALSE(AllocateUntilQuiet().empty());
}

TEST_P(AllocatorConformanceTest, SuppressOneRoleLeavesTheOther) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_->AddFramework("f1", MultiRole({"eng", "ops"}), {}, true);
  allocator_->Suppress("f1", {"eng"});
  auto offers = AllocateUntilQuiet();
  ASSERT_FALSE(offers.empty());
  for (const auto& o : offers) EXPECT_EQ(o.role, "ops");
  RecoverAll(offers);
  allocator_->Suppress("f1", {"ops"});
  EXPECT_TRUE(allocator_->Allocate().empty());
  allocator_->Revive("f1", {"eng"});
  offers = AllocateUntilQuiet();
  ASSERT_FALSE(offers.empty());
  for (const auto& o : offers) EXPECT_EQ(o.role, "eng");
}

TEST_P(AllocatorConformanceTest, ReviveClearsRefusalFilters) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  auto offers = allocator_->Allocate();
  ASSERT_EQ(offers.size(), 1u);
  allocator_->RecoverResources("f1", "a1", offers[0].resources, 1h);
  EXPECT_TRUE(allocator_->Allocate().empty());
  allocator_->Revive("f1", {});
  EXPECT_EQ(allocator_->Allocate().size(), 1u);
}

TEST_P(AllocatorConformanceTest, ReviveOfOneRoleKeepsTheOtherRolesFilters) {
  allocator_->AddAgent("a1", Agent("cpus:4;mem:4096"));
  allocator_->AddFramework("f1", MultiRole({"eng", "ops"}), {}, true);
  // Refused in whichever role it came, for an hour; the other role is
  // suppressed, so the refused role is the only one that could be offered.
  auto offers = allocator_->Allocate();
  ASSERT_EQ(offers.size(), 1u);
  const std::string refused = offers[0].role;
  const std::string other = refused == "eng" ? "ops" : "eng";
  allocator_->RecoverResources("f1", "a1", offers[0].resources, 1h);
  allocator_->Suppress("f1", {other});
  EXPECT_TRUE(AllocateUntilQuiet().empty());
  // Reviving the other role clears its filters only, and unsuppresses it.
  allocator_->Revive("f1", {other});
  offers = AllocateUntilQuiet();
  ASSERT_FALSE(offers.empty());
  for (const auto& o : offers) EXPECT_EQ(o.role, other);
}

TEST_P(AllocatorConformanceTest, ReservedResourcesGoOnlyToTheirRole) {
  allocator_->AddAgent("a1", Agent("cpus:2;mem:1024;cpus(eng):1"));
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  auto offers = AllocateUntilQuiet();
  ASSERT_FALSE(offers.empty());
  for (const auto& o : offers) {
    EXPECT_TRUE(o.resources.ReservedFor("eng").empty()) << o.resources.ToString();
  }

  allocator_->AddFramework("f2", Spec({"eng"}), {}, true);
  allocator_->AddFramework("f3", Spec({"ops"}), {}, true);
  auto more = AllocateUntilQuiet();
  Resources to_eng;
  for (const auto& o : more) {
    if (o.role == "eng") {
      EXPECT_EQ(o.framework, "f2");
      to_eng += o.resources.ReservedFor("eng");
    } else {
      EXPECT_TRUE(o.resources.ReservedFor("eng").empty()) << o.resources.ToString();
    }
  }
  EXPECT_EQ(to_eng, R("cpus(eng):1"));
}

TEST_P(AllocatorConformanceTest, QuotaLimitIsNeverExceeded) {
  test::AddAgents(*allocator_, 3, "cpus:4;mem:1024");
  allocator_->AddFramework("f1", Spec({"capped"}), {}, true);
  allocator_->UpdateQuota("capped", Quota{Resources(), R("cpus:6")});
  Scalar cpus;
  for (int i = 0; i < 10; ++i) {
    for (const auto& o : allocator_->Allocate()) {
      EXPECT_EQ(o.role, "capped");
      cpus += o.resources.GetScalar("cpus");
    }
    EXPECT_LE(cpus, Scalar::FromMillis(6000)) << "after step " << i;
  }
  // The limit caps, it does not starve: the role gets up to it.
  EXPECT_EQ(cpus, Scalar::FromMillis(6000));
}

TEST_P(AllocatorConformanceTest, QuotaLimitOfARoleCapsItsDescendants) {
  test::AddAgents(*allocator_, 3, "cpus:4;mem:1024");
  allocator_->AddFramework("x", Spec({"eng/x"}), {}, true);
  allocator_->AddFramework("y", Spec({"eng/y"}), {}, true);
  allocator_->UpdateQuota("eng", Quota{Resources(), R("cpus:6")});
  Scalar cpus;
  for (const auto& o : AllocateUntilQuiet()) cpus += o.resources.GetScalar("cpus");
  EXPECT_EQ(cpus, Scalar::FromMillis(6000));
}

INSTANTIATE_TEST_SUITE_P(Allocators, AllocatorConformanceTest,
                         ::testing::ValuesIn(test::AllAllocators()),
                         [](const auto& info) { return test::AllocatorTestName(info.param); });

// The built-ins' shared options (AllocatorOptions): the template has no
// minimum offer size.
using BuiltInAllocatorTest = AllocatorConformanceTest;

TEST_P(BuiltInAllocatorTest, ChunksBelowMinAllocatableAreNotOffered) {
  // Default minimum cpus:0.01 or mem:32; what is left free is below both.
  AgentSpec agent = Agent("cpus:1;mem:64");
  agent.used["f0"] = R("cpus:0.995;mem:40");
  allocator_->AddAgent("a1", agent);
  allocator_->AddFramework("f1", Spec({"*"}), {}, true);
  EXPECT_TRUE(allocator_->Allocate().empty());

  // A framework's own smaller minimum overrides the allocator's.
  FrameworkSpec small = Spec({"*"});
  small.min_allocatable = R("cpus:0.001");
  allocator_->AddFramework("f2", small, {}, true);
  auto offers = allocator_->Allocate();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].framework, "f2");
  EXPECT_EQ(offers[0].resources, R("cpus:0.005;mem:24"));
}

INSTANTIATE_TEST_SUITE_P(Allocators, BuiltInAllocatorTest,
                         ::testing::ValuesIn(test::BuiltInAllocators()),
                         [](const auto& info) { return test::AllocatorTestName(info.param); });

}  // namespace
}  // namespace keel
