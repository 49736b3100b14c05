// Tasks: launching accepted tasks on agents, status updates on their way to
// frameworks and acknowledgements on their way back, kills, reconciliation.
#include <glog/logging.h>

#include <cctype>

#include "keel/internal/agent_protocol.pb.h"
#include "keel/task_state.hpp"
#include "kernel/master/master.hpp"
#include "kernel/protocol/protocol_message.hpp"

namespace keel::master {

v1::TaskStatus Master::MasterStatus(const Framework& framework, const v1::TaskID& task_id,
                                    const std::string& agent_id, v1::TaskState state,
                                    v1::TaskStatus::Reason reason,
                                    const std::string& message) const {
  // Partition-unaware frameworks know none of the newer states.
  if (!framework.partition_aware() &&
      (state == v1::TASK_DROPPED || state == v1::TASK_UNREACHABLE || state == v1::TASK_GONE ||
       state == v1::TASK_GONE_BY_OPERATOR || state == v1::TASK_UNKNOWN)) {
    state = v1::TASK_LOST;
  }
  v1::TaskStatus status;
  *status.mutable_task_id() = task_id;
  status.set_state(state);
  status.set_source(v1::TaskStatus::SOURCE_MASTER);
  status.set_reason(reason);
  if (!message.empty()) status.set_message(message);
  if (!agent_id.empty()) status.mutable_agent_id()->set_value(agent_id);
  status.set_timestamp(NowSeconds());
  return status;
}

void Master::SendUpdate(Framework& framework, const v1::TaskStatus& status) {
  // The master's own verdicts count here (the agent's, as the task's state
  // changes); a reconciliation answer only repeats a state.
  if (status.source() == v1::TaskStatus::SOURCE_MASTER &&
      status.reason() != v1::TaskStatus::REASON_RECONCILIATION) {
    CountTaskState(status.state());
    NotifyTaskUpdated(framework.id, status, status.state());
  }
  // Lent to the event for its serialization, not copied (as RunTask's
  // infos): a copy per update was a fiftieth of the core thread.
  v1::scheduler::Event event;
  event.set_type(v1::scheduler::Event::UPDATE);
  event.mutable_update()->set_allocated_status(const_cast<v1::TaskStatus*>(&status));
  Send(framework, event);
  (void)event.mutable_update()->release_status();
}

void Master::RecoverTaskResources(Task& task) {
  if (task.resources_recovered) return;
  task.resources_recovered = true;
  allocator_.RecoverResources(task.framework_id, task.agent_id, task.resources, std::nullopt);
  RequestAllocation();
}

void Master::ForgetTask(Framework& framework, const std::string& task_id,
                        std::optional<v1::TaskState> final_state) {
  auto it = framework.tasks.find(task_id);
  if (it == framework.tasks.end()) return;
  RecoverTaskResources(it->second);
  if (auto a = agents_.find(it->second.agent_id); a != agents_.end()) {
    a->second.tasks.erase({framework.id, task_id});
  }
  const v1::TaskState state = final_state.value_or(it->second.state);
  framework.completed_tasks.push_back(Completed(std::move(it->second), state, NowSeconds()));
  if (framework.completed_tasks.size() > options_.max_completed_tasks_per_framework) {
    framework.completed_tasks.pop_front();
  }
  framework.tasks.erase(it);
}

void Master::CountTaskState(v1::TaskState state) {
  if (!IsTerminal(state) && state != v1::TASK_UNREACHABLE) return;
  std::string name = v1::TaskState_Name(state).substr(5);  // "TASK_FINISHED" -> "FINISHED"
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  daemon_.metrics().Increment("master/tasks_" + name);
}

void Master::AddTask(Framework& framework, Agent& agent, const v1::TaskInfo& info,
                     const std::string& role, const Resources& resources) {
  const std::string& task_id = info.task_id().value();
  Task task;
  task.info = info;
  task.framework_id = framework.id;
  task.agent_id = agent.id;
  task.role = role;
  task.resources = resources;
  NotifyTaskAdded(framework.tasks.emplace(task_id, std::move(task)).first->second);
  agent.tasks.insert({framework.id, task_id});
}

void Master::Launch(Framework& framework, Agent& agent, const v1::TaskInfo& info,
                    const std::string& role, const Resources& resources) {
  const std::string& task_id = info.task_id().value();
  AddTask(framework, agent, info, role, resources);

  // Lent to the message for its serialization, not copied: a copy of the
  // FrameworkInfo and the TaskInfo per task was a tenth of the master's core
  // thread at 10,000 launches a second (docs/performance.md).
  internal::RunTask run;
  run.set_allocated_framework(&framework.info);
  run.set_allocated_task(const_cast<v1::TaskInfo*>(&info));
  TransportMessage message = protocol::Pack(run);
  (void)run.release_framework();
  (void)run.release_task();
  if (!SendToAgent(agent, std::move(message))) {
    SendUpdate(framework, MasterStatus(framework, info.task_id(), agent.id, v1::TASK_LOST,
                                       v1::TaskStatus::REASON_AGENT_DISCONNECTED,
                                       "The master could not send the task to agent " + agent.id));
    ForgetTask(framework, task_id, v1::TASK_LOST);
  }
}

void Master::OnStatusUpdate(const PeerId& peer, const internal::StatusUpdate& update) {
  Agent* agent = AgentByPeer(peer);
  if (!agent) {
    LOG_EVERY_N(WARNING, 100) << "status update from unregistered peer " << peer << "; dropped";
    return;
  }
  const std::string& framework_id = update.framework_id().value();
  v1::TaskStatus status = update.status();
  status.mutable_agent_id()->set_value(agent->id);
  const std::string& task_id = status.task_id().value();

  auto f = frameworks_.find(framework_id);
  if (f == frameworks_.end()) {
    // The framework is gone: acknowledge for it, so the agent stops retrying.
    return AcknowledgeToAgent(*agent, framework_id, status);
  }
  Framework& framework = f->second;
  auto t = framework.tasks.find(task_id);
  // Sent again after the framework acknowledged it (the agent restarted
  // before the acknowledgement reached it): delivered once is enough.
  if (!status.uuid().empty()) {
    bool acked = false;
    if (t != framework.tasks.end()) {
      acked = t->second.acked_uuid == status.uuid();
    } else {
      for (const CompletedTask& c : framework.completed_tasks) {
        if (c.id == task_id && c.acked_uuid == status.uuid()) acked = true;
      }
    }
    if (acked) {
      LOG(INFO) << "status update " << v1::TaskState_Name(status.state()) << " of task " << task_id
                << " sent again by agent " << agent->id << " after its acknowledgement; "
                << "acknowledged by the master";
      return AcknowledgeToAgent(*agent, framework_id, status);
    }
  }
  if (t == framework.tasks.end()) {
    for (const CompletedTask& c : framework.completed_tasks) {
      if (c.id != task_id) continue;
      // Its framework has had its end (TASK_GONE when the agent came back
      // without it, say): the agent runs it after all, its launch having
      // been on the way. One end is all the framework gets; the task goes.
      LOG(WARNING) << "status update " << v1::TaskState_Name(status.state()) << " of task "
                   << task_id << " from agent " << agent->id << ", which its framework was told "
                   << "ended (" << v1::TaskState_Name(c.state) << "); not forwarded";
      if (!IsTerminal(status.state())) {
        internal::KillTask kill;
        kill.mutable_framework_id()->set_value(framework_id);
        *kill.mutable_task_id() = status.task_id();
        SendToAgent(*agent, protocol::Pack(kill));
      }
      return AcknowledgeToAgent(*agent, framework_id, status);
    }
  }
  Task* task = nullptr;
  if (t != framework.tasks.end()) {
    const v1::TaskState latest = update.has_latest_state() ? update.latest_state() : status.state();
    if (IsTerminal(t->second.state) && !IsTerminal(latest)) {
      // Out of order (as Mesos calls it): a retry of an earlier update,
      // sent before the agent learnt of its acknowledgement, arriving after
      // the task's end. Forwarded (a framework dedupes by uuid), but it must
      // not take the task back from its end, nor the acknowledgement of
      // that end its meaning.
      LOG(INFO) << "status update " << v1::TaskState_Name(status.state()) << " of task " << task_id
                << " arrived after its " << v1::TaskState_Name(t->second.state)
                << "; the task stays ended";
      if (framework.connected()) SendUpdate(framework, status);
      return;
    }
    task = &t->second;
    const v1::TaskState before = task->state;
    task->state = latest;
    if (task->statuses.empty() || task->statuses.back().state != status.state()) {
      task->statuses.push_back({status.state(), status.timestamp()});
    }
    if (task->state != before) CountTaskState(task->state);
    NotifyTaskUpdated(framework_id, status, task->state);
    if (IsTerminal(task->state) || task->state == v1::TASK_UNREACHABLE) {
      RecoverTaskResources(*task);
    }
  }
  // A disconnected framework misses it; the agent sends it again.
  if (framework.connected()) SendUpdate(framework, status);
  // Kept last, moved rather than copied.
  if (task) task->status = std::move(status);
}

void Master::AcknowledgeToAgent(const Agent& agent, const std::string& framework_id,
                                const v1::TaskStatus& status) {
  internal::StatusUpdateAcknowledgement ack;
  ack.mutable_framework_id()->set_value(framework_id);
  *ack.mutable_task_id() = status.task_id();
  ack.set_uuid(status.uuid());
  SendToAgent(agent, protocol::Pack(ack));
}

void Master::Acknowledge(Framework& framework, const v1::scheduler::Call::Acknowledge& ack) {
  const std::string& task_id = ack.task_id().value();
  if (auto t = framework.tasks.find(task_id); t != framework.tasks.end()) {
    Task& task = t->second;
    // Even for an update this master did not send (a restarted master
    // learns a task from its agent, and the framework acknowledges what the
    // last master sent): the agent may send it again, and it is not news.
    task.acked_uuid = ack.uuid();
    if (task.status && task.status->uuid() == ack.uuid() && IsTerminal(task.status->state())) {
      ForgetTask(framework, task_id);
    }
  }
  auto agent = agents_.find(ack.agent_id().value());
  if (agent == agents_.end()) return;
  internal::StatusUpdateAcknowledgement message;
  message.mutable_framework_id()->set_value(framework.id);
  *message.mutable_task_id() = ack.task_id();
  message.set_uuid(ack.uuid());
  SendToAgent(agent->second, protocol::Pack(message));
}

void Master::Kill(Framework& framework, const v1::scheduler::Call::Kill& kill) {
  auto t = framework.tasks.find(kill.task_id().value());
  if (t == framework.tasks.end()) {
    // An unknown task is answered as by explicit reconciliation.
    v1::scheduler::Call::Reconcile reconcile;
    auto* entry = reconcile.add_tasks();
    *entry->mutable_task_id() = kill.task_id();
    if (kill.has_agent_id()) *entry->mutable_agent_id() = kill.agent_id();
    Reconcile(framework, reconcile);
    return;
  }
  Task& task = t->second;
  task.kill_requested = true;
  auto agent = agents_.find(task.agent_id);
  if (agent == agents_.end() || !agent->second.reachable) return;  // reconciled on return
  internal::KillTask message;
  message.mutable_framework_id()->set_value(framework.id);
  *message.mutable_task_id() = kill.task_id();
  if (kill.has_kill_policy()) {
    *message.mutable_kill_policy() = kill.kill_policy();
  } else if (task.info.has_kill_policy()) {
    *message.mutable_kill_policy() = task.info.kill_policy();
  }
  SendToAgent(agent->second, protocol::Pack(message));
}

std::optional<CallError> Master::OperatorKill(const std::string& framework_id,
                                              const std::string& task_id) {
  auto f = frameworks_.find(framework_id);
  if (f == frameworks_.end() || !f->second.tasks.count(task_id)) {
    return CallError{404, "No task '" + task_id + "' of framework '" + framework_id + "' runs"};
  }
  LOG(INFO) << "operator kills task " << task_id << " of framework " << framework_id;
  v1::scheduler::Call::Kill kill;
  kill.mutable_task_id()->set_value(task_id);
  Kill(f->second, kill);
  return std::nullopt;
}

void Master::Reconcile(Framework& framework, const v1::scheduler::Call::Reconcile& reconcile) {
  const auto reason = v1::TaskStatus::REASON_RECONCILIATION;
  if (reconcile.tasks().empty()) {
    for (const auto& [id, task] : framework.tasks) {
      SendUpdate(framework, MasterStatus(framework, task.info.task_id(), task.agent_id, task.state,
                                         reason, ""));
    }
    return;
  }
  for (const auto& entry : reconcile.tasks()) {
    auto t = framework.tasks.find(entry.task_id().value());
    if (t != framework.tasks.end()) {
      SendUpdate(framework, MasterStatus(framework, entry.task_id(), t->second.agent_id,
                                         t->second.state, reason, ""));
      continue;
    }
    const std::string agent_id = entry.agent_id().value();
    // As Mesos: while the agent (or, naming none, any agent) of the
    // registry may still re-register with the task, no answer; the
    // scheduler asks again.
    if (agent_id.empty() ? !recovering_agents_.empty() : recovering_agents_.count(agent_id) > 0) {
      continue;
    }
    auto agent = agent_id.empty() ? agents_.end() : agents_.find(agent_id);
    v1::TaskState state = v1::TASK_UNKNOWN;
    std::string message = "The master does not know this task";
    if (agent != agents_.end()) {
      state = agent->second.reachable ? v1::TASK_GONE : v1::TASK_UNREACHABLE;
      message = agent->second.reachable ? "The task is not running on agent " + agent_id
                                        : "Agent " + agent_id + " is unreachable";
    }
    SendUpdate(framework,
               MasterStatus(framework, entry.task_id(), agent_id, state, reason, message));
  }
}

}  // namespace keel::master
