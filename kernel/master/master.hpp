// The master's core: frameworks, agents, offers and tasks. It turns the
// allocator's decisions into offers, launches accepted tasks on agents,
// forwards status updates and acknowledgements, watches agents' health and
// frameworks' connections.
//
// Threading: everything runs on the daemon's io thread (HTTP handlers,
// transport messages, timers), so no state here is locked.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "keel/allocator.hpp"
#include "keel/v1/scheduler.pb.h"
#include "kernel/master/allocator_thread.hpp"
#include "kernel/master/cluster_state.hpp"
#include "kernel/master/registry.hpp"
#include "kernel/runtime/config_fields.hpp"
#include "kernel/runtime/daemon.hpp"
#include "kernel/runtime/event_stream.hpp"

namespace keel::runtime {
class Authentication;
}
namespace keel::internal {
class RegisterAgent;
class StatusUpdate;
class ExecutorToFrameworkMessage;
class ExecutorExited;
}  // namespace keel::internal

namespace keel::master {

class OperatorEvents;
class TransportService;

struct MasterOptions {
  std::string hostname;
  std::string ip;
  uint16_t port = 5050;
  std::chrono::nanoseconds agent_ping_timeout = std::chrono::seconds(15);
  uint32_t max_agent_ping_timeouts = 5;
  // After a restart, agents of the registry that have not re-registered
  // within this are unreachable (Mesos's --agent_reregister_timeout).
  std::chrono::nanoseconds agent_reregister_timeout = std::chrono::minutes(10);
  std::optional<std::chrono::nanoseconds> offer_timeout;
  std::chrono::nanoseconds allocation_interval = std::chrono::seconds(1);
  std::chrono::nanoseconds heartbeat_interval = std::chrono::seconds(15);
  // Agents must authenticate: through the secured transport (curve), else
  // with the credential their RegisterAgent carries (basic).
  bool authenticate_agents = false;
  // History kept for the operator endpoints (Mesos's defaults).
  size_t max_completed_tasks_per_framework = 1000;
  size_t max_completed_frameworks = 50;
};

// An HTTP error for a scheduler or operator call: status code and a one-line
// reason.
struct CallError {
  int status;
  std::string message;
};

class Master : public std::enable_shared_from_this<Master> {
 public:
  Master(runtime::Daemon& daemon, MasterOptions options, std::shared_ptr<Allocator> allocator,
         TransportService& transport, Registry registry);
  ~Master();

  // Who checks agents' credentials; before Start().
  void SetAuthentication(std::shared_ptr<runtime::Authentication> authentication) {
    authentication_ = std::move(authentication);
  }
  // Also hands the registry's weights and quotas to the allocator.
  void Start();

  // The scheduler API, after the HTTP layer checked the request's shape.
  // SUBSCRIBE answers through `responder` (a stream, or an error).
  void Subscribe(const v1::scheduler::Call& call, runtime::Encoding encoding,
                 http::Responder responder);
  // Any other call from the subscription `stream_id`.
  std::optional<CallError> Handle(const v1::scheduler::Call& call, const std::string& stream_id);
  // The operator API's SUBSCRIBE: a stream of the cluster's changes.
  void SubscribeOperator(http::Responder responder, runtime::Encoding encoding);

  // An operator's kill (keelctl kill): as if the task's framework sent KILL.
  // Fails with 404 for a task the master does not run.
  std::optional<CallError> OperatorKill(const std::string& framework_id,
                                        const std::string& task_id);
  // The principal a known framework subscribed with ("" if none); nullopt
  // for an unknown framework.
  std::optional<std::string> FrameworkPrincipal(const std::string& framework_id) const;

  // The operator's policy (master_policy.cpp), kept in the registry: a
  // change is refused whole (nothing changes) or written, then applied.
  // Read-only views for the operator endpoints (state_json.cpp,
  // master_metrics.cpp), on the master's io thread.
  const std::string& id() const { return id_; }
  const MasterOptions& options() const { return options_; }
  double start_time() const { return start_time_; }
  const std::map<std::string, Framework>& frameworks() const { return frameworks_; }
  const std::deque<Framework>& completed_frameworks() const { return completed_frameworks_; }
  const std::map<std::string, Agent>& agents() const { return agents_; }
  // Agents of the registry not re-registered since the start.
  const std::map<std::string, internal::AdmittedAgent>& recovering_agents() const {
    return recovering_agents_;
  }
  const std::map<std::string, Offer>& offers() const { return offers_; }
  // Milliseconds the last allocation step took, from request to result.
  double last_allocation_ms() const { return last_allocation_ms_; }

  const Weights& weights() const { return registry_.weights(); }
  // Roles with a quota other than the default.
  const Quotas& quotas() const { return registry_.quotas(); }
  // Sets the weights of the roles named; other roles keep theirs.
  std::optional<CallError> UpdateWeights(const Weights& weights);
  // Replaces the quotas of the roles named (an empty Quota: back to the
  // default). Unless `force`, a limit below what its role consumes now is
  // refused; with it, the role's offers are rescinded until it fits.
  std::optional<CallError> UpdateQuotas(const Quotas& quotas, bool force);
  // What `role` and its sub-roles hold: resources offered to them and used
  // by their tasks. Quota limits bound this.
  Resources Consumption(const std::string& role) const;

  // The operator's maintenance schedule (maintenance_endpoints.cpp), kept in
  // the registry; stored and served only, it drains no agent.
  const internal::MaintenanceSchedule& maintenance_schedule() const {
    return registry_.maintenance_schedule();
  }
  // Replaces it; REQUIRES: ValidateMaintenanceSchedule passed.
  std::optional<CallError> UpdateMaintenanceSchedule(const internal::MaintenanceSchedule& schedule);

 private:
  // After a restart (master.cpp): the registry's frameworks wait for their
  // schedulers, its agents for their re-registration.
  void Recover();

  // Frameworks (master_frameworks.cpp).
  // A framework known from the registry or from an agent's report, not
  // subscribed: it has its failover_timeout from now to re-subscribe before
  // it is torn down. The existing one if `info.id()` is known.
  Framework& RecoverFramework(const v1::FrameworkInfo& info);
  // Whether `framework_id` was removed (among the completed frameworks kept).
  bool WasRemoved(const std::string& framework_id) const;
  void OnStreamClosed(const std::string& framework_id, const std::string& stream_id);
  void RemoveFramework(const std::string& framework_id, const std::string& why);
  void SendHeartbeat(const std::string& framework_id);
  void Send(Framework& framework, const v1::scheduler::Event& event);
  void SendError(Framework& framework, const std::string& message);

  // Offers (master_offers.cpp).
  void RequestAllocation();
  void AllocationTick();
  // Asks the allocator thread for a step; at most one is in flight.
  void Allocate();
  // A step's result, back on the strand: offers for what still stands.
  void MakeOffers(std::vector<Allocation> allocations, uint64_t epoch_when_posted);
  void RescindOffer(const std::string& offer_id, bool tell_framework);
  // Removes the offer and returns it, or nothing for an unknown id.
  std::optional<Offer> TakeOffer(const std::string& offer_id);
  void Accept(Framework& framework, const v1::scheduler::Call::Accept& accept);
  void Decline(Framework& framework, const v1::scheduler::Call::Decline& decline);

  // Tasks (master_tasks.cpp).
  void Launch(Framework& framework, Agent& agent, const v1::TaskInfo& task, const std::string& role,
              const Resources& resources);
  // Records a task placed on `agent` (Launch and LaunchGroup send it).
  void AddTask(Framework& framework, Agent& agent, const v1::TaskInfo& task,
               const std::string& role, const Resources& resources);

  // Executors (master_executors.cpp).
  // Charges `executor`'s own resources from `available` when it does not
  // run on `agent` yet (its first task, whose resources are `tasks`, must
  // fit beside them); the refusal's reason otherwise.
  std::optional<std::string> ChargeExecutor(Framework& framework, Agent& agent,
                                            const v1::ExecutorInfo& executor,
                                            const Resources& tasks, Resources* available);
  void LaunchGroup(Framework& framework, Agent& agent,
                   const v1::Offer::Operation::LaunchGroup& group, const std::string& role,
                   Resources* available);
  void MessageExecutor(Framework& framework, const v1::scheduler::Call::Message& message);
  void ShutdownExecutor(Framework& framework, const v1::scheduler::Call::Shutdown& shutdown);
  void OnExecutorMessage(const PeerId& peer, const internal::ExecutorToFrameworkMessage& message);
  void OnExecutorExited(const PeerId& peer, const internal::ExecutorExited& exited);
  void Kill(Framework& framework, const v1::scheduler::Call::Kill& kill);
  void Acknowledge(Framework& framework, const v1::scheduler::Call::Acknowledge& ack);
  void Reconcile(Framework& framework, const v1::scheduler::Call::Reconcile& reconcile);
  void OnStatusUpdate(const PeerId& peer, const internal::StatusUpdate& update);
  // A status made by the master (no uuid: never acknowledged).
  v1::TaskStatus MasterStatus(const Framework& framework, const v1::TaskID& task_id,
                              const std::string& agent_id, v1::TaskState state,
                              v1::TaskStatus::Reason reason, const std::string& message) const;
  void SendUpdate(Framework& framework, const v1::TaskStatus& status);
  // Gives a task's resources back to the allocator, once.
  void RecoverTaskResources(Task& task);
  // Drops a task from the live ones into the framework's history, with
  // `final_state` when its own state is not the one it ended in.
  void ForgetTask(Framework& framework, const std::string& task_id,
                  std::optional<v1::TaskState> final_state = std::nullopt);
  // Counts a task reaching `state` in master/tasks_<state> (terminal and
  // unreachable states).
  void CountTaskState(v1::TaskState state);

  // Operator events (master_operator_events.cpp); each a no-op while nobody
  // subscribed.
  void NotifyTaskAdded(const Task& task);
  void NotifyTaskUpdated(const std::string& framework_id, const v1::TaskStatus& status,
                         v1::TaskState state);
  void NotifyAgentAdded(const Agent& agent);
  void NotifyAgentRemoved(const std::string& agent_id);
  void NotifyFramework(const Framework& framework, bool added);
  void NotifyFrameworkRemoved(const v1::FrameworkInfo& info);

  // Agents (master_agents.cpp).
  void OnRegisterAgent(const PeerId& peer, const internal::RegisterAgent& message);
  // With agent authentication on: whether the registration's credential
  // holds. A peer refused is not heard again until its delay has passed.
  bool AdmitAgent(const PeerId& peer, const internal::RegisterAgent& message);
  void OnPong(const PeerId& peer);
  void OnPeerLost(const PeerId& peer);
  void PingAgents();
  // Its offers rescinded, its tasks TASK_UNREACHABLE (partition-aware
  // frameworks) or TASK_LOST, and every framework told (FAILURE).
  void MarkUnreachable(Agent& agent, const std::string& why);
  // agent_reregister_timeout after a restart: the registry's agents that
  // have not re-registered are unreachable.
  void OnReregisterTimeout();
  // Acknowledges an update for the framework (one it does not need).
  void AcknowledgeToAgent(const Agent& agent, const std::string& framework_id,
                          const v1::TaskStatus& status);
  Agent* AgentByPeer(const PeerId& peer);
  bool SendToAgent(const Agent& agent, TransportMessage message);

  // Operator policy (master_policy.cpp).
  // Rescinds offers to `role` and its sub-roles until they fit its limits.
  void RescindBeyondLimits(const std::string& role, const Quota& quota);

  std::string NextFrameworkId();
  std::string NextOfferId();
  std::string NextAgentId();

  runtime::Daemon& daemon_;
  MasterOptions options_;
  AllocatorThread allocator_;
  TransportService& transport_;
  Registry registry_;
  std::shared_ptr<runtime::Authentication> authentication_;
  std::map<PeerId, std::chrono::steady_clock::time_point> refused_until_;
  std::string id_;
  double start_time_ = 0;

  std::map<std::string, Framework> frameworks_;
  std::map<std::string, Agent> agents_;
  // Agents of the registry that have not re-registered since the start (no
  // record in agents_ yet); reconciliation does not answer for them.
  std::map<std::string, internal::AdmittedAgent> recovering_agents_;
  runtime::Timer reregister_timer_;
  std::map<PeerId, std::string> agent_by_peer_;
  std::map<std::string, Offer> offers_;
  std::deque<Framework> completed_frameworks_;
  std::unique_ptr<OperatorEvents> operator_events_;
  double last_allocation_ms_ = 0;

  uint64_t next_framework_ = 0;
  uint64_t next_offer_ = 0;
  uint64_t next_agent_ = 0;

  bool allocation_requested_ = false;
  bool allocation_in_flight_ = false;
  bool allocation_again_ = false;
  // Counts the allocator calls that make an in-flight step's result stale:
  // an agent (re-)added, whose books the allocator started again from its
  // tasks (what the step gave of it is forgotten, not given back), and a
  // quota changed (the whole step is given back and made again).
  uint64_t allocator_epoch_ = 0;
  uint64_t quota_epoch_ = 0;
  runtime::Timer allocation_timer_;
  runtime::Timer ping_timer_;
};

using runtime::NowSeconds;

}  // namespace keel::master
