#include "modules/isolator/cgroups/cgroup_layout.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace keel::modules {
namespace {

using ::testing::HasSubstr;

// CentOS 7: cgroup v1 only, cpu and cpuacct mounted together; the root
// file system is listed after /sys, as after an initramfs.
constexpr const char* kLegacy =
    "18 61 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw\n"
    "24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755\n"
    "25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup "
    "cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup "
    "cgroup rw,cpuacct,cpu\n"
    "29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup "
    "cgroup rw,memory\n"
    "30 24 0:26 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup "
    "rw,pids\n"
    "61 1 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/centos-root rw,attr2,inode64\n";

// Ubuntu 20.04 / Debian 10: the same v1 hierarchies plus an empty cgroup2.
constexpr const char* kHybrid =
    "35 24 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "36 35 0:31 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
    "cgroup2 rw,nsdelegate\n"
    "37 35 0:32 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup "
    "cgroup rw,xattr,name=systemd\n"
    "40 35 0:35 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup "
    "cgroup rw,cpu,cpuacct\n"
    "41 35 0:36 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:17 - cgroup "
    "cgroup rw,memory\n"
    "42 35 0:37 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup "
    "rw,pids\n";

// This project's test VM: cpu and cpuacct are separate mounts, and the
// directory /sys/fs/cgroup/cpu,cpuacct exists but is no mount.
constexpr const char* kSplitCpu =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs ro,size=4096k,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// Debian 12: cgroup v2 at the root.
constexpr const char* kUnified =
    "22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "26 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n"
    "28 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n";

ControllerMount Locate(const char* mountinfo, const char* controller,
                       std::string_view v2_controllers = "") {
  auto layout = DetectCgroupLayout(mountinfo, "/sys/fs/cgroup");
  EXPECT_TRUE(layout.ok()) << layout.status().ToString();
  if (!layout.ok()) return {};
  auto mount = LocateController(*layout, controller, v2_controllers);
  EXPECT_TRUE(mount.ok()) << mount.status().ToString();
  return mount.ok() ? *mount : ControllerMount{};
}

TEST(CgroupLayoutTest, LegacyHostHasEachControllerInItsV1Hierarchy) {
  auto layout = DetectCgroupLayout(kLegacy, "/sys/fs/cgroup");
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_EQ(layout->kind, CgroupLayoutKind::kLegacy);
  EXPECT_FALSE(layout->v2_mount.has_value());
  EXPECT_EQ(layout->v1_mounts.size(), 4u);
  EXPECT_TRUE(layout->v1_mounts.at("/sys/fs/cgroup/systemd").empty());

  for (const char* controller : {"cpu", "cpuacct"}) {
    ControllerMount m = Locate(kLegacy, controller);
    EXPECT_EQ(m.version, CgroupVersion::kV1);
    EXPECT_EQ(m.mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  }
  EXPECT_EQ(Locate(kLegacy, "memory").mount_point, "/sys/fs/cgroup/memory");
  EXPECT_EQ(Locate(kLegacy, "pids").mount_point, "/sys/fs/cgroup/pids");

  auto missing = LocateController(*layout, "hugetlb", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("controller 'hugetlb'"));
  EXPECT_THAT(missing.status().message(), HasSubstr("cgroups_hierarchy '/sys/fs/cgroup'"));
  EXPECT_THAT(missing.status().message(), HasSubstr("cpu,cpuacct"));
}

TEST(CgroupLayoutTest, HybridHostUsesV1AndTheUnifiedMountOnlyForWhatItLists) {
  auto layout = DetectCgroupLayout(kHybrid, "/sys/fs/cgroup");
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_EQ(layout->kind, CgroupLayoutKind::kHybrid);
  EXPECT_EQ(layout->v2_mount.value_or(""), "/sys/fs/cgroup/unified");

  ControllerMount memory = Locate(kHybrid, "memory");
  EXPECT_EQ(memory.version, CgroupVersion::kV1);
  EXPECT_EQ(memory.mount_point, "/sys/fs/cgroup/memory");

  auto rdma = LocateController(*layout, "rdma", "");
  ASSERT_FALSE(rdma.ok());
  EXPECT_THAT(rdma.status().message(), HasSubstr("/sys/fs/cgroup/unified"));
  EXPECT_THAT(rdma.status().message(), HasSubstr("is empty"));

  ControllerMount on_v2 = Locate(kHybrid, "rdma", "rdma misc\n");
  EXPECT_EQ(on_v2.version, CgroupVersion::kV2);
  EXPECT_EQ(on_v2.mount_point, "/sys/fs/cgroup/unified");
  // A controller in both: v1 wins, its hierarchy is where it is bound.
  EXPECT_EQ(Locate(kHybrid, "memory", "memory").version, CgroupVersion::kV1);
}

TEST(CgroupLayoutTest, SeparateCpuAndCpuacctMountsAreReadFromTheMountTable) {
  ControllerMount cpu = Locate(kSplitCpu, "cpu");
  ControllerMount cpuacct = Locate(kSplitCpu, "cpuacct");
  EXPECT_EQ(cpu.mount_point, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(cpuacct.mount_point, "/sys/fs/cgroup/cpuacct");
}

TEST(CgroupLayoutTest, UnifiedHostNeedsTheControllerInCgroupControllers) {
  auto layout = DetectCgroupLayout(kUnified, "/sys/fs/cgroup/");
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_EQ(layout->kind, CgroupLayoutKind::kUnified);
  EXPECT_EQ(layout->hierarchy, "/sys/fs/cgroup");

  const char* controllers = "cpuset cpu io memory hugetlb pids rdma misc\n";
  for (const char* controller : {"cpu", "memory", "pids"}) {
    ControllerMount m = Locate(kUnified, controller, controllers);
    EXPECT_EQ(m.version, CgroupVersion::kV2);
    EXPECT_EQ(m.mount_point, "/sys/fs/cgroup");
  }
  auto cpu = LocateController(*layout, "cpu", "memory pids");
  ASSERT_FALSE(cpu.ok());
  EXPECT_THAT(cpu.status().message(), HasSubstr("cgroup v2 (unified)"));
  EXPECT_THAT(cpu.status().message(), HasSubstr("lists: memory pids"));
  // cpuacct is a v1 controller only.
  EXPECT_FALSE(LocateController(*layout, "cpuacct", controllers).ok());
}

TEST(CgroupLayoutTest, NotACgroupMountNamesTheParameter) {
  auto tmp = DetectCgroupLayout(kLegacy, "/tmp");
  ASSERT_FALSE(tmp.ok());
  EXPECT_THAT(tmp.status().message(), HasSubstr("cgroups_hierarchy '/tmp' is not a cgroup mount"));
  auto relative = DetectCgroupLayout(kLegacy, "sys/fs/cgroup");
  ASSERT_FALSE(relative.ok());
  EXPECT_THAT(relative.status().message(), HasSubstr("cgroups_hierarchy"));
  // One v1 hierarchy given directly is a legacy layout of one mount.
  auto memory = DetectCgroupLayout(kLegacy, "/sys/fs/cgroup/memory");
  ASSERT_TRUE(memory.ok());
  EXPECT_EQ(memory->v1_mounts.size(), 1u);
}

TEST(CgroupLayoutTest, CoveredMountsEscapesAndBadLines) {
  // A tmpfs mounted over the memory hierarchy hides it.
  std::string covered =
      std::string(kLegacy) + "70 29 0:50 / /sys/fs/cgroup/memory rw,relatime - tmpfs tmpfs rw\n";
  auto layout = DetectCgroupLayout(covered, "/sys/fs/cgroup");
  ASSERT_TRUE(layout.ok());
  EXPECT_FALSE(LocateController(*layout, "memory", "").ok());
  EXPECT_TRUE(LocateController(*layout, "pids", "").ok());

  auto spaced = DetectCgroupLayout(
      "40 1 0:35 / /srv/my\\040cgroups/memory rw - cgroup cgroup rw,memory\n", "/srv/my cgroups");
  ASSERT_TRUE(spaced.ok()) << spaced.status().ToString();
  EXPECT_EQ(spaced->v1_mounts.count("/srv/my cgroups/memory"), 1u);

  auto bad = DetectCgroupLayout(std::string(kLegacy) + "garbage here\n", "/sys/fs/cgroup");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("line 8"));
}

TEST(CgroupLayoutTest, ThisHost) {
  auto memory = FindController("/sys/fs/cgroup", "memory");
  if (!memory.ok()) GTEST_SKIP() << memory.status().message();
  EXPECT_EQ(::access((memory->mount_point + "/cgroup.procs").c_str(), F_OK), 0);
  auto nowhere = FindController("/nonexistent/cgroup", "memory");
  ASSERT_FALSE(nowhere.ok());
  EXPECT_THAT(nowhere.status().message(), HasSubstr("cgroups_hierarchy '/nonexistent/cgroup'"));
}

}  // namespace
}  // namespace keel::modules
