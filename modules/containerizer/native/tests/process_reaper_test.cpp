#include "modules/containerizer/native/process_reaper.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>

namespace keel::modules {
namespace {

using namespace std::chrono_literals;

// A child leading its own group that exits with `code` after `delay`.
pid_t ForkLeader(int code, std::chrono::milliseconds delay) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::usleep(static_cast<useconds_t>(delay.count() * 1000));
    ::_exit(code);
  }
  ::setpgid(pid, pid);
  return pid;
}

TEST(NativeProcessReaperTest, ReportsTheExitStatusFromItsThread) {
  auto reaper = ProcessReaper::Create();
  ASSERT_TRUE(reaper.ok()) << reaper.status().ToString();
  std::promise<std::pair<int, std::thread::id>> exited;
  pid_t pid = ForkLeader(5, 10ms);
  ASSERT_TRUE(reaper.value()
                  ->Watch(pid,
                          [&](int status) {
                            exited.set_value({status, std::this_thread::get_id()});
                          })
                  .ok());
  auto future = exited.get_future();
  ASSERT_EQ(future.wait_for(3s), std::future_status::ready);
  auto [status, thread] = future.get();
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 5);
  EXPECT_NE(thread, std::this_thread::get_id());
  EXPECT_FALSE(reaper.value()->SignalGroup(pid, SIGKILL));  // reaped: no longer ours to signal
}

TEST(NativeProcessReaperTest, SignalGroupKillsAWatchedLeader) {
  auto reaper = ProcessReaper::Create();
  ASSERT_TRUE(reaper.ok());
  std::promise<int> killed;
  pid_t first = ForkLeader(0, 100s);
  ASSERT_TRUE(reaper.value()->Watch(first, [&](int status) { killed.set_value(status); }).ok());
  EXPECT_FALSE(reaper.value()->Watch(first, [](int) {}).ok());  // watched twice

  ASSERT_TRUE(reaper.value()->SignalGroup(first, SIGKILL));
  auto future = killed.get_future();
  ASSERT_EQ(future.wait_for(3s), std::future_status::ready);
  EXPECT_EQ(WTERMSIG(future.get()), SIGKILL);
}

// Containers outlive the agent: destroying the reaper leaves them running.
TEST(NativeProcessReaperTest, DestructorLeavesWatchedProcessesRunning) {
  auto reaper = ProcessReaper::Create();
  ASSERT_TRUE(reaper.ok());
  pid_t child = ForkLeader(0, 100s);
  ASSERT_TRUE(
      reaper.value()->Watch(child, [](int) { ADD_FAILURE() << "not on destruction"; }).ok());
  reaper.value().reset();
  EXPECT_EQ(::kill(child, 0), 0);
  EXPECT_EQ(::waitpid(child, nullptr, WNOHANG), 0);  // still running, still ours
  ::kill(child, SIGKILL);
  EXPECT_EQ(::waitpid(child, nullptr, 0), child);
}

// A process that is not our child (a previous agent's container) is watched
// for its end only, through the pidfd it was adopted with.
TEST(NativeProcessReaperTest, AdoptedProcessEndIsReportedWithoutAStatus) {
  auto reaper = ProcessReaper::Create();
  ASSERT_TRUE(reaper.ok());
  // A grandchild, orphaned at once: re-parented to init (or a subreaper).
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t middle = ::fork();
  if (middle == 0) {
    if (::fork() == 0) {
      // Its own group first, then its pid: SignalGroup() finds the group.
      ::setpgid(0, 0);
      const pid_t self = ::getpid();
      (void)!::write(pipe_fds[1], &self, sizeof(self));
      ::close(pipe_fds[1]);
      ::pause();
      ::_exit(0);
    }
    ::_exit(0);
  }
  pid_t orphan = 0;
  ASSERT_EQ(::read(pipe_fds[0], &orphan, sizeof(orphan)), static_cast<ssize_t>(sizeof(orphan)));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ASSERT_EQ(::waitpid(middle, nullptr, 0), middle);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, orphan, 0));
  ASSERT_GE(pidfd, 0);

  std::promise<int> ended;
  ASSERT_TRUE(reaper.value()->Adopt(orphan, pidfd, [&](int s) { ended.set_value(s); }).ok());
  ASSERT_TRUE(reaper.value()->SignalGroup(orphan, SIGKILL));
  auto future = ended.get_future();
  ASSERT_EQ(future.wait_for(3s), std::future_status::ready);
  EXPECT_EQ(future.get(), ProcessReaper::kUnknownStatus);
  EXPECT_FALSE(reaper.value()->SignalGroup(orphan, SIGKILL));  // no longer watched
}

}  // namespace
}  // namespace keel::modules
