#include "kernel/master/operator_reads.hpp"

#include "kernel/master/master.hpp"
#include "kernel/protocol/resource_conversion.hpp"

namespace keel::master {

namespace {

using v1::master::Response;

void SetTime(double seconds, v1::TimeInfo* t) {
  t->set_nanoseconds(static_cast<int64_t>(seconds * 1e9));
}

void FillStatuses(const std::vector<TaskStatusEntry>& statuses, const v1::TaskID& id,
                  const std::string& agent_id, v1::Task* out) {
  for (const auto& s : statuses) {
    v1::TaskStatus* status = out->add_statuses();
    *status->mutable_task_id() = id;
    status->set_state(s.state);
    status->set_timestamp(s.timestamp);
    if (!agent_id.empty()) status->mutable_agent_id()->set_value(agent_id);
  }
}

void FillCompletedTask(const std::string& framework_id, const CompletedTask& t, v1::Task* out) {
  out->set_name(t.name);
  out->mutable_task_id()->set_value(t.id);
  out->mutable_framework_id()->set_value(framework_id);
  out->mutable_agent_id()->set_value(t.agent_id);
  out->set_state(t.state);
  protocol::ToProto(t.resources, out->mutable_resources());
  FillStatuses(t.statuses, out->task_id(), t.agent_id, out);
}

}  // namespace

void FillTask(const Task& t, v1::Task* out) {
  FillCompletedTask(t.framework_id, ViewOf(t), out);
  if (t.status) {
    out->set_status_update_state(t.status->state());
    out->set_status_update_uuid(t.status->uuid());
  }
}

namespace {

void FillTasks(const Master& m, Response::GetTasks* out) {
  for (const auto& [id, f] : m.frameworks()) {
    for (const auto& [tid, t] : f.tasks) FillTask(t, out->add_tasks());
    for (const auto& t : f.completed_tasks) FillCompletedTask(f.id, t, out->add_completed_tasks());
  }
  for (const auto& f : m.completed_frameworks()) {
    for (const auto& t : f.completed_tasks) FillCompletedTask(f.id, t, out->add_completed_tasks());
  }
}

}  // namespace

void FillFramework(const Master& m, const Framework& f, Response::GetFrameworks::Framework* out) {
  *out->mutable_framework_info() = f.info;
  out->set_active(f.connected());
  out->set_connected(f.connected());
  out->set_recovered(false);
  SetTime(f.registered_time, out->mutable_registered_time());
  if (f.unregistered_time > 0) SetTime(f.unregistered_time, out->mutable_unregistered_time());
  Resources allocated, offered;
  for (const auto& [tid, t] : f.tasks) {
    if (!t.resources_recovered) allocated += t.resources;
  }
  for (const auto& id : f.offers) {
    auto o = m.offers().find(id);
    if (o == m.offers().end()) continue;
    offered += o->second.resources;
    v1::Offer* offer = out->add_offers();
    offer->mutable_id()->set_value(id);
    offer->mutable_framework_id()->set_value(f.id);
    offer->mutable_agent_id()->set_value(o->second.agent_id);
    if (auto a = m.agents().find(o->second.agent_id); a != m.agents().end()) {
      offer->set_hostname(a->second.info.hostname());
    }
    protocol::ToProto(o->second.resources, offer->mutable_resources());
  }
  protocol::ToProto(allocated, out->mutable_allocated_resources());
  protocol::ToProto(offered, out->mutable_offered_resources());
}

namespace {

void FillFrameworks(const Master& m, Response::GetFrameworks* out) {
  for (const auto& [id, f] : m.frameworks()) FillFramework(m, f, out->add_frameworks());
  for (const auto& f : m.completed_frameworks()) {
    FillFramework(m, f, out->add_completed_frameworks());
  }
}

}  // namespace

void FillAgent(const Master& m, const Agent& a, Response::GetAgents::Agent* agent) {
  *agent->mutable_agent_info() = a.info;
  agent->set_active(a.connected);
  agent->set_version(KEEL_VERSION);
  agent->set_pid("slave(1)@" + a.ip + ":" + std::to_string(a.info.port()));
  SetTime(a.registered_time, agent->mutable_registered_time());
  protocol::ToProto(a.total, agent->mutable_total_resources());
  Resources allocated, offered;
  for (const auto& [fid, tid] : a.tasks) {
    auto f = m.frameworks().find(fid);
    if (f == m.frameworks().end()) continue;
    auto t = f->second.tasks.find(tid);
    if (t != f->second.tasks.end() && !t->second.resources_recovered) {
      allocated += t->second.resources;
    }
  }
  for (const auto& oid : a.offers) {
    if (auto o = m.offers().find(oid); o != m.offers().end()) offered += o->second.resources;
  }
  protocol::ToProto(allocated, agent->mutable_allocated_resources());
  protocol::ToProto(offered, agent->mutable_offered_resources());
}

namespace {

void FillAgents(const Master& m, Response::GetAgents* out) {
  for (const auto& [id, a] : m.agents()) {
    if (a.reachable) FillAgent(m, a, out->add_agents());
  }
}

}  // namespace

void FillState(const Master& m, Response::GetState* state) {
  FillTasks(m, state->mutable_get_tasks());
  state->mutable_get_executors();
  FillFrameworks(m, state->mutable_get_frameworks());
  FillAgents(m, state->mutable_get_agents());
}

bool AnswerRead(v1::master::Call::Type type, const OperatorReadContext& context,
                Response* response) {
  using Call = v1::master::Call;
  const Master& m = *context.master;
  switch (type) {
    case Call::GET_HEALTH:
      response->set_type(Response::GET_HEALTH);
      response->mutable_get_health()->set_healthy(true);
      return true;
    case Call::GET_FLAGS:
      response->set_type(Response::GET_FLAGS);
      for (const auto& [name, value] : context.flags) {
        auto* flag = response->mutable_get_flags()->add_flags();
        flag->set_name(name);
        flag->set_value(value);
      }
      return true;
    case Call::GET_VERSION:
      response->set_type(Response::GET_VERSION);
      response->mutable_get_version()->mutable_version_info()->set_version(KEEL_VERSION);
      return true;
    case Call::GET_METRICS:
      response->set_type(Response::GET_METRICS);
      for (const auto& [name, value] : context.metrics) {
        auto* metric = response->mutable_get_metrics()->add_metrics();
        metric->set_name(name);
        metric->set_value(value);
      }
      return true;
    case Call::GET_STATE: {
      response->set_type(Response::GET_STATE);
      FillState(m, response->mutable_get_state());
      return true;
    }
    case Call::GET_AGENTS:
      response->set_type(Response::GET_AGENTS);
      FillAgents(m, response->mutable_get_agents());
      return true;
    case Call::GET_FRAMEWORKS:
      response->set_type(Response::GET_FRAMEWORKS);
      FillFrameworks(m, response->mutable_get_frameworks());
      return true;
    case Call::GET_EXECUTORS:
      response->set_type(Response::GET_EXECUTORS);
      response->mutable_get_executors();
      return true;
    case Call::GET_TASKS:
      response->set_type(Response::GET_TASKS);
      FillTasks(m, response->mutable_get_tasks());
      return true;
    default:
      return false;
  }
}

}  // namespace keel::master
