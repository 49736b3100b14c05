#include "modules/isolator/cgroups_mem/cgroups_mem_isolator.hpp"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include "modules/isolator/cgroups/tests/cgroups_test_support.hpp"

namespace keel::modules {
namespace {

using namespace cgroups_test;
using ::testing::HasSubstr;
using ::testing::StartsWith;

ContainerConfig Config(const std::string& resources) {
  ContainerConfig c;
  c.resources = *Resources::Parse(resources);
  return c;
}

size_t ThreadCount() {
  size_t n = 0;
  DIR* dir = ::opendir("/proc/self/task");
  while (dirent* entry = dir ? ::readdir(dir) : nullptr) n += entry->d_name[0] != '.';
  if (dir) ::closedir(dir);
  return n;
}

// Allocates and touches 200 MB, far above the 32 MB limit.
void AllocateTooMuch(int) {
  const size_t size = 200u << 20;
  void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) ::_exit(3);
  for (size_t i = 0; i < size; i += 4096) static_cast<volatile char*>(memory)[i] = 1;
  ::_exit(4);  // not killed: the limit did not hold
}

class CgroupsMemIsolatorTest : public ::testing::Test {
 protected:
  std::string MemoryDir(const std::string& id) {
    auto memory = FindController("/sys/fs/cgroup", "memory");
    return memory.ok() ? memory->mount_point + "/keel/" + id : "";
  }
  bool V2() {
    auto memory = FindController("/sys/fs/cgroup", "memory");
    return memory.ok() && memory->version == CgroupVersion::kV2;
  }

  FakeContext context_{"cgroups/mem"};
  std::vector<ContainerLimitation> limits_;
};

TEST(FormatBytesTest, AsMesosPrintsBytes) {
  EXPECT_EQ(FormatBytes(0), "0B");
  EXPECT_EQ(FormatBytes(1000), "1000B");
  EXPECT_EQ(FormatBytes(64u << 20), "64MB");
  EXPECT_EQ(FormatBytes((64u << 20) - 4096), "65532KB");
  EXPECT_EQ(FormatBytes(2ull << 30), "2GB");
}

TEST_F(CgroupsMemIsolatorTest, WritesLimitsAndRaisesOnlyTheHardOne) {
  KEEL_MAKE_ISOLATOR_OR_SKIP(isolator, CgroupsMemIsolator, context_);
  const std::string id = UniqueId("mem");
  const std::string dir = MemoryDir(id);
  const size_t threads = ThreadCount();

  ASSERT_TRUE(isolator->Prepare(id, Config("cpus:1;mem:64")).ok());
  EXPECT_EQ(ThreadCount(), threads + 1) << "the first Prepare starts the OOM watcher";
  const std::string hard = V2() ? dir + "/memory.max" : dir + "/memory.limit_in_bytes";
  EXPECT_EQ(ReadFileText(hard), std::to_string(64u << 20));
  if (V2()) {
    EXPECT_EQ(ReadFileText(dir + "/memory.high"), "max");
  } else {
    EXPECT_EQ(ReadFileText(dir + "/memory.soft_limit_in_bytes"), std::to_string(64u << 20));
  }

  ASSERT_TRUE(isolator->Update(id, *Resources::Parse("mem:128")).ok());
  EXPECT_EQ(ReadFileText(hard), std::to_string(128u << 20));
  // Lower: the soft limit follows (at least 32 MB), the hard one stays.
  ASSERT_TRUE(isolator->Update(id, *Resources::Parse("mem:16")).ok());
  EXPECT_EQ(ReadFileText(hard), std::to_string(128u << 20));
  if (!V2()) {
    EXPECT_EQ(ReadFileText(dir + "/memory.soft_limit_in_bytes"), std::to_string(32u << 20));
  }

  ResourceStatistics stats;
  ASSERT_TRUE(isolator->Usage(id, &stats).ok());
  EXPECT_EQ(stats.mem_limit_bytes.value_or(0), 128u << 20);
  EXPECT_EQ(stats.mem_rss_bytes, 0u);
  ASSERT_TRUE(isolator->Cleanup(id).ok());
  EXPECT_FALSE(DirectoryExists(dir));
  isolator.reset();
  EXPECT_EQ(ThreadCount(), threads) << "the destructor stops the OOM watcher";
}

TEST_F(CgroupsMemIsolatorTest, ConstructorStartsNoThread) {
  const size_t threads = ThreadCount();
  KEEL_MAKE_ISOLATOR_OR_SKIP(isolator, CgroupsMemIsolator, context_);
  EXPECT_EQ(ThreadCount(), threads);
}

TEST_F(CgroupsMemIsolatorTest, AnOomKillIsReportedOnceThroughWatch) {
  KEEL_MAKE_ISOLATOR_OR_SKIP(isolator, CgroupsMemIsolator, context_);
  const std::string id = UniqueId("mem");
  ASSERT_TRUE(isolator->Prepare(id, Config("mem:32")).ok());
  TestChild hog(AllocateTooMuch);
  ASSERT_TRUE(isolator->Isolate(id, hog.pid()).ok());
  isolator->Watch(id, [&](const ContainerLimitation& l) { limits_.push_back(l); });
  ASSERT_TRUE(hog.Release());

  const int status = hog.Wait(10s);
  ASSERT_NE(status, -1) << "the 200 MB child was not killed";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
  // The watcher's thread posts to the strand; run it.
  ASSERT_TRUE(context_.DrainUntil([&] { return !limits_.empty(); }));
  EXPECT_EQ(limits_[0].reason, "REASON_CONTAINER_LIMITATION_MEMORY");
  EXPECT_THAT(limits_[0].message,
              StartsWith("Memory limit exceeded: Requested: 32MB Maximum Used: "));
  EXPECT_THAT(limits_[0].message, HasSubstr("MEMORY STATISTICS"));

  ASSERT_TRUE(isolator->Cleanup(id).ok());
  context_.RunPosted();
  EXPECT_EQ(limits_.size(), 1u);
  EXPECT_FALSE(DirectoryExists(MemoryDir(id)));
}

TEST_F(CgroupsMemIsolatorTest, CleanupReportsAnOomWhoseEventHasNotArrivedYet) {
  KEEL_MAKE_ISOLATOR_OR_SKIP(isolator, CgroupsMemIsolator, context_);
  const std::string id = UniqueId("mem");
  ASSERT_TRUE(isolator->Prepare(id, Config("mem:32")).ok());
  TestChild hog(AllocateTooMuch);
  ASSERT_TRUE(isolator->Isolate(id, hog.pid()).ok());
  isolator->Watch(id, [&](const ContainerLimitation& l) { limits_.push_back(l); });
  ASSERT_TRUE(hog.Release());
  const int status = hog.Wait(10s);
  ASSERT_TRUE(status != -1 && WIFSIGNALED(status)) << "wait status " << status;

  // As when the containerizer reaps the task before the event reaches the
  // strand: nothing posted has run, and Cleanup() must still tell.
  EXPECT_TRUE(limits_.empty());
  ASSERT_TRUE(isolator->Cleanup(id).ok());
  ASSERT_EQ(limits_.size(), 1u);
  EXPECT_EQ(limits_[0].reason, "REASON_CONTAINER_LIMITATION_MEMORY");
  EXPECT_THAT(limits_[0].message, StartsWith("Memory limit exceeded: Requested: 32MB"));
  context_.RunPosted();  // the late event finds the container gone
  EXPECT_EQ(limits_.size(), 1u);
  EXPECT_FALSE(DirectoryExists(MemoryDir(id)));
}

TEST_F(CgroupsMemIsolatorTest, NoOomNoLimitation) {
  KEEL_MAKE_ISOLATOR_OR_SKIP(isolator, CgroupsMemIsolator, context_);
  const std::string id = UniqueId("mem");
  ASSERT_TRUE(isolator->Prepare(id, Config("mem:64")).ok());
  TestChild modest([](int) {
    const size_t size = 8u << 20;
    void* memory =
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (size_t i = 0; i < size; i += 4096) static_cast<volatile char*>(memory)[i] = 1;
    ::pause();
  });
  ASSERT_TRUE(isolator->Isolate(id, modest.pid()).ok());
  isolator->Watch(id, [&](const ContainerLimitation& l) { limits_.push_back(l); });
  ASSERT_TRUE(modest.Release());
  ResourceStatistics stats;
  EXPECT_TRUE(WaitUntil(
      [&] {
        stats = ResourceStatistics();
        EXPECT_TRUE(isolator->Usage(id, &stats).ok());
        return stats.mem_rss_bytes >= (8u << 20);
      },
      5s))
      << "rss " << stats.mem_rss_bytes;
  EXPECT_EQ(stats.mem_limit_bytes.value_or(0), 64u << 20);
  ASSERT_TRUE(isolator->Cleanup(id).ok());  // kills the child
  EXPECT_NE(modest.Wait(), -1);
  context_.RunPosted();
  EXPECT_TRUE(limits_.empty());
}

}  // namespace
}  // namespace keel::modules
