// The master's registry by its API: batched changes never wait for the disk,
// reach it soon after, and survive a reopening (a restart).
#include "kernel/master/registry.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "tests/support/subprocess.hpp"

namespace keel::master {
namespace {

using namespace std::chrono_literals;

internal::AdmittedAgent AgentRecord(int n) {
  internal::AdmittedAgent a;
  a.mutable_id()->set_value("20261201-S" + std::to_string(n));
  a.set_hostname("host-" + std::to_string(n));
  a.set_port(5051);
  a.set_ip("10.0." + std::to_string(n / 256 % 256) + "." + std::to_string(n % 256));
  a.set_registered_time(1.7e9 + n);
  return a;
}

v1::FrameworkInfo FrameworkRecord(const std::string& id) {
  v1::FrameworkInfo f;
  f.set_user("u");
  f.set_name("n");
  f.mutable_id()->set_value(id);
  f.set_failover_timeout(600);
  f.add_capabilities()->set_type(v1::FrameworkInfo::Capability::PARTITION_AWARE);
  return f;
}

// The registry in `dir`, opened and writing through `io` (held by pointer:
// it must not move once started).
std::unique_ptr<Registry> Started(const std::string& dir, boost::asio::io_context& io) {
  auto opened = Registry::Open(dir);
  EXPECT_TRUE(opened.ok()) << opened.status().message();
  if (!opened.ok()) return nullptr;
  auto registry = std::make_unique<Registry>(std::move(opened).value());
  registry->Start(io);
  return registry;
}

// Runs `io` until `registry.json` in `dir` reopens with `agents` agents.
bool RunUntilWritten(boost::asio::io_context& io, const std::string& dir, size_t agents) {
  for (int i = 0; i < 300; ++i) {
    io.restart();
    io.run_for(100ms);  // returns at once when nothing is due
    std::this_thread::sleep_for(50ms);
    auto reopened = Registry::Open(dir);
    if (reopened.ok() && reopened->agents().size() == agents) return true;
  }
  return false;
}

TEST(MasterRegistryTest, FiftyThousandAdmissionsWaitForNoDiskAndAreWrittenInBatches) {
  test::TempDir dir;
  boost::asio::io_context io;
  auto registry = Started(dir.path(), io);
  ASSERT_TRUE(registry);
  const auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < 50000; ++n) registry->AdmitAgent(AgentRecord(n));
  registry->AddFramework(FrameworkRecord("F1"));
  const auto took = std::chrono::steady_clock::now() - start;
  // No admission wrote the file: they are batched, and the batch waits for
  // the io loop.
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/registry.json"));
  EXPECT_LT(took, 2s);

  ASSERT_TRUE(RunUntilWritten(io, dir.path(), 50000));
  auto reopened = Registry::Open(dir.path());
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  EXPECT_EQ(reopened->agents().at("20261201-S49999")->hostname(), "host-49999");
  ASSERT_EQ(reopened->frameworks().size(), 1u);
  EXPECT_EQ(reopened->frameworks().at("F1")->failover_timeout(), 600);
  EXPECT_EQ(registry->failed_writes(), 0u);
}

TEST(MasterRegistryTest, APolicyChangeIsWrittenAtOnceWithTheBatchedChanges) {
  test::TempDir dir;
  boost::asio::io_context io;
  auto registry = Started(dir.path(), io);
  ASSERT_TRUE(registry);
  registry->AdmitAgent(AgentRecord(1));
  ASSERT_TRUE(registry->SetWeights({{"eng", 2.0}}).ok());
  // Not run the io loop: the policy's write carried the agent.
  auto reopened = Registry::Open(dir.path());
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  EXPECT_EQ(reopened->weights().at("eng"), 2.0);
  EXPECT_EQ(reopened->agents().size(), 1u);
}

TEST(MasterRegistryTest, UnwrittenChangesAreWrittenWhenTheRegistryCloses) {
  test::TempDir dir;
  {
    boost::asio::io_context io;
    auto registry = Started(dir.path(), io);
    ASSERT_TRUE(registry);
    registry->AdmitAgent(AgentRecord(7));
    registry->AddFramework(FrameworkRecord("F1"));
    registry->AddFramework(FrameworkRecord("F2"));
    registry->RemoveFramework("F1");
  }
  auto reopened = Registry::Open(dir.path());
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  EXPECT_EQ(reopened->agents().count("20261201-S7"), 1u);
  ASSERT_EQ(reopened->frameworks().size(), 1u);
  EXPECT_EQ(reopened->frameworks().count("F2"), 1u);
}

}  // namespace
}  // namespace keel::master
