// Executors on the agent: the container each (framework, executor id) runs
// in, the events it is sent, its end and what that means for its tasks.
#include <glog/logging.h>
#include <signal.h>
#include <sys/wait.h>

#include "keel/internal/agent_protocol.pb.h"
#include "keel/task_state.hpp"
#include "kernel/agent/agent.hpp"
#include "kernel/agent/master_link.hpp"
#include "kernel/protocol/framework_capabilities.hpp"
#include "kernel/protocol/protocol_message.hpp"
#include "kernel/protocol/resource_conversion.hpp"
#include "kernel/runtime/config_fields.hpp"
#include "kernel/runtime/event_stream.hpp"
#include "kernel/runtime/uuid.hpp"

namespace keel::agent {
namespace {

using v1::executor::Event;

// Mesos writes durations this way in executors' environments ("5secs").
std::string MesosDuration(std::chrono::nanoseconds d) {
  const double seconds = std::chrono::duration<double>(d).count();
  std::string text = std::to_string(seconds);
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text + "secs";
}

constexpr auto kExecutorHeartbeat = std::chrono::seconds(30);
// How long an executor waits for a restarted agent (Mesos's recovery_timeout).
constexpr std::chrono::nanoseconds kExecutorRecoveryTimeout = std::chrono::minutes(15);

}  // namespace

std::string Agent::ExecutorSandboxOf(const std::string& framework_id,
                                     const std::string& executor_id,
                                     const ContainerId& container_id) const {
  return options_.work_dir + "/slaves/" + agent_id_ + "/frameworks/" + framework_id +
         "/executors/" + executor_id + "/runs/" + container_id;
}

void Agent::OnRunTaskGroup(const internal::RunTaskGroup& run) {
  v1::ExecutorInfo info = run.executor();
  std::vector<v1::TaskInfo> tasks(run.task_group().tasks().begin(), run.task_group().tasks().end());
  RunOnExecutor(run.framework(), info, tasks, /*group=*/true);
}

void Agent::RunOnExecutor(const v1::FrameworkInfo& framework, const v1::ExecutorInfo& given,
                          const std::vector<v1::TaskInfo>& tasks, bool group) {
  const std::string& framework_id = framework.id().value();
  frameworks_[framework_id] = framework;
  for (const auto& task : tasks) {
    const Key key{framework_id, task.task_id().value()};
    if (containers_.count(key) || executor_tasks_.count(key) ||
        updates_.HasPending(key.first, key.second)) {
      LOG(WARNING) << "task " << key.second << " of framework " << key.first
                   << " is already known; duplicate launch ignored";
      return;
    }
  }
  v1::ExecutorInfo info = given;
  info.mutable_framework_id()->set_value(framework_id);
  const ExecutorKey ekey{framework_id, info.executor_id().value()};

  Executor* executor = nullptr;
  if (auto it = executors_.find(ekey); it != executors_.end()) {
    executor = &it->second;
    if (executor->shutting_down) {
      for (const auto& task : tasks) {
        SendStatus(framework_id, task.task_id(), v1::TASK_FAILED,
                   v1::TaskStatus::REASON_EXECUTOR_TERMINATED,
                   "Executor " + ekey.second + " is shutting down");
      }
      return;
    }
  } else {
    Resources task_resources;
    for (const auto& task : tasks) {
      if (auto r = protocol::FromProto(task.resources()); r.ok()) task_resources += *r;
    }
    std::string error;
    executor = StartExecutor(framework, info, task_resources, &error);
    if (executor == nullptr) {
      for (const auto& task : tasks) {
        SendStatus(framework_id, task.task_id(), v1::TASK_FAILED,
                   v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED, error);
      }
      return;
    }
  }

  Event event;
  for (const auto& task : tasks) {
    const Key key{framework_id, task.task_id().value()};
    executor_tasks_[key] = ExecutorTask{ekey.second, task, v1::TASK_STAGING, {}};
    executor->tasks.insert(key.second);
    // /files and keelctl logs find a task's files in its executor's sandbox.
    sandboxes_[key] = executor->sandbox;
    Checkpoint(key);
  }
  if (group) {
    event.set_type(Event::LAUNCH_GROUP);
    auto* launch = event.mutable_launch_group()->mutable_task_group();
    for (const auto& task : tasks) *launch->add_tasks() = task;
  } else {
    event.set_type(Event::LAUNCH);
    *event.mutable_launch()->mutable_task() = tasks.front();
  }
  SendToExecutor(*executor, event);
}

Agent::Executor* Agent::StartExecutor(const v1::FrameworkInfo& framework,
                                      const v1::ExecutorInfo& info, const Resources& task_resources,
                                      std::string* error) {
  const std::string& framework_id = framework.id().value();
  const std::string& executor_id = info.executor_id().value();
  const ContainerId container_id = runtime::RandomUuid();
  Executor e = NewExecutor(framework_id, info, container_id,
                           ExecutorSandboxOf(framework_id, executor_id, container_id));

  ContainerLaunch launch;
  launch.id = e.container_id;
  launch.config.sandbox_dir = e.sandbox;
  launch.config.resources = task_resources;
  if (auto r = protocol::FromProto(info.resources()); r.ok()) launch.config.resources += *r;
  CommandSpec& command = launch.command;
  if (info.type() == v1::ExecutorInfo::DEFAULT) {
    if (options_.default_executor.empty()) {
      *error =
          "This agent has no keel-default-executor (beside keel-agent or in "
          "../libexec/keel/), which runs task groups";
      return nullptr;
    }
    command.shell = false;
    command.value = options_.default_executor;
  } else {
    const v1::CommandInfo& c = info.command();
    command.shell = c.shell();
    command.value = c.value();
    command.arguments.assign(c.arguments().begin(), c.arguments().end());
    command.user = c.user();
    for (const auto& v : c.environment().variables()) {
      if (v.type() == v1::Environment::Variable::VALUE) command.environment[v.name()] = v.value();
    }
  }
  launch.config.user = !command.user.empty() ? command.user : framework.user();
  if (info.has_container() && info.container().has_mesos() &&
      info.container().mesos().has_image()) {
    const auto& image = info.container().mesos().image();
    launch.image = image.has_docker() ? image.docker().name() : image.appc().name();
  }
  // Mesos's executor environment, with KEEL_ twins.
  const std::string host =
      options_.ip.empty() || options_.ip == "0.0.0.0" ? "127.0.0.1" : options_.ip;
  auto& env = command.environment;
  auto set = [&env](const std::string& name, const std::string& value) {
    env["MESOS_" + name] = env["KEEL_" + name] = value;
  };
  set("AGENT_ENDPOINT", host + ":" + std::to_string(options_.port));
  set("FRAMEWORK_ID", framework_id);
  set("EXECUTOR_ID", executor_id);
  set("AGENT_ID", agent_id_);
  set("DIRECTORY", e.sandbox);
  set("SANDBOX", e.sandbox);
  // Keel's agent checkpoints every framework's tasks and executors (Mesos's,
  // only those of frameworks that ask): an executor should always wait for
  // a restarted agent, and try often enough to subscribe again within the
  // agent's executor_reregistration_timeout.
  set("CHECKPOINT", "1");
  set("RECOVERY_TIMEOUT", MesosDuration(kExecutorRecoveryTimeout));
  set("SUBSCRIPTION_BACKOFF_MAX", MesosDuration(options_.executor_reregistration_timeout / 4));
  set("EXECUTOR_SHUTDOWN_GRACE_PERIOD", MesosDuration(options_.executor_shutdown_grace));
  env["MESOS_SLAVE_ID"] = agent_id_;

  Containerizer* containerizer = nullptr;
  for (const auto& [name, candidate] : containerizers_) {
    if (candidate->CanLaunch(launch)) {
      containerizer = candidate.get();
      break;
    }
  }
  if (containerizer == nullptr) {
    *error = "No containerizer of this agent runs executor " + executor_id;
    return nullptr;
  }
  e.containerizer = containerizer;
  e.user = launch.config.user;
  e.resources = launch.config.resources;
  // Before the container exists, as for a task's (Agent::OnRunTask).
  CheckpointExecutor(e);

  const ExecutorKey key{framework_id, executor_id};
  std::weak_ptr<Agent> weak = weak_from_this();
  Status launched = containerizer->Launch(launch, [weak, key](const ContainerTermination& t) {
    if (auto self = weak.lock()) self->OnExecutorExit(key, t);
  });
  if (!launched.ok()) {
    checkpoint_.RemoveExecutor(e.container_id);
    *error = launched.message();
    return nullptr;
  }
  LOG(INFO) << "started executor " << executor_id << " of framework " << framework_id
            << " in container " << e.container_id;
  // /files serves .../executors/<executor id>/runs/... from its sandbox.
  sandboxes_[{framework_id, executor_id}] = e.sandbox;
  Executor& executor = executors_.emplace(key, std::move(e)).first->second;
  StartSubscriptionDeadline(key, options_.executor_registration_timeout,
                            v1::TaskStatus::REASON_EXECUTOR_REGISTRATION_TIMEOUT);
  return &executor;
}

Agent::Executor Agent::NewExecutor(const std::string& framework_id, const v1::ExecutorInfo& info,
                                   const ContainerId& container_id, const std::string& sandbox) {
  Executor e;
  e.framework_id = framework_id;
  e.info = info;
  e.container_id = container_id;
  e.sandbox = sandbox;
  e.registration = std::make_unique<runtime::Timer>(daemon_.io());
  e.shutdown = std::make_unique<runtime::Timer>(daemon_.io());
  e.heartbeat = std::make_unique<runtime::Timer>(daemon_.io());
  return e;
}

void Agent::StartSubscriptionDeadline(const ExecutorKey& key, std::chrono::nanoseconds timeout,
                                      v1::TaskStatus::Reason reason) {
  auto it = executors_.find(key);
  if (it == executors_.end()) return;
  std::weak_ptr<Agent> weak = weak_from_this();
  it->second.registration->Start(timeout, [weak, key, timeout, reason] {
    auto self = weak.lock();
    if (!self) return;
    auto it = self->executors_.find(key);
    if (it == self->executors_.end() || it->second.stream) return;
    Executor& late = it->second;
    const bool again = reason == v1::TaskStatus::REASON_EXECUTOR_REREGISTRATION_TIMEOUT;
    LOG(WARNING) << "executor " << key.second << " of framework " << key.first << " did not "
                 << (again ? "subscribe again after the agent's restart" : "subscribe")
                 << " in time; destroying it";
    late.end_reason = reason;
    late.end_message = std::string(again ? "Executor did not subscribe again within "
                                         : "Executor did not subscribe within ") +
                       MesosDuration(timeout);
    (void)late.containerizer->Destroy(late.container_id);
  });
}

void Agent::SendToExecutor(Executor& executor, const v1::executor::Event& event) {
  if (executor.stream && !executor.stream->closed()) {
    executor.stream->Send(event);
    return;
  }
  if (event.type() == Event::LAUNCH || event.type() == Event::LAUNCH_GROUP) {
    executor.queued.push_back(event);
  }
  // Other events for an executor not (or no longer) subscribed are dropped,
  // as in Mesos: kills of queued tasks are handled by the caller.
}

void Agent::OnExecutorSubscribe(const v1::executor::Call& call,
                                std::shared_ptr<runtime::EventStream> stream) {
  const ExecutorKey key{call.framework_id().value(), call.executor_id().value()};
  Executor& executor = executors_.at(key);
  if (executor.stream) executor.stream->Close();  // a re-subscription replaces it
  executor.stream = std::move(stream);
  executor.registration->Cancel();
  const bool reconnecting = std::exchange(executor.recovered, false);

  Event subscribed;
  subscribed.set_type(Event::SUBSCRIBED);
  auto* s = subscribed.mutable_subscribed();
  *s->mutable_executor_info() = executor.info;
  *s->mutable_framework_info() = frameworks_[key.first];
  v1::AgentInfo* agent = s->mutable_agent_info();
  agent->mutable_id()->set_value(agent_id_);
  agent->set_hostname(options_.hostname);
  agent->set_port(options_.port);
  protocol::ToProto(options_.resources, agent->mutable_resources());
  s->mutable_container_id()->set_value(executor.container_id);
  executor.stream->Send(subscribed);

  // What the executor says it already has (a re-subscription) is not sent
  // again.
  std::set<std::string> known;
  for (const auto& task : call.subscribe().unacknowledged_tasks())
    known.insert(task.task_id().value());
  const std::set<std::string> unacknowledged_tasks = known;
  for (const auto& update : call.subscribe().unacknowledged_updates()) {
    known.insert(update.status().task_id().value());
  }
  // Updates it made while it could not reach the agent: taken now, once.
  for (const auto& update : call.subscribe().unacknowledged_updates()) {
    const Key task{key.first, update.status().task_id().value()};
    auto known_task = executor_tasks_.find(task);
    if (known_task != executor_tasks_.end() &&
        known_task->second.seen_uuids.count(update.status().uuid()) != 0) {
      continue;
    }
    v1::executor::Call as_update = call;
    as_update.set_type(v1::executor::Call::UPDATE);
    as_update.clear_subscribe();
    *as_update.mutable_update() = update;
    if (auto refused = OnExecutorUpdate(as_update)) {
      LOG(WARNING) << "executor " << key.second
                   << ": an unacknowledged update it re-sent: " << refused->reason;
    }
  }
  if (reconnecting) DropTasksUnknownToExecutor(key, unacknowledged_tasks);
  std::vector<Event> queued = std::move(executor.queued);
  executor.queued.clear();
  for (Event& event : queued) {
    if (event.type() == Event::LAUNCH && known.count(event.launch().task().task_id().value())) {
      continue;
    }
    executor.stream->Send(event);
  }

  HeartbeatExecutor(key);
  LOG(INFO) << "executor " << key.second << " of framework " << key.first
            << (reconnecting ? " subscribed again after the agent's restart" : " subscribed");
  if (reconnecting && executor.tasks.empty() && executor.queued.empty()) {
    ShutdownExecutor(executor, "it has no tasks left");
  }
}

void Agent::DropTasksUnknownToExecutor(const ExecutorKey& key,
                                       const std::set<std::string>& unacknowledged_tasks) {
  // As Mesos's agent: a task still STAGING that the executor does not list
  // never reached it (the agent died between launch and delivery), and the
  // LAUNCH is not sent again.
  const bool partition_aware = protocol::HasCapability(
      frameworks_[key.first], v1::FrameworkInfo::Capability::PARTITION_AWARE);
  Executor& executor = executors_.at(key);
  for (auto& [task_key, task] : executor_tasks_) {
    if (task_key.first != key.first || task.executor_id != key.second ||
        task.state != v1::TASK_STAGING || unacknowledged_tasks.count(task_key.second) != 0) {
      continue;
    }
    executor.tasks.erase(task_key.second);
    task.state = partition_aware ? v1::TASK_DROPPED : v1::TASK_LOST;
    SendStatus(key.first, task.task.task_id(), task.state, v1::TaskStatus::REASON_AGENT_RESTARTED,
               "Task launched during agent restart");
  }
}

void Agent::HeartbeatExecutor(const ExecutorKey& key) {
  auto it = executors_.find(key);
  if (it == executors_.end() || !it->second.stream) return;
  std::weak_ptr<Agent> weak = weak_from_this();
  it->second.heartbeat->Start(kExecutorHeartbeat, [weak, key] {
    auto self = weak.lock();
    if (!self) return;
    auto it = self->executors_.find(key);
    if (it == self->executors_.end() || !it->second.stream) return;
    Event heartbeat;
    heartbeat.set_type(Event::HEARTBEAT);
    it->second.stream->Send(heartbeat);
    self->HeartbeatExecutor(key);
  });
}

std::optional<Agent::CallRefusal> Agent::CheckExecutorCall(const v1::executor::Call& call) const {
  // An executor being shut down with its framework is still heard.
  auto it = executors_.find({call.framework_id().value(), call.executor_id().value()});
  if (it == executors_.end()) {
    const bool known = frameworks_.count(call.framework_id().value()) != 0;
    return CallRefusal{400, known ? "Executor cannot be found" : "Framework cannot be found"};
  }
  const auto& stream = it->second.stream;
  if (call.type() != v1::executor::Call::SUBSCRIBE && (!stream || stream->closed())) {
    return CallRefusal{403, "Executor is not subscribed"};
  }
  return std::nullopt;
}

std::optional<Agent::CallRefusal> Agent::OnExecutorUpdate(const v1::executor::Call& call) {
  v1::TaskStatus status = call.update().status();
  if (!status.has_uuid() || status.uuid().empty()) {
    return CallRefusal{400, "Expecting 'uuid' to be present"};
  }
  // The framework acknowledges it by this uuid, which must be one.
  if (status.uuid().size() != 16) return CallRefusal{400, "'uuid' is not a valid UUID"};
  if (status.state() == v1::TASK_STAGING) {
    return CallRefusal{400, "Received an update for task " + status.task_id().value() +
                                " in state TASK_STAGING, which is only the agent's"};
  }
  const std::string& framework_id = call.framework_id().value();
  const Key key{framework_id, status.task_id().value()};
  auto task = executor_tasks_.find(key);
  if (task == executor_tasks_.end() || task->second.executor_id != call.executor_id().value()) {
    return CallRefusal{
        400, "Task " + key.second + " is not a task of executor " + call.executor_id().value()};
  }
  task->second.state = status.state();
  status.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  *status.mutable_executor_id() = call.executor_id();
  status.mutable_agent_id()->set_value(agent_id_);
  if (!status.has_timestamp()) status.set_timestamp(runtime::NowSeconds());
  auto& executor = executors_.at({framework_id, call.executor_id().value()});
  status.mutable_container_status()->mutable_container_id()->set_value(executor.container_id);
  if (IsTerminal(status.state())) executor.tasks.erase(key.second);
  task->second.seen_uuids.insert(status.uuid());
  // As Mesos's agent: acknowledged to the executor once the agent holds the
  // update; delivering it to the framework is the agent's job from here.
  Event ack;
  ack.set_type(Event::ACKNOWLEDGED);
  *ack.mutable_acknowledged()->mutable_task_id() = status.task_id();
  ack.mutable_acknowledged()->set_uuid(status.uuid());
  updates_.Add(framework_id, std::move(status));
  SendToExecutor(executor, ack);
  // An executor left with nothing to run is shut down.
  if (executor.tasks.empty() && executor.queued.empty()) {
    ShutdownExecutor(executor, "it has no tasks left");
  }
  return std::nullopt;
}

void Agent::OnExecutorUpdateAcknowledged(const Key& key) {
  // A task the executor ended is forgotten once its last update is in.
  auto task = executor_tasks_.find(key);
  if (task != executor_tasks_.end() && IsTerminal(task->second.state) &&
      !updates_.HasPending(key.first, key.second)) {
    executor_tasks_.erase(task);
    Checkpoint(key);  // removes its record
  }
}

void Agent::OnExecutorMessage(const v1::executor::Call& call) {
  internal::ExecutorToFrameworkMessage message;
  *message.mutable_framework_id() = call.framework_id();
  *message.mutable_executor_id() = call.executor_id();
  message.set_data(call.message().data());
  link_->Send(protocol::Pack(message));
}

void Agent::OnFrameworkMessage(const std::string& framework_id, const std::string& executor_id,
                               const std::string& data) {
  auto it = executors_.find({framework_id, executor_id});
  if (it == executors_.end() || !it->second.stream) {
    LOG_EVERY_N(INFO, 100) << "message for executor " << executor_id << " of framework "
                           << framework_id << ", which is not subscribed here; dropped";
    return;
  }
  Event event;
  event.set_type(Event::MESSAGE);
  event.mutable_message()->set_data(data);
  it->second.stream->Send(event);
}

void Agent::KillOnExecutor(const Key& key, const internal::KillTask& kill) {
  auto task = executor_tasks_.find(key);
  auto it = executors_.find({key.first, task->second.executor_id});
  if (it == executors_.end()) return;
  Executor& executor = it->second;
  Event event;
  event.set_type(Event::KILL);
  *event.mutable_kill()->mutable_task_id() = kill.task_id();
  if (kill.has_kill_policy()) {
    *event.mutable_kill()->mutable_kill_policy() = kill.kill_policy();
  } else if (task->second.task.has_kill_policy()) {
    *event.mutable_kill()->mutable_kill_policy() = task->second.task.kill_policy();
  }
  if (!executor.stream && executor.recovered) {
    // It runs the task and is expected back (the agent restarted): the
    // kill waits for its subscription.
    executor.queued.push_back(event);
    return;
  }
  if (!executor.stream) {
    // Never delivered: the agent ends it itself, as Mesos does.
    for (auto q = executor.queued.begin(); q != executor.queued.end();) {
      if (q->type() == Event::LAUNCH && q->launch().task().task_id().value() == key.second) {
        q = executor.queued.erase(q);
      } else {
        ++q;
      }
    }
    executor.tasks.erase(key.second);
    task->second.state = v1::TASK_KILLED;
    SendStatus(key.first, kill.task_id(), v1::TASK_KILLED, std::nullopt,
               "Killed before the executor subscribed");
    return;
  }
  executor.stream->Send(event);
}

void Agent::ShutdownExecutor(Executor& executor, const std::string& why) {
  if (executor.shutting_down) return;
  executor.shutting_down = true;
  CheckpointExecutor(executor);
  LOG(INFO) << "shutting down executor " << executor.info.executor_id().value() << " of framework "
            << executor.framework_id << ": " << why;
  if (executor.stream) {
    Event event;
    event.set_type(Event::SHUTDOWN);
    executor.stream->Send(event);
  }
  Containerizer* containerizer = executor.containerizer;
  const ContainerId id = executor.container_id;
  if (!executor.stream) {
    (void)containerizer->Destroy(id);
    return;
  }
  executor.shutdown->Start(options_.executor_shutdown_grace,
                           [containerizer, id] { (void)containerizer->Destroy(id); });
}

void Agent::OnExecutorExit(const ExecutorKey& key, const ContainerTermination& termination) {
  auto it = executors_.find(key);
  if (it == executors_.end()) return;
  Executor executor = std::move(it->second);
  executors_.erase(it);
  checkpoint_.RemoveExecutor(executor.container_id);
  if (executor.stream) executor.stream->Close();
  LOG(INFO) << "executor " << key.second << " of framework " << key.first
            << " ended: " << termination.message;

  // Its tasks that had not ended end with it.
  v1::TaskStatus::Reason reason =
      executor.end_reason.value_or(v1::TaskStatus::REASON_EXECUTOR_TERMINATED);
  std::string message = !executor.end_message.empty()
                            ? executor.end_message
                            : "Executor terminated: " + termination.message;
  if (termination.limitation) {
    v1::TaskStatus::Reason parsed;
    if (v1::TaskStatus::Reason_Parse(termination.limitation->reason, &parsed)) reason = parsed;
    message = termination.limitation->message;
  }
  for (auto task = executor_tasks_.begin(); task != executor_tasks_.end();) {
    if (task->first.first != key.first || task->second.executor_id != key.second) {
      ++task;
      continue;
    }
    const Key task_key = task->first;
    const bool ended = IsTerminal(task->second.state);
    // What is still to be acknowledged stays with the update manager, and
    // the task with the agent's records until it is.
    ended_tasks_[task_key] = task->second.task;
    task = executor_tasks_.erase(task);
    if (!ended) {
      SendStatus(key.first, ended_tasks_[task_key].task_id(), v1::TASK_FAILED, reason, message);
    } else {
      Checkpoint(task_key);
    }
  }

  internal::ExecutorExited exited;
  exited.mutable_framework_id()->set_value(key.first);
  exited.mutable_executor_id()->set_value(key.second);
  if (termination.exit_status) exited.set_status(*termination.exit_status);
  link_->Send(protocol::Pack(exited));
}

}  // namespace keel::agent
