// The oci containerizer with Debian's runc: busybox images built at test
// time, tasks that run in them, limits, kills, and what is left afterwards
// (no mount, no runc state, no cgroup).
#include "modules/containerizer/oci/oci_containerizer.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "modules/containerizer/oci/rooted_files.hpp"
#include "modules/containerizer/oci/runc.hpp"
#include "modules/containerizer/oci/tests/test_image.hpp"
#include "tests/support/strand_module_context.hpp"

namespace keel::modules::oci {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ReadAll;
using testing::TempDir;

constexpr const char* kCgroupsRoot = "keel-test";

// The test's thread plays the core strand; the oci parameters' defaults.
class FakeContext : public keel::test::StrandModuleContext {
 public:
  explicit FakeContext(std::string work_dir) : StrandModuleContext("oci", std::move(work_dir)) {
    mutable_parameters().Set("runc", std::string("runc"));
    mutable_parameters().Set("runc_root", std::string(""));
    mutable_parameters().Set("max_pids", int64_t{1024});
    mutable_parameters().Set("cfs_quota", false);
    mutable_parameters().Set("cgroups_root", std::string(kCgroupsRoot));
    mutable_parameters().Set("rootfs", std::string("auto"));
  }
  bool DrainUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
    return StrandModuleContext::DrainUntil(done, timeout);
  }
};

bool CanRunContainers() {
  return ::geteuid() == 0 && !FindExecutable("runc").empty() && testing::HaveBusybox();
}

class OciContainerizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CanRunContainers()) GTEST_SKIP() << "needs root, runc and /bin/busybox";
    ImageStore store(module_dir);
    const std::string tarball = dir.path() + "/busybox.tar";
    testing::WriteBusyboxDockerSave(tarball, "busybox:latest", dir.path());
    auto image = store.Import(tarball, *ParseImageReference("busybox"), false);
    ASSERT_TRUE(image.ok()) << image.status().message();
  }

  std::unique_ptr<OciContainerizer> Started() {
    auto containerizer = std::make_unique<OciContainerizer>(context);
    Status started = containerizer->Start({});
    EXPECT_TRUE(started.ok()) << started.message();
    return containerizer;
  }

  ContainerLaunch Launch(const std::string& id, const std::string& shell_command,
                         double mem_mb = 64) {
    ContainerLaunch launch;
    launch.id = id;
    launch.image = "busybox:latest";
    launch.config.sandbox_dir = dir.path() + "/sandboxes/" + id;
    launch.config.resources = Resources::Scalar("cpus", 0.5) + Resources::Scalar("mem", mem_mb);
    launch.command.shell = true;
    launch.command.value = shell_command;
    // What the agent sets: the sandbox's host path, which the container replaces.
    launch.command.environment["MESOS_SANDBOX"] = launch.config.sandbox_dir;
    launch.command.environment["TASK_VAR"] = "from-task";
    return launch;
  }

  // Launches and waits for the end.
  std::optional<ContainerTermination> RunToEnd(OciContainerizer& c, const ContainerLaunch& launch,
                                               std::chrono::milliseconds timeout = 20s) {
    std::optional<ContainerTermination> ended;
    Status launched = c.Launch(launch, [&](const ContainerTermination& t) { ended = t; });
    EXPECT_TRUE(launched.ok()) << launched.message();
    if (!launched.ok()) return std::nullopt;
    EXPECT_TRUE(context.DrainUntil([&] { return ended.has_value(); }, timeout));
    return ended;
  }

  // Nothing of the container is left on the host.
  void ExpectNothingLeft(const std::string& id) {
    EXPECT_FALSE(HasMountUnder(module_dir)) << "a mount is left under " << module_dir;
    EXPECT_FALSE(fs::exists(module_dir + "/containers/" + id));
    auto listed =
        oci::RunToEnd({FindExecutable("runc"), "--root", module_dir + "/runc", "list", "-q"});
    ASSERT_TRUE(listed.ok());
    EXPECT_EQ(listed->output, "") << "runc still knows containers";
    for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup")) {
      const fs::path cgroup = hierarchy.path() / (std::string(kCgroupsRoot) + "-oci") / id;
      EXPECT_FALSE(fs::exists(cgroup)) << cgroup << " is left";
    }
  }

  TempDir dir;
  std::string module_dir = dir.path() + "/modules/oci";
  FakeContext context{module_dir};
};

TEST_F(OciContainerizerTest, RunsATaskInsideTheImage) {
  auto c = Started();
  ContainerLaunch launch = Launch(
      "c-hello",
      "echo hello from busybox; cat /etc/os-release || true; ls /; "
      "test -e /bin/busybox && echo has-busybox; test -e /usr/bin/runc || echo no-host-runc; "
      "echo sandbox=$MESOS_SANDBOX; echo vars=$IMAGE_VAR,$TASK_VAR; echo pid=$$; "
      "echo written > $MESOS_SANDBOX/from-task; echo cwd=$(pwd); echo oops >&2");
  EXPECT_TRUE(c->CanLaunch(launch));
  launch.image.reset();
  EXPECT_FALSE(c->CanLaunch(launch));
  launch.image = "busybox";

  auto ended = RunToEnd(*c, launch);
  ASSERT_TRUE(ended.has_value());
  const std::string sandbox = launch.config.sandbox_dir;
  const std::string out = ReadAll(sandbox + "/stdout");
  ASSERT_TRUE(ended->exit_status.has_value()) << ended->message;
  EXPECT_TRUE(WIFEXITED(*ended->exit_status) && WEXITSTATUS(*ended->exit_status) == 0)
      << ended->message << "\nstdout:\n"
      << out << "\nstderr:\n"
      << ReadAll(sandbox + "/stderr");
  EXPECT_FALSE(ended->limitation.has_value());
  EXPECT_NE(out.find("hello from busybox"), std::string::npos) << out;
  EXPECT_NE(out.find("Keel test busybox"), std::string::npos) << out;
  EXPECT_NE(out.find("has-busybox"), std::string::npos) << out;
  EXPECT_NE(out.find("no-host-runc"), std::string::npos) << out;
  EXPECT_NE(out.find("sandbox=/mnt/mesos/sandbox"), std::string::npos) << out;
  EXPECT_NE(out.find("vars=from-image,from-task"), std::string::npos) << out;
  EXPECT_NE(out.find("pid=1\n"), std::string::npos) << out;  // its own pid namespace
  EXPECT_NE(out.find("cwd=/mnt/mesos/sandbox"), std::string::npos) << out;
  EXPECT_EQ(ReadAll(sandbox + "/from-task"), "written\n");
  EXPECT_EQ(ReadAll(sandbox + "/stderr"), "oops\n");
  ExpectNothingLeft(launch.id);
  // The image itself is untouched by what the task wrote.
  EXPECT_FALSE(
      fs::exists(module_dir + "/images/busybox/latest/rootfs/mnt/mesos/sandbox/from-task"));
}

TEST_F(OciContainerizerTest, ExitStatusAndGracefulKill) {
  auto c = Started();
  auto three = RunToEnd(*c, Launch("c-three", "exit 3"));
  ASSERT_TRUE(three && three->exit_status);
  EXPECT_TRUE(WIFEXITED(*three->exit_status));
  EXPECT_EQ(WEXITSTATUS(*three->exit_status), 3);
  EXPECT_EQ(three->message, "Command exited with status 3");

  // SIGTERM reaches the task's processes, not only runc.
  std::optional<ContainerTermination> ended;
  ContainerLaunch launch = Launch(
      "c-term", "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done");
  ASSERT_TRUE(c->Launch(launch, [&](const ContainerTermination& t) { ended = t; }).ok());
  const std::string stdout_path = launch.config.sandbox_dir + "/stdout";
  ASSERT_TRUE(
      context.DrainUntil([&] { return ReadAll(stdout_path).find("ready") != std::string::npos; }));
  ASSERT_TRUE(c->Kill(launch.id, SIGTERM).ok());
  ASSERT_TRUE(context.DrainUntil([&] { return ended.has_value(); }));
  EXPECT_NE(ReadAll(stdout_path).find("got TERM"), std::string::npos);
  ASSERT_TRUE(ended->exit_status.has_value());
  EXPECT_TRUE(WIFEXITED(*ended->exit_status) && WEXITSTATUS(*ended->exit_status) == 0)
      << ended->message;
  ExpectNothingLeft(launch.id);
}

TEST_F(OciContainerizerTest, DestroyKillsASleepingTaskAndLeavesNothing) {
  auto c = Started();
  std::optional<ContainerTermination> ended;
  ContainerLaunch launch = Launch("c-sleep", "echo sleeping; sleep 1000");
  ASSERT_TRUE(c->Launch(launch, [&](const ContainerTermination& t) { ended = t; }).ok());
  EXPECT_EQ(c->Containers(), std::vector<ContainerId>{"c-sleep"});
  const std::string stdout_path = launch.config.sandbox_dir + "/stdout";
  ASSERT_TRUE(context.DrainUntil(
      [&] { return ReadAll(stdout_path).find("sleeping") != std::string::npos; }));
  auto usage = c->Usage(launch.id);
  ASSERT_TRUE(usage.ok()) << usage.status().message();
  EXPECT_EQ(usage->mem_limit_bytes, 64u << 20);
  EXPECT_EQ(usage->cpus_limit, 0.5);
  ASSERT_TRUE(usage->processes.has_value());
  EXPECT_GE(*usage->processes, 1u);
  EXPECT_GT(usage->mem_rss_bytes, 0u);
  EXPECT_TRUE(HasMountUnder(module_dir + "/containers/c-sleep"));

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(c->Destroy(launch.id).ok());
  ASSERT_TRUE(context.DrainUntil([&] { return ended.has_value(); }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_TRUE(ended->exit_status.has_value()) << ended->message;
  EXPECT_TRUE(WIFSIGNALED(*ended->exit_status)) << ended->message;
  EXPECT_EQ(WTERMSIG(*ended->exit_status), SIGKILL);
  EXPECT_EQ(ended->message, "Command terminated by signal 9 (Killed)");
  EXPECT_TRUE(c->Containers().empty());
  ExpectNothingLeft(launch.id);
}

TEST_F(OciContainerizerTest, MemoryHogEndsWithTheMemoryLimitation) {
  auto c = Started();
  // dd's 64 MB block cannot fit in 32 MB.
  auto ended = RunToEnd(*c, Launch("c-hog",
                                   "echo start; dd if=/dev/zero of=/dev/null bs=64M count=4; "
                                   "echo survived; sleep 5",
                                   32));
  ASSERT_TRUE(ended.has_value());
  ASSERT_TRUE(ended->limitation.has_value()) << ended->message;
  EXPECT_EQ(ended->limitation->reason, "REASON_CONTAINER_LIMITATION_MEMORY");
  EXPECT_NE(ended->limitation->message.find("32 MB"), std::string::npos);
  ExpectNothingLeft("c-hog");
}

TEST_F(OciContainerizerTest, UnknownImageFailsTheLaunchClearly) {
  auto c = Started();
  ContainerLaunch launch = Launch("c-unknown", "true");
  launch.image = "nosuch/image:v1";
  Status launched = c->Launch(launch, [](const ContainerTermination&) {
    ADD_FAILURE() << "a launch that failed never ends";
  });
  ASSERT_FALSE(launched.ok());
  EXPECT_EQ(launched.message(), "image 'nosuch/image:v1' is not in the agent's image store (" +
                                    module_dir + "/images); import it with keelctl image import");
  EXPECT_TRUE(c->Containers().empty());
}

TEST_F(OciContainerizerTest, DestroyWhileStartingAndAMissingExecutable) {
  auto c = Started();
  std::optional<ContainerTermination> ended;
  ContainerLaunch launch = Launch("c-early", "sleep 1000");
  ASSERT_TRUE(c->Launch(launch, [&](const ContainerTermination& t) { ended = t; }).ok());
  ASSERT_TRUE(c->Destroy(launch.id).ok());  // before the worker got to it
  ASSERT_TRUE(context.DrainUntil([&] { return ended.has_value(); }, 10s));
  ExpectNothingLeft(launch.id);

  ContainerLaunch missing = Launch("c-missing", "");
  missing.command.shell = false;
  missing.command.value = "/no/such/program";
  auto failed = RunToEnd(*c, missing);
  ASSERT_TRUE(failed && failed->exit_status);
  EXPECT_FALSE(WIFEXITED(*failed->exit_status) && WEXITSTATUS(*failed->exit_status) == 0);
  EXPECT_NE(failed->message.find("/no/such/program"), std::string::npos) << failed->message;
  ExpectNothingLeft(missing.id);
}

TEST_F(OciContainerizerTest, ImageCommandUserAndReadOnlyRootfs) {
  context.mutable_parameters().Set("rootfs", std::string("readonly"));
  auto c = Started();
  ContainerLaunch launch = Launch("c-ro", "");
  launch.command.shell = true;
  launch.command.value = "";  // the image's Cmd: sh, with nothing on stdin
  auto image_cmd = RunToEnd(*c, launch);
  ASSERT_TRUE(image_cmd && image_cmd->exit_status);
  EXPECT_TRUE(WIFEXITED(*image_cmd->exit_status) && WEXITSTATUS(*image_cmd->exit_status) == 0)
      << image_cmd->message;

  ContainerLaunch ro = Launch("c-ro2",
                              "touch /in-root 2>/dev/null && echo root-writable; "
                              "touch /tmp/x && echo tmp-writable; id -u; "
                              "echo mine > $MESOS_SANDBOX/by-nobody && echo sandbox-writable");
  ro.command.user = "nobody";
  auto ended = RunToEnd(*c, ro);
  ASSERT_TRUE(ended.has_value());
  const std::string out = ReadAll(ro.config.sandbox_dir + "/stdout");
  EXPECT_EQ(out.find("root-writable"), std::string::npos) << out;
  EXPECT_NE(out.find("tmp-writable"), std::string::npos) << out;
  EXPECT_NE(out.find("65534"), std::string::npos) << out;
  EXPECT_NE(out.find("sandbox-writable"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(module_dir + "/images/busybox/latest/rootfs/in-root"));
  ExpectNothingLeft("c-ro2");

  ContainerLaunch stranger = Launch("c-stranger", "true");
  stranger.command.user = "alice";
  Status refused = c->Launch(stranger, [](const ContainerTermination&) {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("'alice' is not in the image's /etc/passwd"), std::string::npos)
      << refused.message();
}

TEST_F(OciContainerizerTest, ImageEntrypointCmdWorkingDirAndUser) {
  const std::string layout = dir.path() + "/entrypoint";
  testing::WriteBusyboxOciLayout(layout, dir.path(),
                                 ",\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"WorkingDir\":\"/tmp\","
                                 "\"User\":\"nobody\"");
  // The config's Cmd is ["sh"] (BusyboxConfig); the task's arguments replace it.
  ImageStore store(module_dir);
  ASSERT_TRUE(store.Import(layout, *ParseImageReference("entry:1"), false).ok());
  auto c = Started();
  ContainerLaunch launch = Launch("c-entry", "");
  launch.image = "entry:1";
  launch.command.shell = false;
  launch.command.arguments = {"echo from-entrypoint; pwd; id -u; echo home=$HOME"};
  auto ended = RunToEnd(*c, launch);
  ASSERT_TRUE(ended && ended->exit_status);
  const std::string out = ReadAll(launch.config.sandbox_dir + "/stdout");
  EXPECT_TRUE(WIFEXITED(*ended->exit_status) && WEXITSTATUS(*ended->exit_status) == 0)
      << ended->message << "\n"
      << out << ReadAll(launch.config.sandbox_dir + "/stderr");
  EXPECT_EQ(out, "from-entrypoint\n/tmp\n65534\nhome=/nonexistent\n");
  ExpectNothingLeft(launch.id);
}

TEST_F(OciContainerizerTest, StartFailsClearlyWithoutRunc) {
  context.mutable_parameters().Set("runc", std::string("/nonexistent/runc"));
  OciContainerizer c(context);
  Status started = c.Start({});
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.message().find("runc not found"), std::string::npos) << started.message();
  EXPECT_NE(started.message().find("/nonexistent/runc"), std::string::npos);
}

TEST_F(OciContainerizerTest, RecoverRemovesWhatACrashedAgentLeftAndDidNotRecord) {
  // A bundle with its overlay still mounted, as an agent killed -9 during a
  // launch leaves it (the agent has no record of it).
  const std::string bundle = module_dir + "/containers/c-crashed";
  for (const char* sub : {"rootfs", "upper", "work"}) fs::create_directories(bundle + "/" + sub);
  const std::string options = "lowerdir=" + module_dir +
                              "/images/busybox/latest/rootfs,upperdir=" + bundle +
                              "/upper,workdir=" + bundle + "/work";
  ASSERT_EQ(::mount("overlay", (bundle + "/rootfs").c_str(), "overlay", 0, options.c_str()), 0);
  ASSERT_TRUE(HasMountUnder(bundle));
  auto c = Started();
  ASSERT_TRUE(c->Recover({}, [](const ContainerId&, const ContainerTermination&) {}).ok());
  EXPECT_FALSE(fs::exists(bundle));
  ExpectNothingLeft("c-crashed");
}

// The agent stops (or dies): its containers run on under keel-container-init,
// and the next agent's containerizer takes back the one that still runs and
// reports, with its status, the one that ended meanwhile.
TEST_F(OciContainerizerTest, ContainersOutliveTheContainerizerAndTheNextOneRecoversThem) {
  ContainerLaunch stays = Launch("c-stays", "echo up; exec sleep 1000");
  ContainerLaunch ends = Launch("c-ends",
                                "echo up; while [ ! -e $MESOS_SANDBOX/go ]; do sleep 0.05; done; "
                                "exit 3");
  ends.command.environment["MESOS_SANDBOX"] = "/mnt/mesos/sandbox";
  {
    auto c = Started();
    for (const ContainerLaunch* launch : {&stays, &ends}) {
      ASSERT_TRUE(c->Launch(*launch, [](const ContainerTermination&) {}).ok());
      const std::string stdout_path = launch->config.sandbox_dir + "/stdout";
      ASSERT_TRUE(
          context.DrainUntil([&] { return ReadAll(stdout_path).find("up") != std::string::npos; }));
    }
  }
  // No containerizer now: c-ends ends, and its init records how.
  std::ofstream(ends.config.sandbox_dir + "/go").put('\n');
  ASSERT_TRUE(context.DrainUntil(
      [&] { return fs::exists(module_dir + "/containers/c-ends/exit_status"); }, 10s));

  auto c = Started();
  std::map<ContainerId, ContainerTermination> ended;
  auto record = [&](const ContainerId& id, const ContainerTermination& t) { ended[id] = t; };
  std::vector<RecoveredContainer> listed(2);
  listed[0].id = "c-stays";
  listed[0].config = stays.config;
  listed[1].id = "c-ends";
  listed[1].config = ends.config;
  ASSERT_TRUE(c->Recover(listed, record).ok());
  ASSERT_TRUE(context.DrainUntil([&] { return ended.count("c-ends") != 0; }));
  const ContainerTermination& end = ended.at("c-ends");
  ASSERT_TRUE(end.exit_status.has_value()) << end.message;
  EXPECT_TRUE(WIFEXITED(*end.exit_status) && WEXITSTATUS(*end.exit_status) == 3) << end.message;
  EXPECT_FALSE(fs::exists(module_dir + "/containers/c-ends"));

  // c-stays runs on, and is the containerizer's again: usage, then destroy.
  EXPECT_EQ(ended.count("c-stays"), 0u);
  auto usage = c->Usage("c-stays");
  ASSERT_TRUE(usage.ok()) << usage.status().message();
  EXPECT_GT(usage->mem_rss_bytes, 0u);
  ASSERT_TRUE(c->Destroy("c-stays").ok());
  ASSERT_TRUE(context.DrainUntil([&] { return ended.count("c-stays") != 0; }));
  ExpectNothingLeft("c-stays");
  ExpectNothingLeft("c-ends");
}

}  // namespace
}  // namespace keel::modules::oci
