#include "modules/isolator/cgroups_cpu/cgroups_cpu_isolator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "modules/isolator/cgroups/tests/cgroups_test_support.hpp"

namespace keel::modules {
namespace {

using namespace cgroups_test;

ContainerConfig Config(const std::string& resources) {
  ContainerConfig c;
  c.resources = *Resources::Parse(resources);
  return c;
}

TEST(CgroupsCpuIsolatorTest, SharesQuotaAndWeightFollowMesosAndSystemd) {
  EXPECT_EQ(CpuSharesFor(1000), 1024u);
  EXPECT_EQ(CpuSharesFor(1500), 1536u);
  EXPECT_EQ(CpuSharesFor(1), 2u);  // 0.001 cpus: the kernel's minimum
  EXPECT_EQ(CfsQuotaUsFor(1500), 150000u);
  EXPECT_EQ(CfsQuotaUsFor(1), 1000u);  // at least 1 ms per period
  EXPECT_EQ(CpuWeightForShares(2), 1u);
  EXPECT_EQ(CpuWeightForShares(1024), 100u);  // one cpu weighs as the default
  EXPECT_EQ(CpuWeightForShares(1536), 150u);
  EXPECT_EQ(CpuWeightForShares(262144), 10000u);
}

TEST(CgroupsCpuIsolatorTest, WritesSharesAndQuotaAndMeasuresCpuTime) {
  FakeContext context("cgroups/cpu");
  context.mutable_parameters().Set("cfs_quota", true);
  KEEL_MAKE_ISOLATOR_OR_SKIP(isolator, CgroupsCpuIsolator, context);
  const std::string id = UniqueId("cpu");
  auto cpu = FindController("/sys/fs/cgroup", "cpu");
  ASSERT_TRUE(cpu.ok());
  const std::string dir = cpu->mount_point + "/keel/" + id;
  const bool v2 = cpu->version == CgroupVersion::kV2;
  const std::string acct_dir =
      v2 ? dir : FindController("/sys/fs/cgroup", "cpuacct")->mount_point + "/keel/" + id;

  ASSERT_TRUE(isolator->Prepare(id, Config("cpus:1.5;mem:64")).ok());
  if (v2) {
    EXPECT_EQ(ReadFileText(dir + "/cpu.weight"), "150");
    EXPECT_EQ(ReadFileText(dir + "/cpu.max"), "150000 100000");
  } else {
    EXPECT_EQ(ReadFileText(dir + "/cpu.shares"), "1536");
    EXPECT_EQ(ReadFileText(dir + "/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(ReadFileText(dir + "/cpu.cfs_quota_us"), "150000");
    EXPECT_TRUE(DirectoryExists(acct_dir));
  }

  TestChild spinner([](int) {
    volatile uint64_t spin = 0;
    for (;;) spin = spin + 1;
  });
  ASSERT_TRUE(isolator->Isolate(id, spinner.pid()).ok());
  ASSERT_TRUE(spinner.Release());
  ResourceStatistics stats;
  EXPECT_TRUE(WaitUntil(
      [&] {
        stats = ResourceStatistics();
        EXPECT_TRUE(isolator->Usage(id, &stats).ok());
        return stats.cpus_user_time_secs + stats.cpus_system_time_secs >= 0.2;
      },
      5s))
      << "user " << stats.cpus_user_time_secs << " system " << stats.cpus_system_time_secs;
  EXPECT_DOUBLE_EQ(stats.cpus_limit.value_or(0), 1.5);
  EXPECT_GT(stats.timestamp, 1.7e9);

  ASSERT_TRUE(isolator->Update(id, *Resources::Parse("cpus:0.25")).ok());
  if (v2) {
    EXPECT_EQ(ReadFileText(dir + "/cpu.weight"), "25");
    EXPECT_EQ(ReadFileText(dir + "/cpu.max"), "25000 100000");
  } else {
    EXPECT_EQ(ReadFileText(dir + "/cpu.shares"), "256");
    EXPECT_EQ(ReadFileText(dir + "/cpu.cfs_quota_us"), "25000");
  }
  stats = ResourceStatistics();
  ASSERT_TRUE(isolator->Usage(id, &stats).ok());
  EXPECT_DOUBLE_EQ(stats.cpus_limit.value_or(0), 0.25);

  // Cleanup kills the spinner itself.
  ASSERT_TRUE(isolator->Cleanup(id).ok());
  EXPECT_NE(spinner.Wait(), -1);
  EXPECT_FALSE(DirectoryExists(dir));
  EXPECT_FALSE(DirectoryExists(acct_dir));
}

TEST(CgroupsCpuIsolatorTest, WithoutCfsQuotaOnlySharesAreWritten) {
  FakeContext context("cgroups/cpu");
  context.mutable_parameters().Set("cfs_quota", false);
  KEEL_MAKE_ISOLATOR_OR_SKIP(isolator, CgroupsCpuIsolator, context);
  const std::string id = UniqueId("cpu");
  auto cpu = FindController("/sys/fs/cgroup", "cpu");
  ASSERT_TRUE(cpu.ok());
  const std::string dir = cpu->mount_point + "/keel/" + id;

  ASSERT_TRUE(isolator->Prepare(id, Config("cpus:2")).ok());
  if (cpu->version == CgroupVersion::kV2) {
    EXPECT_EQ(ReadFileText(dir + "/cpu.weight"), "200");
    EXPECT_EQ(ReadFileText(dir + "/cpu.max"), "max 100000");
  } else {
    EXPECT_EQ(ReadFileText(dir + "/cpu.shares"), "2048");
    EXPECT_EQ(ReadFileText(dir + "/cpu.cfs_quota_us"), "-1");
  }
  ResourceStatistics stats;
  ASSERT_TRUE(isolator->Usage(id, &stats).ok());
  EXPECT_EQ(stats.cpus_user_time_secs + stats.cpus_system_time_secs, 0);  // nothing ran
  ASSERT_TRUE(isolator->Cleanup(id).ok());
  EXPECT_FALSE(DirectoryExists(dir));
}

}  // namespace
}  // namespace keel::modules
