#include "kernel/agent/agent.hpp"

#include <glog/logging.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "keel/internal/agent_protocol.pb.h"
#include "kernel/agent/master_link.hpp"
#include "kernel/agent/sandbox_files.hpp"
#include "kernel/protocol/protocol_message.hpp"
#include "kernel/protocol/resource_conversion.hpp"
#include "kernel/runtime/atomic_file.hpp"
#include "kernel/runtime/config_fields.hpp"
#include "kernel/runtime/uuid.hpp"

namespace keel::agent {

namespace {

constexpr size_t kKeptSandboxes = 1000;

std::chrono::nanoseconds Seconds(double s) {
  return std::chrono::nanoseconds(static_cast<int64_t>(s * 1e9));
}

}  // namespace

Agent::Agent(runtime::Daemon& daemon, AgentOptions options, std::shared_ptr<MasterLink> link,
             std::vector<NamedContainerizer> containerizers)
    : daemon_(daemon),
      options_(std::move(options)),
      link_(std::move(link)),
      containerizers_(std::move(containerizers)),
      checkpoint_(options_.work_dir),
      updates_(
          daemon.io(),
          [this](const internal::StatusUpdate& update) { link_->Send(protocol::Pack(update)); },
          [this](const std::string& framework_id, const std::string& task_id) {
            Checkpoint({framework_id, task_id});
          },
          options_.retry_min, options_.retry_max),
      ping_watch_(daemon.io()) {}

Agent::~Agent() = default;

Status Agent::Start() {
  std::ifstream saved(options_.work_dir + "/agent_id");
  if (saved) std::getline(saved, agent_id_);
  if (!agent_id_.empty()) LOG(INFO) << "agent id from the last run: " << agent_id_;
  if (Status s = Recover(); !s.ok()) return s;

  using namespace internal;
  auto& d = link_->dispatcher();
  d.Register(protocol::TypeOf<AgentRegistered>(), 1, 1, [this](const PeerId&, TransportMessage& m) {
    AgentRegistered r;
    if (protocol::Unpack(m, &r)) OnRegistered(r.agent_id().value(), r.ping_timeout_seconds());
  });
  d.Register(protocol::TypeOf<PingAgent>(), 1, 1,
             [this](const PeerId&, TransportMessage&) { OnPing(); });
  d.Register(protocol::TypeOf<RunTask>(), 1, 1, [this](const PeerId&, TransportMessage& m) {
    RunTask r;
    if (protocol::Unpack(m, &r)) OnRunTask(r);
  });
  d.Register(protocol::TypeOf<RunTaskGroup>(), 1, 1, [this](const PeerId&, TransportMessage& m) {
    RunTaskGroup r;
    if (protocol::Unpack(m, &r)) OnRunTaskGroup(r);
  });
  d.Register(protocol::TypeOf<FrameworkToExecutorMessage>(), 1, 1,
             [this](const PeerId&, TransportMessage& m) {
               FrameworkToExecutorMessage r;
               if (protocol::Unpack(m, &r)) {
                 OnFrameworkMessage(r.framework_id().value(), r.executor_id().value(), r.data());
               }
             });
  d.Register(protocol::TypeOf<internal::ShutdownExecutor>(), 1, 1,
             [this](const PeerId&, TransportMessage& m) {
               internal::ShutdownExecutor r;
               if (!protocol::Unpack(m, &r)) return;
               auto it = executors_.find({r.framework_id().value(), r.executor_id().value()});
               if (it != executors_.end()) ShutdownExecutor(it->second, "the framework asked");
             });
  d.Register(protocol::TypeOf<KillTask>(), 1, 1, [this](const PeerId&, TransportMessage& m) {
    KillTask r;
    if (protocol::Unpack(m, &r)) OnKillTask(r);
  });
  d.Register(protocol::TypeOf<StatusUpdateAcknowledgement>(), 1, 1,
             [this](const PeerId&, TransportMessage& m) {
               StatusUpdateAcknowledgement r;
               if (protocol::Unpack(m, &r) &&
                   updates_.Acknowledge(r.framework_id().value(), r.task_id().value(), r.uuid())) {
                 OnExecutorUpdateAcknowledged({r.framework_id().value(), r.task_id().value()});
               }
             });
  d.Register(protocol::TypeOf<ShutdownFramework>(), 1, 1,
             [this](const PeerId&, TransportMessage& m) {
               ShutdownFramework r;
               if (protocol::Unpack(m, &r)) OnShutdownFramework(r.framework_id().value());
             });
  link_->OnConnection([this](bool up) {
    if (up) return Register();
    registered_ = false;
    updates_.SetConnected(false);
  });
  if (link_->connected()) Register();
  start_time_ = runtime::NowSeconds();
  RouteEndpoints();
  RouteExecutorApi();
  std::weak_ptr<Agent> weak = weak_from_this();
  RouteSandboxFiles(daemon_.http(),
                    [weak](const std::string& framework_id,
                           const std::string& task_id) -> std::optional<std::string> {
                      auto self = weak.lock();
                      if (!self) return std::nullopt;
                      auto it = self->sandboxes_.find({framework_id, task_id});
                      if (it == self->sandboxes_.end()) return std::nullopt;
                      return it->second;
                    });
  return Status::Ok();
}

void Agent::Register() {
  if (shutting_down_) return;
  internal::RegisterAgent message;
  v1::AgentInfo* info = message.mutable_agent_info();
  info->set_hostname(options_.hostname);
  info->set_port(options_.port);
  protocol::ToProto(options_.resources, info->mutable_resources());
  if (!agent_id_.empty()) info->mutable_id()->set_value(agent_id_);
  for (const auto& [key, c] : containers_) {
    v1::Task* task = message.add_tasks();
    task->set_name(c.task.name());
    *task->mutable_task_id() = c.task.task_id();
    task->mutable_framework_id()->set_value(c.framework_id);
    task->mutable_agent_id()->set_value(agent_id_);
    task->set_state(c.state);
    *task->mutable_resources() = c.task.resources();
  }
  for (const auto& [key, t] : executor_tasks_) {
    v1::Task* task = message.add_tasks();
    task->set_name(t.task.name());
    *task->mutable_task_id() = t.task.task_id();
    task->mutable_framework_id()->set_value(key.first);
    task->mutable_agent_id()->set_value(agent_id_);
    task->mutable_executor_id()->set_value(t.executor_id);
    task->set_state(t.state);
    *task->mutable_resources() = t.task.resources();
  }
  // Tasks that ended but whose last updates are not acknowledged yet: the
  // master must not take them for gone (their updates are on the way).
  for (const auto& [key, name] : records_) {
    if (containers_.count(key) || executor_tasks_.count(key)) continue;
    const auto* pending = updates_.Pending(key.first, key.second);
    if (pending == nullptr || pending->empty()) continue;
    v1::Task* task = message.add_tasks();
    auto ended = ended_tasks_.find(key);
    if (ended != ended_tasks_.end()) {
      task->set_name(ended->second.name());
      *task->mutable_resources() = ended->second.resources();
    } else {
      task->set_name(key.second);  // ended before it was launched
    }
    task->mutable_task_id()->set_value(key.second);
    task->mutable_framework_id()->set_value(key.first);
    task->mutable_agent_id()->set_value(agent_id_);
    task->set_state(pending->back().state());
  }
  for (const auto& [key, e] : executors_) *message.add_executors() = e.info;
  for (const auto& [id, framework] : frameworks_) *message.add_frameworks() = framework;
  message.set_version(KEEL_VERSION);
  message.set_ip(options_.ip);
  if (!options_.principal.empty()) {
    message.set_principal(options_.principal);
    message.set_secret(options_.secret);
  }
  link_->Send(protocol::Pack(message));
  // Until the master answers, pings restart this; without an answer the
  // agent asks again.
  ping_watch_.Start(std::chrono::seconds(5), [this] { Register(); });
}

void Agent::OnRegistered(const std::string& agent_id, double ping_timeout_seconds) {
  if (agent_id != agent_id_) {
    agent_id_ = agent_id;
    if (auto s = runtime::WriteFileAtomically(options_.work_dir + "/agent_id", agent_id_ + "\n");
        !s.ok()) {
      LOG(ERROR) << "cannot keep the agent id: " << s.message();
    }
  }
  LOG(INFO) << (registered_ ? "re-registered as " : "registered as ") << agent_id_;
  registered_ = true;
  if (ping_timeout_seconds > 0) ping_timeout_ = Seconds(ping_timeout_seconds);
  ping_watch_.Start(ping_timeout_, [this] { Register(); });
  updates_.SetConnected(true);
}

void Agent::OnPing() {
  link_->Send(protocol::Pack(internal::PongAgent()));
  if (registered_) ping_watch_.Start(ping_timeout_, [this] { Register(); });
}

std::string Agent::SandboxOf(const std::string& framework_id, const std::string& task_id,
                             const ContainerId& container_id) const {
  // Mesos's layout, where command tasks' executor id is the task id.
  return options_.work_dir + "/slaves/" + agent_id_ + "/frameworks/" + framework_id +
         "/executors/" + task_id + "/runs/" + container_id;
}

void Agent::OnRunTask(const internal::RunTask& run) {
  const std::string& framework_id = run.framework().id().value();
  const v1::TaskInfo& task = run.task();
  if (task.has_executor()) return RunOnExecutor(run.framework(), task.executor(), {task}, false);
  const Key key{framework_id, task.task_id().value()};
  if (containers_.count(key) || updates_.HasPending(key.first, key.second)) {
    LOG(WARNING) << "task " << key.second << " of framework " << key.first
                 << " is already known; duplicate RunTask ignored";
    return;
  }
  frameworks_[framework_id] = run.framework();

  Container c;
  c.framework_id = framework_id;
  c.task = task;
  c.container_id = runtime::RandomUuid();
  c.sandbox = SandboxOf(framework_id, key.second, c.container_id);
  c.escalate = std::make_unique<runtime::Timer>(daemon_.io());

  ContainerLaunch launch;
  launch.id = c.container_id;
  launch.config.sandbox_dir = c.sandbox;
  launch.config.user = task.command().user();
  if (auto r = protocol::FromProto(task.resources()); r.ok()) launch.config.resources = *r;
  const v1::CommandInfo& command = task.command();
  launch.command.shell = command.shell();
  launch.command.value = command.value();
  launch.command.arguments.assign(command.arguments().begin(), command.arguments().end());
  launch.command.user = command.user();
  for (const auto& v : command.environment().variables()) {
    if (v.type() == v1::Environment::Variable::VALUE)
      launch.command.environment[v.name()] = v.value();
  }
  auto& env = launch.command.environment;
  env["MESOS_SANDBOX"] = env["KEEL_SANDBOX"] = c.sandbox;
  env["MESOS_TASK_ID"] = env["KEEL_TASK_ID"] = key.second;
  env["MESOS_FRAMEWORK_ID"] = env["KEEL_FRAMEWORK_ID"] = framework_id;
  env["MESOS_AGENT_ID"] = env["KEEL_AGENT_ID"] = agent_id_;
  if (task.has_container() && task.container().has_mesos() &&
      task.container().mesos().has_image()) {
    const auto& image = task.container().mesos().image();
    launch.image = image.has_docker() ? image.docker().name() : image.appc().name();
  }

  for (const auto& [name, containerizer] : containerizers_) {
    if (containerizer->CanLaunch(launch)) {
      c.containerizer = containerizer.get();
      break;
    }
  }
  if (c.containerizer == nullptr) {
    return SendStatus(framework_id, task.task_id(), v1::TASK_FAILED,
                      v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED,
                      launch.image ? "No containerizer of this agent runs images (task image '" +
                                         *launch.image + "'); add oci to its containerizers"
                                   : "No containerizer of this agent runs commands without an "
                                     "image; add native to its containerizers");
  }
  Containerizer* containerizer = c.containerizer;
  sandboxes_[key] = c.sandbox;
  auto [it, inserted] = containers_.emplace(key, std::move(c));
  // Recorded with its TASK_RUNNING (SendStatus below), not before the
  // launch: an agent that dies in between leaves the containerizer's record
  // of a container it has none of, which the next run destroys, and the
  // master reports the task TASK_GONE when the agent comes back without it.
  // One write per launch less, on the path every launch waits for.
  std::weak_ptr<Agent> weak = weak_from_this();
  Status launched = containerizer->Launch(launch, [weak, key](const ContainerTermination& t) {
    if (auto self = weak.lock()) self->OnContainerExit(key, t);
  });
  if (!launched.ok()) {
    containers_.erase(it);
    return SendStatus(framework_id, task.task_id(), v1::TASK_FAILED,
                      v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED, launched.message());
  }
  SendStatus(framework_id, task.task_id(), v1::TASK_RUNNING, std::nullopt, "");
}

void Agent::OnContainerExit(const Key& key, const ContainerTermination& termination) {
  auto it = containers_.find(key);
  if (it == containers_.end()) return;
  Container c = std::move(it->second);
  containers_.erase(it);
  ended_tasks_[key] = c.task;
  c.escalate->Cancel();
  ended_.push_back(key);
  if (ended_.size() > kKeptSandboxes) {
    if (!containers_.count(ended_.front())) sandboxes_.erase(ended_.front());
    ended_.pop_front();
  }

  v1::TaskState state = v1::TASK_FAILED;
  std::optional<v1::TaskStatus::Reason> reason;
  std::string message = termination.message;
  const auto status = termination.exit_status;
  if (termination.limitation) {
    v1::TaskStatus::Reason parsed;
    reason = v1::TaskStatus::Reason_Parse(termination.limitation->reason, &parsed)
                 ? parsed
                 : v1::TaskStatus::REASON_CONTAINER_LIMITATION;
    message = termination.limitation->message;
  } else if (c.killing) {
    state = v1::TASK_KILLED;
  } else if (status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) {
    state = v1::TASK_FINISHED;
  }
  SendStatus(c.framework_id, c.task.task_id(), state, reason, message);
}

void Agent::Kill(Container& container, std::chrono::nanoseconds grace) {
  // A repeated kill changes nothing: restarting the grace period would let a
  // framework that keeps asking postpone SIGKILL for ever.
  if (container.killing) return;
  container.killing = true;
  // A restarted agent then knows the end it finds is TASK_KILLED.
  Checkpoint({container.framework_id, container.task.task_id().value()});
  const ContainerId id = container.container_id;
  Containerizer* containerizer = container.containerizer;
  if (grace.count() <= 0) {
    (void)containerizer->Destroy(id);
    return;
  }
  if (auto s = containerizer->Kill(id, SIGTERM); !s.ok()) {
    LOG(WARNING) << "container " << id << ": " << s.message() << "; killing it outright";
    (void)containerizer->Destroy(id);
    return;
  }
  // The containerizer outlives the agent's timers (the daemon keeps modules
  // until its parts are gone), so the raw pointer is safe here.
  std::weak_ptr<Agent> weak = weak_from_this();
  container.escalate->Start(grace, [weak, containerizer, id] {
    if (auto self = weak.lock()) (void)containerizer->Destroy(id);
  });
}

void Agent::OnKillTask(const internal::KillTask& kill) {
  const Key key{kill.framework_id().value(), kill.task_id().value()};
  if (executor_tasks_.count(key) != 0) return KillOnExecutor(key, kill);
  auto it = containers_.find(key);
  if (it == containers_.end()) {
    // Ended already (its last update is on its way) or never here.
    if (!updates_.HasPending(key.first, key.second)) {
      SendStatus(key.first, kill.task_id(), v1::TASK_LOST, v1::TaskStatus::REASON_TASK_UNKNOWN,
                 "The agent does not run this task");
    }
    return;
  }
  std::chrono::nanoseconds grace = options_.kill_grace;
  if (kill.kill_policy().has_grace_period()) {
    grace = std::chrono::nanoseconds(kill.kill_policy().grace_period().nanoseconds());
  } else if (it->second.task.kill_policy().has_grace_period()) {
    grace = std::chrono::nanoseconds(it->second.task.kill_policy().grace_period().nanoseconds());
  }
  Kill(it->second, grace);
}

void Agent::OnShutdownFramework(const std::string& framework_id) {
  LOG(INFO) << "shutting down framework " << framework_id;
  for (auto& [key, c] : containers_) {
    if (key.first == framework_id) Kill(c, options_.kill_grace);
  }
  for (auto& [key, executor] : executors_) {
    if (key.first == framework_id) ShutdownExecutor(executor, "its framework is shut down");
  }
  updates_.ForgetFramework(framework_id);
  frameworks_.erase(framework_id);
}

void Agent::SendStatus(const std::string& framework_id, const v1::TaskID& task_id,
                       v1::TaskState state, std::optional<v1::TaskStatus::Reason> reason,
                       const std::string& message) {
  v1::TaskStatus status;
  *status.mutable_task_id() = task_id;
  status.set_state(state);
  status.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  if (reason) status.set_reason(*reason);
  if (!message.empty()) status.set_message(message);
  status.mutable_agent_id()->set_value(agent_id_);
  status.set_timestamp(runtime::NowSeconds());
  status.set_uuid(runtime::RandomUuidBytes());
  if (auto it = containers_.find({framework_id, task_id.value()}); it != containers_.end()) {
    it->second.state = state;
    status.mutable_container_status()->mutable_container_id()->set_value(it->second.container_id);
  }
  updates_.Add(framework_id, std::move(status));
}

}  // namespace keel::agent
