#include "kernel/master/master.hpp"

#include <glog/logging.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>

#include "keel/internal/agent_protocol.pb.h"
#include "kernel/master/operator_events.hpp"
#include "kernel/master/transport_service.hpp"
#include "kernel/protocol/protocol_message.hpp"
#include "kernel/runtime/uuid.hpp"

namespace keel::master {

Master::Master(runtime::Daemon& daemon, MasterOptions options, std::shared_ptr<Allocator> allocator,
               TransportService& transport, Registry registry)
    : daemon_(daemon),
      options_(std::move(options)),
      allocator_(
          std::move(allocator),
          [&io = daemon.io()](std::function<void()> f) { boost::asio::post(io, std::move(f)); }),
      transport_(transport),
      registry_(std::move(registry)),
      id_(runtime::RandomUuid()),
      start_time_(NowSeconds()),
      reregister_timer_(daemon.io()),
      allocation_timer_(daemon.io()),
      ping_timer_(daemon.io()) {
  operator_events_ = std::make_unique<OperatorEvents>(daemon.io(), options_.heartbeat_interval);
}

Master::~Master() = default;

void Master::Start() {
  using internal::RegisterAgent;
  using internal::StatusUpdate;
  auto& d = transport_.dispatcher();
  d.Register(protocol::TypeOf<RegisterAgent>(), 1, 1,
             [this](const PeerId& peer, TransportMessage& m) {
               RegisterAgent message;
               if (!protocol::Unpack(m, &message)) {
                 LOG(WARNING) << "undecodable RegisterAgent from " << peer << "; dropped";
                 return;
               }
               OnRegisterAgent(peer, message);
             });
  d.Register(protocol::TypeOf<internal::PongAgent>(), 1, 1,
             [this](const PeerId& peer, TransportMessage&) { OnPong(peer); });
  d.Register(protocol::TypeOf<StatusUpdate>(), 1, 1,
             [this](const PeerId& peer, TransportMessage& m) {
               StatusUpdate update;
               if (!protocol::Unpack(m, &update) || !update.has_status()) {
                 LOG(WARNING) << "undecodable StatusUpdate from " << peer << "; dropped";
                 return;
               }
               OnStatusUpdate(peer, update);
             });
  d.Register(protocol::TypeOf<internal::ExecutorToFrameworkMessage>(), 1, 1,
             [this](const PeerId& peer, TransportMessage& m) {
               internal::ExecutorToFrameworkMessage message;
               if (protocol::Unpack(m, &message)) OnExecutorMessage(peer, message);
             });
  d.Register(protocol::TypeOf<internal::ExecutorExited>(), 1, 1,
             [this](const PeerId& peer, TransportMessage& m) {
               internal::ExecutorExited exited;
               if (protocol::Unpack(m, &exited)) OnExecutorExited(peer, exited);
             });
  transport_.OnLost([this](const PeerId& peer) { OnPeerLost(peer); });

  // The operator's policy from before a restart holds from the first offer.
  if (!registry_.weights().empty()) allocator_.UpdateWeights(registry_.weights());
  for (const auto& [role, quota] : registry_.quotas()) allocator_.UpdateQuota(role, quota);
  registry_.Start(daemon_.io());
  Recover();

  // The periodic allocation catches what no event asked for (filters that
  // expired); events that free resources ask for one at once.
  allocation_timer_.Start(options_.allocation_interval, [this] { AllocationTick(); });
  ping_timer_.Start(options_.agent_ping_timeout, [this] { PingAgents(); });
  LOG(INFO) << "master " << id_ << " started; registry " << registry_.path() << ": "
            << registry_.weights().size() << " weights, " << registry_.quotas().size()
            << " quotas, " << registry_.agents().size() << " agents, "
            << registry_.frameworks().size() << " frameworks";
}

void Master::Recover() {
  // Copied: a framework removed at once (no failover timeout) leaves the
  // registry while this goes over it.
  const auto frameworks = registry_.frameworks();
  for (const auto& [id, info] : frameworks) RecoverFramework(*info);
  for (const auto& [id, agent] : registry_.agents()) recovering_agents_.emplace(id, *agent);
  if (recovering_agents_.empty()) return;
  reregister_timer_.Start(options_.agent_reregister_timeout, [this] { OnReregisterTimeout(); });
  LOG(INFO) << "waiting "
            << std::chrono::duration<double>(options_.agent_reregister_timeout).count() << "s for "
            << recovering_agents_.size() << " agents of the registry to re-register";
}

std::string Master::NextFrameworkId() {
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), "-%04llu",
                static_cast<unsigned long long>(next_framework_++));
  return id_ + suffix;
}

std::string Master::NextOfferId() { return id_ + "-O" + std::to_string(next_offer_++); }

std::string Master::NextAgentId() { return id_ + "-S" + std::to_string(next_agent_++); }

void Master::AllocationTick() {
  Allocate();
  allocation_timer_.Start(options_.allocation_interval, [this] { AllocationTick(); });
}

void Master::RequestAllocation() {
  if (allocation_requested_) return;
  allocation_requested_ = true;
  // Posted, so that every event handled in this turn of the loop is seen by
  // one allocation.
  boost::asio::post(daemon_.io(), [this] {
    allocation_requested_ = false;
    Allocate();
  });
}

}  // namespace keel::master
