#include "modules/isolator/cgroups/cgroup.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "modules/isolator/cgroups/tests/cgroups_test_support.hpp"

namespace keel::modules {
namespace {

using namespace cgroups_test;
using ::testing::HasSubstr;

TEST(CgroupFilesTest, FlatKeyedFilesAndErrnoNames) {
  auto values = ParseFlatKeyed(
      "oom_kill_disable 0\nunder_oom 1\noom_kill 3\nsome junk line\nnegative -1\n\nuser 12\n");
  EXPECT_EQ(values.size(), 4u);
  EXPECT_EQ(values["oom_kill"], 3u);
  EXPECT_EQ(values["under_oom"], 1u);
  EXPECT_EQ(values["user"], 12u);
  EXPECT_EQ(values.count("negative"), 0u);
  EXPECT_THAT(DescribeErrno(EBUSY), HasSubstr("EBUSY"));
  EXPECT_THAT(DescribeErrno(EBUSY), HasSubstr("busy"));

  Cgroup gone(ControllerMount{"memory", CgroupVersion::kV1, "/nonexistent", {"memory"}}, "keel/x");
  EXPECT_FALSE(gone.Exists());
  auto procs = gone.Processes();
  ASSERT_TRUE(procs.ok());
  EXPECT_TRUE(procs->empty());
  EXPECT_TRUE(gone.Remove(std::chrono::milliseconds(10)).ok());
  auto write = gone.Write("memory.limit_in_bytes", "1");
  ASSERT_FALSE(write.ok());
  EXPECT_THAT(write.message(), HasSubstr("/nonexistent/keel/x/memory.limit_in_bytes: ENOENT"));
}

// cgroup v2's process mechanics (cgroup.procs, cgroup.kill, removal) on
// this host's hybrid cgroup2 mount, which needs no controller. Making a v2
// cgroup with a controller (subtree_control) cannot be tried on a host whose
// controllers are all bound to v1.
TEST(CgroupTest, V2KillsEveryProcessThroughCgroupKillAndRemovesTheCgroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream mountinfo;
  mountinfo << in.rdbuf();
  auto layout = DetectCgroupLayout(mountinfo.str(), "/sys/fs/cgroup");
  if (!layout.ok() || !layout->v2_mount) GTEST_SKIP() << "no cgroup2 mount";
  const ControllerMount core{"", CgroupVersion::kV2, *layout->v2_mount, {}};
  const std::string id = UniqueId("v2");
  Cgroup cgroup(core, "keel/" + id);
  std::filesystem::create_directories(cgroup.path());
  if (::access((cgroup.path() + "/cgroup.kill").c_str(), F_OK) != 0) {
    cgroup.Remove(100ms);
    GTEST_SKIP() << "no cgroup.kill (Linux < 5.14)";
  }

  TestChild child([](int report_fd) {
    if (::fork() == 0) {
      ::setsid();
      Report(report_fd, ::getpid());
      for (;;) ::pause();
    }
    for (;;) ::pause();
  });
  ASSERT_TRUE(cgroup.AddProcess(child.pid()).ok());
  ASSERT_TRUE(child.Release());
  int escaped = 0;
  ASSERT_TRUE(child.ReadReport(&escaped, sizeof(escaped)));
  auto pids = cgroup.Processes();
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(pids->size(), 2u);

  ASSERT_TRUE(cgroup.KillAll(1s).ok());
  EXPECT_NE(child.Wait(), -1);
  EXPECT_TRUE(WaitUntil([&] { return ProcessGone(escaped); }, 2s));
  ASSERT_TRUE(cgroup.Remove(500ms).ok());
  EXPECT_FALSE(cgroup.Exists());
}

}  // namespace
}  // namespace keel::modules
