// Frameworks: subscriptions and their streams, failover, teardown, and the
// dispatch of scheduler calls.
#include <arpa/inet.h>
#include <glog/logging.h>
#include <algorithm>

#include "keel/internal/agent_protocol.pb.h"
#include "keel/task_state.hpp"
#include "kernel/master/master.hpp"
#include "kernel/master/task_validation.hpp"
#include "kernel/protocol/protocol_message.hpp"
#include "kernel/runtime/uuid.hpp"

namespace keel::master {

namespace {

using v1::scheduler::Call;
using v1::scheduler::Event;

FrameworkSpec SpecOf(const v1::FrameworkInfo& info,
                     const google::protobuf::RepeatedPtrField<std::string>& suppressed) {
  FrameworkSpec spec;
  for (const auto& c : info.capabilities()) {
    spec.capabilities.insert(v1::FrameworkInfo::Capability::Type_Name(c.type()));
  }
  if (HasCapability(info, v1::FrameworkInfo::Capability::MULTI_ROLE) && info.roles_size() > 0) {
    spec.roles.assign(info.roles().begin(), info.roles().end());
  } else {
    spec.roles.push_back(info.role());
  }
  spec.suppressed_roles.insert(suppressed.begin(), suppressed.end());
  return spec;
}

std::set<std::string> RolesOf(const google::protobuf::RepeatedPtrField<std::string>& roles) {
  return {roles.begin(), roles.end()};
}

}  // namespace

void Master::Send(Framework& framework, const Event& event) {
  if (framework.stream) framework.stream->Send(event);
}

void Master::SendError(Framework& framework, const std::string& message) {
  Event event;
  event.set_type(Event::ERROR);
  event.mutable_error()->set_message(message);
  Send(framework, event);
}

void Master::Subscribe(const Call& call, runtime::Encoding encoding, http::Responder responder) {
  v1::FrameworkInfo info = call.subscribe().framework_info();
  if (call.has_framework_id() && info.id().value() != call.framework_id().value()) {
    return responder.Respond(
        http::Response::Text(400, "'framework_id' differs from 'subscribe.framework_info.id'"));
  }
  if (info.roles_size() > 0 && !HasCapability(info, v1::FrameworkInfo::Capability::MULTI_ROLE)) {
    return responder.Respond(http::Response::Text(
        400, "'framework_info.roles' needs the MULTI_ROLE capability (else use 'role')"));
  }
  std::string id;
  if (info.has_id()) {
    id = info.id().value();
    if (auto bad = ValidateId("Framework ID", id)) {
      return responder.Respond(http::Response::Text(400, *bad));
    }
  } else {
    id = NextFrameworkId();
    info.mutable_id()->set_value(id);
  }

  auto [it, is_new] = frameworks_.try_emplace(id);
  Framework& framework = it->second;
  if (is_new) {
    framework.id = id;
    framework.registered_time = NowSeconds();
    framework.heartbeat = std::make_unique<runtime::Timer>(daemon_.io());
    framework.failover = std::make_unique<runtime::Timer>(daemon_.io());
  } else if (framework.stream) {
    // The newest subscription wins, as in Mesos; the old stream hears why.
    auto old = std::move(framework.stream);
    Event error;
    error.set_type(Event::ERROR);
    error.mutable_error()->set_message("Framework failed over");
    old->Send(error);
    old->Close();
  }
  framework.failover->Cancel();
  framework.info = info;
  registry_.AddFramework(info);

  const std::string stream_id = runtime::RandomUuid();
  auto http_stream = responder.StartStream(
      200, {{"Content-Type", runtime::ContentType(encoding)}, {"Mesos-Stream-Id", stream_id}});
  framework.stream = std::make_shared<runtime::EventStream>(http_stream, encoding, stream_id);
  std::weak_ptr<Master> weak = weak_from_this();
  http_stream->OnClose([weak, id, stream_id] {
    if (auto self = weak.lock()) self->OnStreamClosed(id, stream_id);
  });

  const FrameworkSpec spec = SpecOf(info, call.subscribe().suppressed_roles());
  if (is_new) {
    allocator_.AddFramework(id, spec, {}, true);
  } else {
    allocator_.UpdateFramework(id, spec);
    allocator_.ActivateFramework(id);
  }
  NotifyFramework(framework, is_new);
  LOG(INFO) << (is_new ? "framework " : "framework re-subscribed: ") << id << " ('" << info.name()
            << "')";

  Event subscribed;
  subscribed.set_type(Event::SUBSCRIBED);
  auto* s = subscribed.mutable_subscribed();
  s->mutable_framework_id()->set_value(id);
  s->set_heartbeat_interval_seconds(
      std::chrono::duration<double>(options_.heartbeat_interval).count());
  auto* master_info = s->mutable_master_info();
  master_info->set_id(id_);
  in_addr address{};
  if (::inet_pton(AF_INET, options_.ip.c_str(), &address) == 1) master_info->set_ip(address.s_addr);
  master_info->set_port(options_.port);
  master_info->set_hostname(options_.hostname);
  master_info->set_pid("master@" + options_.ip + ":" + std::to_string(options_.port));
  master_info->mutable_address()->set_hostname(options_.hostname);
  master_info->mutable_address()->set_ip(options_.ip);
  master_info->mutable_address()->set_port(options_.port);
  Send(framework, subscribed);
  framework.heartbeat->Start(options_.heartbeat_interval, [this, id] { SendHeartbeat(id); });
  RequestAllocation();
}

Framework& Master::RecoverFramework(const v1::FrameworkInfo& info) {
  const std::string& id = info.id().value();
  auto [it, is_new] = frameworks_.try_emplace(id);
  Framework& framework = it->second;
  if (!is_new) return framework;
  framework.id = id;
  framework.info = info;
  framework.registered_time = NowSeconds();
  framework.heartbeat = std::make_unique<runtime::Timer>(daemon_.io());
  framework.failover = std::make_unique<runtime::Timer>(daemon_.io());
  // Known to the allocator (its tasks' resources count for it), offered
  // nothing until it re-subscribes.
  allocator_.AddFramework(id, SpecOf(info, {}), {}, false);
  registry_.AddFramework(info);
  NotifyFramework(framework, true);
  const double timeout = std::max(0.0, info.failover_timeout());
  LOG(INFO) << "framework " << id << " ('" << info.name() << "') recovered; " << timeout
            << "s to re-subscribe";
  framework.failover->Start(
      std::chrono::nanoseconds(static_cast<int64_t>(timeout * 1e9)),
      [this, id] { RemoveFramework(id, "not re-subscribed within its failover timeout"); });
  return framework;
}

bool Master::WasRemoved(const std::string& framework_id) const {
  for (const Framework& f : completed_frameworks_) {
    if (f.id == framework_id) return true;
  }
  return false;
}

void Master::SendHeartbeat(const std::string& framework_id) {
  auto f = frameworks_.find(framework_id);
  if (f == frameworks_.end() || !f->second.connected()) return;
  Event event;
  event.set_type(Event::HEARTBEAT);
  Send(f->second, event);
  f->second.heartbeat->Start(options_.heartbeat_interval,
                             [this, framework_id] { SendHeartbeat(framework_id); });
}

void Master::OnStreamClosed(const std::string& framework_id, const std::string& stream_id) {
  // Only the current subscription's end disconnects the framework; an older
  // stream closed by a re-subscription does not.
  auto f = frameworks_.find(framework_id);
  if (f == frameworks_.end() || !f->second.stream || f->second.stream->id() != stream_id) return;
  Framework& framework = f->second;
  framework.stream.reset();
  framework.heartbeat->Cancel();
  allocator_.DeactivateFramework(framework_id);
  NotifyFramework(framework, false);
  for (const std::string& offer : std::set<std::string>(framework.offers)) {
    RescindOffer(offer, false);
  }
  const double timeout = framework.info.failover_timeout();
  LOG(INFO) << "framework " << framework_id << " disconnected; failover timeout " << timeout << "s";
  if (timeout <= 0) return RemoveFramework(framework_id, "disconnected, no failover timeout");
  framework.failover->Start(
      std::chrono::nanoseconds(static_cast<int64_t>(timeout * 1e9)),
      [this, framework_id] { RemoveFramework(framework_id, "failover timeout elapsed"); });
}

void Master::RemoveFramework(const std::string& framework_id, const std::string& why) {
  auto f = frameworks_.find(framework_id);
  if (f == frameworks_.end()) return;
  Framework& framework = f->second;
  LOG(INFO) << "removing framework " << framework_id << ": " << why;
  for (const std::string& offer : std::set<std::string>(framework.offers)) {
    RescindOffer(offer, false);
  }
  std::set<std::string> agents;
  for (auto& [task_id, task] : framework.tasks) {
    RecoverTaskResources(task);
    agents.insert(task.agent_id);
    if (auto a = agents_.find(task.agent_id); a != agents_.end()) {
      a->second.tasks.erase({framework_id, task_id});
    }
  }
  // The allocator forgets the framework's executors' resources with it.
  for (auto& [agent_id, agent] : agents_) {
    std::erase_if(agent.executors,
                  [&](const auto& entry) { return entry.first.first == framework_id; });
  }
  internal::ShutdownFramework shutdown;
  shutdown.mutable_framework_id()->set_value(framework_id);
  for (const std::string& agent_id : agents) {
    if (auto a = agents_.find(agent_id); a != agents_.end() && a->second.connected) {
      SendToAgent(a->second, protocol::Pack(shutdown));
    }
  }
  allocator_.RemoveFramework(framework_id);
  registry_.RemoveFramework(framework_id);
  if (framework.stream) framework.stream->Close();
  // Kept for the operator endpoints: its tasks, live ones killed with it.
  framework.stream.reset();
  framework.heartbeat.reset();
  framework.failover.reset();
  framework.offers.clear();
  framework.unregistered_time = NowSeconds();
  for (auto& [task_id, task] : framework.tasks) {
    const v1::TaskState state = IsTerminal(task.state) ? task.state : v1::TASK_KILLED;
    framework.completed_tasks.push_back(Completed(std::move(task), state, NowSeconds()));
  }
  framework.tasks.clear();
  while (framework.completed_tasks.size() > options_.max_completed_tasks_per_framework) {
    framework.completed_tasks.pop_front();
  }
  NotifyFrameworkRemoved(framework.info);
  completed_frameworks_.push_back(std::move(framework));
  if (completed_frameworks_.size() > options_.max_completed_frameworks) {
    completed_frameworks_.pop_front();
  }
  frameworks_.erase(f);
  RequestAllocation();
}

std::optional<std::string> Master::FrameworkPrincipal(const std::string& framework_id) const {
  auto f = frameworks_.find(framework_id);
  if (f == frameworks_.end()) return std::nullopt;
  return f->second.info.principal();
}

std::optional<CallError> Master::Handle(const Call& call, const std::string& stream_id) {
  if (!call.has_framework_id()) return CallError{400, "Expecting 'framework_id' to be present"};
  const std::string& framework_id = call.framework_id().value();
  auto f = frameworks_.find(framework_id);
  if (f == frameworks_.end()) return CallError{400, "Framework cannot be found"};
  Framework& framework = f->second;
  if (!framework.connected()) return CallError{403, "Framework is not subscribed"};
  if (stream_id.empty()) {
    return CallError{400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header"};
  }
  if (stream_id != framework.stream->id()) {
    return CallError{400, "The stream ID '" + stream_id +
                              "' included in this request didn't match the stream ID currently "
                              "associated with framework ID " +
                              framework_id};
  }
  switch (call.type()) {
    case Call::TEARDOWN:
      RemoveFramework(framework_id, "TEARDOWN");
      break;
    case Call::ACCEPT:
      Accept(framework, call.accept());
      break;
    case Call::DECLINE:
      Decline(framework, call.decline());
      break;
    case Call::REVIVE:
      allocator_.Revive(framework_id, RolesOf(call.revive().roles()));
      RequestAllocation();
      break;
    case Call::SUPPRESS:
      allocator_.Suppress(framework_id, RolesOf(call.suppress().roles()));
      break;
    case Call::KILL:
      Kill(framework, call.kill());
      break;
    case Call::ACKNOWLEDGE:
      Acknowledge(framework, call.acknowledge());
      break;
    case Call::RECONCILE:
      Reconcile(framework, call.reconcile());
      break;
    case Call::MESSAGE:
      MessageExecutor(framework, call.message());
      break;
    case Call::SHUTDOWN:
      ShutdownExecutor(framework, call.shutdown());
      break;
    case Call::REQUEST:
      break;  // the allocator decides alone, as Mesos's does
    default:
      return CallError{
          501, "Call type " + Call::Type_Name(call.type()) + " is not implemented by this master"};
  }
  return std::nullopt;
}

}  // namespace keel::master
