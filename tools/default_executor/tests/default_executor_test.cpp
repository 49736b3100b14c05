// keel-default-executor as the agent runs it: the real binary, its
// environment set as an agent sets it, against a fake agent (a keel_http
// server on loopback answering POST /api/v1/executor) that records every
// status update and acknowledges it.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "keel/v1/executor.pb.h"
#include "kernel/http/http_server.hpp"

namespace keel::default_executor {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using v1::executor::Call;
using v1::executor::Event;
using namespace std::chrono_literals;

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

template <typename F>
bool WaitUntil(F done, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class FakeAgent {
 public:
  FakeAgent() {
    http::ServerOptions options;
    options.address = "127.0.0.1";
    server_ = std::make_unique<http::Server>(io_, options);
    server_->Route("POST", "/api/v1/executor",
                   [this](const http::Request& r, http::Responder responder) {
                     Handle(r, std::move(responder));
                   });
    EXPECT_EQ(server_->Start(), "");
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeAgent() {
    server_->Stop();
    io_.stop();
    thread_.join();
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  void set_acknowledge(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    acknowledge_ = on;
  }
  void set_framework(v1::FrameworkInfo framework) {
    std::lock_guard<std::mutex> lock(mu_);
    framework_ = std::move(framework);
  }
  void Send(const Event& event) {
    std::lock_guard<std::mutex> lock(mu_);
    ASSERT_TRUE(stream_);
    const std::string record = ToJson(event);
    stream_->Write(std::to_string(record.size()) + "\n" + record);
  }
  bool subscribed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stream_ != nullptr;
  }
  std::vector<v1::TaskStatus> updates() const {
    std::lock_guard<std::mutex> lock(mu_);
    return updates_;
  }
  // The states task `id` went through, in order.
  std::vector<v1::TaskState> states(const std::string& id) const {
    std::vector<v1::TaskState> out;
    for (const auto& s : updates()) {
      if (s.task_id().value() == id) out.push_back(s.state());
    }
    return out;
  }
  v1::TaskStatus last(const std::string& id) const {
    v1::TaskStatus out;
    for (const auto& s : updates()) {
      if (s.task_id().value() == id) out = s;
    }
    return out;
  }
  bool Terminal(const std::string& id) const {
    const auto s = states(id);
    return !s.empty() && (s.back() == v1::TASK_FINISHED || s.back() == v1::TASK_FAILED ||
                          s.back() == v1::TASK_KILLED);
  }

 private:
  void Handle(const http::Request& r, http::Responder responder) {
    Call call;
    if (!google::protobuf::util::JsonStringToMessage(r.body, &call).ok()) {
      responder.Respond(http::Response::Text(400, "bad call"));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (call.type() == Call::SUBSCRIBE) {
      stream_ = responder.StartStream(200, {{"Content-Type", "application/json"}});
      Event e;
      e.set_type(Event::SUBSCRIBED);
      auto* s = e.mutable_subscribed();
      *s->mutable_executor_info()->mutable_executor_id() = call.executor_id();
      *s->mutable_framework_info() = framework_;
      s->mutable_agent_info()->set_hostname("localhost");
      s->mutable_agent_info()->mutable_id()->set_value("agent-1");
      s->mutable_container_id()->set_value("executor-container");
      const std::string record = ToJson(e);
      stream_->Write(std::to_string(record.size()) + "\n" + record);
      return;
    }
    responder.Respond(http::Response{202, {}, ""});
    if (call.type() != Call::UPDATE) return;
    updates_.push_back(call.update().status());
    if (acknowledge_ && stream_) {
      Event ack;
      ack.set_type(Event::ACKNOWLEDGED);
      *ack.mutable_acknowledged()->mutable_task_id() = call.update().status().task_id();
      ack.mutable_acknowledged()->set_uuid(call.update().status().uuid());
      const std::string record = ToJson(ack);
      stream_->Write(std::to_string(record.size()) + "\n" + record);
    }
  }

  boost::asio::io_context io_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::shared_ptr<http::Stream> stream_;
  std::vector<v1::TaskStatus> updates_;
  bool acknowledge_ = true;
  v1::FrameworkInfo framework_ = [] {
    v1::FrameworkInfo f;
    f.set_user("root");
    f.set_name("test");
    f.mutable_id()->set_value("fw-1");
    return f;
  }();
};

v1::TaskInfo Task(const std::string& id, const std::string& command) {
  v1::TaskInfo task;
  task.set_name(id);
  task.mutable_task_id()->set_value(id);
  task.mutable_agent_id()->set_value("agent-1");
  task.mutable_command()->set_value(command);
  return task;
}

Event Group(const std::vector<v1::TaskInfo>& tasks) {
  Event e;
  e.set_type(Event::LAUNCH_GROUP);
  for (const auto& t : tasks) *e.mutable_launch_group()->mutable_task_group()->add_tasks() = t;
  return e;
}

Event Kill(const std::string& id) {
  Event e;
  e.set_type(Event::KILL);
  e.mutable_kill()->mutable_task_id()->set_value(id);
  return e;
}

class DefaultExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/keel-default-executor-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    sandbox_ = pattern;
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (HasFailure()) std::cerr << "executor log:\n" << ReadFile(sandbox_ / "stderr");
    std::error_code ec;
    fs::remove_all(sandbox_, ec);
  }

  void StartExecutor(const std::string& grace = "5secs") {
    std::vector<std::string> env = {
        "MESOS_AGENT_ENDPOINT=" + agent_.endpoint(),
        "MESOS_FRAMEWORK_ID=fw-1",
        "MESOS_EXECUTOR_ID=default-exec",
        "MESOS_DIRECTORY=" + sandbox_.string(),
        "MESOS_SANDBOX=" + sandbox_.string(),
        "MESOS_CHECKPOINT=0",
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=" + grace,
        "MESOS_EXECUTOR_AUTHENTICATION_TOKEN=not-for-tasks",
        "PATH=/usr/bin:/bin",
    };
    // Everything the child needs is made before fork(): this process has
    // threads (the fake agent's), and a child that allocates could find the
    // allocator's lock held for ever.
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string log_path = (sandbox_ / "stderr").string();
    const std::string dir = sandbox_.string();
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(log, STDERR_FILENO);
      ::chdir(dir.c_str());
      char* argv[] = {const_cast<char*>(KEEL_DEFAULT_EXECUTOR), nullptr};
      ::execve(KEEL_DEFAULT_EXECUTOR, argv, envp.data());
      ::_exit(127);
    }
    ASSERT_TRUE(WaitUntil([&] { return agent_.subscribed(); }));
  }

  // The executor's exit status, or -1 if it is still running after `timeout`.
  int WaitExit(std::chrono::milliseconds timeout = 10s) {
    int status = 0;
    const bool exited =
        WaitUntil([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!exited) return -1;
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  FakeAgent agent_;
  fs::path sandbox_;
  pid_t pid_ = 0;
};

TEST_F(DefaultExecutorTest, RunsTaskGroupInNestedSandboxes) {
  StartExecutor();
  v1::TaskInfo a = Task("a",
                        "echo out-$MESOS_TASK_ID; echo err >&2; echo \"$MESOS_SANDBOX\" > where; "
                        "echo \"token=$MESOS_EXECUTOR_AUTHENTICATION_TOKEN\" > token; "
                        "echo \"$GREETING\" > greeting");
  auto* var = a.mutable_command()->mutable_environment()->add_variables();
  var->set_name("GREETING");
  var->set_value("hello");
  v1::TaskInfo b = Task("b", "");
  b.mutable_command()->set_shell(false);
  b.mutable_command()->set_value("sh");  // searched in PATH
  b.mutable_command()->add_arguments("sh");
  b.mutable_command()->add_arguments("-c");
  b.mutable_command()->add_arguments("echo argv-$0 > argv0");
  agent_.Send(Group({a, b}));
  ASSERT_TRUE(WaitUntil([&] { return agent_.Terminal("a") && agent_.Terminal("b"); }));
  for (const char* id : {"a", "b"}) {
    EXPECT_THAT(agent_.states(id),
                ::testing::ElementsAre(v1::TASK_STARTING, v1::TASK_RUNNING, v1::TASK_FINISHED))
        << id;
    const v1::TaskStatus last = agent_.last(id);
    EXPECT_EQ(last.message(), "Command exited with status 0");
    EXPECT_EQ(last.source(), v1::TaskStatus::SOURCE_EXECUTOR);
    EXPECT_EQ(last.executor_id().value(), "default-exec");
    EXPECT_EQ(last.agent_id().value(), "agent-1");
  }
  EXPECT_EQ(WaitExit(), 0);  // every task ended and every update was acknowledged

  const fs::path link = sandbox_ / "tasks" / "a";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_THAT(fs::read_symlink(link).string(), StartsWith("../containers/"));
  const fs::path dir = fs::canonical(link);
  EXPECT_EQ(dir.parent_path(), fs::canonical(sandbox_ / "containers"));
  EXPECT_EQ(ReadFile(link / "stdout"), "out-a\n");
  EXPECT_EQ(ReadFile(link / "stderr"), "err\n");
  EXPECT_EQ(ReadFile(link / "where"), (sandbox_ / "containers" / dir.filename()).string() + "\n");
  EXPECT_EQ(ReadFile(link / "token"), "token=\n");
  EXPECT_EQ(ReadFile(link / "greeting"), "hello\n");
  EXPECT_EQ(ReadFile(sandbox_ / "tasks" / "b" / "argv0"), "argv-sh\n");
  EXPECT_NE(fs::canonical(sandbox_ / "tasks" / "b"), dir);
}

TEST_F(DefaultExecutorTest, AFailedTaskKillsItsGroup) {
  StartExecutor();
  agent_.Send(Group({Task("sleeper", "sleep 30"), Task("failer", "sleep 0.2; exit 3")}));
  ASSERT_TRUE(WaitUntil([&] { return agent_.Terminal("sleeper") && agent_.Terminal("failer"); }));
  EXPECT_EQ(agent_.last("failer").state(), v1::TASK_FAILED);
  EXPECT_EQ(agent_.last("failer").message(), "Command exited with status 3");
  EXPECT_EQ(agent_.last("sleeper").state(), v1::TASK_KILLED);
  EXPECT_THAT(agent_.last("sleeper").message(), HasSubstr("Command terminated by signal 15"));
  EXPECT_EQ(WaitExit(), 0);
}

TEST_F(DefaultExecutorTest, KillOfOneTaskKillsTheGroupAndEscalates) {
  v1::FrameworkInfo framework;
  framework.set_user("root");
  framework.set_name("test");
  framework.mutable_id()->set_value("fw-1");
  framework.add_capabilities()->set_type(v1::FrameworkInfo::Capability::TASK_KILLING_STATE);
  agent_.set_framework(framework);
  StartExecutor();
  v1::TaskInfo stubborn = Task("stubborn", "trap '' TERM; sleep 30 & wait; sleep 30");
  stubborn.mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(300'000'000);
  agent_.Send(Group({Task("target", "sleep 30"), stubborn}));
  ASSERT_TRUE(WaitUntil([&] {
    return agent_.states("target").size() == 2 && agent_.states("stubborn").size() == 2;
  }));
  const auto start = std::chrono::steady_clock::now();
  agent_.Send(Kill("target"));
  ASSERT_TRUE(WaitUntil([&] { return agent_.Terminal("target") && agent_.Terminal("stubborn"); }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_THAT(agent_.states("target"), ::testing::ElementsAre(v1::TASK_STARTING, v1::TASK_RUNNING,
                                                              v1::TASK_KILLING, v1::TASK_KILLED));
  EXPECT_THAT(agent_.states("stubborn"), ::testing::ElementsAre(v1::TASK_STARTING, v1::TASK_RUNNING,
                                                                v1::TASK_KILLING, v1::TASK_KILLED));
  EXPECT_THAT(agent_.last("stubborn").message(), HasSubstr("signal 9"));
  EXPECT_EQ(WaitExit(), 0);
}

TEST_F(DefaultExecutorTest, ShutdownKillsEverythingAndExits) {
  StartExecutor();
  Event launch;
  launch.set_type(Event::LAUNCH);  // a plain LAUNCH runs the same way
  *launch.mutable_launch()->mutable_task() = Task("background", "sleep 60 & echo $! > bg; wait");
  agent_.Send(launch);
  ASSERT_TRUE(WaitUntil([&] {
    return agent_.states("background").size() == 2 &&
           fs::exists(sandbox_ / "tasks" / "background" / "bg") &&
           !ReadFile(sandbox_ / "tasks" / "background" / "bg").empty();
  }));
  const pid_t bg = std::stoi(ReadFile(sandbox_ / "tasks" / "background" / "bg"));
  Event shutdown;
  shutdown.set_type(Event::SHUTDOWN);
  agent_.Send(shutdown);
  ASSERT_TRUE(WaitUntil([&] { return agent_.Terminal("background"); }));
  EXPECT_EQ(agent_.last("background").state(), v1::TASK_KILLED);
  EXPECT_EQ(WaitExit(), 0);
  // The whole process group went, not just the task's shell.
  EXPECT_TRUE(WaitUntil([&] { return ::kill(bg, 0) != 0; }, 3s));
}

TEST_F(DefaultExecutorTest, LaunchFailureFailsTheTaskAndKillsTheGroup) {
  StartExecutor();
  v1::TaskInfo missing = Task("missing", "/nonexistent/program");
  missing.mutable_command()->set_shell(false);
  agent_.Send(Group({missing, Task("other", "sleep 30")}));
  ASSERT_TRUE(WaitUntil([&] { return agent_.Terminal("missing") && agent_.Terminal("other"); }));
  EXPECT_THAT(agent_.states("missing"), ::testing::ElementsAre(v1::TASK_STARTING, v1::TASK_FAILED));
  EXPECT_EQ(agent_.last("missing").reason(), v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED);
  EXPECT_THAT(agent_.last("missing").message(), HasSubstr("No such file or directory"));
  EXPECT_EQ(agent_.last("other").state(), v1::TASK_KILLED);
  EXPECT_EQ(WaitExit(), 0);
}

TEST_F(DefaultExecutorTest, WaitsForAcknowledgementsOnlySoLong) {
  agent_.set_acknowledge(false);
  StartExecutor("1secs");
  agent_.Send(Group({Task("quick", "true")}));
  ASSERT_TRUE(WaitUntil([&] { return agent_.Terminal("quick"); }));
  const auto ended = std::chrono::steady_clock::now();
  EXPECT_EQ(WaitExit(), 0);
  const auto waited = std::chrono::steady_clock::now() - ended;
  EXPECT_GT(waited, 700ms);
  EXPECT_LT(waited, 5s);
}

TEST_F(DefaultExecutorTest, MaxCompletionTime) {
  StartExecutor();
  v1::TaskInfo slow = Task("slow", "sleep 30");
  slow.mutable_max_completion_time()->set_nanoseconds(300'000'000);
  agent_.Send(Group({slow}));
  ASSERT_TRUE(WaitUntil([&] { return agent_.Terminal("slow"); }, 5s));
  EXPECT_EQ(agent_.last("slow").state(), v1::TASK_FAILED);
  EXPECT_EQ(agent_.last("slow").reason(), v1::TaskStatus::REASON_MAX_COMPLETION_TIME_REACHED);
  EXPECT_EQ(WaitExit(), 0);
}

}  // namespace
}  // namespace keel::default_executor
