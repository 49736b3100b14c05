// Image tasks through the real daemons: a busybox image (made here from
// Debian's busybox-static with tar and sha256sum, as `docker save` lays it
// out) imported with keelctl into the agent's store, an agent with the native
// and oci containerizers, and tasks that name the image, or one it lacks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <thread>

#include "tests/cluster/cluster_fixture.hpp"

namespace keel::test {
namespace {

using ::testing::HasSubstr;

// Writes DIR/busybox.tar: a docker save tarball of a one-layer busybox image.
constexpr const char* kMakeImage = R"(set -eu
d=$1
mkdir -p "$d/rootfs/bin" "$d/rootfs/etc" "$d/save"
cp /bin/busybox "$d/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$d/rootfs/bin/$applet"
done
echo 'NAME="Keel test busybox"' > "$d/rootfs/etc/os-release"
tar -C "$d/rootfs" --numeric-owner -cf "$d/layer.tar" .
diff_id=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
mkdir "$d/save/$diff_id"
mv "$d/layer.tar" "$d/save/$diff_id/layer.tar"
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$diff_id" > "$d/config.json"
config=$(sha256sum "$d/config.json" | cut -d' ' -f1)
mv "$d/config.json" "$d/save/$config.json"
printf '[{"Config":"%s.json","RepoTags":["busybox:latest"],"Layers":["%s/layer.tar"]}]' \
  "$config" "$diff_id" > "$d/save/manifest.json"
tar -C "$d/save" -cf "$d/busybox.tar" .
)";

bool CanRunContainers() {
  return ::geteuid() == 0 && ::access("/bin/busybox", X_OK) == 0 &&
         (::access("/usr/sbin/runc", X_OK) == 0 || ::access("/usr/bin/runc", X_OK) == 0);
}

v1::TaskInfo ImageTask(const std::string& id, const v1::Offer& offer, const std::string& command,
                       const std::string& image) {
  v1::TaskInfo task = TestFramework::CommandTask(id, offer, command, 0.1, 64);
  v1::ContainerInfo* container = task.mutable_container();
  container->set_type(v1::ContainerInfo::MESOS);
  v1::Image* wanted = container->mutable_mesos()->mutable_image();
  wanted->set_type(v1::Image::DOCKER);
  wanted->mutable_docker()->set_name(image);
  return task;
}

class OciClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CanRunContainers()) GTEST_SKIP() << "needs root, runc and /bin/busybox";
    WriteFile(files.path() + "/agent.json",
              R"({"containerizers": [{"name": "native"}, {"name": "oci"}]})");
    ClusterOptions options = FastCluster();
    // An agent restarted in a test is back long before 30 missed pings.
    options.master_flags = {"--allocation_interval=100ms", "--agent_ping_timeout=1s",
                            "--max_agent_ping_timeouts=30"};
    options.agent_flags.push_back("--config=" + files.path() + "/agent.json");
    options.with_agent = false;
    cluster = std::make_unique<LocalCluster>(options);

    RunResult made = RunCommand({"bash", "-c", kMakeImage, "make-image", files.path()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    RunResult imported =
        RunCommand({Bin("keelctl"), "image", "import", files.path() + "/busybox.tar", "--name",
                    "busybox:latest", "--work_dir=" + cluster->agent_work_dir()});
    ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
    cluster->StartAgent();
    framework = std::make_unique<TestFramework>(cluster->master_address());
  }

  TempDir files;
  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<TestFramework> framework;
};

TEST_F(OciClusterTest, ImageTaskRunsInItsImageAndUnknownImageFails) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer) << cluster->agent->Stderr();
  ASSERT_TRUE(framework
                  ->Launch(*offer, ImageTask("in-image", *offer,
                                             "echo hello from busybox; cat /etc/os-release; "
                                             "test -e /bin/busybox && echo has-busybox; "
                                             "test -e /usr/bin/runc || echo no-host-runc; "
                                             "echo sandbox=$MESOS_SANDBOX",
                                             "busybox:latest"))
                  .ok());
  auto finished = framework->WaitForState("in-image", v1::TASK_FINISHED);
  ASSERT_TRUE(finished) << cluster->agent->Stderr();
  const std::string sandbox = SandboxOf(*cluster, framework->client().framework_id(), "in-image");
  ASSERT_FALSE(sandbox.empty());
  const std::string out = ReadFile(sandbox + "/stdout");
  EXPECT_THAT(out, HasSubstr("hello from busybox"));
  EXPECT_THAT(out, HasSubstr("Keel test busybox"));
  EXPECT_THAT(out, HasSubstr("has-busybox"));
  EXPECT_THAT(out, HasSubstr("no-host-runc"));
  EXPECT_THAT(out, HasSubstr("sandbox=/mnt/mesos/sandbox"));

  // A command task on the same agent goes to native.
  auto second = framework->TakeOffer();
  ASSERT_TRUE(second);
  ASSERT_TRUE(framework
                  ->Launch(*second, TestFramework::CommandTask("on-host", *second,
                                                               "test -e /bin/busybox && echo host"))
                  .ok());
  ASSERT_TRUE(framework->WaitForState("on-host", v1::TASK_FINISHED)) << cluster->agent->Stderr();

  auto third = framework->TakeOffer();
  ASSERT_TRUE(third);
  ASSERT_TRUE(
      framework->Launch(*third, ImageTask("no-image", *third, "true", "nosuch/image:v1")).ok());
  auto failed = framework->WaitForState("no-image", v1::TASK_FAILED);
  ASSERT_TRUE(failed) << cluster->agent->Stderr();
  EXPECT_THAT(failed->message(),
              HasSubstr("image 'nosuch/image:v1' is not in the agent's image store ("));
  EXPECT_THAT(failed->message(), HasSubstr("import it with keelctl image import"));
}

using namespace std::chrono_literals;

// runc is run by keel-container-init, which outlives the agent: the next
// agent takes the container back.
TEST_F(OciClusterTest, ImageTaskOutlivesAKilledAgentAndIsKilledAfterItsRestart) {
  auto offer = framework->TakeOffer();
  ASSERT_TRUE(offer) << cluster->agent->Stderr();
  ASSERT_TRUE(
      framework->Launch(*offer, ImageTask("long", *offer, "echo up; exec sleep 600", "busybox"))
          .ok());
  ASSERT_TRUE(framework->WaitForState("long", v1::TASK_RUNNING)) << cluster->agent->Stderr();
  const std::string sandbox = WaitForSandbox(*cluster, framework->client().framework_id(), "long");
  ASSERT_FALSE(sandbox.empty());
  for (int i = 0; i < 500 && ReadFile(sandbox + "/stdout").find("up") == std::string::npos; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_THAT(ReadFile(sandbox + "/stdout"), HasSubstr("up")) << cluster->agent->Stderr();

  ASSERT_TRUE(cluster->agent->Signal(SIGKILL));
  ASSERT_TRUE(cluster->agent->Wait(5s));
  cluster->StartAgent();
  ASSERT_TRUE(WaitForBody(cluster->agent_port, "/state", "\"long\"", 10s))
      << cluster->agent->Stderr();
  std::this_thread::sleep_for(1s);
  const auto runc_list = [&] {
    return RunCommand(
               {"runc", "--root", cluster->agent_work_dir() + "/modules/oci/runc", "list", "-q"})
        .out;
  };
  EXPECT_THAT(runc_list(), HasSubstr("\n"));  // the container still runs
  std::vector<v1::TaskState> states;
  for (const auto& s : framework->Statuses("long")) states.push_back(s.state());
  EXPECT_THAT(states, testing::ElementsAre(v1::TASK_RUNNING));

  const auto running = framework->Statuses("long").back();
  ASSERT_TRUE(framework->client().Kill(running.task_id(), running.agent_id()).ok());
  ASSERT_TRUE(framework->WaitForState("long", v1::TASK_KILLED)) << cluster->agent->Stderr();
  EXPECT_EQ(runc_list(), "");
}

}  // namespace
}  // namespace keel::test
