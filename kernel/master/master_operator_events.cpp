// The master's side of the operator API's SUBSCRIBE: what each change of
// tasks, agents and frameworks tells the subscribers.
#include "kernel/http/http_server.hpp"
#include "kernel/master/master.hpp"
#include "kernel/master/operator_events.hpp"
#include "kernel/master/operator_reads.hpp"

namespace keel::master {

using v1::master::Event;

void Master::SubscribeOperator(http::Responder responder, runtime::Encoding encoding) {
  v1::master::Response::GetState state;
  FillState(*this, &state);
  operator_events_->Subscribe(std::move(responder), encoding, std::move(state));
}

void Master::NotifyTaskAdded(const Task& task) {
  if (!operator_events_->active()) return;
  Event event;
  event.set_type(Event::TASK_ADDED);
  FillTask(task, event.mutable_task_added()->mutable_task());
  operator_events_->Publish(event);
}

void Master::NotifyTaskUpdated(const std::string& framework_id, const v1::TaskStatus& status,
                               v1::TaskState state) {
  if (!operator_events_->active()) return;
  Event event;
  event.set_type(Event::TASK_UPDATED);
  auto* updated = event.mutable_task_updated();
  updated->mutable_framework_id()->set_value(framework_id);
  *updated->mutable_status() = status;
  updated->set_state(state);
  operator_events_->Publish(event);
}

void Master::NotifyAgentAdded(const Agent& agent) {
  if (!operator_events_->active()) return;
  Event event;
  event.set_type(Event::AGENT_ADDED);
  FillAgent(*this, agent, event.mutable_agent_added()->mutable_agent());
  operator_events_->Publish(event);
}

void Master::NotifyAgentRemoved(const std::string& agent_id) {
  if (!operator_events_->active()) return;
  Event event;
  event.set_type(Event::AGENT_REMOVED);
  event.mutable_agent_removed()->mutable_agent_id()->set_value(agent_id);
  operator_events_->Publish(event);
}

void Master::NotifyFramework(const Framework& framework, bool added) {
  if (!operator_events_->active()) return;
  Event event;
  if (added) {
    event.set_type(Event::FRAMEWORK_ADDED);
    FillFramework(*this, framework, event.mutable_framework_added()->mutable_framework());
  } else {
    event.set_type(Event::FRAMEWORK_UPDATED);
    FillFramework(*this, framework, event.mutable_framework_updated()->mutable_framework());
  }
  operator_events_->Publish(event);
}

void Master::NotifyFrameworkRemoved(const v1::FrameworkInfo& info) {
  if (!operator_events_->active()) return;
  Event event;
  event.set_type(Event::FRAMEWORK_REMOVED);
  *event.mutable_framework_removed()->mutable_framework_info() = info;
  operator_events_->Publish(event);
}

}  // namespace keel::master
