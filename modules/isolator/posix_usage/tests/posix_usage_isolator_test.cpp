#include "modules/isolator/posix_usage/posix_usage_isolator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "modules/isolator/posix_usage/proc_stat.hpp"

namespace keel::modules {
namespace {

using namespace std::chrono_literals;

ContainerConfig Config(const std::string& resources) {
  ContainerConfig c;
  c.resources = *Resources::Parse(resources);
  return c;
}

// A real container: a child that forks a grandchild; both touch 16 MiB and
// burn CPU until killed.
pid_t StartBusyTree() {
  pid_t child = ::fork();
  if (child == 0) {
    ::setpgid(0, 0);
    ::fork();  // the grandchild runs the same loop
    const size_t size = 16 << 20;
    // Volatile, or the compiler drops memory nobody reads.
    volatile char* memory = static_cast<volatile char*>(::malloc(size));
    for (size_t i = 0; i < size; i += 4096) memory[i] = 1;
    volatile uint64_t spin = 0;
    for (;;) spin = spin + 1;
  }
  ::setpgid(child, child);
  return child;
}

void KillTree(pid_t child) {
  ::kill(-child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST(ProcStatTest, CommandNameWithSpacesAndParentheses) {
  auto s = ParseProcStat(
      "1234 (my (odd) cmd) S 99 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 100 0 0");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->pid, 1234);
  EXPECT_EQ(s->ppid, 99);
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->utime_ticks, 250u);
  EXPECT_EQ(s->stime_ticks, 75u);
  EXPECT_EQ(s->num_threads, 3);
  EXPECT_FALSE(ParseProcStat("garbage").has_value());
  EXPECT_FALSE(ParseProcStat("12 (x) S 1").has_value());
}

TEST(PosixUsageIsolatorTest, MeasuresTheWholeProcessTree) {
  PosixUsageIsolator isolator;
  ASSERT_TRUE(isolator.Prepare("c1", Config("cpus:1.5;mem:64")).ok());
  pid_t child = StartBusyTree();
  ASSERT_TRUE(isolator.Isolate("c1", child).ok());

  ResourceStatistics first;
  // Give both processes time to fork and touch their memory.
  for (int i = 0; i < 100; ++i) {
    first = ResourceStatistics();
    ASSERT_TRUE(isolator.Usage("c1", &first).ok());
    if (first.processes.value_or(0) >= 2 && first.mem_rss_bytes >= (32u << 20)) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(first.processes.value_or(0), 2u);
  EXPECT_GE(first.threads.value_or(0), 2u);
  EXPECT_GE(first.mem_rss_bytes, 32u << 20);
  EXPECT_GT(first.timestamp, 1.7e9);
  EXPECT_DOUBLE_EQ(first.cpus_limit.value_or(0), 1.5);
  EXPECT_EQ(first.mem_limit_bytes.value_or(0), 64u << 20);

  std::this_thread::sleep_for(300ms);
  ResourceStatistics second;
  ASSERT_TRUE(isolator.Usage("c1", &second).ok());
  EXPECT_GT(second.cpus_user_time_secs + second.cpus_system_time_secs,
            first.cpus_user_time_secs + first.cpus_system_time_secs);

  KillTree(child);
  ResourceStatistics after;
  for (int i = 0; i < 100; ++i) {
    after = ResourceStatistics();
    ASSERT_TRUE(isolator.Usage("c1", &after).ok());
    if (after.processes.value_or(1) == 0) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(after.processes.value_or(1), 0u);
  EXPECT_EQ(after.mem_rss_bytes, 0u);
  EXPECT_TRUE(isolator.Cleanup("c1").ok());
}

TEST(PosixUsageIsolatorTest, UpdateChangesReportedLimits) {
  PosixUsageIsolator isolator;
  ASSERT_TRUE(isolator.Prepare("c1", Config("cpus:1")).ok());
  ASSERT_TRUE(isolator.Update("c1", *Resources::Parse("cpus:2;mem:128")).ok());
  ResourceStatistics stats;
  ASSERT_TRUE(isolator.Usage("c1", &stats).ok());
  EXPECT_DOUBLE_EQ(stats.cpus_limit.value_or(0), 2);
  EXPECT_EQ(stats.mem_limit_bytes.value_or(0), 128u << 20);
  EXPECT_EQ(stats.processes.value_or(1), 0u);  // never isolated: nothing runs
}

TEST(PosixUsageIsolatorTest, UnknownContainersAreErrorsNamingThem) {
  PosixUsageIsolator isolator;
  ResourceStatistics stats;
  auto s = isolator.Usage("ghost", &stats);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("'ghost'"));
  EXPECT_FALSE(isolator.Isolate("ghost", 1).ok());
  EXPECT_FALSE(isolator.Cleanup("ghost").ok());
  ASSERT_TRUE(isolator.Prepare("c1", Config("cpus:1")).ok());
  EXPECT_FALSE(isolator.Prepare("c1", Config("cpus:1")).ok());
}

}  // namespace
}  // namespace keel::modules
