#include "keel/scheduler/scheduler_client.hpp"

#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "http_channel.hpp"

namespace keel::scheduler {

namespace recordio {

std::string Frame(const std::string& record) {
  return std::to_string(record.size()) + "\n" + record;
}

bool Decoder::Feed(const std::string& data, std::vector<std::string>* records) {
  buffer_ += data;
  for (;;) {
    auto newline = buffer_.find('\n');
    if (newline == std::string::npos) return buffer_.size() <= 20;  // a length is short
    uint64_t length = 0;
    if (newline == 0) return false;
    for (size_t i = 0; i < newline; ++i) {
      if (buffer_[i] < '0' || buffer_[i] > '9') return false;
      length = length * 10 + static_cast<uint64_t>(buffer_[i] - '0');
    }
    if (buffer_.size() - newline - 1 < length) return true;
    records->push_back(buffer_.substr(newline + 1, length));
    buffer_.erase(0, newline + 1 + length);
  }
}

}  // namespace recordio

namespace {

// RFC 4648 base64 with padding, for HTTP Basic credentials.
std::string Base64(const std::string& in) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

constexpr const char* kPath = "/api/v1/scheduler";

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

}  // namespace

struct SchedulerClient::Impl {
  explicit Impl(ClientOptions o) : options(std::move(o)) {}

  ClientOptions options;
  std::string host;
  uint16_t port = 0;
  std::map<Event::Type, std::vector<Handler>> handlers;
  std::function<void()> on_connected;
  std::function<void(const std::string&)> on_disconnected;

  mutable std::mutex mu;  // guards the fields below and `stream`'s life
  std::string framework_id;
  std::string stream_id;
  bool subscribed = false;
  std::atomic<bool> running{false};
  std::condition_variable wake;
  HttpChannel* stream = nullptr;

  std::mutex call_mu;  // one call at a time over a kept-alive connection
  HttpChannel calls;

  // The uuid of each task's newest acknowledged update. The same update
  // sent again (a restart lost its acknowledgement on the way to the agent)
  // is acknowledged again rather than handed to the handlers a second time.
  // Kept for the newest kAckedKept tasks.
  static constexpr size_t kAckedKept = 100000;
  std::mutex acked_mu;
  std::unordered_map<std::string, std::string> acked;
  std::deque<std::string> acked_order;
  void RememberAcknowledged(const v1::TaskStatus& status) {
    std::lock_guard<std::mutex> lock(acked_mu);
    auto [it, inserted] = acked.insert_or_assign(status.task_id().value(), status.uuid());
    if (!inserted) return;
    acked_order.push_back(it->first);
    if (acked_order.size() > kAckedKept) {
      acked.erase(acked_order.front());
      acked_order.pop_front();
    }
  }
  bool AlreadyAcknowledged(const v1::TaskStatus& status) {
    std::lock_guard<std::mutex> lock(acked_mu);
    auto it = acked.find(status.task_id().value());
    return it != acked.end() && it->second == status.uuid();
  }

  // Automatic acknowledgements go out on their own thread and connection,
  // pipelined, so that the event thread never waits a round trip per update.
  std::mutex ack_mu;
  std::condition_variable ack_wake;
  std::vector<Call> acks;
  bool acks_stopping = false;
  HttpChannel ack_channel;
  std::thread ack_thread;

  std::thread thread;

  void AckLoop();
  // Sends `batch` back to back on `channel`, then reads every answer. An
  // error is a broken connection (closed); `refused`, when given, gets the
  // first answer that was not 2xx.
  Status SendPipelined(HttpChannel& channel, const std::vector<Call>& batch, std::string* refused);
  std::string RequestBody(const Call& call, std::string* stream_id);
  const char* MediaType() const {
    return options.protobuf ? "application/x-protobuf" : "application/json";
  }
  // Every request's headers: `extra`, the host, and the credential if any.
  std::map<std::string, std::string> Headers(std::map<std::string, std::string> extra) const {
    extra["Host"] = options.master;
    extra["Content-Type"] = MediaType();
    if (!options.principal.empty()) {
      extra["Authorization"] = "Basic " + Base64(options.principal + ":" + options.secret);
    }
    return extra;
  }
  std::string Encode(const Call& call) const {
    return options.protobuf ? call.SerializeAsString() : ToJson(call);
  }

  void Run();
  // One subscription, until it breaks; returns why.
  std::string Subscribe();
  // Runs the handlers of `event`; an acknowledgement it calls for goes to
  // `acks_due`, for QueueAcknowledgements.
  void Dispatch(const Event& event, std::vector<Call>* acks_due);
  // Hands `acks_due` to the acknowledging thread.
  void QueueAcknowledgements(std::vector<Call>* acks_due);
  Status Post(const Call& call);
};

SchedulerClient::SchedulerClient(ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  if (impl_->options.framework.has_id()) {
    impl_->framework_id = impl_->options.framework.id().value();
  }
}

SchedulerClient::~SchedulerClient() { Stop(); }

void SchedulerClient::On(Event::Type type, Handler handler) {
  impl_->handlers[type].push_back(std::move(handler));
}

void SchedulerClient::OnConnected(std::function<void()> fn) { impl_->on_connected = std::move(fn); }

void SchedulerClient::OnDisconnected(std::function<void(const std::string&)> fn) {
  impl_->on_disconnected = std::move(fn);
}

void SchedulerClient::Start() {
  if (impl_->running.exchange(true)) return;
  impl_->acks_stopping = false;
  impl_->ack_thread = std::thread([this] { impl_->AckLoop(); });
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void SchedulerClient::Stop() {
  if (!impl_->running.exchange(false)) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stream) impl_->stream->Shutdown();
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  {
    // Acknowledgements already queued still go out.
    std::lock_guard<std::mutex> lock(impl_->ack_mu);
    impl_->acks_stopping = true;
  }
  impl_->ack_wake.notify_all();
  if (impl_->ack_thread.joinable()) impl_->ack_thread.join();
}

std::string SchedulerClient::framework_id() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->framework_id;
}

bool SchedulerClient::subscribed() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->subscribed;
}

void SchedulerClient::Impl::Run() {
  if (auto s = SplitHostPort(options.master, &host, &port); !s.ok()) {
    if (on_disconnected) on_disconnected(s.message());
    return;
  }
  auto backoff = options.backoff_min;
  while (running) {
    const std::string why = Subscribe();
    bool was_subscribed;
    {
      std::lock_guard<std::mutex> lock(mu);
      was_subscribed = subscribed;
      subscribed = false;
      stream_id.clear();
    }
    if (!running) break;
    if (on_disconnected) on_disconnected(why);
    if (!options.reconnect) break;
    if (was_subscribed) backoff = options.backoff_min;
    std::unique_lock<std::mutex> lock(mu);
    wake.wait_for(lock, backoff, [this] { return !running; });
    backoff = std::min(backoff * 2, options.backoff_max);
  }
}

std::string SchedulerClient::Impl::Subscribe() {
  HttpChannel channel;
  if (auto s = channel.Connect(host, port, std::chrono::seconds(10)); !s.ok()) return s.message();
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

  Call call;
  call.set_type(Call::SUBSCRIBE);
  v1::FrameworkInfo* info = call.mutable_subscribe()->mutable_framework_info();
  *info = options.framework;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!framework_id.empty()) {
      info->mutable_id()->set_value(framework_id);
      call.mutable_framework_id()->set_value(framework_id);
    }
  }
  auto s = channel.Write("POST", kPath, Headers({{"Accept", MediaType()}}), Encode(call));
  if (!s.ok()) return s.message();
  auto head = channel.ReadHead();
  if (!head.ok()) return head.status().message();
  if (head->status != 200) {
    auto body = channel.ReadBody(*head);
    return "SUBSCRIBE answered " + std::to_string(head->status) + ": " +
           (body.ok() ? *body : body.status().message());
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    auto id = head->headers.find("mesos-stream-id");
    stream_id = id == head->headers.end() ? "" : id->second;
  }
  // Until SUBSCRIBED tells the heartbeat interval, wait as long as a call.
  channel.SetReadTimeout(options.call_timeout);
  recordio::Decoder decoder;
  // Acknowledgements are handed over once the events already read are
  // handled (and before a read that may block), not one by one: the
  // acknowledging thread then sends them in one batch. Handed over one by
  // one, it woke for each and sent them a pair at a time, a round trip of
  // two tiny requests each.
  constexpr size_t kAcksPerBatch = 1024;
  std::vector<Call> acks_due;
  struct Hand {
    Impl* impl;
    std::vector<Call>* acks;
    ~Hand() { impl->QueueAcknowledgements(acks); }
  } hand{this, &acks_due};
  for (;;) {
    if (!acks_due.empty() && (acks_due.size() >= kAcksPerBatch || !channel.ChunkBuffered())) {
      QueueAcknowledgements(&acks_due);
    }
    auto chunk = channel.ReadChunk();
    if (!chunk.ok()) return chunk.status().message();
    std::vector<std::string> records;
    if (!decoder.Feed(*chunk, &records)) return "the event stream is not RecordIO";
    for (const std::string& record : records) {
      Event event;
      google::protobuf::util::JsonParseOptions parse;
      parse.ignore_unknown_fields = true;
      if (options.protobuf
              ? !event.ParseFromString(record)
              : !google::protobuf::util::JsonStringToMessage(record, &event, parse).ok()) {
        continue;
      }
      if (event.type() == Event::SUBSCRIBED) {
        {
          std::lock_guard<std::mutex> lock(mu);
          framework_id = event.subscribed().framework_id().value();
          subscribed = true;
        }
        // Five missed heartbeats mean the master is gone.
        const double interval = event.subscribed().heartbeat_interval_seconds();
        if (interval > 0) {
          channel.SetReadTimeout(std::chrono::milliseconds(static_cast<int64_t>(interval * 5000)));
        }
        if (on_connected) on_connected();
      }
      Dispatch(event, &acks_due);
      if (!running) return "stopped";
    }
  }
}

void SchedulerClient::Impl::Dispatch(const Event& event, std::vector<Call>* acks_due) {
  const bool reliable = event.type() == Event::UPDATE && event.update().status().has_uuid();
  const bool repeated = reliable && AlreadyAcknowledged(event.update().status());
  if (!repeated) {
    if (auto it = handlers.find(event.type()); it != handlers.end()) {
      for (const auto& handler : it->second) handler(event);
    }
  }
  // A repeated update was acknowledged already (automatically or by the
  // framework): again, so that the agent stops sending it.
  if (reliable && (repeated || options.auto_acknowledge)) {
    const auto& status = event.update().status();
    if (!repeated) RememberAcknowledged(status);
    Call& call = acks_due->emplace_back();
    call.set_type(Call::ACKNOWLEDGE);
    auto* ack = call.mutable_acknowledge();
    *ack->mutable_agent_id() = status.agent_id();
    *ack->mutable_task_id() = status.task_id();
    ack->set_uuid(status.uuid());
  }
}

void SchedulerClient::Impl::QueueAcknowledgements(std::vector<Call>* acks_due) {
  if (acks_due->empty()) return;
  std::lock_guard<std::mutex> lock(ack_mu);
  const bool was_empty = acks.empty();
  if (was_empty) {
    acks.swap(*acks_due);
  } else {
    for (Call& call : *acks_due) acks.push_back(std::move(call));
    acks_due->clear();
  }
  // The acknowledging thread waits only for an empty queue to fill.
  if (was_empty) ack_wake.notify_one();
}

void SchedulerClient::Impl::AckLoop() {
  for (;;) {
    std::vector<Call> batch;
    {
      std::unique_lock<std::mutex> lock(ack_mu);
      ack_wake.wait(lock, [this] { return acks_stopping || !acks.empty(); });
      if (acks.empty()) return;
      batch.swap(acks);
    }
    // A lost acknowledgement costs only a resent update, which is
    // acknowledged again: no retry here beyond one fresh connection.
    if (!SendPipelined(ack_channel, batch, nullptr).ok()) {
      (void)SendPipelined(ack_channel, batch, nullptr);
    }
  }
}

std::string SchedulerClient::Impl::RequestBody(const Call& given, std::string* sid) {
  Call call = given;
  std::lock_guard<std::mutex> lock(mu);
  call.mutable_framework_id()->set_value(framework_id);
  *sid = stream_id;
  return Encode(call);
}

Status SchedulerClient::Impl::SendPipelined(HttpChannel& channel, const std::vector<Call>& batch,
                                            std::string* refused) {
  if (!channel.connected()) {
    if (auto s = channel.Connect(host, port, std::chrono::seconds(10)); !s.ok()) return s;
    channel.SetReadTimeout(options.call_timeout);
  }
  // The whole batch in one send: one system call here, and the master reads
  // every request in one go and answers them all in one write, where a send
  // per request (TCP_NODELAY on both ends) cost a segment, a wake-up and a
  // read of each side per request.
  std::string requests;
  for (const Call& call : batch) {
    std::string sid;
    const std::string body = RequestBody(call, &sid);
    HttpChannel::AppendRequest("POST", kPath, Headers({{"Mesos-Stream-Id", sid}}), body, &requests);
  }
  if (auto s = channel.SendRaw(requests); !s.ok()) {
    channel.Close();
    return s;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    auto head = channel.ReadHead();
    auto body = head.ok() ? channel.ReadBody(*head) : Result<std::string>(head.status());
    if (!body.ok()) {
      channel.Close();
      return body.status();
    }
    if (refused && refused->empty() && head->status / 100 != 2) {
      *refused = Call::Type_Name(batch[i].type()) + " answered " + std::to_string(head->status) +
                 ": " + *body;
    }
  }
  return Status::Ok();
}

Status SchedulerClient::Impl::Post(const Call& call) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (framework_id.empty()) return Status::Error("not subscribed yet");
  }
  std::string sid;
  const std::string body = RequestBody(call, &sid);
  std::lock_guard<std::mutex> lock(call_mu);
  // A kept-alive connection may have been closed by the master since the
  // last call: one fresh attempt.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!calls.connected()) {
      if (auto s = calls.Connect(host, port, std::chrono::seconds(10)); !s.ok()) return s;
      calls.SetReadTimeout(options.call_timeout);
    }
    auto s = calls.Write("POST", kPath, Headers({{"Mesos-Stream-Id", sid}}), body);
    auto head = s.ok() ? calls.ReadHead() : Result<HttpHead>(s);
    if (!head.ok()) {
      calls.Close();
      if (attempt == 0) continue;
      return head.status();
    }
    auto reply = calls.ReadBody(*head);
    if (!reply.ok()) calls.Close();
    if (head->status / 100 == 2) return Status::Ok();
    return Status::Error(Call::Type_Name(call.type()) + " answered " +
                         std::to_string(head->status) + ": " + (reply.ok() ? *reply : ""));
  }
  return Status::Error("unreachable");
}

Status SchedulerClient::Send(Call call) { return impl_->Post(call); }

Status SchedulerClient::SendAll(const std::vector<Call>& calls) {
  if (calls.empty()) return Status::Ok();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->framework_id.empty()) return Status::Error("not subscribed yet");
  }
  std::lock_guard<std::mutex> lock(impl_->call_mu);
  std::string refused;
  if (auto s = impl_->SendPipelined(impl_->calls, calls, &refused); !s.ok()) return s;
  return refused.empty() ? Status::Ok() : Status::Error(refused);
}

Status SchedulerClient::Accept(const std::vector<v1::OfferID>& offers,
                               const std::vector<v1::TaskInfo>& tasks, double refuse_seconds) {
  Call call;
  call.set_type(Call::ACCEPT);
  auto* accept = call.mutable_accept();
  for (const auto& o : offers) *accept->add_offer_ids() = o;
  if (!tasks.empty()) {
    auto* op = accept->add_operations();
    op->set_type(v1::Offer::Operation::LAUNCH);
    for (const auto& t : tasks) *op->mutable_launch()->add_task_infos() = t;
  }
  accept->mutable_filters()->set_refuse_seconds(refuse_seconds);
  return Send(std::move(call));
}

Status SchedulerClient::Decline(const std::vector<v1::OfferID>& offers, double refuse_seconds) {
  Call call;
  call.set_type(Call::DECLINE);
  for (const auto& o : offers) *call.mutable_decline()->add_offer_ids() = o;
  call.mutable_decline()->mutable_filters()->set_refuse_seconds(refuse_seconds);
  return Send(std::move(call));
}

Status SchedulerClient::Acknowledge(const v1::TaskStatus& status) {
  impl_->RememberAcknowledged(status);
  Call call;
  call.set_type(Call::ACKNOWLEDGE);
  *call.mutable_acknowledge()->mutable_agent_id() = status.agent_id();
  *call.mutable_acknowledge()->mutable_task_id() = status.task_id();
  call.mutable_acknowledge()->set_uuid(status.uuid());
  return Send(std::move(call));
}

Status SchedulerClient::Kill(const v1::TaskID& task, const v1::AgentID& agent) {
  Call call;
  call.set_type(Call::KILL);
  *call.mutable_kill()->mutable_task_id() = task;
  if (!agent.value().empty()) *call.mutable_kill()->mutable_agent_id() = agent;
  return Send(std::move(call));
}

Status SchedulerClient::Reconcile(const std::vector<v1::TaskStatus>& tasks) {
  Call call;
  call.set_type(Call::RECONCILE);
  auto* reconcile = call.mutable_reconcile();
  for (const auto& t : tasks) {
    auto* entry = reconcile->add_tasks();
    *entry->mutable_task_id() = t.task_id();
    if (t.has_agent_id()) *entry->mutable_agent_id() = t.agent_id();
  }
  return Send(std::move(call));
}

Status SchedulerClient::Revive() {
  Call call;
  call.set_type(Call::REVIVE);
  return Send(std::move(call));
}

Status SchedulerClient::Suppress() {
  Call call;
  call.set_type(Call::SUPPRESS);
  return Send(std::move(call));
}

Status SchedulerClient::Teardown() {
  Call call;
  call.set_type(Call::TEARDOWN);
  return Send(std::move(call));
}

}  // namespace keel::scheduler
