// Checkpointing and recovery: what lets tasks outlive the agent (see
// agent.hpp and agent_checkpoint.hpp).
#include <glog/logging.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <cstdio>

#include "keel/task_state.hpp"
#include "kernel/agent/agent.hpp"
#include "kernel/protocol/resource_conversion.hpp"
#include "kernel/runtime/uuid.hpp"

namespace keel::agent {
namespace {

// How long SIGUSR1 and recover=cleanup wait for the containers to end.
constexpr auto kShutdownWait = std::chrono::seconds(10);

}  // namespace

std::string Agent::NameOf(const Containerizer* containerizer) const {
  for (const auto& [name, c] : containerizers_) {
    if (c.get() == containerizer) return name;
  }
  return "";
}

Containerizer* Agent::ContainerizerNamed(const std::string& name) const {
  for (const auto& [n, containerizer] : containerizers_) {
    if (n == name) return containerizer.get();
  }
  return nullptr;
}

void Agent::Checkpoint(const Key& key) {
  auto c = containers_.find(key);
  auto on_executor = executor_tasks_.find(key);
  const std::deque<v1::TaskStatus>* pending = updates_.Pending(key.first, key.second);
  auto named = records_.find(key);
  if (c == containers_.end() && on_executor == executor_tasks_.end() && pending == nullptr) {
    if (named != records_.end()) {
      checkpoint_.RemoveTask(named->second);
      records_.erase(named);
    }
    ended_tasks_.erase(key);
    return;
  }
  internal::TaskRecord record;
  if (auto f = frameworks_.find(key.first); f != frameworks_.end()) {
    *record.mutable_framework() = f->second;
  } else {
    record.mutable_framework()->mutable_id()->set_value(key.first);
  }
  if (c != containers_.end()) {
    *record.mutable_task() = c->second.task;
    record.set_container_id(c->second.container_id);
    record.set_containerizer(NameOf(c->second.containerizer));
    record.set_sandbox(c->second.sandbox);
    record.set_state(c->second.state);
    record.set_killing(c->second.killing);
  } else if (on_executor != executor_tasks_.end()) {
    *record.mutable_task() = on_executor->second.task;
    record.set_executor_id(on_executor->second.executor_id);
    record.set_state(on_executor->second.state);
    for (const std::string& uuid : on_executor->second.seen_uuids) record.add_seen_uuids(uuid);
  } else if (auto ended = ended_tasks_.find(key); ended != ended_tasks_.end()) {
    *record.mutable_task() = ended->second;
  } else {
    record.mutable_task()->mutable_task_id()->set_value(key.second);
  }
  if (pending != nullptr) {
    for (const v1::TaskStatus& status : *pending) *record.add_pending_updates() = status;
  }
  if (named == records_.end()) {
    named =
        records_
            .emplace(key, c != containers_.end() ? c->second.container_id : runtime::RandomUuid())
            .first;
  }
  if (Status s = checkpoint_.Write(named->second, record); !s.ok()) {
    LOG(ERROR) << "cannot checkpoint task " << key.second << " of framework " << key.first << ": "
               << s.message();
  }
}

void Agent::CheckpointExecutor(const Executor& executor) {
  internal::ExecutorRecord record;
  if (auto f = frameworks_.find(executor.framework_id); f != frameworks_.end()) {
    *record.mutable_framework() = f->second;
  } else {
    record.mutable_framework()->mutable_id()->set_value(executor.framework_id);
  }
  *record.mutable_executor() = executor.info;
  record.set_container_id(executor.container_id);
  record.set_containerizer(NameOf(executor.containerizer));
  record.set_sandbox(executor.sandbox);
  record.set_user(executor.user);
  protocol::ToProto(executor.resources, record.mutable_resources());
  record.set_shutting_down(executor.shutting_down);
  if (Status s = checkpoint_.Write(executor.container_id, record); !s.ok()) {
    LOG(ERROR) << "cannot checkpoint executor " << executor.info.executor_id().value()
               << " of framework " << executor.framework_id << ": " << s.message();
  }
}

void Agent::RecoverExecutors(
    std::map<std::string, std::vector<RecoveredContainer>>* by_containerizer,
    std::map<ContainerId, ExecutorKey>* keys) {
  for (auto& [name, record] : checkpoint_.ReadExecutors()) {
    const ExecutorKey key{record.framework().id().value(), record.executor().executor_id().value()};
    if (record.framework().has_name()) frameworks_[key.first] = record.framework();
    Executor e = NewExecutor(key.first, record.executor(), record.container_id(), record.sandbox());
    e.user = record.user();
    if (auto r = protocol::FromProto(record.resources()); r.ok()) e.resources = *r;
    e.shutting_down = record.shutting_down();
    e.recovered = true;
    e.containerizer = ContainerizerNamed(record.containerizer());
    if (e.containerizer == nullptr) {
      // Its tasks are failed below, as tasks of an executor that is gone.
      LOG(ERROR) << "executor " << key.second << " ran in containerizer '" << record.containerizer()
                 << "', which this agent no longer loads";
      checkpoint_.RemoveExecutor(name);
      continue;
    }
    RecoveredContainer recovered;
    recovered.id = e.container_id;
    recovered.config.sandbox_dir = e.sandbox;
    recovered.config.user = e.user;
    recovered.config.resources = e.resources;
    (*by_containerizer)[record.containerizer()].push_back(std::move(recovered));
    (*keys)[e.container_id] = key;
    sandboxes_[key] = e.sandbox;
    executors_.emplace(key, std::move(e));
  }
}

Status Agent::Recover() {
  Result<bool> same_boot = checkpoint_.Open();
  if (!same_boot.ok())
    return Status::Error("cannot keep checkpoints: " + same_boot.status().message());
  if (!*same_boot && !agent_id_.empty()) {
    // Mesos's rule: a rebooted host is a new agent; its tasks are gone.
    LOG(WARNING) << "the host rebooted since agent " << agent_id_
                 << " last ran here; registering as a new agent";
    agent_id_.clear();
    std::remove((options_.work_dir + "/agent_id").c_str());
  }

  std::map<std::string, std::vector<RecoveredContainer>> by_containerizer;
  std::map<ContainerId, Key> keys;
  std::map<ContainerId, ExecutorKey> executor_keys;
  RecoverExecutors(&by_containerizer, &executor_keys);
  size_t updates = 0;
  for (auto& [name, record] : checkpoint_.ReadTasks()) {
    const Key key{record.framework().id().value(), record.task().task_id().value()};
    if (record.framework().has_name()) frameworks_[key.first] = record.framework();
    records_[key] = name;
    std::deque<v1::TaskStatus> pending(record.pending_updates().begin(),
                                       record.pending_updates().end());
    updates += pending.size();
    updates_.Restore(key.first, std::move(pending));
    if (!record.executor_id().empty()) {
      RecoverExecutorTask(key, record);
    } else if (record.container_id().empty()) {
      if (record.task().has_name()) ended_tasks_[key] = record.task();
    } else {
      Container c;
      c.framework_id = key.first;
      c.task = record.task();
      c.container_id = record.container_id();
      c.sandbox = record.sandbox();
      c.state = record.state();
      c.killing = record.killing();
      c.escalate = std::make_unique<runtime::Timer>(daemon_.io());
      c.containerizer = ContainerizerNamed(record.containerizer());
      if (c.containerizer == nullptr) {
        LOG(ERROR) << "task " << key.second << " ran in containerizer '" << record.containerizer()
                   << "', which this agent no longer loads; reporting it lost";
        SendStatus(key.first, c.task.task_id(), v1::TASK_LOST,
                   v1::TaskStatus::REASON_AGENT_RESTARTED,
                   "The agent restarted without containerizer '" + record.containerizer() +
                       "', which ran this task");
      } else {
        RecoveredContainer recovered;
        recovered.id = c.container_id;
        recovered.config.sandbox_dir = c.sandbox;
        recovered.config.user = c.task.command().user();
        if (auto r = protocol::FromProto(c.task.resources()); r.ok()) {
          recovered.config.resources = *r;
        }
        by_containerizer[record.containerizer()].push_back(std::move(recovered));
        keys[c.container_id] = key;
        sandboxes_[key] = c.sandbox;
        containers_.emplace(key, std::move(c));
      }
    }
  }

  std::weak_ptr<Agent> weak = weak_from_this();
  for (const auto& [name, containerizer] : containerizers_) {
    const std::vector<RecoveredContainer>& listed = by_containerizer[name];
    Status s = containerizer->Recover(
        listed, [weak, keys, executor_keys](const ContainerId& id, const ContainerTermination& t) {
          auto self = weak.lock();
          if (!self) return;
          if (auto key = keys.find(id); key != keys.end()) {
            self->OnContainerExit(key->second, t);
          } else if (auto ekey = executor_keys.find(id); ekey != executor_keys.end()) {
            self->OnExecutorExit(ekey->second, t);
          }
        });
    if (s.ok()) continue;
    if (listed.empty()) {
      LOG(INFO) << "containerizer '" << name << "': " << s.message();
      continue;
    }
    LOG(ERROR) << "containerizer '" << name << "' cannot recover its " << listed.size()
               << " containers: " << s.message() << "; reporting their tasks lost";
    for (const RecoveredContainer& r : listed) {
      if (auto ekey = executor_keys.find(r.id); ekey != executor_keys.end()) {
        ContainerTermination lost;
        lost.message = "the agent restarted and containerizer '" + name +
                       "' could not reattach to the executor: " + s.message();
        OnExecutorExit(ekey->second, lost);
        continue;
      }
      const Key key = keys.at(r.id);
      const v1::TaskID task_id = containers_.at(key).task.task_id();
      containers_.erase(key);
      SendStatus(key.first, task_id, v1::TASK_LOST, v1::TaskStatus::REASON_AGENT_RESTARTED,
                 "The agent restarted and containerizer '" + name +
                     "' could not reattach to the task: " + s.message());
    }
  }
  if (!containers_.empty() || !executors_.empty() || updates > 0) {
    LOG(INFO) << "recovered " << containers_.size() << " task containers, " << executors_.size()
              << " executors and " << updates << " unacknowledged status updates from the last run";
  }

  if (options_.recover_cleanup) {
    LOG(INFO) << "recover=cleanup: killing the " << containers_.size()
              << " containers of the last run, then exiting";
    ShutdownWithTasks();
    return Status::Ok();
  }
  for (auto& [key, c] : containers_) {
    // Killed before the restart: its grace period is over.
    if (c.killing) (void)c.containerizer->Destroy(c.container_id);
    // Started, but the restart came before its TASK_RUNNING: the container's
    // end, if it ended, is reported after this.
    if (c.state == v1::TASK_STAGING) {
      SendStatus(key.first, c.task.task_id(), v1::TASK_RUNNING, std::nullopt, "");
    }
  }
  for (auto& [key, e] : executors_) {
    if (e.shutting_down) {
      (void)e.containerizer->Destroy(e.container_id);
    } else {
      StartSubscriptionDeadline(key, options_.executor_reregistration_timeout,
                                v1::TaskStatus::REASON_EXECUTOR_REREGISTRATION_TIMEOUT);
    }
  }

  auto usr1 = std::make_shared<boost::asio::signal_set>(daemon_.io(), SIGUSR1);
  usr1->async_wait([weak](const boost::system::error_code& ec, int) {
    if (auto self = weak.lock(); self && !ec) {
      LOG(INFO) << "received SIGUSR1: killing every task, then stopping";
      self->ShutdownWithTasks();
    }
  });
  usr1_ = usr1;
  return Status::Ok();
}

void Agent::RecoverExecutorTask(const Key& key, const internal::TaskRecord& record) {
  auto executor = executors_.find({key.first, record.executor_id()});
  if (executor == executors_.end()) {
    // Its executor's record is gone (it ended as the agent died) or its
    // containerizer is: the task ended with it.
    ended_tasks_[key] = record.task();
    if (!IsTerminal(record.state())) {
      SendStatus(key.first, record.task().task_id(), v1::TASK_FAILED,
                 v1::TaskStatus::REASON_EXECUTOR_TERMINATED,
                 "Executor " + record.executor_id() + " ended while the agent was down");
    } else {
      Checkpoint(key);
    }
    return;
  }
  ExecutorTask task;
  task.executor_id = record.executor_id();
  task.task = record.task();
  task.state = record.state();
  task.seen_uuids.insert(record.seen_uuids().begin(), record.seen_uuids().end());
  if (!IsTerminal(task.state)) executor->second.tasks.insert(key.second);
  sandboxes_[key] = executor->second.sandbox;
  executor_tasks_.emplace(key, std::move(task));
}

void Agent::ShutdownWithTasks() {
  shutting_down_ = true;
  for (auto& [key, c] : containers_) {
    c.killing = true;
    (void)c.containerizer->Destroy(c.container_id);
  }
  for (auto& [key, e] : executors_) (void)e.containerizer->Destroy(e.container_id);
  AwaitShutdown(std::chrono::steady_clock::now() + kShutdownWait);
}

void Agent::AwaitShutdown(std::chrono::steady_clock::time_point deadline) {
  const bool done = containers_.empty() && executors_.empty();
  if (!done && std::chrono::steady_clock::now() < deadline) {
    if (!shutdown_wait_) shutdown_wait_ = std::make_unique<runtime::Timer>(daemon_.io());
    std::weak_ptr<Agent> weak = weak_from_this();
    shutdown_wait_->Start(std::chrono::milliseconds(20), [weak, deadline] {
      if (auto self = weak.lock()) self->AwaitShutdown(deadline);
    });
    return;
  }
  if (!done) LOG(WARNING) << "containers still ending after " << kShutdownWait.count() << " s";
  if (options_.recover_cleanup) {
    checkpoint_.Clear();
    records_.clear();
    std::remove((options_.work_dir + "/agent_id").c_str());
    LOG(INFO) << "recover=cleanup: done; the next start registers as a new agent";
  }
  ::kill(::getpid(), SIGTERM);
}

}  // namespace keel::agent
