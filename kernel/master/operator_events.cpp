#include "kernel/master/operator_events.hpp"

#include "kernel/http/http_server.hpp"
#include "kernel/runtime/mesos_json.hpp"

namespace keel::master {

namespace {

constexpr size_t kMaxSubscribers = 1000;

}  // namespace

OperatorEvents::OperatorEvents(boost::asio::io_context& io,
                               std::chrono::nanoseconds heartbeat_interval)
    : heartbeat_interval_(heartbeat_interval), heartbeat_(io) {}

void OperatorEvents::Subscribe(http::Responder responder, runtime::Encoding encoding,
                               v1::master::Response::GetState state) {
  // Streams that ended are dropped here and on every send.
  subscribers_.remove_if([](const Subscriber& s) { return s.stream->closed(); });
  if (subscribers_.size() >= kMaxSubscribers) {
    return responder.Respond(http::Response::Text(
        503, "Too many subscribers: " + std::to_string(kMaxSubscribers) + " at most\n"));
  }
  auto stream = responder.StartStream(200, {{"Content-Type", runtime::ContentType(encoding)}});
  subscribers_.push_back({stream, encoding});
  v1::master::Event subscribed;
  subscribed.set_type(v1::master::Event::SUBSCRIBED);
  *subscribed.mutable_subscribed()->mutable_get_state() = std::move(state);
  subscribed.mutable_subscribed()->set_heartbeat_interval_seconds(
      std::chrono::duration<double>(heartbeat_interval_).count());
  Send(subscribers_.back(), subscribed);
  if (subscribers_.size() == 1) {
    heartbeat_.Start(heartbeat_interval_, [this] { Heartbeat(); });
  }
}

void OperatorEvents::Send(Subscriber& subscriber, const v1::master::Event& event) {
  std::string record = subscriber.encoding == runtime::Encoding::kProtobuf
                           ? event.SerializeAsString()
                           : runtime::MesosJson(event);
  subscriber.stream->Write(std::to_string(record.size()) + "\n" + record);
}

void OperatorEvents::Publish(const v1::master::Event& event) {
  subscribers_.remove_if([](const Subscriber& s) { return s.stream->closed(); });
  for (auto& s : subscribers_) Send(s, event);
}

void OperatorEvents::Heartbeat() {
  v1::master::Event heartbeat;
  heartbeat.set_type(v1::master::Event::HEARTBEAT);
  Publish(heartbeat);
  if (!subscribers_.empty()) heartbeat_.Start(heartbeat_interval_, [this] { Heartbeat(); });
}

}  // namespace keel::master
