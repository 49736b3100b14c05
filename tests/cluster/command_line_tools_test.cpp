// The command-line programs users run against a cluster: `keelctl run` for
// one task and the example framework for many, as processes with their real
// flags, judged by their exit status and what they print.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "tests/cluster/cluster_fixture.hpp"

namespace keel::test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class CommandLineToolsTest : public ::testing::Test {
 protected:
  // The task's command goes after `--`, as a user types it.
  RunResult KeelctlRun(const std::vector<std::string>& command) {
    std::vector<std::string> argv = {
        Bin("keelctl"), "run", "--master", cluster.master_address(), "--cpus", "0.1",
        "--mem",        "32",  "--"};
    argv.insert(argv.end(), command.begin(), command.end());
    return RunCommand(argv);
  }

  LocalCluster cluster{FastCluster()};
};

TEST_F(CommandLineToolsTest, KeelctlRunPrintsTheTaskStdoutAndExitsZero) {
  const RunResult run = KeelctlRun({"echo", "hi"});
  EXPECT_EQ(run.exit_code, 0) << run.err << cluster.master->Stderr() << cluster.agent->Stderr();
  // States go to stderr, so that stdout is the task's own output alone.
  EXPECT_EQ(run.out, "hi\n");
  EXPECT_THAT(run.err, HasSubstr("TASK_FINISHED"));
}

TEST_F(CommandLineToolsTest, KeelctlRunExitsWithTheTaskExitStatus) {
  const RunResult run = KeelctlRun({"exit", "3"});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_THAT(run.err, HasSubstr("TASK_FAILED"));
}

TEST_F(CommandLineToolsTest, KeelctlRunKeepsEachWordAsTyped) {
  // Several words are the command's own (as docker run and kubectl exec
  // take them); one word is a shell command line.
  RunResult run = KeelctlRun({"sh", "-c", "echo a; echo 'b c'; exit 4"});
  EXPECT_EQ(run.exit_code, 4) << run.err;
  EXPECT_EQ(run.out, "a\nb c\n");
  run = KeelctlRun({"echo one; echo two"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "one\ntwo\n");
}

TEST_F(CommandLineToolsTest, ExampleFrameworkRunsEveryTaskToTaskFinished) {
  const RunResult run = RunCommand(
      {Bin("keel-example-framework"), "--master=" + cluster.master_address(), "--tasks=3"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  const auto lines = Lines(run.out);
  for (const std::string task : {"task-0", "task-1", "task-2"}) {
    EXPECT_THAT(lines, Contains(task + " TASK_FINISHED")) << run.out;
  }
  EXPECT_THAT(lines, Contains("3 finished, 0 failed")) << run.out;
}

}  // namespace
}  // namespace keel::test
