// What the master knows about frameworks, agents, offers and tasks. Plain
// records owned by the Master, touched only on its io thread.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "keel/resources.hpp"
#include "keel/transport.hpp"
#include "keel/v1/mesos.pb.h"
#include "kernel/protocol/framework_capabilities.hpp"
#include "kernel/runtime/timer.hpp"

namespace keel::runtime {
class EventStream;
}

namespace keel::master {

using protocol::HasCapability;

// One state a task went through, for the operator endpoints' `statuses`.
struct TaskStatusEntry {
  v1::TaskState state;
  double timestamp;
};

struct Task {
  v1::TaskInfo info;
  std::string framework_id;
  std::string agent_id;
  // The role its resources are allocated to (quota consumption); empty when
  // unknown (adopted from a re-registering agent, naming none).
  std::string role;
  Resources resources;
  v1::TaskState state = v1::TASK_STAGING;
  // The last status the framework was sent by the agent (uuid set), if any.
  std::optional<v1::TaskStatus> status;
  bool resources_recovered = false;  // released to the allocator already
  bool kill_requested = false;
  std::vector<TaskStatusEntry> statuses;
  // The uuid of the last update the framework acknowledged: the agent may
  // send it again (its acknowledgement lost), and the master acknowledges
  // it itself instead of delivering it twice.
  std::string acked_uuid;
};

// A task that ended, as the operator endpoints show it; what is kept of it
// is small because many are kept (max_completed_tasks_per_framework).
struct CompletedTask {
  std::string id;
  std::string name;
  std::string agent_id;
  std::string role;
  Resources resources;
  v1::TaskState state;
  std::vector<TaskStatusEntry> statuses;
  std::string acked_uuid;  // as Task's: its terminal update's, once acknowledged
};

// The fields the operator endpoints show of a task, as it is now.
inline CompletedTask ViewOf(const Task& task) {
  CompletedTask c;
  c.id = task.info.task_id().value();
  c.name = task.info.name();
  c.agent_id = task.agent_id;
  c.role = task.role;
  c.resources = task.resources;
  c.state = task.state;
  c.statuses = task.statuses;
  c.acked_uuid = task.acked_uuid;
  return c;
}

// What is kept of `task` once it ended in `state` at `when`; takes what it
// keeps from `task`, which is about to be dropped.
inline CompletedTask Completed(Task&& task, v1::TaskState state, double when) {
  CompletedTask c;
  c.id = task.info.task_id().value();
  c.name = std::move(*task.info.mutable_name());
  c.agent_id = std::move(task.agent_id);
  c.role = std::move(task.role);
  c.resources = std::move(task.resources);
  c.statuses = std::move(task.statuses);
  c.state = state;
  if (c.statuses.empty() || c.statuses.back().state != state) c.statuses.push_back({state, when});
  return c;
}

struct Offer {
  std::string id;
  std::string framework_id;
  std::string agent_id;
  std::string role;
  Resources resources;
  std::unique_ptr<runtime::Timer> timeout;  // offer_timeout, when set
};

struct Framework {
  std::string id;
  v1::FrameworkInfo info;
  std::shared_ptr<runtime::EventStream> stream;  // null while disconnected
  std::set<std::string> offers;
  std::map<std::string, Task> tasks;  // by task id; live or awaiting a terminal ack
  std::unique_ptr<runtime::Timer> heartbeat;
  std::unique_ptr<runtime::Timer> failover;
  double registered_time = 0;
  double unregistered_time = 0;  // set once removed
  // Newest last, at most MasterOptions::max_completed_tasks_per_framework.
  std::deque<CompletedTask> completed_tasks;

  bool connected() const { return stream != nullptr; }
  bool partition_aware() const {
    return HasCapability(info, v1::FrameworkInfo::Capability::PARTITION_AWARE);
  }
  bool multi_role() const { return HasCapability(info, v1::FrameworkInfo::Capability::MULTI_ROLE); }
};

struct Agent {
  std::string id;
  PeerId peer;
  std::string ip;  // of its HTTP port, for offers' url
  v1::AgentInfo info;
  Resources total;
  bool connected = false;  // the transport has the peer
  bool reachable = true;   // false once the pings ran out
  uint32_t missed_pongs = 0;
  bool pong_since_ping = true;
  std::set<std::string> offers;
  // (framework id, task id) of the tasks the master placed here.
  std::set<std::pair<std::string, std::string>> tasks;
  // Executors running here, by (framework id, executor id): what they hold
  // beyond their tasks, charged when the first task went to them.
  struct Executor {
    v1::ExecutorInfo info;
    Resources resources;
  };
  std::map<std::pair<std::string, std::string>, Executor> executors;
  double registered_time = 0;
  // Master::allocator_epoch_ when the allocator was last told of it.
  uint64_t allocator_epoch = 0;
};

}  // namespace keel::master
