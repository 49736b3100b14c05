// The agent's core: registers with the master (again on every reconnection,
// with its id and the tasks it runs), runs tasks through the containerizer in
// sandboxes, kills them on request and reports their states reliably.
//
// Tasks outlive the agent: each task's container or executor and its
// unacknowledged updates are checkpointed (agent_checkpoint.hpp) before
// anything of them is sent, and an agent started again over the same work dir
// recovers them (agent_recovery.cpp): the containerizers reattach to the
// containers that still run and report those that ended meanwhile, executors
// subscribe again, and pending updates go out again. Stopping the agent
// (SIGTERM) leaves its tasks running; SIGUSR1 kills them first.
//
// Threading: everything on the daemon's io thread.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "keel/containerizer.hpp"
#include "keel/resources.hpp"
#include "keel/v1/executor.pb.h"
#include "keel/v1/mesos.pb.h"
#include "kernel/agent/agent_checkpoint.hpp"
#include "kernel/agent/status_update_manager.hpp"
#include "kernel/runtime/daemon.hpp"
#include "kernel/runtime/timer.hpp"

namespace keel::internal {
class TaskRecord;
class RunTask;
class RunTaskGroup;
class KillTask;
}  // namespace keel::internal
namespace keel::runtime {
class EventStream;
}

namespace keel::agent {

class MasterLink;

struct AgentOptions {
  std::string work_dir;
  std::string hostname;
  std::string ip;
  uint16_t port = 5051;
  Resources resources;
  std::chrono::nanoseconds retry_min = std::chrono::seconds(10);
  std::chrono::nanoseconds retry_max = std::chrono::minutes(10);
  std::chrono::nanoseconds kill_grace = std::chrono::seconds(3);
  // An executor that has not subscribed this long after its start is
  // destroyed, its tasks failed (Mesos's executor_registration_timeout).
  std::chrono::nanoseconds executor_registration_timeout = std::chrono::minutes(1);
  // An executor that outlived the last run and has not subscribed again
  // this long after the agent's start is destroyed, its tasks failed
  // (Mesos's executor_reregistration_timeout).
  std::chrono::nanoseconds executor_reregistration_timeout = std::chrono::seconds(2);
  // SHUTDOWN to the executor, then its container destroyed this much later.
  std::chrono::nanoseconds executor_shutdown_grace = std::chrono::seconds(5);
  // keel-default-executor, which runs task groups; empty: not found.
  std::string default_executor;
  // Sent at registration to a master that authenticates agents (basic).
  std::string principal;
  std::string secret;
  // Mesos's `recover=cleanup`: kill what a previous run left, then exit.
  bool recover_cleanup = false;
};

struct NamedContainerizer {
  std::string name;  // the module's, as checkpointed with each container
  std::shared_ptr<Containerizer> containerizer;
};

class Agent : public std::enable_shared_from_this<Agent> {
 public:
  Agent(runtime::Daemon& daemon, AgentOptions options, std::shared_ptr<MasterLink> link,
        std::vector<NamedContainerizer> containerizers);
  ~Agent();

  // Reads the agent id and recovers the tasks a previous run left in the
  // work dir, and starts listening to the master link.
  Status Start();

 private:
  struct Container {
    std::string framework_id;
    v1::TaskInfo task;
    ContainerId container_id;
    Containerizer* containerizer = nullptr;  // the one that launched it
    std::string sandbox;
    v1::TaskState state = v1::TASK_STAGING;
    bool killing = false;
    std::unique_ptr<runtime::Timer> escalate;  // SIGTERM -> SIGKILL
  };
  using Key = std::pair<std::string, std::string>;  // framework id, task id

  // agent_recovery.cpp.
  Status Recover();
  // Writes the task's record (its container or executor, its pending
  // updates), or removes it when it has none of them.
  void Checkpoint(const Key& key);
  // SIGUSR1: kills every container, then stops the daemon.
  void ShutdownWithTasks();
  void AwaitShutdown(std::chrono::steady_clock::time_point deadline);
  std::string NameOf(const Containerizer* containerizer) const;
  // The containerizer loaded as `name`; null if none is.
  Containerizer* ContainerizerNamed(const std::string& name) const;

  void Register();
  void OnRegistered(const std::string& agent_id, double ping_timeout_seconds);
  void OnPing();
  void OnRunTask(const internal::RunTask& run);
  void OnKillTask(const internal::KillTask& kill);
  void OnShutdownFramework(const std::string& framework_id);
  void OnContainerExit(const Key& key, const ContainerTermination& termination);

  // Executors (agent_executors.cpp): tasks with an ExecutorInfo and task
  // groups run in an executor's container, one per (framework, executor id),
  // which subscribes to POST /api/v1/executor (executor_api.cpp).
  struct Executor {
    std::string framework_id;
    v1::ExecutorInfo info;
    ContainerId container_id;
    Containerizer* containerizer = nullptr;
    std::string sandbox;
    std::string user;
    Resources resources;                           // its container's: its own and its first tasks'
    std::shared_ptr<runtime::EventStream> stream;  // null until it subscribes
    // LAUNCH and LAUNCH_GROUP events held until it subscribes.
    std::vector<v1::executor::Event> queued;
    std::set<std::string> tasks;  // its tasks not yet ended
    bool shutting_down = false;
    // Why the agent ended it, for its unfinished tasks' updates.
    std::optional<v1::TaskStatus::Reason> end_reason;
    std::string end_message;
    std::unique_ptr<runtime::Timer> registration;  // the subscription deadline
    std::unique_ptr<runtime::Timer> shutdown;      // SHUTDOWN -> destroy
    std::unique_ptr<runtime::Timer> heartbeat;
    // It outlived the last run and has not subscribed to this one yet.
    bool recovered = false;
  };
  using ExecutorKey = std::pair<std::string, std::string>;  // framework id, executor id
  // A task an executor runs: its state is what the executor last reported.
  struct ExecutorTask {
    std::string executor_id;
    v1::TaskInfo task;
    v1::TaskState state = v1::TASK_STAGING;
    std::set<std::string> seen_uuids;  // its updates the agent took
  };
  // Writes the executor's record (agent_recovery.cpp).
  void CheckpointExecutor(const Executor& executor);
  // An executor's entry with its timers, not subscribed yet.
  Executor NewExecutor(const std::string& framework_id, const v1::ExecutorInfo& info,
                       const ContainerId& container_id, const std::string& sandbox);
  // Rebuilds the executors and their tasks from their records; their
  // containers go to the containerizers with the tasks' (agent_recovery.cpp).
  void RecoverExecutors(std::map<std::string, std::vector<RecoveredContainer>>* by_containerizer,
                        std::map<ContainerId, ExecutorKey>* keys);
  // A task an executor ran, from its record: the executor's again, or ended
  // with it when its executor is gone.
  void RecoverExecutorTask(const Key& key, const internal::TaskRecord& record);
  // Destroys the executor if it has not subscribed within `timeout`; its
  // unfinished tasks fail with `reason`.
  void StartSubscriptionDeadline(const ExecutorKey& key, std::chrono::nanoseconds timeout,
                                 v1::TaskStatus::Reason reason);
  void OnRunTaskGroup(const internal::RunTaskGroup& run);
  // Gives `tasks` to the executor `info` names, starting it first if needed,
  // in one LAUNCH (one task, `group` false) or LAUNCH_GROUP event.
  void RunOnExecutor(const v1::FrameworkInfo& framework, const v1::ExecutorInfo& info,
                     const std::vector<v1::TaskInfo>& tasks, bool group);
  Executor* StartExecutor(const v1::FrameworkInfo& framework, const v1::ExecutorInfo& info,
                          const Resources& task_resources, std::string* error);
  void SendToExecutor(Executor& executor, const v1::executor::Event& event);
  // HEARTBEAT every 30 s on a subscription, as Mesos's agent sends.
  void HeartbeatExecutor(const ExecutorKey& key);
  void OnExecutorExit(const ExecutorKey& key, const ContainerTermination& termination);
  void ShutdownExecutor(Executor& executor, const std::string& why);
  void KillOnExecutor(const Key& key, const internal::KillTask& kill);
  // The framework acknowledged an update of the task.
  void OnExecutorUpdateAcknowledged(const Key& key);
  // An executor's own calls; the HTTP status and reason when refused.
  struct CallRefusal {
    int status;
    std::string reason;
  };
  std::optional<CallRefusal> CheckExecutorCall(const v1::executor::Call& call) const;
  void OnExecutorSubscribe(const v1::executor::Call& call,
                           std::shared_ptr<runtime::EventStream> stream);
  // A recovered executor's re-subscription: its STAGING tasks it does not
  // list are reported lost (dropped, to a partition-aware framework).
  void DropTasksUnknownToExecutor(const ExecutorKey& key,
                                  const std::set<std::string>& unacknowledged_tasks);
  std::optional<CallRefusal> OnExecutorUpdate(const v1::executor::Call& call);
  void OnExecutorMessage(const v1::executor::Call& call);
  void OnFrameworkMessage(const std::string& framework_id, const std::string& executor_id,
                          const std::string& data);
  std::string ExecutorSandboxOf(const std::string& framework_id, const std::string& executor_id,
                                const ContainerId& container_id) const;
  // POST /api/v1/executor (executor_api.cpp).
  void RouteExecutorApi();
  void Kill(Container& container, std::chrono::nanoseconds grace);
  void SendStatus(const std::string& framework_id, const v1::TaskID& task_id, v1::TaskState state,
                  std::optional<v1::TaskStatus::Reason> reason, const std::string& message);
  std::string SandboxOf(const std::string& framework_id, const std::string& task_id,
                        const ContainerId& container_id) const;

  // GET /state and /monitor/statistics (agent_endpoints.cpp).
  void RouteEndpoints();
  std::string StateJson() const;
  std::string StatisticsJson() const;

  runtime::Daemon& daemon_;
  AgentOptions options_;
  std::shared_ptr<MasterLink> link_;
  // In config order; a launch goes to the first that takes it.
  std::vector<NamedContainerizer> containerizers_;
  AgentCheckpoint checkpoint_;
  // The name of each checkpointed task's record.
  std::map<Key, std::string> records_;
  // Tasks whose container ended but whose updates are not all acknowledged:
  // kept for their records and re-registration.
  std::map<Key, v1::TaskInfo> ended_tasks_;
  bool shutting_down_ = false;
  std::shared_ptr<void> usr1_;  // the SIGUSR1 handler's signal_set
  std::unique_ptr<runtime::Timer> shutdown_wait_;
  std::string agent_id_;
  bool registered_ = false;
  std::map<Key, Container> containers_;
  // Sandboxes of running and recently ended tasks, for /files; the oldest
  // ended ones are forgotten past kKeptSandboxes (the files stay on disk).
  std::map<Key, std::string> sandboxes_;
  std::deque<Key> ended_;
  std::map<std::string, v1::FrameworkInfo> frameworks_;
  std::map<ExecutorKey, Executor> executors_;
  std::map<Key, ExecutorTask> executor_tasks_;
  StatusUpdateManager updates_;
  // No ping from the master for this long: register again.
  runtime::Timer ping_watch_;
  std::chrono::nanoseconds ping_timeout_{std::chrono::seconds(75)};
  double start_time_ = 0;
};

}  // namespace keel::agent
