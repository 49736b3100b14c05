#include "keel/executor/executor_client.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "../scheduler/http_channel.hpp"
#include "keel/scheduler/scheduler_client.hpp"

namespace keel::executor {

namespace {

using scheduler::HttpChannel;
using scheduler::HttpHead;
using Clock = std::chrono::steady_clock;

constexpr const char* kPath = "/api/v1/executor";
constexpr const char* kTypeUrlPrefix = "type.googleapis.com";

// An RFC 4122 version 4 UUID, as the 16 raw bytes Mesos puts in TaskStatus.uuid.
std::string NewUuid() {
  static std::mutex mu;
  static std::mt19937_64 generator{std::random_device{}()};
  std::string bytes(16, '\0');
  std::lock_guard<std::mutex> lock(mu);
  for (int half = 0; half < 2; ++half) {
    uint64_t v = generator();
    for (int i = 0; i < 8; ++i) bytes[half * 8 + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);
  return bytes;
}

double NowSeconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

google::protobuf::util::TypeResolver* Resolver() {
  static google::protobuf::util::TypeResolver* resolver =
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          kTypeUrlPrefix, google::protobuf::DescriptorPool::generated_pool());
  return resolver;
}

std::string TypeUrl(const google::protobuf::Message& m) {
  return std::string(kTypeUrlPrefix) + "/" + m.GetDescriptor()->full_name();
}

// JSON with the .proto's field names. Through the binary form: protobuf's
// own printer aborts on a message that lacks a required field.
std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::BinaryToJsonString(Resolver(), TypeUrl(m),
                                                   m.SerializePartialAsString(), &out, options);
  return out;
}

bool ParseJsonEvent(const std::string& json, Event* event, std::string* error) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // and unknown enum names: a newer agent's event types
  auto status = google::protobuf::util::JsonStringToMessage(json, event, options);
  if (status.ok()) return true;
  const std::string why(status.message());
  *error = why.substr(0, why.find('\n'));
  return false;
}

// The channel's words are the scheduler's.
std::string AgentWording(std::string why) {
  if (auto at = why.find("by the master"); at != std::string::npos) {
    why.replace(at, 13, "by the agent");
  }
  return why;
}

struct KeptUpdate {
  Call::Update update;
  bool delivered = false;  // answered 202, or carried by a SUBSCRIBE
};

}  // namespace

struct ExecutorClient::Impl {
  explicit Impl(ExecutorOptions o) : options(std::move(o)) {}

  ExecutorOptions options;
  std::string host;
  uint16_t port = 0;
  std::map<int, std::vector<Handler>> handlers;
  std::function<void()> on_connected;
  std::function<void(const std::string&)> on_disconnected;

  mutable std::mutex mu;  // guards the fields below and `stream`'s life
  bool subscribed = false;
  bool ended = false;
  Event::Subscribed info;
  std::vector<KeptUpdate> updates;  // unacknowledged, in the order sent
  std::vector<v1::TaskInfo> tasks;  // launched, no acknowledged update yet
  std::atomic<bool> running{false};
  std::condition_variable wake;
  HttpChannel* stream = nullptr;

  std::mutex call_mu;  // one call at a time over a kept-alive connection
  HttpChannel calls;

  std::thread thread;
  bool agent_shutdown = false;  // client's thread only

  Call NewCall(Call::Type type) const {
    Call call;
    call.set_type(type);
    call.mutable_framework_id()->set_value(options.framework_id);
    call.mutable_executor_id()->set_value(options.executor_id);
    return call;
  }
  const char* MediaType() const {
    return options.protobuf ? "application/x-protobuf" : "application/json";
  }
  std::map<std::string, std::string> Headers() const {
    std::map<std::string, std::string> headers{
        {"Host", options.agent}, {"Content-Type", MediaType()}, {"Accept", MediaType()}};
    if (!options.authentication_token.empty()) {
      headers["Authorization"] = "Bearer " + options.authentication_token;
    }
    return headers;
  }
  std::string Encode(const Call& call) const {
    return options.protobuf ? call.SerializePartialAsString() : ToJson(call);
  }

  void Run();
  // One subscription, until it breaks; returns why. `*got_subscribed` tells
  // whether SUBSCRIBED arrived.
  std::string Subscribe(bool* got_subscribed);
  void Handle(const Event& event, bool* got_subscribed);
  void Dispatch(const Event& event);
  // The SHUTDOWN the agent did not send, after `why`.
  void GiveUp(const std::string& why);
  // Sends `call` on the calls connection; `*code` is the HTTP status, 0 when
  // there was no answer.
  Status Post(const Call& call, int* code);
  void Forget(const std::string& uuid);
};

ExecutorClient::ExecutorClient(ExecutorOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

ExecutorClient::~ExecutorClient() { Stop(); }

void ExecutorClient::On(Event::Type type, Handler handler) {
  impl_->handlers[type].push_back(std::move(handler));
}

void ExecutorClient::OnConnected(std::function<void()> fn) { impl_->on_connected = std::move(fn); }

void ExecutorClient::OnDisconnected(std::function<void(const std::string&)> fn) {
  impl_->on_disconnected = std::move(fn);
}

void ExecutorClient::Start() {
  if (impl_->running.exchange(true)) return;
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void ExecutorClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->ended = true;
  }
  if (!impl_->running.exchange(false)) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stream) impl_->stream->Shutdown();
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool ExecutorClient::subscribed() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->subscribed;
}

bool ExecutorClient::ended() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->ended;
}

Event::Subscribed ExecutorClient::subscribed_info() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->info;
}

const ExecutorOptions& ExecutorClient::options() const { return impl_->options; }

size_t ExecutorClient::unacknowledged_updates() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->updates.size();
}

size_t ExecutorClient::unacknowledged_tasks() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->tasks.size();
}

void ExecutorClient::Impl::Run() {
  if (auto s = scheduler::SplitHostPort(options.agent, &host, &port); !s.ok()) {
    GiveUp("agent '" + options.agent + "': expected HOST:PORT");
    return;
  }
  const auto backoff_min = std::min(options.backoff_min, options.backoff_max);
  auto backoff = backoff_min;
  auto deadline = Clock::now() + options.subscribe_timeout;
  while (running) {
    bool got_subscribed = false;
    const std::string why = AgentWording(Subscribe(&got_subscribed));
    {
      std::lock_guard<std::mutex> lock(mu);
      subscribed = false;
    }
    if (!running) break;
    if (on_disconnected) on_disconnected(why);
    if (agent_shutdown) break;  // the handlers have had the agent's SHUTDOWN
    if (got_subscribed) {
      if (!options.checkpoint) {
        GiveUp("lost the agent (" + why + ") and the framework does not checkpoint");
        return;
      }
      deadline = Clock::now() + options.recovery_timeout;
      backoff = backoff_min;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      GiveUp("could not subscribe with the agent in time: " + why);
      return;
    }
    std::unique_lock<std::mutex> lock(mu);
    wake.wait_for(lock, std::min<Clock::duration>(backoff, deadline - now),
                  [this] { return !running; });
    backoff = std::min(backoff * 2, options.backoff_max);
  }
  std::lock_guard<std::mutex> lock(mu);
  ended = true;
}

void ExecutorClient::Impl::GiveUp(const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mu);
    ended = true;
  }
  if (on_disconnected) on_disconnected("giving up: " + why);
  Event event;
  event.set_type(Event::SHUTDOWN);
  Dispatch(event);
}

std::string ExecutorClient::Impl::Subscribe(bool* got_subscribed) {
  HttpChannel channel;
  const auto connect_timeout =
      std::min<std::chrono::milliseconds>(options.call_timeout, std::chrono::seconds(10));
  if (auto s = channel.Connect(host, port, connect_timeout); !s.ok()) return s.message();
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!running) return "stopped";
    stream = &channel;
  }
  struct Unset {
    Impl* impl;
    ~Unset() {
      std::lock_guard<std::mutex> lock(impl->mu);
      impl->stream = nullptr;
    }
  } unset{this};

  Call call = NewCall(Call::SUBSCRIBE);
  {
    std::lock_guard<std::mutex> lock(mu);
    auto* subscribe = call.mutable_subscribe();
    for (const auto& task : tasks) *subscribe->add_unacknowledged_tasks() = task;
    for (auto& kept : updates) {
      *subscribe->add_unacknowledged_updates() = kept.update;
      kept.delivered = true;
    }
  }
  channel.SetReadTimeout(options.call_timeout);
  if (auto s = channel.Write("POST", kPath, Headers(), Encode(call)); !s.ok()) return s.message();
  auto head = channel.ReadHead();
  if (!head.ok()) return head.status().message();
  if (head->status != 200) {
    auto body = channel.ReadBody(*head);
    const std::string why = "SUBSCRIBE answered " + std::to_string(head->status) + ": " +
                            (body.ok() ? *body : body.status().message());
    // 503: the agent is recovering; 404: its routes are not up yet. Anything
    // else is news for the executor, as in Mesos's library.
    if (head->status != 503 && head->status != 404) {
      Event error;
      error.set_type(Event::ERROR);
      error.mutable_error()->set_message(why);
      Dispatch(error);
    }
    return why;
  }
  // Executors get no heartbeats to time out on: the stream waits for as
  // long as the agent keeps it open.
  channel.SetReadTimeout(std::chrono::milliseconds(0));
  scheduler::recordio::Decoder decoder;
  for (;;) {
    auto chunk = channel.ReadChunk();
    if (!chunk.ok()) return chunk.status().message();
    std::vector<std::string> records;
    if (!decoder.Feed(*chunk, &records)) return "the event stream is not RecordIO";
    for (const std::string& record : records) {
      Event event;
      std::string error;
      bool parsed;
      if (options.protobuf) {
        parsed = event.ParsePartialFromString(record);
        if (!parsed) error = "not an Event";
      } else {
        parsed = ParseJsonEvent(record, &event, &error);
      }
      if (!parsed) {
        Event injected;
        injected.set_type(Event::ERROR);
        injected.mutable_error()->set_message("Failed to de-serialize event: " + error);
        Dispatch(injected);
        continue;
      }
      Handle(event, got_subscribed);
      if (!running) return "stopped";
    }
  }
}

void ExecutorClient::Impl::Handle(const Event& event, bool* got_subscribed) {
  switch (event.type()) {
    case Event::SUBSCRIBED: {
      std::vector<Call> resend;
      {
        std::lock_guard<std::mutex> lock(mu);
        info = event.subscribed();
        subscribed = true;
        // Updates made while the SUBSCRIBE was on its way.
        for (auto& kept : updates) {
          if (kept.delivered) continue;
          kept.delivered = true;
          Call call = NewCall(Call::UPDATE);
          *call.mutable_update() = kept.update;
          if (!call.update().status().has_agent_id() && info.agent_info().has_id()) {
            *call.mutable_update()->mutable_status()->mutable_agent_id() = info.agent_info().id();
          }
          resend.push_back(std::move(call));
        }
      }
      *got_subscribed = true;
      if (on_connected) on_connected();
      for (const Call& call : resend) {
        int code = 0;
        if (!Post(call, &code).ok() && code / 100 == 4) Forget(call.update().status().uuid());
      }
      break;
    }
    case Event::LAUNCH:
    case Event::LAUNCH_GROUP: {
      std::lock_guard<std::mutex> lock(mu);
      auto keep = [this](const v1::TaskInfo& task) {
        const bool known = std::any_of(tasks.begin(), tasks.end(), [&](const v1::TaskInfo& t) {
          return t.task_id().value() == task.task_id().value();
        });
        if (!known) tasks.push_back(task);
      };
      if (event.type() == Event::LAUNCH) {
        keep(event.launch().task());
      } else {
        for (const auto& task : event.launch_group().task_group().tasks()) keep(task);
      }
      break;
    }
    case Event::ACKNOWLEDGED: {
      Forget(event.acknowledged().uuid());
      std::lock_guard<std::mutex> lock(mu);
      const std::string& id = event.acknowledged().task_id().value();
      tasks.erase(std::remove_if(tasks.begin(), tasks.end(),
                                 [&](const v1::TaskInfo& t) { return t.task_id().value() == id; }),
                  tasks.end());
      break;
    }
    case Event::SHUTDOWN:
      agent_shutdown = true;
      break;
    default:
      break;
  }
  Dispatch(event);
}

void ExecutorClient::Impl::Dispatch(const Event& event) {
  if (auto it = handlers.find(event.type()); it != handlers.end()) {
    for (const auto& handler : it->second) handler(event);
  }
}

void ExecutorClient::Impl::Forget(const std::string& uuid) {
  std::lock_guard<std::mutex> lock(mu);
  updates.erase(
      std::remove_if(updates.begin(), updates.end(),
                     [&](const KeptUpdate& k) { return k.update.status().uuid() == uuid; }),
      updates.end());
}

Status ExecutorClient::Impl::Post(const Call& call, int* code) {
  *code = 0;
  const std::string body = Encode(call);
  std::lock_guard<std::mutex> lock(call_mu);
  // A kept-alive connection may have been closed by the agent since the
  // last call: one fresh attempt.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!calls.connected()) {
      if (auto s = calls.Connect(host, port, std::chrono::seconds(10)); !s.ok()) return s;
      calls.SetReadTimeout(options.call_timeout);
    }
    auto s = calls.Write("POST", kPath, Headers(), body);
    auto head = s.ok() ? calls.ReadHead() : Result<HttpHead>(s);
    if (!head.ok()) {
      calls.Close();
      if (attempt == 0) continue;
      return Status::Error(AgentWording(head.status().message()));
    }
    auto reply = calls.ReadBody(*head);
    if (!reply.ok()) calls.Close();
    *code = head->status;
    if (head->status / 100 == 2) return Status::Ok();
    return Status::Error(Call::Type_Name(call.type()) + " answered " +
                         std::to_string(head->status) + ": " + (reply.ok() ? *reply : ""));
  }
  return Status::Error("unreachable");
}

Status ExecutorClient::Update(v1::TaskStatus status) {
  if (!status.has_task_id() || !status.has_state()) {
    return Status::Error("a status update needs task_id and state");
  }
  status.set_uuid(NewUuid());
  if (!status.has_timestamp()) status.set_timestamp(NowSeconds());
  status.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  status.mutable_executor_id()->set_value(impl_->options.executor_id);
  Call call = impl_->NewCall(Call::UPDATE);
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->ended) {
      return Status::Error("the executor client has ended: update " +
                           v1::TaskState_Name(status.state()) + " of task " +
                           status.task_id().value() + " not sent");
    }
    if (!status.has_agent_id() && impl_->info.agent_info().has_id()) {
      *status.mutable_agent_id() = impl_->info.agent_info().id();
    }
    *call.mutable_update()->mutable_status() = status;
    impl_->updates.push_back({call.update(), impl_->subscribed});
    if (!impl_->subscribed) return Status::Ok();
  }
  int code = 0;
  Status s = impl_->Post(call, &code);
  if (!s.ok() && code / 100 == 4) impl_->Forget(status.uuid());
  return s;
}

Status ExecutorClient::Message(const std::string& data) {
  if (!subscribed()) return Status::Error("not subscribed with the agent");
  Call call = impl_->NewCall(Call::MESSAGE);
  call.mutable_message()->set_data(data);
  int code = 0;
  return impl_->Post(call, &code);
}

}  // namespace keel::executor
