// ExecutorClient against a fake agent: a real HTTP server on loopback that
// answers POST /api/v1/executor as an agent would, and lets each test send
// events and break the stream.
#include "keel/executor/executor_client.hpp"

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kernel/http/http_server.hpp"

namespace keel::executor {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

// Polls `done` until it holds or `timeout` passes.
template <typename F>
bool WaitUntil(F done, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
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

  // Answer SUBSCRIBE with this status instead of a stream (0: stream).
  void RefuseSubscribe(int status) {
    std::lock_guard<std::mutex> lock(mu_);
    refuse_subscribe_ = status;
  }
  void RefuseUpdates(int status) {
    std::lock_guard<std::mutex> lock(mu_);
    refuse_updates_ = status;
  }
  // What SUBSCRIBED carries (a default one when unset).
  void SetSubscribed(Event event) {
    std::lock_guard<std::mutex> lock(mu_);
    subscribed_ = std::move(event);
  }

  void Send(const Event& event) { SendRaw(Encode(event)); }
  void SendRaw(const std::string& record) {
    std::lock_guard<std::mutex> lock(mu_);
    ASSERT_TRUE(stream_);
    stream_->Write(std::to_string(record.size()) + "\n" + record);
  }
  void CloseStream() {
    std::lock_guard<std::mutex> lock(mu_);
    if (stream_) stream_->Close();
    stream_.reset();
  }

  std::vector<Call> calls(Call::Type type) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Call> out;
    for (const auto& c : calls_) {
      if (c.type() == type) out.push_back(c);
    }
    return out;
  }
  size_t count(Call::Type type) const { return calls(type).size(); }
  std::map<std::string, std::string> last_headers() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_headers_;
  }
  bool streaming() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stream_ != nullptr;
  }

  static Event DefaultSubscribed() {
    Event e;
    e.set_type(Event::SUBSCRIBED);
    auto* s = e.mutable_subscribed();
    s->mutable_executor_info()->mutable_executor_id()->set_value("exec-1");
    s->mutable_framework_info()->set_user("me");
    s->mutable_framework_info()->set_name("fw");
    s->mutable_framework_info()->mutable_id()->set_value("fw-1");
    s->mutable_agent_info()->set_hostname("localhost");
    s->mutable_agent_info()->mutable_id()->set_value("agent-1");
    s->mutable_container_id()->set_value("container-1");
    return e;
  }

 private:
  std::string Encode(const Event& event) const {
    return protobuf_ ? event.SerializePartialAsString() : ToJson(event);
  }

  void Handle(const http::Request& r, http::Responder responder) {
    Call call;
    const bool protobuf = r.Header("content-type") == "application/x-protobuf";
    if (protobuf ? !call.ParseFromString(r.body)
                 : !google::protobuf::util::JsonStringToMessage(r.body, &call).ok()) {
      responder.Respond(http::Response::Text(400, "bad call"));
      return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    calls_.push_back(call);
    last_headers_ = r.headers;
    protobuf_ = protobuf;
    if (call.type() == Call::SUBSCRIBE) {
      if (refuse_subscribe_ != 0) {
        responder.Respond(http::Response::Text(refuse_subscribe_, "not now"));
        return;
      }
      if (stream_) stream_->Close();
      stream_ = responder.StartStream(200, {{"Content-Type", r.Header("accept")}});
      Event subscribed = subscribed_.has_type() ? subscribed_ : DefaultSubscribed();
      const std::string record = Encode(subscribed);
      stream_->Write(std::to_string(record.size()) + "\n" + record);
      return;
    }
    if (call.type() == Call::UPDATE && refuse_updates_ != 0) {
      responder.Respond(http::Response::Text(refuse_updates_, "bad update"));
      return;
    }
    responder.Respond(http::Response{202, {}, ""});
  }

  boost::asio::io_context io_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::map<std::string, std::string> last_headers_;
  std::shared_ptr<http::Stream> stream_;
  bool protobuf_ = false;
  int refuse_subscribe_ = 0;
  int refuse_updates_ = 0;
  Event subscribed_;
};

// What the handlers saw, safe to read from the test's thread.
struct Seen {
  std::mutex mu;
  std::vector<Event> events;
  int connected = 0;
  std::vector<std::string> disconnects;

  void Watch(ExecutorClient& client) {
    for (auto type :
         {Event::SUBSCRIBED, Event::LAUNCH, Event::LAUNCH_GROUP, Event::KILL, Event::ACKNOWLEDGED,
          Event::MESSAGE, Event::ERROR, Event::SHUTDOWN, Event::HEARTBEAT, Event::UNKNOWN}) {
      client.On(type, [this](const Event& e) {
        std::lock_guard<std::mutex> lock(mu);
        events.push_back(e);
      });
    }
    client.OnConnected([this] {
      std::lock_guard<std::mutex> lock(mu);
      ++connected;
    });
    client.OnDisconnected([this](const std::string& why) {
      std::lock_guard<std::mutex> lock(mu);
      disconnects.push_back(why);
    });
  }
  int Count(Event::Type type) {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<int>(std::count_if(events.begin(), events.end(),
                                          [&](const Event& e) { return e.type() == type; }));
  }
  Event Last(Event::Type type) {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->type() == type) return *it;
    }
    return Event();
  }
  int Connected() {
    std::lock_guard<std::mutex> lock(mu);
    return connected;
  }
};

ExecutorOptions OptionsFor(const FakeAgent& agent) {
  ExecutorOptions options;
  options.agent = agent.endpoint();
  options.framework_id = "fw-1";
  options.executor_id = "exec-1";
  options.backoff_min = 10ms;
  options.backoff_max = 50ms;
  options.call_timeout = 5s;
  return options;
}

Event Launch(const std::string& id) {
  Event e;
  e.set_type(Event::LAUNCH);
  auto* task = e.mutable_launch()->mutable_task();
  task->set_name(id);
  task->mutable_task_id()->set_value(id);
  task->mutable_agent_id()->set_value("agent-1");
  task->mutable_command()->set_value("true");
  return e;
}

Event Acknowledged(const std::string& task, const std::string& uuid) {
  Event e;
  e.set_type(Event::ACKNOWLEDGED);
  e.mutable_acknowledged()->mutable_task_id()->set_value(task);
  e.mutable_acknowledged()->set_uuid(uuid);
  return e;
}

v1::TaskStatus Running(const std::string& task) {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value(task);
  status.set_state(v1::TASK_RUNNING);
  return status;
}

// A port nothing listens on.
uint16_t DeadPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(ExecutorOptionsTest, FromEnvironment) {
  auto options = ExecutorOptions::FromEnvironment({
      {"MESOS_AGENT_ENDPOINT", "10.0.0.5:5051"},
      {"MESOS_FRAMEWORK_ID", "fw-1"},
      {"MESOS_EXECUTOR_ID", "exec-1"},
      {"MESOS_DIRECTORY", "/var/lib/keel/sandbox"},
      {"MESOS_CHECKPOINT", "1"},
      {"MESOS_RECOVERY_TIMEOUT", "15mins"},
      {"MESOS_SUBSCRIPTION_BACKOFF_MAX", "2secs"},
      {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5secs"},
      {"MESOS_EXECUTOR_AUTHENTICATION_TOKEN", "tok"},
  });
  ASSERT_TRUE(options.ok()) << options.status().message();
  EXPECT_EQ(options->agent, "10.0.0.5:5051");
  EXPECT_EQ(options->framework_id, "fw-1");
  EXPECT_EQ(options->executor_id, "exec-1");
  EXPECT_EQ(options->directory, "/var/lib/keel/sandbox");
  EXPECT_EQ(options->sandbox, "/var/lib/keel/sandbox");  // MESOS_SANDBOX unset
  EXPECT_TRUE(options->checkpoint);
  EXPECT_EQ(options->recovery_timeout, 15min);
  EXPECT_EQ(options->backoff_max, 2s);
  EXPECT_EQ(options->shutdown_grace_period, 5s);
  EXPECT_EQ(options->authentication_token, "tok");
}

TEST(ExecutorOptionsTest, ErrorsNameTheVariable) {
  std::map<std::string, std::string> env = {{"MESOS_AGENT_ENDPOINT", "127.0.0.1:5051"},
                                            {"MESOS_FRAMEWORK_ID", "fw-1"}};
  auto missing = ExecutorOptions::FromEnvironment(env);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("MESOS_EXECUTOR_ID"));

  env["MESOS_EXECUTOR_ID"] = "exec-1";
  env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"] = "soon";
  auto bad = ExecutorOptions::FromEnvironment(env);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"));

  env.erase("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD");
  env["MESOS_AGENT_ENDPOINT"] = "nowhere";
  auto endpoint = ExecutorOptions::FromEnvironment(env);
  ASSERT_FALSE(endpoint.ok());
  EXPECT_THAT(endpoint.status().message(), HasSubstr("MESOS_AGENT_ENDPOINT"));

  env.erase("MESOS_AGENT_ENDPOINT");
  auto none = ExecutorOptions::FromEnvironment(env);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("MESOS_AGENT_ENDPOINT"));

  // An older agent's libprocess pid does instead.
  env["MESOS_SLAVE_PID"] = "slave(1)@10.0.0.5:5051";
  auto pid = ExecutorOptions::FromEnvironment(env);
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  EXPECT_EQ(pid->agent, "10.0.0.5:5051");
  EXPECT_FALSE(pid->checkpoint);
  EXPECT_EQ(pid->shutdown_grace_period, 5s);  // the default
}

TEST(ExecutorOptionsTest, ParseDuration) {
  EXPECT_EQ(*ParseDuration("5secs"), 5s);
  EXPECT_EQ(*ParseDuration("250ms"), 250ms);
  EXPECT_EQ(*ParseDuration("1.5mins"), 90s);
  EXPECT_EQ(*ParseDuration("2hrs"), 2h);
  EXPECT_EQ(*ParseDuration("10ns"), 10ns);
  EXPECT_EQ(*ParseDuration("1weeks"), std::chrono::hours(24 * 7));
  EXPECT_EQ(*ParseDuration("3s"), 3s);
  EXPECT_FALSE(ParseDuration("5").ok());
  EXPECT_FALSE(ParseDuration("soon").ok());
  EXPECT_FALSE(ParseDuration("5parsecs").ok());
  EXPECT_FALSE(ParseDuration("-1secs").ok());
}

TEST(ExecutorClientTest, SubscribesAndDeliversEvents) {
  FakeAgent agent;
  auto options = OptionsFor(agent);
  options.authentication_token = "secret-token";
  ExecutorClient client(options);
  Seen seen;
  seen.Watch(client);
  client.Start();
  ASSERT_TRUE(WaitUntil([&] { return client.subscribed() && seen.Count(Event::SUBSCRIBED) == 1; }));
  EXPECT_EQ(seen.Connected(), 1);
  EXPECT_EQ(client.subscribed_info().agent_info().id().value(), "agent-1");
  EXPECT_EQ(client.subscribed_info().container_id().value(), "container-1");

  auto subscribes = agent.calls(Call::SUBSCRIBE);
  ASSERT_EQ(subscribes.size(), 1u);
  EXPECT_EQ(subscribes[0].framework_id().value(), "fw-1");
  EXPECT_EQ(subscribes[0].executor_id().value(), "exec-1");
  EXPECT_EQ(subscribes[0].subscribe().unacknowledged_tasks_size(), 0);
  EXPECT_EQ(subscribes[0].subscribe().unacknowledged_updates_size(), 0);
  EXPECT_EQ(agent.last_headers()["authorization"], "Bearer secret-token");
  EXPECT_EQ(agent.last_headers()["content-type"], "application/json");

  agent.Send(Launch("t1"));
  ASSERT_TRUE(WaitUntil([&] { return seen.Count(Event::LAUNCH) == 1; }));
  EXPECT_EQ(seen.Last(Event::LAUNCH).launch().task().task_id().value(), "t1");
  EXPECT_EQ(client.unacknowledged_tasks(), 1u);

  // A newer agent's event type arrives as UNKNOWN and the stream goes on.
  agent.SendRaw(R"({"type":"SOMETHING_NEW","something_new":{}})");
  agent.SendRaw(R"({"type":"HEARTBEAT"})");
  Event kill;
  kill.set_type(Event::KILL);
  kill.mutable_kill()->mutable_task_id()->set_value("t1");
  agent.Send(kill);
  ASSERT_TRUE(WaitUntil([&] { return seen.Count(Event::KILL) == 1; }));
  EXPECT_EQ(seen.Count(Event::UNKNOWN), 1);
  EXPECT_EQ(seen.Count(Event::HEARTBEAT), 1);
  EXPECT_EQ(seen.Count(Event::ERROR), 0);
  // An event that is not one is an ERROR, and the stream still goes on.
  agent.SendRaw(R"({"type":"LAUNCH","launch":{"task":{"name":7}}})");
  agent.Send(kill);
  ASSERT_TRUE(WaitUntil([&] { return seen.Count(Event::KILL) == 2; }));
  EXPECT_EQ(seen.Count(Event::ERROR), 1);
  client.Stop();
  EXPECT_TRUE(client.ended());
}

TEST(ExecutorClientTest, UpdateIsFilledInAndKeptUntilAcknowledged) {
  FakeAgent agent;
  ExecutorClient client(OptionsFor(agent));
  Seen seen;
  seen.Watch(client);
  client.Start();
  ASSERT_TRUE(WaitUntil([&] { return client.subscribed(); }));
  agent.Send(Launch("t1"));
  ASSERT_TRUE(WaitUntil([&] { return seen.Count(Event::LAUNCH) == 1; }));

  v1::TaskStatus status = Running("t1");
  status.set_uuid("stale");
  ASSERT_TRUE(client.Update(status).ok());
  auto updates = agent.calls(Call::UPDATE);
  ASSERT_EQ(updates.size(), 1u);
  const v1::TaskStatus& sent = updates[0].update().status();
  EXPECT_EQ(updates[0].framework_id().value(), "fw-1");
  EXPECT_EQ(updates[0].executor_id().value(), "exec-1");
  EXPECT_EQ(sent.task_id().value(), "t1");
  EXPECT_EQ(sent.state(), v1::TASK_RUNNING);
  EXPECT_EQ(sent.source(), v1::TaskStatus::SOURCE_EXECUTOR);
  EXPECT_EQ(sent.executor_id().value(), "exec-1");
  EXPECT_EQ(sent.agent_id().value(), "agent-1");
  EXPECT_GT(sent.timestamp(), 1.6e9);
  ASSERT_EQ(sent.uuid().size(), 16u);  // replaced: a fresh RFC 4122 version 4 UUID
  EXPECT_EQ(static_cast<unsigned char>(sent.uuid()[6]) >> 4, 4);
  EXPECT_EQ(static_cast<unsigned char>(sent.uuid()[8]) >> 6, 2);
  EXPECT_EQ(client.unacknowledged_updates(), 1u);

  ASSERT_TRUE(client.Update(Running("t1")).ok());
  EXPECT_NE(agent.calls(Call::UPDATE)[1].update().status().uuid(), sent.uuid());
  EXPECT_EQ(client.unacknowledged_updates(), 2u);

  agent.Send(Acknowledged("t1", sent.uuid()));
  ASSERT_TRUE(WaitUntil([&] { return seen.Count(Event::ACKNOWLEDGED) == 1; }));
  EXPECT_EQ(client.unacknowledged_updates(), 1u);
  EXPECT_EQ(client.unacknowledged_tasks(), 0u);  // one acknowledged update is enough
}

TEST(ExecutorClientTest, ResubscribesWithWhatIsUnacknowledged) {
  FakeAgent agent;
  auto options = OptionsFor(agent);
  options.checkpoint = true;
  ExecutorClient client(options);
  Seen seen;
  seen.Watch(client);
  client.Start();
  ASSERT_TRUE(WaitUntil([&] { return client.subscribed(); }));
  agent.Send(Launch("t1"));
  agent.Send(Launch("t2"));
  ASSERT_TRUE(WaitUntil([&] { return seen.Count(Event::LAUNCH) == 2; }));
  ASSERT_TRUE(client.Update(Running("t1")).ok());
  ASSERT_TRUE(client.Update(Running("t2")).ok());
  const auto updates = agent.calls(Call::UPDATE);
  ASSERT_EQ(updates.size(), 2u);
  agent.Send(Acknowledged("t2", updates[1].update().status().uuid()));
  ASSERT_TRUE(WaitUntil([&] { return client.unacknowledged_updates() == 1; }));

  // The agent restarts: refuses for a while (recovering), then takes it back.
  agent.RefuseSubscribe(503);
  agent.CloseStream();
  ASSERT_TRUE(WaitUntil([&] { return agent.count(Call::SUBSCRIBE) >= 3; }));
  EXPECT_FALSE(client.subscribed());
  // Made while disconnected: kept, and sent with the next SUBSCRIBE.
  v1::TaskStatus finished = Running("t1");
  finished.set_state(v1::TASK_FINISHED);
  ASSERT_TRUE(client.Update(finished).ok());
  EXPECT_EQ(agent.count(Call::UPDATE), 2u);
  EXPECT_EQ(seen.Count(Event::ERROR), 0);  // 503 is not news
  agent.RefuseSubscribe(0);
  ASSERT_TRUE(WaitUntil([&] { return seen.Connected() == 2; }));

  const Call last = agent.calls(Call::SUBSCRIBE).back();
  ASSERT_EQ(last.subscribe().unacknowledged_tasks_size(), 1);
  EXPECT_EQ(last.subscribe().unacknowledged_tasks(0).task_id().value(), "t1");
  ASSERT_EQ(last.subscribe().unacknowledged_updates_size(), 2);
  EXPECT_EQ(last.subscribe().unacknowledged_updates(0).status().uuid(),
            updates[0].update().status().uuid());
  EXPECT_EQ(last.subscribe().unacknowledged_updates(1).status().state(), v1::TASK_FINISHED);
  EXPECT_EQ(last.subscribe().unacknowledged_updates(1).status().agent_id().value(), "agent-1");
  EXPECT_EQ(agent.count(Call::UPDATE), 2u);  // not sent twice
  EXPECT_EQ(seen.Count(Event::SHUTDOWN), 0);
  EXPECT_FALSE(client.ended());
}

TEST(ExecutorClientTest, BrokenStreamWithoutCheckpointingShutsDown) {
  FakeAgent agent;
  ExecutorClient client(OptionsFor(agent));
  Seen seen;
  seen.Watch(client);
  client.Start();
  ASSERT_TRUE(WaitUntil([&] { return client.subscribed(); }));
  agent.CloseStream();
  ASSERT_TRUE(WaitUntil([&] { return seen.Count(Event::SHUTDOWN) == 1; }));
  EXPECT_TRUE(client.ended());
  EXPECT_EQ(agent.count(Call::SUBSCRIBE), 1u);
  EXPECT_FALSE(client.Update(Running("t1")).ok());
  std::lock_guard<std::mutex> lock(seen.mu);
  ASSERT_FALSE(seen.disconnects.empty());
  EXPECT_THAT(seen.disconnects.back(), HasSubstr("giving up"));
}

TEST(ExecutorClientTest, GivesUpWhenTheAgentNeverAnswers) {
  ExecutorOptions options;
  options.agent = "127.0.0.1:" + std::to_string(DeadPort());
  options.framework_id = "fw-1";
  options.executor_id = "exec-1";
  options.backoff_min = 10ms;
  options.backoff_max = 50ms;
  options.subscribe_timeout = 300ms;
  ExecutorClient client(options);
  Seen seen;
  seen.Watch(client);
  const auto start = std::chrono::steady_clock::now();
  client.Start();
  ASSERT_TRUE(WaitUntil([&] { return seen.Count(Event::SHUTDOWN) == 1; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(client.ended());
  EXPECT_EQ(seen.Connected(), 0);
  std::lock_guard<std::mutex> lock(seen.mu);
  EXPECT_GE(seen.disconnects.size(), 2u);
}

TEST(ExecutorClientTest, RefusedSubscribeIsAnError) {
  FakeAgent agent;
  agent.RefuseSubscribe(400);
  auto options = OptionsFor(agent);
  options.subscribe_timeout = 200ms;
  ExecutorClient client(options);
  Seen seen;
  seen.Watch(client);
  client.Start();
  ASSERT_TRUE(WaitUntil([&] { return seen.Count(Event::SHUTDOWN) == 1; }));
  EXPECT_GE(seen.Count(Event::ERROR), 1);
  EXPECT_THAT(seen.Last(Event::ERROR).error().message(), HasSubstr("400"));
}

TEST(ExecutorClientTest, RefusedUpdateIsDropped) {
  FakeAgent agent;
  ExecutorClient client(OptionsFor(agent));
  client.Start();
  ASSERT_TRUE(WaitUntil([&] { return client.subscribed(); }));
  EXPECT_FALSE(client.Update(v1::TaskStatus()).ok());  // no task_id, no state
  EXPECT_EQ(agent.count(Call::UPDATE), 0u);
  agent.RefuseUpdates(400);
  auto s = client.Update(Running("t1"));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("400"));
  EXPECT_EQ(client.unacknowledged_updates(), 0u);
}

TEST(ExecutorClientTest, MessagesBothWays) {
  FakeAgent agent;
  ExecutorClient client(OptionsFor(agent));
  Seen seen;
  seen.Watch(client);
  EXPECT_FALSE(client.Message("too early").ok());
  client.Start();
  ASSERT_TRUE(WaitUntil([&] { return client.subscribed(); }));
  const std::string binary("\0\x01hi\xff", 5);
  Event message;
  message.set_type(Event::MESSAGE);
  message.mutable_message()->set_data(binary);
  agent.Send(message);
  ASSERT_TRUE(WaitUntil([&] { return seen.Count(Event::MESSAGE) == 1; }));
  EXPECT_EQ(seen.Last(Event::MESSAGE).message().data(), binary);

  ASSERT_TRUE(client.Message(binary).ok());
  auto calls = agent.calls(Call::MESSAGE);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].message().data(), binary);
}

TEST(ExecutorClientTest, Protobuf) {
  FakeAgent agent;
  auto options = OptionsFor(agent);
  options.protobuf = true;
  ExecutorClient client(options);
  Seen seen;
  seen.Watch(client);
  client.Start();
  ASSERT_TRUE(WaitUntil([&] { return client.subscribed(); }));
  EXPECT_EQ(agent.last_headers()["content-type"], "application/x-protobuf");
  EXPECT_EQ(agent.last_headers()["accept"], "application/x-protobuf");
  Event group;
  group.set_type(Event::LAUNCH_GROUP);
  for (const char* id : {"a", "b"}) {
    *group.mutable_launch_group()->mutable_task_group()->add_tasks() = Launch(id).launch().task();
  }
  agent.Send(group);
  ASSERT_TRUE(WaitUntil([&] { return seen.Count(Event::LAUNCH_GROUP) == 1; }));
  EXPECT_EQ(client.unacknowledged_tasks(), 2u);
  ASSERT_TRUE(client.Update(Running("a")).ok());
  EXPECT_EQ(agent.calls(Call::UPDATE)[0].update().status().task_id().value(), "a");
}

}  // namespace
}  // namespace keel::executor
