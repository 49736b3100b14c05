// The agent's core: registers with the master (again on every reconnection,
// with its id and the tasks it runs), runs tasks through the containerizer in
// sandboxes, kills them on request and reports their states reliably.
//
// Threading: everything on the daemon's io thread.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "keel/containerizer.hpp"
#include "keel/resources.hpp"
#include "keel/v1/mesos.pb.h"
#include "kernel/agent/status_update_manager.hpp"
#include "kernel/runtime/daemon.hpp"
#include "kernel/runtime/timer.hpp"

namespace keel::internal {
class RunTask;
class KillTask;
}  // namespace keel::internal

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
  // Sent at registration to a master that authenticates agents (basic).
  std::string principal;
  std::string secret;
};

class Agent : public std::enable_shared_from_this<Agent> {
 public:
  Agent(runtime::Daemon& daemon, AgentOptions options, std::shared_ptr<MasterLink> link,
        std::vector<std::shared_ptr<Containerizer>> containerizers);
  ~Agent();

  // Reads the agent id a previous run left in the work dir, and starts
  // listening to the master link.
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

  void Register();
  void OnRegistered(const std::string& agent_id, double ping_timeout_seconds);
  void OnPing();
  void OnRunTask(const internal::RunTask& run);
  void OnKillTask(const internal::KillTask& kill);
  void OnShutdownFramework(const std::string& framework_id);
  void OnContainerExit(const Key& key, const ContainerTermination& termination);
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
  std::vector<std::shared_ptr<Containerizer>> containerizers_;
  std::string agent_id_;
  bool registered_ = false;
  std::map<Key, Container> containers_;
  // Sandboxes of running and recently ended tasks, for /files; the oldest
  // ended ones are forgotten past kKeptSandboxes (the files stay on disk).
  std::map<Key, std::string> sandboxes_;
  std::deque<Key> ended_;
  std::map<std::string, v1::FrameworkInfo> frameworks_;
  StatusUpdateManager updates_;
  // No ping from the master for this long: register again.
  runtime::Timer ping_watch_;
  std::chrono::nanoseconds ping_timeout_{std::chrono::seconds(75)};
  double start_time_ = 0;
};

}  // namespace keel::agent
