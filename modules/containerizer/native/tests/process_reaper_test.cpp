#include "modules/containerizer/native/process_reaper.hpp"

#include <gtest/gtest.h>
#include <signal.h>
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

TEST(NativeProcessReaperTest, SignalGroupAndDestructorLeaveNoChild) {
  auto reaper = ProcessReaper::Create();
  ASSERT_TRUE(reaper.ok());
  std::promise<int> killed;
  pid_t first = ForkLeader(0, 100s);
  pid_t second = ForkLeader(0, 100s);
  ASSERT_TRUE(reaper.value()->Watch(first, [&](int status) { killed.set_value(status); }).ok());
  ASSERT_TRUE(
      reaper.value()->Watch(second, [](int) { ADD_FAILURE() << "not on destruction"; }).ok());
  EXPECT_FALSE(reaper.value()->Watch(first, [](int) {}).ok());  // watched twice

  ASSERT_TRUE(reaper.value()->SignalGroup(first, SIGKILL));
  auto future = killed.get_future();
  ASSERT_EQ(future.wait_for(3s), std::future_status::ready);
  EXPECT_EQ(WTERMSIG(future.get()), SIGKILL);

  reaper.value().reset();
  EXPECT_EQ(::waitpid(second, nullptr, WNOHANG), -1);  // reaped by the destructor
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace keel::modules
