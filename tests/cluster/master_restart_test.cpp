// A master that restarts on the same address: its schedulers and agents find
// it again on their own, and the cluster carries on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "tests/cluster/cluster_fixture.hpp"

namespace keel::test {
namespace {

// Index of the `n`th event of `type` (from 1), if there are that many.
std::optional<size_t> NthEvent(const std::vector<Event>& events, Event::Type type, int n) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].type() == type && --n == 0) return i;
  }
  return std::nullopt;
}

// Subscribes a framework with a failover timeout, restarts the master, and
// expects the framework back under its id with offers from the same agent.
void ExpectClusterRecoversFromMasterRestart(ClusterOptions options) {
  LocalCluster cluster(std::move(options));
  FrameworkOptions framework_options;
  framework_options.failover_timeout = 60;
  TestFramework framework(cluster.master_address(), framework_options);
  auto offer = framework.TakeOffer();
  ASSERT_TRUE(offer) << cluster.master->Stderr() << cluster.agent->Stderr();
  const std::string id = framework.client().framework_id();
  ASSERT_FALSE(id.empty());
  // The master offers the agent as soon as it admits it, before its answer
  // reaches the agent; a restart in between would leave the agent without
  // an id to re-register under.
  const std::string agent_id_file = cluster.agent_work_dir() + "/agent_id";
  for (int i = 0; i < 500 && ReadFile(agent_id_file).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(ReadFile(agent_id_file), offer->agent_id().value() + "\n");

  cluster.RestartMaster();

  // The new master has no record of the framework; the client's SUBSCRIBE
  // carries the id it had, and keeping it is what lets tasks survive.
  ASSERT_TRUE(framework.WaitFor([](const std::vector<Event>& events) {
    return NthEvent(events, Event::SUBSCRIBED, 2).has_value();
  })) << cluster.master->Stderr();
  const auto events = framework.events();
  const size_t resubscribed = *NthEvent(events, Event::SUBSCRIBED, 2);
  EXPECT_EQ(events[resubscribed].subscribed().framework_id().value(), id);
  EXPECT_EQ(framework.client().framework_id(), id);

  // Offers come only from agents the new master knows: the agent has
  // registered again, under the id it had.
  std::optional<v1::Offer> again;
  ASSERT_TRUE(framework.WaitFor([&](const std::vector<Event>& events) {
    for (size_t i = resubscribed + 1; i < events.size(); ++i) {
      if (events[i].type() == Event::OFFERS && events[i].offers().offers_size() > 0) {
        again = events[i].offers().offers(0);
        return true;
      }
    }
    return false;
  })) << cluster.master->Stderr()
      << cluster.agent->Stderr();
  EXPECT_EQ(again->agent_id().value(), offer->agent_id().value())
      << cluster.master->Stderr() << cluster.agent->Stderr();
}

TEST(MasterRestartTest, SchedulerResubscribesUnderItsFrameworkIdAndGetsOffersAgain) {
  // A fixed transport endpoint, as a site with fixed ports has: the agent's
  // transport reconnects to the endpoint it learnt before the restart.
  ClusterOptions options = FastCluster();
  options.master_flags.push_back("--transport_endpoint=tcp://127.0.0.1:" +
                                 std::to_string(FreePort()));
  ExpectClusterRecoversFromMasterRestart(std::move(options));
}

// The default endpoint (port 0): the restarted master's transport listens
// on another port, which the agent learns by asking GET /master/transport
// again when it loses the link.
TEST(MasterRestartTest, AgentFollowsTheTransportEndpointOfTheRestartedMaster) {
  ExpectClusterRecoversFromMasterRestart(FastCluster());
}

}  // namespace
}  // namespace keel::test
