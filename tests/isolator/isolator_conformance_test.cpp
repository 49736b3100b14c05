// One suite for every isolator module (AllIsolators()): each test drives the
// real module library, loaded as an agent loads it, through a container's
// life with a real child process, and checks that the isolator leaves
// nothing behind: no cgroup directory named after the container under any
// cgroup mount, no mount point mentioning it, no process of it.
//
// The suite's child never applies what Prepare() asks for (namespaces,
// mounts): that is the containerizer's work. It only checks that the
// request is well-formed.
//
// Isolators change the host (cgroups, mounts): the suite runs as root and
// skips otherwise. Container ids are unique, so several runs at once do not
// disturb each other.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tests/isolator/isolator_under_test.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr int kKnownNamespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
                                 CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWCGROUP;

std::string UniqueId() {
  std::random_device random;
  std::ostringstream id;
  id << "conformance-" << ::getpid() << "-" << std::hex << random() << random();
  return id.str();
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Gone, or a zombie of a parent other than this test.
bool ProcessGone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

std::string MountInfo() {
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every cgroup and cgroup2 mount point of this host.
std::vector<std::string> CgroupMounts() {
  std::vector<std::string> mounts;
  std::istringstream lines(MountInfo());
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    std::string word;
    while (fields >> word) f.push_back(word);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || dash + 1 == f.end()) continue;
    if (dash[1] == "cgroup" || dash[1] == "cgroup2") mounts.push_back(f[4]);
  }
  return mounts;
}

// What the isolator left behind for `id`, one line each; empty when nothing.
std::vector<std::string> Leftovers(const std::string& id) {
  namespace fs = std::filesystem;
  std::vector<std::string> left;
  for (const std::string& mount : CgroupMounts()) {
    std::error_code ec;
    for (fs::recursive_directory_iterator
             it(mount, fs::directory_options::skip_permission_denied, ec),
         end;
         !ec && it != end; it.increment(ec)) {
      if (it->path().filename() == id) left.push_back("cgroup " + it->path().string());
    }
  }
  std::istringstream lines(MountInfo());
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(id) != std::string::npos) left.push_back("mount " + line);
  }
  return left;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A child held on a pipe until Release(), as the containerizer holds a
// task's first process until it is isolated. It leads its own process
// group; what it does after release is the test's `body`, which must keep to
// async-signal-safe calls (the test process may have threads).
class HeldProcess {
 public:
  explicit HeldProcess(void (*body)(int report_fd)) {
    int go[2], report[2];
    if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::close(go[1]);
      ::close(report[0]);
      char byte;
      if (::read(go[0], &byte, 1) != 1) ::_exit(1);
      body(report[1]);
      ::_exit(0);
    }
    ::setpgid(pid_, pid_);
    ::close(go[0]);
    ::close(report[1]);
    go_fd_ = go[1];
    report_fd_ = report[0];
  }
  ~HeldProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (go_fd_ >= 0) ::close(go_fd_);
    if (report_fd_ >= 0) ::close(report_fd_);
  }
  pid_t pid() const { return pid_; }
  bool Release() { return ::write(go_fd_, "x", 1) == 1; }
  bool ReadPid(pid_t* pid) {
    pollfd p{report_fd_, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return false;
    return ::read(report_fd_, pid, sizeof(*pid)) == sizeof(*pid);
  }
  // SIGKILLs the group and reaps the leader.
  void KillGroup() {
    ::kill(-pid_, SIGKILL);
    Reap();
  }
  bool Reap() {
    reaped_ = reaped_ || ::waitpid(pid_, nullptr, 0) == pid_;
    return reaped_;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int go_fd_ = -1;
  int report_fd_ = -1;
};

void Spin(std::chrono::milliseconds how_long) {
  timespec start, now;
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  volatile uint64_t spin = 0;
  do {
    spin = spin + 1;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 <
           how_long.count());
}

// The task: a grandchild in the same group reports its pid; both burn a
// little CPU, then wait to be killed.
void TaskWithAChild(int report_fd) {
  if (::fork() == 0) {
    const pid_t self = ::getpid();
    [[maybe_unused]] ssize_t n = ::write(report_fd, &self, sizeof(self));
    for (;;) ::pause();
  }
  Spin(50ms);
  for (;;) ::pause();
}

// A task whose grandchild leaves the process group (setsid, double fork).
void TaskThatEscapesItsGroup(int report_fd) {
  pid_t middle = ::fork();
  if (middle == 0) {
    ::setsid();
    if (::fork() == 0) {
      const pid_t self = ::getpid();
      [[maybe_unused]] ssize_t n = ::write(report_fd, &self, sizeof(self));
      for (;;) ::pause();
    }
    ::_exit(0);
  }
  ::waitpid(middle, nullptr, 0);
  for (;;) ::pause();
}

class IsolatorConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "isolators change the host's cgroups and mounts: root only";
    char dir[] = "/tmp/keel-isolator-sandbox-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    sandbox_ = dir;
    try {
      isolator_ = std::make_unique<IsolatorUnderTest>(GetParam());
    } catch (const std::exception& e) {
      FAIL() << GetParam() << " does not load: " << e.what();
    }
  }
  void TearDown() override {
    isolator_.reset();
    if (!sandbox_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(sandbox_, ec);
    }
  }

  ContainerConfig Config(const std::string& resources) {
    ContainerConfig c;
    c.sandbox_dir = sandbox_;
    c.resources = *Resources::Parse(resources);
    return c;
  }

  // Prepare's result must be something a containerizer can apply.
  void ExpectSaneLaunchInfo(const LaunchInfo& info) {
    EXPECT_EQ(info.clone_namespaces & ~kKnownNamespaces, 0)
        << "unknown clone flags " << std::hex << info.clone_namespaces;
    for (const auto& mount : info.mounts) {
      EXPECT_FALSE(mount.target.empty() || mount.target[0] != '/')
          << "mount target '" << mount.target << "' is not an absolute path";
    }
    if (!info.mounts.empty()) {
      EXPECT_NE(info.clone_namespaces & CLONE_NEWNS, 0) << "mounts without a mount namespace";
    }
    for (const auto& [name, value] : info.environment) {
      EXPECT_FALSE(name.empty() || name.find('=') != std::string::npos)
          << "environment name '" << name << "'";
    }
  }

  void ExpectNothingLeft(const std::string& id) {
    std::vector<std::string> left = Leftovers(id);
    EXPECT_TRUE(left.empty()) << GetParam() << " left behind:\n" << Join(left);
  }

  std::string sandbox_;
  std::unique_ptr<IsolatorUnderTest> isolator_;
  std::vector<ContainerLimitation> limits_;
};

TEST_P(IsolatorConformanceTest, AContainersWholeLife) {
  IsolatorUnderTest& isolator = *isolator_;
  const std::string id = UniqueId();
  auto info = isolator->Prepare(id, Config("cpus:1;mem:64"));
  ASSERT_TRUE(info.ok()) << info.status().message();
  ExpectSaneLaunchInfo(*info);

  HeldProcess task(TaskWithAChild);
  ASSERT_GT(task.pid(), 0);
  Status isolated = isolator->Isolate(id, task.pid());
  ASSERT_TRUE(isolated.ok()) << isolated.message();
  isolator->Watch(id, [this](const ContainerLimitation& l) { limits_.push_back(l); });
  ASSERT_TRUE(task.Release());
  pid_t grandchild = 0;
  ASSERT_TRUE(task.ReadPid(&grandchild));

  Status updated = isolator->Update(id, *Resources::Parse("cpus:2;mem:128"));
  ASSERT_TRUE(updated.ok()) << updated.message();

  std::this_thread::sleep_for(100ms);
  ResourceStatistics stats;
  Status measured = isolator->Usage(id, &stats);
  ASSERT_TRUE(measured.ok()) << measured.message();
  EXPECT_GE(stats.timestamp, 0);
  EXPECT_TRUE(std::isfinite(stats.cpus_user_time_secs) && stats.cpus_user_time_secs >= 0);
  EXPECT_TRUE(std::isfinite(stats.cpus_system_time_secs) && stats.cpus_system_time_secs >= 0);
  EXPECT_LT(stats.cpus_user_time_secs + stats.cpus_system_time_secs, 60);
  if (stats.cpus_limit) {
    EXPECT_DOUBLE_EQ(*stats.cpus_limit, 2);
  }
  if (stats.mem_limit_bytes) {
    EXPECT_EQ(*stats.mem_limit_bytes, 128u << 20);
  }
  EXPECT_LT(stats.mem_rss_bytes, 1ull << 30);
  if (stats.processes) {
    EXPECT_GE(*stats.processes, 1u);
    EXPECT_LE(*stats.processes, 2u);
  }
  if (stats.processes && stats.threads) {
    EXPECT_GE(*stats.threads, *stats.processes);
  }

  // As the containerizer ends a container: the group, then every process
  // the isolator knows of, then Cleanup().
  ::kill(-task.pid(), SIGKILL);
  isolator->Signal(id, SIGKILL);
  ASSERT_TRUE(task.Reap());
  EXPECT_TRUE(WaitUntil([&] { return ProcessGone(grandchild); }, 2s));
  Status cleaned = isolator->Cleanup(id);
  EXPECT_TRUE(cleaned.ok()) << cleaned.message();
  isolator.RunPosted();
  EXPECT_TRUE(limits_.empty()) << limits_[0].reason << ": " << limits_[0].message;
  ExpectNothingLeft(id);
  EXPECT_TRUE(ProcessGone(task.pid()));
  EXPECT_TRUE(ProcessGone(grandchild));
}

TEST_P(IsolatorConformanceTest, SignalReachesEveryProcessWhenItSaysSo) {
  IsolatorUnderTest& isolator = *isolator_;
  const std::string id = UniqueId();
  ASSERT_TRUE(isolator->Prepare(id, Config("cpus:1;mem:64")).ok());
  HeldProcess task(TaskThatEscapesItsGroup);
  ASSERT_TRUE(isolator->Isolate(id, task.pid()).ok());
  ASSERT_TRUE(task.Release());
  pid_t escaped = 0;
  ASSERT_TRUE(task.ReadPid(&escaped));
  ASSERT_NE(::getpgid(escaped), task.pid());

  if (isolator->Signal(id, SIGKILL)) {
    EXPECT_TRUE(WaitUntil([&] { return ProcessGone(escaped); }, 2s))
        << "Signal() returned true but process " << escaped << " (setsid) lives";
    EXPECT_TRUE(task.Reap());
  } else {
    // Not this isolator's job: clean up as a containerizer without it would.
    ::kill(escaped, SIGKILL);
    task.KillGroup();
    EXPECT_TRUE(WaitUntil([&] { return ProcessGone(escaped); }, 2s));
  }
  Status cleaned = isolator->Cleanup(id);
  EXPECT_TRUE(cleaned.ok()) << cleaned.message();
  ExpectNothingLeft(id);
}

TEST_P(IsolatorConformanceTest, PreparingTwiceFailsClearly) {
  IsolatorUnderTest& isolator = *isolator_;
  const std::string id = UniqueId();
  ASSERT_TRUE(isolator->Prepare(id, Config("cpus:1;mem:64")).ok());
  auto again = isolator->Prepare(id, Config("cpus:1;mem:64"));
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().message(), HasSubstr(id));
  EXPECT_TRUE(isolator->Cleanup(id).ok());
  ExpectNothingLeft(id);
}

TEST_P(IsolatorConformanceTest, CleanupOfAnUnknownContainerChangesNothing) {
  IsolatorUnderTest& isolator = *isolator_;
  const std::string id = UniqueId();
  Status cleaned = isolator->Cleanup(id);
  // Fine either way, as long as an error says which container.
  if (!cleaned.ok()) {
    EXPECT_THAT(cleaned.message(), HasSubstr(id));
  }
  ExpectNothingLeft(id);
  // The isolator still works.
  ASSERT_TRUE(isolator->Prepare(id, Config("cpus:1")).ok());
  EXPECT_TRUE(isolator->Cleanup(id).ok());
}

TEST_P(IsolatorConformanceTest, PrepareThenCleanupWithoutAProcessLeavesNothing) {
  IsolatorUnderTest& isolator = *isolator_;
  const std::string id = UniqueId();
  auto info = isolator->Prepare(id, Config("cpus:0.5;mem:32"));
  ASSERT_TRUE(info.ok()) << info.status().message();
  ExpectSaneLaunchInfo(*info);
  Status cleaned = isolator->Cleanup(id);
  EXPECT_TRUE(cleaned.ok()) << cleaned.message();
  isolator.RunPosted();
  EXPECT_TRUE(limits_.empty());
  ExpectNothingLeft(id);
}

INSTANTIATE_TEST_SUITE_P(Isolators, IsolatorConformanceTest, ::testing::ValuesIn(AllIsolators()),
                         [](const auto& info) { return IsolatorTestName(info.param); });

}  // namespace
}  // namespace keel::test
