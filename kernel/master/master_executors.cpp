// Executors on the master's side: task groups (ACCEPT's LAUNCH_GROUP), the
// resources an executor holds beyond its tasks, messages between schedulers
// and executors, SHUTDOWN of one executor and the end of one.
#include <glog/logging.h>

#include "keel/internal/agent_protocol.pb.h"
#include "kernel/master/master.hpp"
#include "kernel/master/task_validation.hpp"
#include "kernel/protocol/protocol_message.hpp"
#include "kernel/protocol/resource_conversion.hpp"
#include "kernel/runtime/event_stream.hpp"

namespace keel::master {

std::optional<std::string> Master::ChargeExecutor(Framework& framework, Agent& agent,
                                                  const v1::ExecutorInfo& executor,
                                                  const Resources& tasks, Resources* available) {
  const auto key = std::make_pair(framework.id, executor.executor_id().value());
  if (agent.executors.count(key) != 0) return std::nullopt;  // charged with its first task
  auto resources = protocol::FromProto(executor.resources());
  if (!resources.ok()) return "Executor's " + resources.status().message();
  Resources needed = tasks;
  needed += *resources;
  if (!available->Contains(needed)) {
    return "Task and its executor use more resources (" + needed.ToString() +
           ") than its offers have left (" + available->ToString() + ")";
  }
  *available -= *resources;
  agent.executors[key] = Agent::Executor{executor, std::move(resources).value()};
  return std::nullopt;
}

void Master::LaunchGroup(Framework& framework, Agent& agent,
                         const v1::Offer::Operation::LaunchGroup& group, const std::string& role,
                         Resources* available) {
  const v1::ExecutorInfo& executor = group.executor();
  const auto& tasks = group.task_group().tasks();
  // One bad task refuses the whole group: its tasks run together or not at all.
  std::optional<std::string> bad;
  if (tasks.empty()) bad = "Task group is empty";
  if (!bad) bad = ValidateExecutor(framework, executor);
  if (!bad && executor.type() != v1::ExecutorInfo::DEFAULT) {
    bad =
        "LAUNCH_GROUP needs an executor of type DEFAULT (Keel's default executor runs task "
        "groups)";
  }
  Resources left = *available;
  std::vector<Resources> used(static_cast<size_t>(tasks.size()));
  std::set<std::string> ids;
  for (int i = 0; !bad && i < tasks.size(); ++i) {
    const v1::TaskInfo& task = tasks[i];
    if (task.has_executor()) {
      bad = "Task " + task.task_id().value() + " in a task group must not name an executor";
    } else if (!ids.insert(task.task_id().value()).second) {
      bad = "Task group has duplicate task ID " + task.task_id().value();
    } else if (auto invalid = ValidateTask(framework, agent, task, left, &used[i])) {
      bad = "Task " + task.task_id().value() + ": " + *invalid;
    } else {
      left -= used[i];
    }
  }
  Resources all;
  for (const Resources& r : used) all += r;
  if (!bad) bad = ChargeExecutor(framework, agent, executor, all, available);
  if (bad) {
    for (const auto& task : tasks) {
      SendUpdate(framework, MasterStatus(framework, task.task_id(), agent.id, v1::TASK_ERROR,
                                         v1::TaskStatus::REASON_TASK_GROUP_INVALID, *bad));
    }
    return;
  }
  *available -= all;

  internal::RunTaskGroup run;
  *run.mutable_framework() = framework.info;
  *run.mutable_executor() = executor;
  run.mutable_executor()->mutable_framework_id()->set_value(framework.id);
  *run.mutable_task_group() = group.task_group();
  for (int i = 0; i < tasks.size(); ++i) {
    v1::TaskInfo* task = run.mutable_task_group()->mutable_tasks(i);
    // As Mesos does: each task of the group knows its executor.
    *task->mutable_executor() = run.executor();
    AddTask(framework, agent, *task, role, used[static_cast<size_t>(i)]);
  }
  if (!SendToAgent(agent, protocol::Pack(run))) {
    for (const auto& task : tasks) {
      SendUpdate(framework,
                 MasterStatus(framework, task.task_id(), agent.id, v1::TASK_LOST,
                              v1::TaskStatus::REASON_AGENT_DISCONNECTED,
                              "The master could not send the task group to agent " + agent.id));
      ForgetTask(framework, task.task_id().value(), v1::TASK_LOST);
    }
  }
}

void Master::MessageExecutor(Framework& framework, const v1::scheduler::Call::Message& message) {
  auto agent = agents_.find(message.agent_id().value());
  if (agent == agents_.end() || !agent->second.connected) {
    LOG_EVERY_N(INFO, 100) << "framework " << framework.id << ": MESSAGE for agent "
                           << message.agent_id().value() << ", which is not connected; dropped";
    return;
  }
  internal::FrameworkToExecutorMessage forward;
  forward.mutable_framework_id()->set_value(framework.id);
  *forward.mutable_executor_id() = message.executor_id();
  forward.set_data(message.data());
  SendToAgent(agent->second, protocol::Pack(forward));
}

void Master::ShutdownExecutor(Framework& framework, const v1::scheduler::Call::Shutdown& shutdown) {
  auto agent = agents_.find(shutdown.agent_id().value());
  if (agent == agents_.end() || !agent->second.connected) return;
  internal::ShutdownExecutor forward;
  forward.mutable_framework_id()->set_value(framework.id);
  *forward.mutable_executor_id() = shutdown.executor_id();
  SendToAgent(agent->second, protocol::Pack(forward));
}

void Master::OnExecutorMessage(const PeerId& peer,
                               const internal::ExecutorToFrameworkMessage& message) {
  Agent* agent = AgentByPeer(peer);
  auto f = frameworks_.find(message.framework_id().value());
  if (agent == nullptr || f == frameworks_.end() || !f->second.stream) return;
  v1::scheduler::Event event;
  event.set_type(v1::scheduler::Event::MESSAGE);
  event.mutable_message()->mutable_agent_id()->set_value(agent->id);
  *event.mutable_message()->mutable_executor_id() = message.executor_id();
  event.mutable_message()->set_data(message.data());
  f->second.stream->Send(event);
}

void Master::OnExecutorExited(const PeerId& peer, const internal::ExecutorExited& exited) {
  Agent* agent = AgentByPeer(peer);
  if (agent == nullptr) return;
  const std::string& framework_id = exited.framework_id().value();
  auto it = agent->executors.find({framework_id, exited.executor_id().value()});
  if (it != agent->executors.end()) {
    if (frameworks_.count(framework_id) != 0) {
      allocator_.RecoverResources(framework_id, agent->id, it->second.resources, std::nullopt);
      RequestAllocation();
    }
    agent->executors.erase(it);
  }
  auto f = frameworks_.find(framework_id);
  if (f == frameworks_.end() || !f->second.stream) return;
  // Mesos's FAILURE event: the executor is gone (its tasks' ends come as
  // updates of their own).
  v1::scheduler::Event event;
  event.set_type(v1::scheduler::Event::FAILURE);
  event.mutable_failure()->mutable_agent_id()->set_value(agent->id);
  *event.mutable_failure()->mutable_executor_id() = exited.executor_id();
  if (exited.has_status()) event.mutable_failure()->set_status(exited.status());
  f->second.stream->Send(event);
}

}  // namespace keel::master
