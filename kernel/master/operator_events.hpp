// The v1 operator API's SUBSCRIBE: a RecordIO stream per subscriber that
// starts with SUBSCRIBED (the whole state) and then carries the cluster's
// changes (TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED,
// FRAMEWORK_ADDED, FRAMEWORK_UPDATED, FRAMEWORK_REMOVED) and a HEARTBEAT
// every heartbeat interval. At most 1,000 subscribers, as Mesos.
//
// Events are built only while someone listens (`active()`), so an idle
// stream costs the master nothing per task.
#pragma once

#include <chrono>
#include <list>
#include <memory>

#include "keel/v1/master.pb.h"
#include "kernel/runtime/event_stream.hpp"
#include "kernel/runtime/timer.hpp"

namespace keel::http {
class Responder;
class Stream;
}  // namespace keel::http

namespace keel::master {

class OperatorEvents {
 public:
  OperatorEvents(boost::asio::io_context& io, std::chrono::nanoseconds heartbeat_interval);

  // Answers `responder` with the stream and SUBSCRIBED carrying `state`;
  // 503 when the subscribers are too many.
  void Subscribe(http::Responder responder, runtime::Encoding encoding,
                 v1::master::Response::GetState state);
  bool active() const { return !subscribers_.empty(); }
  void Publish(const v1::master::Event& event);

 private:
  struct Subscriber {
    std::shared_ptr<http::Stream> stream;
    runtime::Encoding encoding;
  };
  void Send(Subscriber& subscriber, const v1::master::Event& event);
  void Heartbeat();

  std::chrono::nanoseconds heartbeat_interval_;
  std::list<Subscriber> subscribers_;
  runtime::Timer heartbeat_;
};

}  // namespace keel::master
