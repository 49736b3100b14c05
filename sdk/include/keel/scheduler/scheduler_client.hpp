// SchedulerClient: a framework's end of the v1 scheduler HTTP API
// (POST /api/v1/scheduler), for Keel and for Apache Mesos masters alike.
//
// It subscribes, reads the RecordIO event stream and calls your handlers for
// each event; sends calls (with the framework id and Mesos-Stream-Id filled
// in); acknowledges status updates for you if asked; and when the stream
// breaks (the master restarts, a network blip, five missed heartbeats) it
// subscribes again with capped exponential backoff, under the same
// FrameworkID so that tasks survive within the framework's failover_timeout.
//
//   keel::scheduler::ClientOptions options;
//   options.master = "127.0.0.1:5050";
//   options.framework.set_user("me");
//   options.framework.set_name("example");
//   keel::scheduler::SchedulerClient client(options);
//   client.On(Event::OFFERS, [&](const Event& e) { ... client.Accept(...); });
//   client.Start();
//
// Threading: handlers run one at a time on the client's own thread. Calls
// (Accept, Kill, ...) are safe from any thread, handlers included, and block
// until the master answers (202) or refuses.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "keel/status.hpp"
#include "keel/v1/scheduler.pb.h"

namespace keel::scheduler {

using v1::scheduler::Call;
using v1::scheduler::Event;

struct ClientOptions {
  std::string master;  // "HOST:PORT" of the master's HTTP endpoint
  v1::FrameworkInfo framework;
  // Acknowledge every UPDATE that carries a uuid once its handlers ran.
  // Either way, an update the client already acknowledged that comes again
  // (an agent or master restart lost the acknowledgement on its way) is
  // acknowledged again without reaching the handlers: each reaches them once.
  bool auto_acknowledge = true;
  // Subscribe again after a broken stream, waiting min doubling to max.
  bool reconnect = true;
  std::chrono::milliseconds backoff_min{200};
  std::chrono::milliseconds backoff_max{15000};
  // Calls and events as protobuf (application/x-protobuf) instead of JSON:
  // cheaper to encode and parse, for frameworks that handle many events.
  bool protobuf = false;
  // A call that gets no answer in this long fails.
  std::chrono::milliseconds call_timeout{75000};
  // HTTP Basic credentials for a master that authenticates frameworks;
  // empty: none sent. Set framework.principal to the same principal.
  std::string principal;
  std::string secret;
};

class SchedulerClient {
 public:
  using Handler = std::function<void(const Event&)>;

  explicit SchedulerClient(ClientOptions options);
  // Stops (see Stop()).
  ~SchedulerClient();
  SchedulerClient(const SchedulerClient&) = delete;
  SchedulerClient& operator=(const SchedulerClient&) = delete;

  // Before Start(). Several handlers of one type run in the order added.
  void On(Event::Type type, Handler handler);
  // The subscription is up (after SUBSCRIBED) / broke, with why.
  void OnConnected(std::function<void()> fn);
  void OnDisconnected(std::function<void(const std::string& why)> fn);

  // Starts subscribing on the client's thread; returns at once.
  void Start();
  // Closes the stream and joins the thread; no handler runs afterwards.
  // Does not tear the framework down (see Teardown()). Idempotent; not from
  // a handler.
  void Stop();

  // Empty until the first SUBSCRIBED.
  std::string framework_id() const;
  bool subscribed() const;

  // Sends `call` with framework_id set; ok when the master answered 2xx,
  // else an error with the status code and the master's reason.
  Status Send(Call call);
  // Sends `calls` pipelined (all written, then all answers read) on the
  // calls' connection: one round trip for many, as for the ACCEPTs that
  // answer one OFFERS event. Not retried: after a broken connection some may
  // have been handled. Ok when every answer was 2xx, else the first refusal.
  Status SendAll(const std::vector<Call>& calls);

  Status Accept(const std::vector<v1::OfferID>& offers, const std::vector<v1::TaskInfo>& tasks,
                double refuse_seconds = 5.0);
  Status Decline(const std::vector<v1::OfferID>& offers, double refuse_seconds = 5.0);
  Status Acknowledge(const v1::TaskStatus& status);
  Status Kill(const v1::TaskID& task, const v1::AgentID& agent);
  // Empty `tasks`: implicit reconciliation, every task the master knows.
  Status Reconcile(const std::vector<v1::TaskStatus>& tasks = {});
  Status Revive();
  Status Suppress();
  Status Teardown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Codes shared with tools that speak the API without the client.
namespace recordio {
// "<length>\n<record>"
std::string Frame(const std::string& record);
// Feeds bytes of a stream; complete records come out in order.
class Decoder {
 public:
  // Appends `data`; returns false when the stream is not RecordIO.
  bool Feed(const std::string& data, std::vector<std::string>* records);

 private:
  std::string buffer_;
};
}  // namespace recordio

}  // namespace keel::scheduler
