// ExecutorClient: an executor's end of the v1 executor HTTP API
// (POST /api/v1/executor on the agent), for Keel and Apache Mesos agents alike.
//
// It subscribes with the agent that launched the executor, reads the RecordIO
// event stream and calls your handlers for each event; sends UPDATE and
// MESSAGE calls; and keeps every status update and every launched task the
// agent has not acknowledged yet, so that when the stream breaks (the agent
// restarts) it subscribes again with them in SUBSCRIBE's
// unacknowledged_updates and unacknowledged_tasks, as Mesos's own executors
// do (its library leaves that to them). It gives up as Mesos's library does,
// by handing your SHUTDOWN handlers a SHUTDOWN event that the agent never
// sent: at once when the framework does not checkpoint, after the recovery
// timeout when it does.
//
//   auto options = keel::executor::ExecutorOptions::FromEnvironment();
//   if (!options.ok()) { std::cerr << options.status().message(); return 1; }
//   keel::executor::ExecutorClient client(*options);
//   client.On(Event::LAUNCH, [&](const Event& e) { ... client.Update(status); });
//   client.On(Event::SHUTDOWN, [&](const Event&) { ... });
//   client.Start();
//
// Threading: handlers run one at a time on the client's own thread, in the
// order the agent sent the events. Update() and Message() are safe from any
// thread, handlers included, and block until the agent answers (or a call
// times out); Stop() joins the client's thread; nothing else blocks.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "keel/status.hpp"
#include "keel/v1/executor.pb.h"

namespace keel::executor {

using v1::executor::Call;
using v1::executor::Event;

struct ExecutorOptions {
  // What the agent puts in the executor's environment; FromEnvironment()
  // reads them (variable names in brackets).
  std::string agent;         // "HOST:PORT" of the agent's HTTP endpoint [MESOS_AGENT_ENDPOINT]
  std::string framework_id;  // [MESOS_FRAMEWORK_ID]
  std::string executor_id;   // [MESOS_EXECUTOR_ID]
  // The sandbox on the agent's filesystem [MESOS_DIRECTORY], and as this
  // executor sees it [MESOS_SANDBOX] (they differ inside a container image).
  std::string directory;
  std::string sandbox;
  // The framework checkpoints [MESOS_CHECKPOINT=1]: after a broken stream,
  // subscribe again for up to recovery_timeout [MESOS_RECOVERY_TIMEOUT],
  // waiting at most backoff_max between attempts
  // [MESOS_SUBSCRIPTION_BACKOFF_MAX]. Without it a broken stream ends the
  // client at once (the agent is gone, and with it the tasks' future).
  bool checkpoint = false;
  std::chrono::milliseconds recovery_timeout{std::chrono::minutes(15)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(2)};
  // How long the agent waits after SHUTDOWN before it destroys the executor
  // [MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD]. The client does not act on it;
  // an executor uses it to plan its own exit.
  std::chrono::milliseconds shutdown_grace_period{std::chrono::seconds(5)};
  // Sent as "Authorization: Bearer <token>" when the agent authenticates
  // executors [MESOS_EXECUTOR_AUTHENTICATION_TOKEN]; empty: none.
  std::string authentication_token;

  // Not from the environment:
  // The first subscription may take this long (the agent may still be
  // setting up); then the client gives up as after a broken stream.
  std::chrono::milliseconds subscribe_timeout{std::chrono::minutes(1)};
  // First wait between subscription attempts; doubles up to backoff_max.
  std::chrono::milliseconds backoff_min{std::chrono::milliseconds(100)};
  // Calls and events as protobuf (application/x-protobuf) instead of JSON.
  bool protobuf = false;
  // A call that gets no answer in this long fails.
  std::chrono::milliseconds call_timeout{std::chrono::seconds(75)};

  // The options from this process's environment. Fails, naming the
  // variable, when MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID or
  // MESOS_EXECUTOR_ID is missing or a value does not parse. Durations are
  // Mesos's ("5secs", "250ms", "1mins", "2.5hrs"). Unset optional variables
  // keep the defaults above; MESOS_SANDBOX defaults to MESOS_DIRECTORY, and
  // both to the working directory.
  static Result<ExecutorOptions> FromEnvironment();
  // The same from `env` (name -> value), for tests and wrappers.
  static Result<ExecutorOptions> FromEnvironment(const std::map<std::string, std::string>& env);
};

// A Mesos duration ("10ns", "5us", "250ms", "5secs", "3mins", "2hrs",
// "1days", "1weeks"; "s", "m", "h", "d" too); an error naming the text.
Result<std::chrono::nanoseconds> ParseDuration(const std::string& text);

class ExecutorClient {
 public:
  using Handler = std::function<void(const Event&)>;

  explicit ExecutorClient(ExecutorOptions options);
  // Stops (see Stop()).
  ~ExecutorClient();
  ExecutorClient(const ExecutorClient&) = delete;
  ExecutorClient& operator=(const ExecutorClient&) = delete;

  // Before Start(). Several handlers of one type run in the order added.
  // Events of a type this client's protos do not know (a newer agent's)
  // arrive as UNKNOWN; events that do not parse as ERROR ("Failed to
  // de-serialize event: ..."), and the stream goes on. A SUBSCRIBE the
  // agent refuses (other than 503 while it recovers, or 404) is an ERROR
  // too ("SUBSCRIBE answered 400: ..."), and the client tries again.
  void On(Event::Type type, Handler handler);
  // The subscription is up (SUBSCRIBED arrived; runs before its handlers) /
  // an attempt failed or the stream broke, with why; once more, "giving up:
  // <why>", right before the SHUTDOWN the client makes up. Client's thread.
  void OnConnected(std::function<void()> fn);
  void OnDisconnected(std::function<void(const std::string& why)> fn);

  // Starts subscribing on the client's thread; returns at once.
  void Start();
  // Closes the stream and joins the thread; no handler runs afterwards.
  // Idempotent; not from a handler.
  void Stop();

  bool subscribed() const;
  // The client gave up (after the SHUTDOWN it made up) or was stopped: no
  // event follows, and Update() only keeps what it is given.
  bool ended() const;
  // The newest SUBSCRIBED's payload (executor, framework and agent info,
  // the executor's container id); empty before the first one.
  Event::Subscribed subscribed_info() const;
  const ExecutorOptions& options() const;

  // Sends a status update. Fills in a fresh RFC 4122 uuid (replacing any
  // given), timestamp (when unset), source SOURCE_EXECUTOR, executor_id, and
  // agent_id (when unset, from SUBSCRIBED), and keeps the update until the
  // agent sends ACKNOWLEDGED for its uuid.
  // Returns ok when the agent accepted it (202), or when the client is not
  // subscribed right now (it goes with the next SUBSCRIBE); an error when the
  // agent refused it (4xx: dropped, it would never be acknowledged), when the
  // agent could not be reached (kept), or when the client has ended.
  Status Update(v1::TaskStatus status);
  // Sends `data` to the scheduler (best effort: nothing is kept). An error
  // when not subscribed or the agent did not answer 202.
  Status Message(const std::string& data);

  // Updates sent or kept and not acknowledged yet.
  size_t unacknowledged_updates() const;
  // Tasks from LAUNCH / LAUNCH_GROUP with no acknowledged update yet.
  size_t unacknowledged_tasks() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel::executor
