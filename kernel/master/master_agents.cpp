// Agents: registration and re-registration, health by pings, and what
// happens to their tasks when they become unreachable.
#include <glog/logging.h>

#include <sstream>
#include <utility>

#include "keel/internal/agent_protocol.pb.h"
#include "keel/task_state.hpp"
#include "kernel/master/master.hpp"
#include "kernel/master/task_validation.hpp"
#include "kernel/master/transport_service.hpp"
#include "kernel/protocol/protocol_message.hpp"
#include "kernel/protocol/resource_conversion.hpp"
#include "kernel/runtime/authentication.hpp"

namespace keel::master {

Agent* Master::AgentByPeer(const PeerId& peer) {
  auto it = agent_by_peer_.find(peer);
  if (it == agent_by_peer_.end()) return nullptr;
  auto a = agents_.find(it->second);
  return a == agents_.end() ? nullptr : &a->second;
}

bool Master::SendToAgent(const Agent& agent, TransportMessage message) {
  return transport_.Send(agent.peer, std::move(message));
}

bool Master::AdmitAgent(const PeerId& peer, const internal::RegisterAgent& message) {
  // A transport that authenticated the peer before it could send anything
  // has admitted it already.
  if (authentication_->secures_transport()) return true;
  const auto now = std::chrono::steady_clock::now();
  if (auto r = refused_until_.find(peer); r != refused_until_.end()) {
    if (now < r->second) return false;
    refused_until_.erase(r);
  }
  PeerAuthRequest request;
  request.mechanism = "basic";
  request.properties = {
      {"principal", message.principal()}, {"secret", message.secret()}, {"address", message.ip()}};
  AuthOutcome o = authentication_->AuthenticatePeer(request);
  if (o.decision == AuthOutcome::Decision::kAuthenticated) {
    authentication_->RecordSuccess(peer, "agent");
    return true;
  }
  LOG(WARNING) << "agent at " << message.ip() << " (" << message.agent_info().hostname()
               << ", principal '" << message.principal() << "') refused: " << o.message;
  refused_until_[peer] = now + authentication_->RecordFailure(peer, "agent");
  return false;
}

void Master::OnRegisterAgent(const PeerId& peer, const internal::RegisterAgent& message) {
  if (options_.authenticate_agents && !AdmitAgent(peer, message)) return;
  const v1::AgentInfo& info = message.agent_info();
  auto total = protocol::FromProto(info.resources());
  if (!total.ok()) {
    LOG(WARNING) << "agent at " << peer << " registers with bad " << total.status().message()
                 << "; ignored";
    return;
  }
  std::string id = info.id().value();
  if (!id.empty()) {
    if (auto bad = ValidateId("Agent ID", id)) {
      LOG(WARNING) << "agent at " << peer << ": " << *bad << "; ignored";
      return;
    }
  } else {
    id = NextAgentId();
  }

  auto [it, is_new] = agents_.try_emplace(id);
  Agent& agent = it->second;
  if (is_new) {
    agent.id = id;
    agent.registered_time = NowSeconds();
    if (auto r = recovering_agents_.find(id); r != recovering_agents_.end()) {
      if (r->second.registered_time() > 0) agent.registered_time = r->second.registered_time();
      recovering_agents_.erase(r);
      if (recovering_agents_.empty()) reregister_timer_.Cancel();
    }
  } else {
    if (agent.peer != peer) agent_by_peer_.erase(agent.peer);
    for (const std::string& offer : std::set<std::string>(agent.offers)) RescindOffer(offer, true);
  }

  // The frameworks of the agent's tasks, as it knows them: an agent this
  // master has not known (it restarted) may run tasks of frameworks that
  // have not re-subscribed yet.
  std::map<std::string, const v1::FrameworkInfo*> infos;
  for (const v1::FrameworkInfo& f : message.frameworks()) infos[f.id().value()] = &f;

  // Reconcile what the master placed there with what the agent reports.
  std::set<std::pair<std::string, std::string>> reported;
  for (const v1::Task& t : message.tasks()) {
    const std::string& fid = t.framework_id().value();
    const std::string& tid = t.task_id().value();
    auto f = frameworks_.find(fid);
    if (f == frameworks_.end() && is_new && !WasRemoved(fid)) {
      // As Mesos: the framework is known again from its agents, and waits
      // for its scheduler.
      auto i = infos.find(fid);
      if (i != infos.end() && !ValidateId("Framework ID", fid)) {
        RecoverFramework(*i->second);
        f = frameworks_.find(fid);
      }
    }
    auto task = f == frameworks_.end() ? nullptr : &f->second.tasks;
    if (task && task->count(tid)) {
      Task& known = task->at(tid);
      known.state = t.state();
      known.agent_id = id;
      // The agent runs it: held again (AddAgent below), unless it ended.
      known.resources_recovered = IsTerminal(t.state());
      reported.insert({fid, tid});
    } else if (f == frameworks_.end() || (!is_new && !f->second.partition_aware())) {
      // Its framework was told the task is lost, or is gone: the task must
      // not run on as an orphan. (A task this master never heard of, on an
      // agent it did not know, is adopted: the master restarted.)
      internal::KillTask kill;
      kill.mutable_framework_id()->set_value(fid);
      *kill.mutable_task_id() = t.task_id();
      transport_.Send(peer, protocol::Pack(kill));
    } else {
      Task adopted;
      adopted.info.set_name(t.name());
      *adopted.info.mutable_task_id() = t.task_id();
      adopted.info.mutable_agent_id()->set_value(id);
      *adopted.info.mutable_resources() = t.resources();
      adopted.framework_id = fid;
      adopted.agent_id = id;
      adopted.state = t.state();
      adopted.resources_recovered = IsTerminal(t.state());
      if (auto r = protocol::FromProto(t.resources()); r.ok()) adopted.resources = *r;
      // Its role, for quota: the one its resources name, else its framework's.
      for (const auto& r : t.resources()) {
        if (r.has_allocation_info()) adopted.role = r.allocation_info().role();
      }
      if (adopted.role.empty() && !f->second.multi_role()) adopted.role = f->second.info.role();
      f->second.tasks.emplace(tid, std::move(adopted));
      reported.insert({fid, tid});
    }
  }
  std::vector<std::pair<std::string, std::string>> unreported_staging;
  for (const auto& key : std::set<std::pair<std::string, std::string>>(agent.tasks)) {
    if (reported.count(key)) continue;
    auto f = frameworks_.find(key.first);
    if (f == frameworks_.end()) continue;
    auto t = f->second.tasks.find(key.second);
    if (t == f->second.tasks.end()) continue;
    // Launched after the agent's report was sent: on its way, or lost with
    // a connection the agent replaced. Kept, and sent again once the agent
    // is registered: an agent that has it already ignores the copy.
    if (t->second.state == v1::TASK_STAGING && agent.reachable && agent.peer == peer) {
      unreported_staging.push_back(key);
      continue;
    }
    if (IsTerminal(t->second.state)) {
      // Its end was delivered and the agent had its acknowledgement.
      ForgetTask(f->second, key.second);
      continue;
    }
    LOG(WARNING) << "agent " << id << " re-registered without task " << key.second
                 << " of framework " << key.first << " (" << v1::TaskState_Name(t->second.state)
                 << " here); reporting it TASK_GONE";
    SendUpdate(f->second, MasterStatus(f->second, t->second.info.task_id(), id, v1::TASK_GONE,
                                       v1::TaskStatus::REASON_AGENT_RESTARTED,
                                       "Agent " + id + " re-registered without this task"));
    ForgetTask(f->second, key.second, v1::TASK_GONE);
  }
  agent.tasks = reported;
  agent.tasks.insert(unreported_staging.begin(), unreported_staging.end());

  // The executors it reports hold their own resources again; one it no
  // longer reports has ended (its ExecutorExited lost with a connection or
  // with the agent), unless a task still on its way is for it.
  std::map<std::pair<std::string, std::string>, Agent::Executor> executors;
  for (const v1::ExecutorInfo& e : message.executors()) {
    const std::pair<std::string, std::string> key{e.framework_id().value(),
                                                  e.executor_id().value()};
    if (frameworks_.count(key.first) == 0) continue;
    if (auto known = agent.executors.find(key); known != agent.executors.end()) {
      executors.insert(*known);
    } else if (auto r = protocol::FromProto(e.resources()); r.ok()) {
      executors.emplace(key, Agent::Executor{e, std::move(r).value()});
    }
  }
  for (const auto& [fid, tid] : unreported_staging) {
    const v1::TaskInfo& info = frameworks_.at(fid).tasks.at(tid).info;
    if (!info.has_executor()) continue;
    if (auto known = agent.executors.find({fid, info.executor().executor_id().value()});
        known != agent.executors.end()) {
      executors.insert(*known);
    }
  }
  agent.executors = std::move(executors);

  agent.peer = peer;
  agent.ip = message.ip();
  agent.info = info;
  agent.info.mutable_id()->set_value(id);
  agent.total = std::move(total).value();
  agent.connected = true;
  agent.reachable = true;
  agent.missed_pongs = 0;
  agent.pong_since_ping = true;
  agent_by_peer_[peer] = id;
  internal::AdmittedAgent admitted;
  admitted.mutable_id()->set_value(id);
  admitted.set_hostname(info.hostname());
  admitted.set_port(info.port());
  admitted.set_ip(agent.ip);
  admitted.set_registered_time(agent.registered_time);
  registry_.AdmitAgent(admitted);

  AgentSpec spec;
  spec.hostname = info.hostname();
  spec.total = agent.total;
  for (const auto& [fid, tid] : agent.tasks) {
    const Task& task = frameworks_.at(fid).tasks.at(tid);
    if (!task.resources_recovered) spec.used[fid] += task.resources;
  }
  for (const auto& [key, executor] : agent.executors) spec.used[key.first] += executor.resources;
  allocator_.AddAgent(id, spec);
  agent.allocator_epoch = ++allocator_epoch_;

  internal::AgentRegistered reply;
  reply.mutable_agent_id()->set_value(id);
  const double ping = std::chrono::duration<double>(options_.agent_ping_timeout).count();
  reply.set_ping_interval_seconds(ping);
  reply.set_ping_timeout_seconds(ping * options_.max_agent_ping_timeouts);
  transport_.Send(peer, protocol::Pack(reply));
  for (const auto& [fid, tid] : unreported_staging) {
    Framework& framework = frameworks_.at(fid);
    internal::RunTask run;
    *run.mutable_framework() = framework.info;
    *run.mutable_task() = framework.tasks.at(tid).info;
    transport_.Send(peer, protocol::Pack(run));
  }
  NotifyAgentAdded(agent);
  LOG(INFO) << (is_new ? "agent registered: " : "agent re-registered: ") << id << " ("
            << info.hostname() << ", " << agent.total.ToString() << ")";
  RequestAllocation();
}

void Master::OnPong(const PeerId& peer) {
  if (Agent* agent = AgentByPeer(peer)) {
    agent->pong_since_ping = true;
    agent->missed_pongs = 0;
  }
}

void Master::OnPeerLost(const PeerId& peer) {
  Agent* agent = AgentByPeer(peer);
  if (!agent || !agent->connected) return;
  // Not unreachable yet: the transport reconnects, and the pings decide.
  agent->connected = false;
  allocator_.DeactivateAgent(agent->id);
  for (const std::string& offer : std::set<std::string>(agent->offers)) RescindOffer(offer, true);
  LOG(WARNING) << "agent " << agent->id << " disconnected";
}

void Master::PingAgents() {
  internal::PingAgent ping;
  const TransportMessage message = protocol::Pack(ping);
  for (auto& [id, agent] : agents_) {
    if (!agent.reachable) continue;
    agent.missed_pongs = agent.pong_since_ping ? 0 : agent.missed_pongs + 1;
    if (agent.missed_pongs >= options_.max_agent_ping_timeouts) {
      MarkUnreachable(agent, std::to_string(agent.missed_pongs) + " pings unanswered");
      continue;
    }
    agent.pong_since_ping = false;
    SendToAgent(agent, message);
  }
  ping_timer_.Start(options_.agent_ping_timeout, [this] { PingAgents(); });
}

void Master::OnReregisterTimeout() {
  std::ostringstream why;
  why << "not re-registered within "
      << std::chrono::duration<double>(options_.agent_reregister_timeout).count()
      << "s (agent_reregister_timeout) of the master's start";
  for (const auto& [id, admitted] : std::exchange(recovering_agents_, {})) {
    auto [it, is_new] = agents_.try_emplace(id);
    if (!is_new) continue;
    // Known by what the registry holds; the master knows none of its tasks
    // (reconciliation answers for them from now on: the agent is
    // unreachable), and the allocator never had it.
    Agent& agent = it->second;
    agent.id = id;
    agent.ip = admitted.ip();
    agent.info.mutable_id()->set_value(id);
    agent.info.set_hostname(admitted.hostname());
    agent.info.set_port(admitted.port());
    agent.registered_time = admitted.registered_time();
    MarkUnreachable(agent, why.str());
  }
}

void Master::MarkUnreachable(Agent& agent, const std::string& why) {
  LOG(WARNING) << "agent " << agent.id << " is unreachable: " << why;
  for (const std::string& offer : std::set<std::string>(agent.offers)) RescindOffer(offer, true);
  if (agent.allocator_epoch != 0) {  // the allocator and the operator's streams know it
    allocator_.RemoveAgent(agent.id);
    NotifyAgentRemoved(agent.id);
  }
  agent.reachable = false;
  agent.connected = false;
  if (!agent.peer.empty()) agent_by_peer_.erase(agent.peer);

  std::set<std::pair<std::string, std::string>> kept;
  for (const auto& [fid, tid] : agent.tasks) {
    auto f = frameworks_.find(fid);
    if (f == frameworks_.end()) continue;
    Framework& framework = f->second;
    auto t = framework.tasks.find(tid);
    if (t == framework.tasks.end()) continue;
    t->second.resources_recovered = true;  // the allocator dropped the agent whole
    if (IsTerminal(t->second.state)) {
      // Ended, its end sent and waiting for its acknowledgement: not news.
      kept.insert({fid, tid});
      continue;
    }
    v1::TaskStatus status =
        MasterStatus(framework, t->second.info.task_id(), agent.id, v1::TASK_UNREACHABLE,
                     v1::TaskStatus::REASON_AGENT_REMOVED, "Agent " + agent.id + " is unreachable");
    if (framework.partition_aware()) {
      status.mutable_unreachable_time()->set_nanoseconds(static_cast<int64_t>(NowSeconds() * 1e9));
      t->second.state = v1::TASK_UNREACHABLE;
      kept.insert({fid, tid});
      SendUpdate(framework, status);
    } else {
      SendUpdate(framework, status);
      framework.tasks.erase(t);
    }
  }
  agent.tasks = kept;

  v1::scheduler::Event failure;
  failure.set_type(v1::scheduler::Event::FAILURE);
  failure.mutable_failure()->mutable_agent_id()->set_value(agent.id);
  for (auto& [fid, framework] : frameworks_) Send(framework, failure);
}

}  // namespace keel::master
