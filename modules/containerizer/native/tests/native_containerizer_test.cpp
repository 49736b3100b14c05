#include "modules/containerizer/native/native_containerizer.hpp"

#include "modules/containerizer/native/child_spec.hpp"
#include "modules/isolator/filesystem_tmp/private_tmp_isolator.hpp"
#include "modules/isolator/namespaces_pid/pid_namespace_isolator.hpp"
#include "tests/support/strand_module_context.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace keel::modules {
namespace {

using namespace std::chrono_literals;

std::string MakeTempDir(const char* prefix) {
  std::string pattern = std::string("/tmp/") + prefix + "-XXXXXX";
  return ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
}

// The test's own thread plays the core strand; the containerizer keeps its
// records in a directory of its own.
class FakeContext : public test::StrandModuleContext {
 public:
  FakeContext() : StrandModuleContext("native", MakeTempDir("keel-native-work")) {}
  ~FakeContext() override {
    std::error_code ec;
    std::filesystem::remove_all(work_dir(), ec);
  }
};

// Records every call, in order, into a log shared by several isolators.
class RecordingIsolator : public Isolator {
 public:
  RecordingIsolator(std::string name, std::vector<std::string>* calls)
      : name_(std::move(name)), calls_(calls) {}

  Result<LaunchInfo> Prepare(const ContainerId& id, const ContainerConfig&) override {
    calls_->push_back(name_ + ".Prepare");
    if (fail_prepare) return Status::Error("no room");
    LaunchInfo info;
    info.environment["FROM_" + name_] = "yes";
    return info;
  }
  Status Isolate(const ContainerId&, int pid) override {
    calls_->push_back(name_ + ".Isolate");
    isolated_pid = pid;
    return Status::Ok();
  }
  void Watch(const ContainerId&,
             std::function<void(const ContainerLimitation&)> on_limit) override {
    this->on_limit = std::move(on_limit);
  }
  Status Update(const ContainerId&, const Resources&) override { return Status::Ok(); }
  Status Usage(const ContainerId&, ResourceStatistics* stats) override {
    stats->processes = 1;
    return Status::Ok();
  }
  Status Cleanup(const ContainerId&) override {
    calls_->push_back(name_ + ".Cleanup");
    return Status::Ok();
  }

  bool fail_prepare = false;
  int isolated_pid = 0;
  std::function<void(const ContainerLimitation&)> on_limit;

 private:
  std::string name_;
  std::vector<std::string>* calls_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Gone, or a zombie waiting for an init that does not reap: either way it
// runs nothing any more.
bool ProcessIsGone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t end = stat.rfind(')');
  return end == std::string::npos || (end + 2 < stat.size() && stat[end + 2] == 'Z');
}

class NativeContainerizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/keel-native-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    sandbox_ = pattern;
  }
  // Containers outlive the containerizer: a test ends what it left.
  void TearDown() override {
    if (containerizer_) {
      for (const ContainerId& id : containerizer_->Containers()) (void)containerizer_->Destroy(id);
      EXPECT_TRUE(context_.DrainUntil([&] { return containerizer_->Containers().empty(); }));
    }
    containerizer_.reset();
    std::filesystem::remove_all(sandbox_);
  }

  void Start(std::vector<Isolator*> isolators = {}) {
    containerizer_ = std::make_unique<NativeContainerizer>(context_);
    ASSERT_TRUE(containerizer_->Start(isolators).ok());
  }

  ContainerLaunch ShellLaunch(const std::string& id, const std::string& command) {
    ContainerLaunch launch;
    launch.id = id;
    launch.config.sandbox_dir = sandbox_;
    launch.command.value = command;
    return launch;
  }

  // Launches and waits for the termination.
  std::optional<ContainerTermination> Run(const ContainerLaunch& launch) {
    std::optional<ContainerTermination> result;
    Status launched =
        containerizer_->Launch(launch, [&result](const ContainerTermination& t) { result = t; });
    EXPECT_TRUE(launched.ok()) << launched.ToString();
    if (!launched.ok()) return std::nullopt;
    EXPECT_TRUE(context_.DrainUntil([&] { return result.has_value(); }));
    return result;
  }

  FakeContext context_;
  std::string sandbox_;
  std::unique_ptr<NativeContainerizer> containerizer_;
};

TEST_F(NativeContainerizerTest, ReportsExitStatusAndWritesOutputToTheSandbox) {
  Start();
  auto t = Run(ShellLaunch("c1", "echo hi; echo err >&2; exit 3"));
  ASSERT_TRUE(t.has_value());
  ASSERT_TRUE(t->exit_status.has_value());
  EXPECT_TRUE(WIFEXITED(*t->exit_status));
  EXPECT_EQ(WEXITSTATUS(*t->exit_status), 3);
  EXPECT_EQ(t->message, "Command exited with status 3");
  EXPECT_FALSE(t->limitation.has_value());
  EXPECT_EQ(ReadFile(sandbox_ + "/stdout"), "hi\n");
  EXPECT_EQ(ReadFile(sandbox_ + "/stderr"), "err\n");
  EXPECT_TRUE(containerizer_->Containers().empty());
}

TEST_F(NativeContainerizerTest, TaskSeesItsEnvironmentAndNotTheAgents) {
  ::setenv("KEEL_NATIVE_TEST_SECRET", "leaked", 1);
  std::vector<std::string> calls;
  RecordingIsolator isolator("iso", &calls);
  Start({&isolator});
  ContainerLaunch launch =
      ShellLaunch("c1",
                  "echo \"$GREETING|$FROM_iso|${KEEL_NATIVE_TEST_SECRET:-unset}|$PWD\"; "
                  "test -n \"$PATH\"");
  launch.command.environment["GREETING"] = "hello world";
  auto t = Run(launch);
  ::unsetenv("KEEL_NATIVE_TEST_SECRET");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(WEXITSTATUS(t->exit_status.value_or(-1)), 0);
  EXPECT_EQ(ReadFile(sandbox_ + "/stdout"), "hello world|yes|unset|" + sandbox_ + "\n");
}

TEST_F(NativeContainerizerTest, RunsAnExecutableWithArguments) {
  Start();
  ContainerLaunch launch;
  launch.id = "c1";
  launch.config.sandbox_dir = sandbox_;
  launch.command.shell = false;
  launch.command.value = "printf";  // found in PATH
  launch.command.arguments = {"printf", "%s-%s\n", "a b", "c"};
  auto t = Run(launch);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(WEXITSTATUS(t->exit_status.value_or(-1)), 0);
  EXPECT_EQ(ReadFile(sandbox_ + "/stdout"), "a b-c\n");
}

TEST_F(NativeContainerizerTest, UnknownExecutableFailsLaunch) {
  Start();
  ContainerLaunch launch = ShellLaunch("c1", "no-such-keel-command");
  launch.command.shell = false;
  bool exited = false;
  Status status =
      containerizer_->Launch(launch, [&](const ContainerTermination&) { exited = true; });
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no-such-keel-command"), std::string::npos);
  EXPECT_TRUE(containerizer_->Containers().empty());
}

TEST_F(NativeContainerizerTest, DestroyKillsTheWholeProcessGroup) {
  Start();
  ContainerLaunch launch = ShellLaunch("c1", "sleep 100 & echo $! > grandchild; sleep 100");
  std::optional<ContainerTermination> t;
  ASSERT_TRUE(containerizer_->Launch(launch, [&](const ContainerTermination& r) { t = r; }).ok());
  EXPECT_EQ(containerizer_->Containers(), std::vector<ContainerId>{"c1"});

  std::string pid_text;
  ASSERT_TRUE(context_.DrainUntil([&] {
    pid_text = ReadFile(sandbox_ + "/grandchild");
    return !pid_text.empty() && pid_text.back() == '\n';
  }));
  const pid_t grandchild = std::stoi(pid_text);
  ASSERT_FALSE(ProcessIsGone(grandchild));

  ASSERT_TRUE(containerizer_->Destroy("c1").ok());
  ASSERT_TRUE(context_.DrainUntil([&] { return t.has_value(); }));
  ASSERT_TRUE(t->exit_status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*t->exit_status));
  EXPECT_EQ(WTERMSIG(*t->exit_status), SIGKILL);
  EXPECT_EQ(t->message, "Command terminated by signal 9 (Killed)");
  EXPECT_TRUE(context_.DrainUntil([&] { return ProcessIsGone(grandchild); }));
  EXPECT_TRUE(containerizer_->Containers().empty());
}

TEST_F(NativeContainerizerTest, LeaderExitKillsItsBackgroundChildren) {
  Start();
  auto t = Run(ShellLaunch("c1", "sleep 100 & echo $! > grandchild; exit 0"));
  ASSERT_TRUE(t.has_value());
  const pid_t grandchild = std::stoi(ReadFile(sandbox_ + "/grandchild"));
  EXPECT_TRUE(context_.DrainUntil([&] { return ProcessIsGone(grandchild); }));
}

TEST_F(NativeContainerizerTest, FailedPrepareCleansUpAndRunsNothing) {
  std::vector<std::string> calls;
  RecordingIsolator first("a", &calls), second("b", &calls);
  second.fail_prepare = true;
  Start({&first, &second});
  bool exited = false;
  Status status = containerizer_->Launch(ShellLaunch("c1", "touch ran"),
                                         [&](const ContainerTermination&) { exited = true; });
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("isolator #2"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("no room"), std::string::npos);
  EXPECT_EQ(calls, (std::vector<std::string>{"a.Prepare", "b.Prepare", "a.Cleanup"}));
  EXPECT_EQ(first.isolated_pid, 0);
  context_.DrainUntil([] { return false; }, 100ms);
  EXPECT_FALSE(exited);
  EXPECT_FALSE(std::filesystem::exists(sandbox_ + "/ran"));
  EXPECT_TRUE(containerizer_->Containers().empty());
}

TEST_F(NativeContainerizerTest, CallsIsolatorsInOrderAndCleansUpInReverse) {
  std::vector<std::string> calls;
  RecordingIsolator first("a", &calls), second("b", &calls);
  Start({&first, &second});
  auto t = Run(ShellLaunch("c1", "exit 0"));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(calls, (std::vector<std::string>{"a.Prepare", "b.Prepare", "a.Isolate", "b.Isolate",
                                             "b.Cleanup", "a.Cleanup"}));
  EXPECT_GT(first.isolated_pid, 0);
}

TEST_F(NativeContainerizerTest, LimitationDestroysTheContainerAndIsReported) {
  std::vector<std::string> calls;
  RecordingIsolator isolator("mem", &calls);
  Start({&isolator});
  std::optional<ContainerTermination> t;
  ASSERT_TRUE(
      containerizer_
          ->Launch(ShellLaunch("c1", "sleep 100"), [&](const ContainerTermination& r) { t = r; })
          .ok());
  ASSERT_TRUE(isolator.on_limit);
  isolator.on_limit({"REASON_CONTAINER_LIMITATION_MEMORY", "too big"});
  ASSERT_TRUE(context_.DrainUntil([&] { return t.has_value(); }));
  ASSERT_TRUE(t->limitation.has_value());
  EXPECT_EQ(t->limitation->reason, "REASON_CONTAINER_LIMITATION_MEMORY");
  EXPECT_EQ(WTERMSIG(t->exit_status.value_or(0)), SIGKILL);
}

TEST_F(NativeContainerizerTest, UsageFillsIsolatorStatisticsAndRejectsUnknownIds) {
  std::vector<std::string> calls;
  RecordingIsolator isolator("u", &calls);
  Start({&isolator});
  EXPECT_FALSE(containerizer_->Usage("nope").ok());
  EXPECT_FALSE(containerizer_->Destroy("nope").ok());
  EXPECT_NE(containerizer_->Destroy("nope").message().find("nope"), std::string::npos);

  ASSERT_TRUE(containerizer_->Launch(ShellLaunch("c1", "sleep 100"), nullptr).ok());
  Result<ResourceStatistics> usage = containerizer_->Usage("c1");
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_GT(usage->timestamp, 1.7e9);
  EXPECT_EQ(usage->processes.value_or(0), 1u);
  // The destructor leaves the container running, for a later agent.
  const pid_t pid = isolator.isolated_pid;
  containerizer_.reset();
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), 0);  // running, not reaped
  EXPECT_FALSE(ProcessIsGone(pid));
  ::killpg(pid, SIGKILL);
  EXPECT_EQ(::waitpid(pid, nullptr, 0), pid);
}

// Exit codes of the unprivileged child below.
constexpr int kRefusedNamingTheUser = 0;
constexpr int kNotRefused = 1;
constexpr int kSetupFailed = 2;

TEST_F(NativeContainerizerTest, RunningAsAnotherUserNeedsRoot) {
  // As root, try it from a child that has dropped to an unprivileged user.
  const bool as_root = ::geteuid() == 0;
  Result<UserIdentity> nobody = LookUpUser("nobody");
  if (as_root && !nobody.ok()) GTEST_SKIP() << "no user 'nobody' to drop to";
  const std::string other_user = "root";
  pid_t child = as_root ? ::fork() : 0;
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (as_root && (::setresgid(nobody->gid, nobody->gid, nobody->gid) != 0 ||
                    ::setresuid(nobody->uid, nobody->uid, nobody->uid) != 0)) {
      ::_exit(kSetupFailed);
    }
    FakeContext context;
    NativeContainerizer containerizer(context);
    if (!containerizer.Start({}).ok()) ::_exit(kSetupFailed);
    ContainerLaunch launch = ShellLaunch("c1", "exit 0");
    launch.command.user = other_user;
    Status status = containerizer.Launch(launch, nullptr);
    const int result =
        !status.ok() && status.message().find("'" + other_user + "'") != std::string::npos
            ? kRefusedNamingTheUser
            : kNotRefused;
    if (as_root) ::_exit(result);
    EXPECT_EQ(result, kRefusedNamingTheUser) << status.ToString();
    return;
  }
  int wait_status = 0;
  ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), kRefusedNamingTheUser);
}

TEST_F(NativeContainerizerTest, RootRunsTheTaskAsTheRequestedUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  Result<UserIdentity> nobody = LookUpUser("nobody");
  if (!nobody.ok()) GTEST_SKIP() << "no user 'nobody' here";
  Start();
  ContainerLaunch launch = ShellLaunch("c1", "echo $(id -u):$(id -g):$HOME");
  launch.command.user = "nobody";
  auto t = Run(launch);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(WEXITSTATUS(t->exit_status.value_or(-1)), 0);
  EXPECT_EQ(
      ReadFile(sandbox_ + "/stdout"),
      std::to_string(nobody->uid) + ":" + std::to_string(nobody->gid) + ":" + nobody->home + "\n");
}

// Through keel-container-init: what the task sees in a pid namespace, and
// that its end is reported as the task's own, not the init's.
class NamespacedContainerTest : public NativeContainerizerTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "namespaces need root";
    NativeContainerizerTest::SetUp();
  }
  PidNamespaceIsolator pid_namespace_;
  PrivateTmpIsolator private_tmp_;
};

TEST_F(NamespacedContainerTest, TaskIsPidTwoUnderAnInitAndItsExitStatusIsItsOwn) {
  Start({&pid_namespace_});
  auto t = Run(ShellLaunch("c1", "echo $$; ls /proc | grep -c '^[0-9]'; exit 3"));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(WEXITSTATUS(t->exit_status.value_or(-1)), 3) << ReadFile(sandbox_ + "/stderr");
  EXPECT_EQ(t->message, "Command exited with status 3");
  // The init, the shell, and ls with grep in a pipeline: nothing of the host.
  const std::string out = ReadFile(sandbox_ + "/stdout");
  EXPECT_EQ(out.substr(0, 2), "2\n") << out;
  EXPECT_LE(std::stoi(out.substr(2)), 4) << out;
}

TEST_F(NamespacedContainerTest, GracefulKillReachesTheTaskAndItsSignalIsReported) {
  Start({&pid_namespace_});
  std::optional<ContainerTermination> t;
  ASSERT_TRUE(containerizer_
                  ->Launch(ShellLaunch("c1", "echo up > up; exec sleep 100"),
                           [&](const ContainerTermination& r) { t = r; })
                  .ok());
  ASSERT_TRUE(context_.DrainUntil([&] { return !ReadFile(sandbox_ + "/up").empty(); }));
  ASSERT_TRUE(containerizer_->Kill("c1", SIGTERM).ok());
  ASSERT_TRUE(context_.DrainUntil([&] { return t.has_value(); }));
  ASSERT_TRUE(t->exit_status.has_value());
  ASSERT_TRUE(WIFSIGNALED(*t->exit_status)) << t->message;
  EXPECT_EQ(WTERMSIG(*t->exit_status), SIGTERM);
  EXPECT_EQ(t->message, "Command terminated by signal 15 (Terminated)");
}

TEST_F(NamespacedContainerTest, EndOfTheTaskEndsWhatItLeftInTheNamespace) {
  Start({&pid_namespace_});
  // A new session and a double fork: out of the task's process group.
  auto t = Run(ShellLaunch("c1", "(setsid sleep 100 &); sleep 0.2; exit 0"));
  ASSERT_TRUE(t.has_value());
  bool left = true;
  context_.DrainUntil(
      [&] {
        left = false;
        for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
          const std::string link = entry.path().string() + "/cwd";
          std::error_code ec;
          if (std::filesystem::read_symlink(link, ec).string() == sandbox_) left = true;
        }
        return !left;
      },
      5s);
  EXPECT_FALSE(left) << "a process still runs in the sandbox";
}

TEST_F(NamespacedContainerTest, PrivateTmpIsTheSandboxesTmp) {
  Start({&private_tmp_});
  const std::string name = "keel-native-tmp-" + std::to_string(::getpid());
  auto t = Run(ShellLaunch("c1", "echo mine > /tmp/" + name + "; stat -c %a /tmp"));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(WEXITSTATUS(t->exit_status.value_or(-1)), 0) << ReadFile(sandbox_ + "/stderr");
  EXPECT_EQ(ReadFile(sandbox_ + "/tmp/" + name), "mine\n");
  EXPECT_EQ(ReadFile(sandbox_ + "/stdout"), "1777\n");
  EXPECT_FALSE(std::filesystem::exists("/tmp/" + name));
}

TEST_F(NamespacedContainerTest, TaskRunsAsItsUserAfterTheMounts) {
  Result<UserIdentity> nobody = LookUpUser("nobody");
  if (!nobody.ok()) GTEST_SKIP() << "no user 'nobody' here";
  Start({&pid_namespace_, &private_tmp_});
  ContainerLaunch launch = ShellLaunch("c1", "id -u; touch /tmp/x && echo wrote");
  launch.command.user = "nobody";
  auto t = Run(launch);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(WEXITSTATUS(t->exit_status.value_or(-1)), 0) << ReadFile(sandbox_ + "/stderr");
  EXPECT_EQ(ReadFile(sandbox_ + "/stdout"), std::to_string(nobody->uid) + "\nwrote\n");
}

}  // namespace
}  // namespace keel::modules
