// Offers a framework sits on are rescinded after the master's offer_timeout
// and offered again; explicit reconciliation answers for unknown tasks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cluster/cluster_fixture.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;

TEST(OffersTest, HeldOffersAreRescindedAfterTheOfferTimeout) {
  ClusterOptions options = FastCluster();
  options.master_flags.push_back("--offer_timeout=500ms");
  LocalCluster cluster(options);
  TestFramework framework(cluster.master_address());
  auto first = framework.TakeOffer();
  ASSERT_TRUE(first);
  const auto offered = std::chrono::steady_clock::now();
  ASSERT_TRUE(framework.WaitFor(
      [&](const std::vector<Event>& events) {
        for (const auto& e : events) {
          if (e.type() == Event::RESCIND && e.rescind().offer_id().value() == first->id().value()) {
            return true;
          }
        }
        return false;
      },
      10s));
  EXPECT_GE(std::chrono::steady_clock::now() - offered, 400ms);
  auto again = framework.TakeOffer();
  ASSERT_TRUE(again);
  EXPECT_NE(again->id().value(), first->id().value());
  EXPECT_EQ(again->agent_id().value(), first->agent_id().value());

  // A rescinded offer cannot be used.
  ASSERT_TRUE(framework.Launch(*first, TestFramework::CommandTask("stale", *first, "true")).ok());
  auto lost = framework.WaitForState("stale", v1::TASK_LOST);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->reason(), v1::TaskStatus::REASON_INVALID_OFFERS);
}

TEST(OffersTest, ExplicitReconciliationOfUnknownTasks) {
  LocalCluster cluster(FastCluster());
  FrameworkOptions aware;
  aware.partition_aware = true;
  TestFramework framework(cluster.master_address(), aware);
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer);
  v1::TaskStatus on_agent, nowhere;
  on_agent.mutable_task_id()->set_value("never-launched");
  *on_agent.mutable_agent_id() = offer->agent_id();
  nowhere.mutable_task_id()->set_value("no-agent");
  nowhere.mutable_agent_id()->set_value("no-such-agent");
  ASSERT_TRUE(framework.client().Reconcile({on_agent, nowhere}).ok());
  auto gone = framework.WaitForState("never-launched", v1::TASK_GONE);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->reason(), v1::TaskStatus::REASON_RECONCILIATION);
  EXPECT_FALSE(gone->has_uuid());
  EXPECT_TRUE(framework.WaitForState("no-agent", v1::TASK_UNKNOWN));

  // A framework that is not partition-aware hears TASK_LOST for both.
  TestFramework plain(cluster.master_address());
  ASSERT_TRUE(plain.WaitFor([](const std::vector<Event>& e) { return !e.empty(); }));
  ASSERT_TRUE(plain.client().Reconcile({on_agent, nowhere}).ok());
  EXPECT_TRUE(plain.WaitForState("never-launched", v1::TASK_LOST));
  EXPECT_TRUE(plain.WaitForState("no-agent", v1::TASK_LOST));
}

}  // namespace
}  // namespace keel::test
