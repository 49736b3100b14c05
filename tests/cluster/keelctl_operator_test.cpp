// keelctl's operator commands against a real master and agent: the tables
// and their --json, the state summary, a task's logs (followed too), killing
// a task, and the exit codes for a task nobody has, a master that is not
// there, and credentials the master wants or refuses.
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sstream>

#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_framework.hpp"

namespace keel::test {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The whitespace-separated cells of a table's line.
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream in(line);
  for (std::string cell; in >> cell;) cells.push_back(cell);
  return cells;
}

// The table row whose first cell is `id`; empty if there is none.
std::vector<std::string> RowOf(const std::string& table, const std::string& id) {
  for (const auto& line : Lines(table)) {
    auto cells = Cells(line);
    if (!cells.empty() && cells[0] == id) return cells;
  }
  return {};
}

ListValue ParseList(const std::string& json) {
  // A bare JSON array is a ListValue's JSON form.
  ListValue list;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &list).ok()) << json;
  return list;
}

std::string Field(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

class KeelctlOperatorTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(const std::vector<std::string>& master_flags) {
    ClusterOptions o = FastCluster();
    o.master_flags.insert(o.master_flags.end(), master_flags.begin(), master_flags.end());
    framework.reset();
    cluster.reset();
    cluster = std::make_unique<LocalCluster>(o);
    ASSERT_TRUE(WaitForHttp("127.0.0.1", cluster->master_port, "/health", 200, 10000));
  }

  TestFramework& Framework() {
    if (!framework) framework = std::make_unique<TestFramework>(cluster->master_address());
    return *framework;
  }

  // Launches `command` as task `id` of `f` and waits for `state`.
  void Launch(TestFramework& f, const std::string& id, const std::string& command,
              v1::TaskState state) {
    auto offer = f.TakeOffer();
    ASSERT_TRUE(offer) << cluster->master->Stderr() << cluster->agent->Stderr();
    ASSERT_TRUE(f.Launch(*offer, TestFramework::CommandTask(id, *offer, command)).ok());
    ASSERT_TRUE(f.WaitForState(id, state)) << cluster->agent->Stderr();
  }
  void Launch(const std::string& id, const std::string& command, v1::TaskState state) {
    Launch(Framework(), id, command, state);
  }

  // keelctl `args` against the cluster's master.
  RunResult Keelctl(std::vector<std::string> args) {
    args.insert(args.begin(), Bin("keelctl"));
    args.push_back("--master=" + cluster->master_address());
    return RunCommand(args);
  }

  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<TestFramework> framework;
};

TEST_F(KeelctlOperatorTest, TasksTableShowsARunningTaskAndItsJsonParses) {
  Launch("sleeper", "sleep 60", v1::TASK_RUNNING);
  const std::string framework_id = Framework().client().framework_id();

  const RunResult table = Keelctl({"tasks"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const auto lines = Lines(table.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(Cells(lines[0]),
            (std::vector<std::string>{"ID", "NAME", "STATE", "FRAMEWORK", "AGENT", "CPUS", "MEM"}));
  // The agent by its hostname, as the master knows it.
  auto slaves = HttpRequest("127.0.0.1", cluster->master_port, "GET", "/master/slaves");
  Struct agents;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(slaves.body, &agents).ok());
  const std::string hostname =
      Field(agents.fields().at("slaves").list_value().values(0).struct_value(), "hostname");
  EXPECT_EQ(RowOf(table.out, "sleeper"),
            (std::vector<std::string>{"sleeper", "sleeper", "TASK_RUNNING", framework_id, hostname,
                                      "0.1", "32"}))
      << table.out;
  // Columns line up: every row's STATE starts where the header's does.
  const auto state_at = lines[0].find("STATE");
  for (size_t i = 1; i < lines.size(); ++i)
    EXPECT_EQ(lines[i].find("TASK_"), state_at) << table.out;

  const RunResult json = Keelctl({"tasks", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const ListValue tasks = ParseList(json.out);
  ASSERT_EQ(tasks.values_size(), 1) << json.out;
  EXPECT_EQ(Field(tasks.values(0).struct_value(), "id"), "sleeper");
  EXPECT_EQ(Field(tasks.values(0).struct_value(), "state"), "TASK_RUNNING");

  const RunResult agents_table = Keelctl({"agents"});
  ASSERT_EQ(agents_table.exit_code, 0) << agents_table.err;
  ASSERT_EQ(Lines(agents_table.out).size(), 2u) << agents_table.out;
  EXPECT_EQ(Cells(Lines(agents_table.out)[0]),
            (std::vector<std::string>{"ID", "HOSTNAME", "CPUS", "MEM", "ACTIVE"}));
  EXPECT_THAT(Lines(agents_table.out)[1], AllOf(HasSubstr("0.1/2"), HasSubstr("32/1024"),
                                                HasSubstr(hostname), HasSubstr("yes")));

  const RunResult frameworks = Keelctl({"frameworks"});
  ASSERT_EQ(frameworks.exit_code, 0) << frameworks.err;
  EXPECT_EQ(
      RowOf(frameworks.out, framework_id),
      (std::vector<std::string>{framework_id, "keel-test-framework", "*", "yes", "1", "0.1", "32"}))
      << frameworks.out;
  const RunResult frameworks_json = Keelctl({"frameworks", "--json"});
  ASSERT_EQ(frameworks_json.exit_code, 0) << frameworks_json.err;
  EXPECT_EQ(ParseList(frameworks_json.out).values_size(), 1) << frameworks_json.out;
}

TEST_F(KeelctlOperatorTest, TasksAllAddsTheEndedOnes) {
  Launch("done", "true", v1::TASK_FINISHED);
  const RunResult live = Keelctl({"tasks"});
  ASSERT_EQ(live.exit_code, 0) << live.err;
  EXPECT_TRUE(RowOf(live.out, "done").empty()) << live.out;
  const RunResult all = Keelctl({"tasks", "--all"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  auto row = RowOf(all.out, "done");
  ASSERT_GE(row.size(), 3u) << all.out;
  EXPECT_EQ(row[2], "TASK_FINISHED");
}

TEST_F(KeelctlOperatorTest, StateSumsUpTheCluster) {
  Launch("sleeper", "sleep 60", v1::TASK_RUNNING);
  Launch("done", "true", v1::TASK_FINISHED);
  const RunResult state = Keelctl({"state"});
  ASSERT_EQ(state.exit_code, 0) << state.err;
  const auto lines = Lines(state.out);
  EXPECT_THAT(lines, Contains(AllOf(
                         StartsWith("master:"),
                         HasSubstr("master@127.0.0.1:" + std::to_string(cluster->master_port)))));
  EXPECT_THAT(lines, Contains(StartsWith("version:")));
  EXPECT_THAT(lines, Contains(AllOf(StartsWith("uptime:"), HasSubstr("s"))));
  EXPECT_THAT(lines, Contains("agents:      1 active / 1 total")) << state.out;
  EXPECT_THAT(lines, Contains("frameworks:  1 active / 1 total, 0 completed")) << state.out;
  EXPECT_THAT(lines, Contains("tasks:       1 running, 1 finished")) << state.out;
  EXPECT_THAT(lines, Contains("cpus:        0.1 / 2 used")) << state.out;
  EXPECT_THAT(lines, Contains("mem:         32 / 1024 MB used")) << state.out;

  // --json: the master's own answer.
  const RunResult json = Keelctl({"state", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok()) << json.out;
  EXPECT_TRUE(parsed.fields().count("slaves"));
  EXPECT_TRUE(parsed.fields().count("frameworks"));
}

TEST_F(KeelctlOperatorTest, LogsPrintsAFinishedTasksStdoutAndStderr) {
  Launch("talker", "echo one; echo two; echo three; echo oops >&2", v1::TASK_FINISHED);
  const RunResult out = Keelctl({"logs", "talker"});
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(out.out, "one\ntwo\nthree\n");
  const RunResult err = Keelctl({"logs", "talker", "--stderr"});
  EXPECT_EQ(err.exit_code, 0) << err.err;
  EXPECT_EQ(err.out, "oops\n");
  const RunResult tail = Keelctl({"logs", "talker", "--tail=2"});
  EXPECT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_EQ(tail.out, "two\nthree\n");
}

TEST_F(KeelctlOperatorTest, LogsFollowPrintsUntilTheTaskEnds) {
  Launch("slow", "echo first; sleep 1; echo second", v1::TASK_RUNNING);
  const auto start = std::chrono::steady_clock::now();
  const RunResult follow = Keelctl({"logs", "slow", "--follow"});
  EXPECT_EQ(follow.exit_code, 0) << follow.err;
  EXPECT_EQ(follow.out, "first\nsecond\n") << follow.err;
  // It waited for the task rather than printing what was there at once.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 500ms);
  EXPECT_TRUE(Framework().WaitForState("slow", v1::TASK_FINISHED, 1s));
}

TEST_F(KeelctlOperatorTest, KillEndsATaskKilled) {
  Launch("sleeper", "sleep 60", v1::TASK_RUNNING);
  const RunResult kill = Keelctl({"kill", "sleeper"});
  EXPECT_EQ(kill.exit_code, 0) << kill.err << cluster->master->Stderr();
  EXPECT_EQ(kill.out, "task sleeper TASK_KILLED\n");
  EXPECT_TRUE(Framework().WaitForState("sleeper", v1::TASK_KILLED, 5s));
  // Killing it again: it has ended already, which is what was asked.
  const RunResult again = Keelctl({"kill", "sleeper"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("already ended"));
}

TEST_F(KeelctlOperatorTest, AnUnknownTaskIsExitFourWithItsId) {
  Framework();
  for (const char* command : {"logs", "kill"}) {
    const RunResult r = Keelctl({command, "no-such-task"});
    EXPECT_EQ(r.exit_code, 4) << command << ": " << r.err;
    EXPECT_EQ(r.err, "keelctl: the master knows no task 'no-such-task'\n") << command;
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(KeelctlOperatorTest, ATaskIdOfSeveralFrameworksNeedsFramework) {
  Launch("twin", "echo from the first", v1::TASK_FINISHED);
  // The first framework gives the agent's resources up, for the second.
  ASSERT_TRUE(Framework().client().Suppress().ok());
  while (auto offer = Framework().TakeOffer(500ms)) {
    ASSERT_TRUE(Framework().client().Decline({offer->id()}, 60).ok());
  }
  FrameworkOptions second_options;
  second_options.name = "second";
  TestFramework second(cluster->master_address(), second_options);
  Launch(second, "twin", "echo from the second", v1::TASK_FINISHED);
  const std::string first_id = Framework().client().framework_id();
  const std::string second_id = second.client().framework_id();

  const RunResult ambiguous = Keelctl({"logs", "twin"});
  EXPECT_EQ(ambiguous.exit_code, 2);
  EXPECT_THAT(ambiguous.err,
              AllOf(HasSubstr(first_id), HasSubstr(second_id), HasSubstr("--framework=ID")));
  const RunResult picked = Keelctl({"logs", "twin", "--framework=" + second_id});
  EXPECT_EQ(picked.exit_code, 0) << picked.err;
  EXPECT_EQ(picked.out, "from the second\n");
}

TEST_F(KeelctlOperatorTest, AMasterNobodyRunsIsExitThree) {
  const std::string nowhere = "127.0.0.1:" + std::to_string(FreePort());
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{{"state"},
                                                                             {"agents"},
                                                                             {"frameworks"},
                                                                             {"tasks", "--json"},
                                                                             {"logs", "t"},
                                                                             {"kill", "t"}}) {
    args.insert(args.begin(), Bin("keelctl"));
    args.push_back("--master=" + nowhere);
    const RunResult r = RunCommand(args);
    EXPECT_EQ(r.exit_code, 3) << args[1] << ": " << r.err;
    EXPECT_EQ(r.err, "keelctl: cannot reach the master at " + nowhere + ": connection refused\n")
        << args[1];
    EXPECT_EQ(r.out, "") << args[1];
  }
  // Without --master: $KEEL_MASTER.
  const RunResult env =
      RunCommand({"/usr/bin/env", "KEEL_MASTER=" + nowhere, Bin("keelctl"), "state"});
  EXPECT_EQ(env.exit_code, 3) << env.err;
  EXPECT_THAT(env.err, HasSubstr("cannot reach the master at " + nowhere));
  const RunResult from_env = RunCommand(
      {"/usr/bin/env", "KEEL_MASTER=" + cluster->master_address(), Bin("keelctl"), "agents"});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
}

TEST_F(KeelctlOperatorTest, CredentialsTheMasterWantsOrRefuses) {
  TempDir files;
  const std::string credentials = files.path() + "/credentials.json";
  WriteFile(credentials, R"({"credentials": [{"principal": "ops", "secret": "s3cret"}]})");
  ::chmod(credentials.c_str(), 0600);
  WriteFile(files.path() + "/secret", "s3cret\n");
  Start({"--authenticate_http_readonly", "--authenticate_http_readwrite",
         "--credentials=" + credentials});

  const RunResult none = Keelctl({"state"});
  EXPECT_EQ(none.exit_code, 1) << none.err;
  EXPECT_EQ(none.err, "keelctl: the master wants credentials: --principal, --secret\n");
  const RunResult wrong = Keelctl({"state", "--principal=ops", "--secret=guess"});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.err;
  EXPECT_EQ(wrong.err, "keelctl: the master refused the credentials\n");
  const RunResult right = Keelctl({"agents", "--principal=ops", "--secret=s3cret"});
  EXPECT_EQ(right.exit_code, 0) << right.err;
  const RunResult file =
      Keelctl({"tasks", "--principal=ops", "--secret_file=" + files.path() + "/secret"});
  EXPECT_EQ(file.exit_code, 0) << file.err;
  const RunResult half = Keelctl({"state", "--principal=ops"});
  EXPECT_EQ(half.exit_code, 2) << half.err;
}

TEST_F(KeelctlOperatorTest, BadUsageIsExitTwo) {
  EXPECT_EQ(Keelctl({"logs"}).exit_code, 2);
  EXPECT_EQ(Keelctl({"kill", "a", "b"}).exit_code, 2);
  EXPECT_EQ(Keelctl({"state", "--follow"}).exit_code, 2);
  EXPECT_EQ(Keelctl({"logs", "t", "--tail=many"}).exit_code, 2);
  EXPECT_EQ(RunCommand({Bin("keelctl"), "state", "--master=nohostport"}).exit_code, 2);
  const RunResult help = RunCommand({Bin("keelctl"), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, AllOf(HasSubstr("keelctl logs TASK"), HasSubstr("Exit codes")));
}

}  // namespace
}  // namespace keel::test
