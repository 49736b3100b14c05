#include "modules/isolator/cgroups_pids/cgroups_pids_isolator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "modules/isolator/cgroups/tests/cgroups_test_support.hpp"

namespace keel::modules {
namespace {

using namespace cgroups_test;
using ::testing::HasSubstr;

ContainerConfig Config(const std::string& resources) {
  ContainerConfig c;
  c.resources = *Resources::Parse(resources);
  return c;
}

std::string PidsDir(const std::string& id) {
  auto pids = FindController("/sys/fs/cgroup", "pids");
  return pids.ok() ? pids->mount_point + "/keel/" + id : "";
}

// Forks a grandchild that leaves the process group (setsid) and forks the
// survivor, then exits: the survivor is re-parented away from the child and
// is in none of its groups. Reports the survivor's pid, then waits.
void DoubleForkAndSetsid(int report_fd) {
  pid_t middle = ::fork();
  if (middle == 0) {
    ::setsid();
    if (::fork() == 0) {
      Report(report_fd, ::getpid());
      for (;;) ::pause();
    }
    ::_exit(0);
  }
  ::waitpid(middle, nullptr, 0);
  for (;;) ::pause();
}

class CgroupsPidsIsolatorTest : public ::testing::Test {
 protected:
  CgroupsPidsIsolatorTest() { context_.mutable_parameters().Set("max_pids", int64_t{16}); }
  FakeContext context_{"cgroups/pids"};
};

TEST_F(CgroupsPidsIsolatorTest, AForkLoopStaysAtMaxPids) {
  KEEL_MAKE_ISOLATOR_OR_SKIP(isolator, CgroupsPidsIsolator, context_);
  const std::string id = UniqueId("pids");
  ASSERT_TRUE(isolator->Prepare(id, Config("cpus:1")).ok());
  EXPECT_EQ(ReadFileText(PidsDir(id) + "/pids.max"), "16");

  TestChild forker([](int report_fd) {
    int forked = 0;
    for (int i = 0; i < 1000; ++i) {
      pid_t pid = ::fork();
      if (pid < 0) break;  // EAGAIN: the cgroup is full
      if (pid == 0) {
        for (;;) ::pause();
      }
      ++forked;
    }
    Report(report_fd, forked);
    for (;;) ::pause();
  });
  ASSERT_TRUE(isolator->Isolate(id, forker.pid()).ok());
  ASSERT_TRUE(forker.Release());
  int forked = -1;
  ASSERT_TRUE(forker.ReadReport(&forked, sizeof(forked)));
  EXPECT_EQ(forked, 15);  // 16 with the forker itself
  EXPECT_EQ(ReadFileText(PidsDir(id) + "/pids.current"), "16");

  ResourceStatistics stats;
  ASSERT_TRUE(isolator->Usage(id, &stats).ok());
  EXPECT_EQ(stats.processes.value_or(0), 16u);
  EXPECT_EQ(stats.threads.value_or(0), 16u);

  ASSERT_TRUE(isolator->Cleanup(id).ok());  // kills all 16
  EXPECT_NE(forker.Wait(), -1);
  EXPECT_FALSE(DirectoryExists(PidsDir(id)));
}

TEST_F(CgroupsPidsIsolatorTest, SignalReachesADoubleForkedProcessThatLeftTheGroup) {
  KEEL_MAKE_ISOLATOR_OR_SKIP(isolator, CgroupsPidsIsolator, context_);
  const std::string id = UniqueId("pids");
  ASSERT_TRUE(isolator->Prepare(id, Config("cpus:1")).ok());
  TestChild child(DoubleForkAndSetsid);
  ASSERT_TRUE(isolator->Isolate(id, child.pid()).ok());
  ASSERT_TRUE(child.Release());
  pid_t survivor = 0;
  ASSERT_TRUE(child.ReadReport(&survivor, sizeof(survivor)));
  EXPECT_NE(::getsid(survivor), ::getsid(child.pid()));
  EXPECT_NE(::getpgid(survivor), ::getpgid(child.pid()));

  EXPECT_TRUE(isolator->Signal(id, SIGKILL));
  EXPECT_NE(child.Wait(), -1);
  EXPECT_TRUE(WaitUntil([&] { return ProcessGone(survivor); }, 2s));
  ASSERT_TRUE(isolator->Cleanup(id).ok());
  EXPECT_FALSE(DirectoryExists(PidsDir(id)));
}

TEST_F(CgroupsPidsIsolatorTest, CleanupKillsWhatIsLeftAndRemovesTheCgroup) {
  KEEL_MAKE_ISOLATOR_OR_SKIP(isolator, CgroupsPidsIsolator, context_);
  const std::string id = UniqueId("pids");
  ASSERT_TRUE(isolator->Prepare(id, Config("cpus:1")).ok());
  TestChild child(DoubleForkAndSetsid);
  ASSERT_TRUE(isolator->Isolate(id, child.pid()).ok());
  ASSERT_TRUE(child.Release());
  pid_t survivor = 0;
  ASSERT_TRUE(child.ReadReport(&survivor, sizeof(survivor)));

  // As the containerizer does: the leader is killed and reaped, the
  // survivor is not in its group.
  ::kill(-child.pid(), SIGKILL);
  EXPECT_NE(child.Wait(), -1);
  EXPECT_FALSE(ProcessGone(survivor));

  const auto start = std::chrono::steady_clock::now();
  Status cleaned = isolator->Cleanup(id);
  EXPECT_TRUE(cleaned.ok()) << cleaned.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, CgroupsIsolator::kKillTimeout);
  EXPECT_TRUE(WaitUntil([&] { return ProcessGone(survivor); }, 2s));
  EXPECT_FALSE(DirectoryExists(PidsDir(id)));
  // Again: nothing left, nothing to do.
  EXPECT_TRUE(isolator->Cleanup(id).ok());
}

TEST_F(CgroupsPidsIsolatorTest, UnknownIdsAndMisuse) {
  KEEL_MAKE_ISOLATOR_OR_SKIP(isolator, CgroupsPidsIsolator, context_);
  const std::string ghost = UniqueId("ghost");
  EXPECT_TRUE(isolator->Cleanup(ghost).ok());
  EXPECT_FALSE(isolator->Signal(ghost, SIGTERM));
  ResourceStatistics stats;
  Status usage = isolator->Usage(ghost, &stats);
  ASSERT_FALSE(usage.ok());
  EXPECT_THAT(usage.message(), HasSubstr("cgroups/pids: container '" + ghost + "'"));
  EXPECT_FALSE(isolator->Isolate(ghost, ::getpid()).ok());
  EXPECT_FALSE(isolator->Update(ghost, Resources()).ok());

  const std::string id = UniqueId("pids");
  ASSERT_TRUE(isolator->Prepare(id, Config("cpus:1")).ok());
  auto twice = isolator->Prepare(id, Config("cpus:1"));
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("'" + id + "': already prepared"));
  // Prepared, no process: Cleanup leaves nothing.
  ASSERT_TRUE(isolator->Cleanup(id).ok());
  EXPECT_FALSE(DirectoryExists(PidsDir(id)));

  for (const char* bad : {"", ".", "..", "a/b", "../../escape"}) {
    auto prepared = isolator->Prepare(bad, Config("cpus:1"));
    ASSERT_FALSE(prepared.ok()) << bad;
    EXPECT_THAT(prepared.status().message(), HasSubstr("not a valid container id"));
    EXPECT_FALSE(isolator->Signal(bad, SIGTERM));
  }
}

TEST_F(CgroupsPidsIsolatorTest, ParametersTheIsolatorCannotUseAreNamed) {
  if (::geteuid() != 0) GTEST_SKIP() << "the cgroups tests need root";
  auto error_with = [](const std::string& name, Parameters::Value value) -> std::string {
    FakeContext context("cgroups/pids");
    context.mutable_parameters().Set("max_pids", int64_t{16});
    context.mutable_parameters().Set(name, std::move(value));
    try {
      CgroupsPidsIsolator isolator(context);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_THAT(error_with("cgroups_hierarchy", std::string("/tmp")),
              HasSubstr("cgroups_hierarchy '/tmp' is not a cgroup mount"));
  EXPECT_THAT(error_with("cgroups_hierarchy", std::string("sys/fs/cgroup")),
              HasSubstr("parameter 'cgroups_hierarchy'"));
  EXPECT_THAT(error_with("cgroups_root", std::string("../elsewhere")),
              HasSubstr("parameter 'cgroups_root'"));
  EXPECT_THAT(error_with("cgroups_root", std::string("/")), HasSubstr("parameter 'cgroups_root'"));
  const std::string zero = error_with("max_pids", int64_t{0});
  if (zero.find("controller 'pids'") == std::string::npos) {
    EXPECT_THAT(zero, HasSubstr("parameter 'max_pids'"));
  }
}

}  // namespace
}  // namespace keel::modules
