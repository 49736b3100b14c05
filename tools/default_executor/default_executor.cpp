#include "default_executor.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <random>

#include "keel/task_state.hpp"

namespace keel::default_executor {

namespace {

// Mesos's default executor's grace period when neither the KILL nor the task
// gives one.
constexpr std::chrono::seconds kDefaultGrace{3};

void Log(const std::string& line) { std::cerr << "keel-default-executor: " << line << std::endl; }

// A random RFC 4122 UUID as text: the nested containers' ids.
std::string RandomUuid() {
  static std::mt19937_64 generator{std::random_device{}()};
  const uint64_t hi = (generator() & ~0xf000ULL) | 0x4000ULL;
  const uint64_t lo = (generator() & ~(3ULL << 62)) | (2ULL << 62);
  char text[37];
  std::snprintf(text, sizeof(text), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return text;
}

bool HasCapability(const v1::FrameworkInfo& framework, v1::FrameworkInfo::Capability::Type type) {
  return std::any_of(framework.capabilities().begin(), framework.capabilities().end(),
                     [type](const auto& c) { return c.type() == type; });
}

}  // namespace

DefaultExecutor::DefaultExecutor(executor::ExecutorClient& client, TaskContext context)
    : client_(client), context_(std::move(context)) {}

void DefaultExecutor::Post(Event event) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(Item{std::move(event), 0, 0});
  wake_.notify_one();
}

void DefaultExecutor::PostExit(pid_t pid, int wait_status) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(Item{std::nullopt, pid, wait_status});
  wake_.notify_one();
}

void DefaultExecutor::ReapChildren() {
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen = spawned_;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid > 0) {
      PostExit(pid, status);
    } else if (errno == ECHILD) {
      // No children: wait for the next one.
      std::unique_lock<std::mutex> lock(mu_);
      reaper_wake_.wait(lock, [&] { return spawned_ != seen; });
    }
  }
}

int DefaultExecutor::Run() {
  while (!done_) {
    std::deque<Item> items;
    {
      std::unique_lock<std::mutex> lock(mu_);
      const auto next = NextTimer();
      auto ready = [this] { return !queue_.empty(); };
      if (next) {
        wake_.wait_until(lock, *next, ready);
      } else {
        wake_.wait(lock, ready);
      }
      items.swap(queue_);
    }
    for (const Item& item : items) {
      if (item.event) {
        Handle(*item.event);
      } else {
        Exited(item.pid, item.wait_status);
      }
      if (done_) break;
    }
    if (!done_) OnTimers(Clock::now());
  }
  return subscribed_once_ ? 0 : 1;
}

void DefaultExecutor::Handle(const Event& event) {
  switch (event.type()) {
    case Event::SUBSCRIBED:
      subscribed_once_ = true;
      framework_ = event.subscribed().framework_info();
      Log("subscribed with agent " + event.subscribed().agent_info().id().value() + " (" +
          event.subscribed().agent_info().hostname() + ")");
      break;
    case Event::LAUNCH:
      LaunchGroup({event.launch().task()});
      break;
    case Event::LAUNCH_GROUP: {
      const auto& tasks = event.launch_group().task_group().tasks();
      LaunchGroup(std::vector<v1::TaskInfo>(tasks.begin(), tasks.end()));
      break;
    }
    case Event::KILL:
      KillTask(event.kill().task_id().value(),
               event.kill().has_kill_policy() ? &event.kill().kill_policy() : nullptr);
      break;
    case Event::SHUTDOWN:
      Log(client_.ended() ? "lost the agent; shutting down" : "the agent asked to shut down");
      Shutdown();
      break;
    case Event::ACKNOWLEDGED:
      MaybeLeave();
      break;
    case Event::MESSAGE:
      Log("message from the scheduler (" + std::to_string(event.message().data().size()) +
          " bytes), ignored");
      break;
    case Event::ERROR:
      Log("error from the agent: " + event.error().message());
      break;
    default:
      break;
  }
}

void DefaultExecutor::SendUpdate(const v1::TaskInfo& task, v1::TaskState state,
                                 const std::string& message,
                                 std::optional<v1::TaskStatus::Reason> reason) {
  v1::TaskStatus status;
  *status.mutable_task_id() = task.task_id();
  status.set_state(state);
  if (!message.empty()) status.set_message(message);
  if (reason) status.set_reason(*reason);
  if (auto s = client_.Update(status); !s.ok()) {
    Log("update " + v1::TaskState_Name(state) + " of task " + task.task_id().value() + ": " +
        s.message());
  }
}

void DefaultExecutor::LaunchGroup(const std::vector<v1::TaskInfo>& infos) {
  if (shutting_down_) {
    Log("shutting down: not launching " + std::to_string(infos.size()) + " task(s)");
    return;
  }
  std::vector<v1::TaskInfo> tasks;
  for (const auto& info : infos) {
    if (tasks_.count(info.task_id().value())) {
      Log("task " + info.task_id().value() + " is already running; launched again, ignored");
      continue;
    }
    tasks.push_back(info);
  }
  if (tasks.empty()) return;
  launched_ = true;
  leave_by_.reset();
  const size_t group = groups_.size();
  groups_.push_back(Group{});
  for (const auto& info : tasks) {
    groups_[group].tasks.push_back(info.task_id().value());
    SendUpdate(info, v1::TASK_STARTING);
  }

  const auto now = Clock::now();
  std::string failed;  // the task that could not start, if one could not
  for (const auto& info : tasks) {
    const std::string& id = info.task_id().value();
    if (!failed.empty()) {
      SendUpdate(info, v1::TASK_KILLED,
                 "Killed with its task group: task " + failed + " could not be launched");
      continue;
    }
    auto sandbox = MakeTaskSandbox(context_.sandbox, id, RandomUuid());
    auto spec = sandbox.ok() ? BuildSpawnSpec(info, *sandbox, context_)
                             : Result<SpawnSpec>(sandbox.status());
    auto pid = spec.ok() ? Spawn(*spec) : Result<pid_t>(spec.status());
    if (!pid.ok()) {
      Log("task " + id + ": " + pid.status().message());
      SendUpdate(info, v1::TASK_FAILED, pid.status().message(),
                 v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED);
      failed = id;
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++spawned_;
    }
    reaper_wake_.notify_all();
    Task task;
    task.info = info;
    task.group = group;
    task.sandbox = *sandbox;
    task.pid = *pid;
    if (info.has_max_completion_time() && info.max_completion_time().nanoseconds() >= 0) {
      task.complete_by = now + std::chrono::nanoseconds(info.max_completion_time().nanoseconds());
    }
    pids_[task.pid] = id;
    tasks_.emplace(id, std::move(task));
    Log("task " + id + " started as pid " + std::to_string(*pid) + " in " + sandbox->dir);
    SendUpdate(info, v1::TASK_RUNNING);
  }
  if (!failed.empty()) KillGroup(group);
  MaybeLeave();  // the whole group may have failed to launch
}

void DefaultExecutor::Exited(pid_t pid, int wait_status) {
  auto p = pids_.find(pid);
  if (p == pids_.end()) return;  // an orphan, or a child whose exec failed
  const std::string id = p->second;
  pids_.erase(p);
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  Task& task = it->second;
  // Whatever the task left behind in its process group goes with it.
  ::kill(-task.pid, SIGKILL);

  v1::TaskState state;
  std::optional<v1::TaskStatus::Reason> reason;
  if (task.past_completion_time) {
    state = v1::TASK_FAILED;
    reason = v1::TaskStatus::REASON_MAX_COMPLETION_TIME_REACHED;
  } else if (task.killing) {
    state = v1::TASK_KILLED;
  } else if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) {
    state = v1::TASK_FINISHED;
  } else {
    state = v1::TASK_FAILED;
  }
  const std::string message = DescribeExit(wait_status);
  Log("task " + id + " " + v1::TaskState_Name(state) + ": " + message);
  SendUpdate(task.info, state, message, reason);

  const size_t group = task.group;
  tasks_.erase(it);
  // Mesos's default restart policy for a task group: one task failing or
  // killed takes the rest of its group down.
  if (!shutting_down_ && !groups_[group].killing &&
      (state == v1::TASK_FAILED || state == v1::TASK_KILLED)) {
    Log("task " + id + " ended " + v1::TaskState_Name(state) + ": killing its task group");
    KillGroup(group);
  }
  MaybeLeave();
}

std::chrono::nanoseconds DefaultExecutor::GraceOf(const Task& task) const {
  if (task.info.has_kill_policy() && task.info.kill_policy().has_grace_period()) {
    return std::chrono::nanoseconds(task.info.kill_policy().grace_period().nanoseconds());
  }
  return kDefaultGrace;
}

void DefaultExecutor::KillTask(const std::string& id, const v1::KillPolicy* policy) {
  if (shutting_down_) {
    Log("kill of task " + id + " ignored: shutting down");
    return;
  }
  auto it = tasks_.find(id);
  if (it == tasks_.end()) {
    Log("kill of task " + id + " ignored: it is not running");
    return;
  }
  if (it->second.killing) {
    Log("kill of task " + id + " ignored: it is being killed");
    return;
  }
  const auto grace = policy && policy->has_grace_period()
                         ? std::chrono::nanoseconds(policy->grace_period().nanoseconds())
                         : GraceOf(it->second);
  StartKill(it->second, grace);
}

void DefaultExecutor::KillGroup(size_t group) {
  groups_[group].killing = true;
  for (const std::string& id : groups_[group].tasks) {
    auto it = tasks_.find(id);
    if (it != tasks_.end() && !it->second.killing) StartKill(it->second, GraceOf(it->second));
  }
}

void DefaultExecutor::StartKill(Task& task, std::chrono::nanoseconds grace) {
  task.killing = true;
  grace = std::max(grace, std::chrono::nanoseconds(0));
  if (!task.past_completion_time &&
      HasCapability(framework_, v1::FrameworkInfo::Capability::TASK_KILLING_STATE)) {
    SendUpdate(task.info, v1::TASK_KILLING);
  }
  Log("killing task " + task.info.task_id().value() + " (process group " +
      std::to_string(task.pid) + ") with SIGTERM, SIGKILL in " +
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(grace).count()) + " ms");
  if (grace.count() == 0) {
    ::kill(-task.pid, SIGKILL);
    return;
  }
  ::kill(-task.pid, SIGTERM);
  task.escalate_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(grace);
}

void DefaultExecutor::Shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  // Everything must be gone before the agent's grace period is: leave a
  // second of it for the terminal updates.
  const auto shutdown_grace =
      std::chrono::duration_cast<std::chrono::nanoseconds>(client_.options().shutdown_grace_period);
  const auto cap = std::max(shutdown_grace - std::chrono::seconds(1), shutdown_grace / 2);
  for (auto& [id, task] : tasks_) {
    if (!task.killing) StartKill(task, std::min(GraceOf(task), cap));
  }
  MaybeLeave();
}

void DefaultExecutor::OnTimers(Clock::time_point now) {
  for (auto& [id, task] : tasks_) {
    if (task.escalate_at && *task.escalate_at <= now) {
      Log("task " + id + " did not end after SIGTERM: SIGKILL");
      ::kill(-task.pid, SIGKILL);
      task.escalate_at.reset();
    }
    if (task.complete_by && *task.complete_by <= now) {
      task.complete_by.reset();
      if (!task.past_completion_time) {
        Log("task " + id + " is past its max_completion_time");
        task.past_completion_time = true;
        task.killing = true;
        task.escalate_at.reset();
        ::kill(-task.pid, SIGKILL);
      }
    }
  }
  if (leave_by_ && *leave_by_ <= now) {
    Log("leaving with " + std::to_string(client_.unacknowledged_updates()) +
        " update(s) still unacknowledged");
    done_ = true;
  }
}

std::optional<DefaultExecutor::Clock::time_point> DefaultExecutor::NextTimer() const {
  std::optional<Clock::time_point> next = leave_by_;
  auto consider = [&next](const std::optional<Clock::time_point>& t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& [id, task] : tasks_) {
    consider(task.escalate_at);
    consider(task.complete_by);
  }
  return next;
}

void DefaultExecutor::MaybeLeave() {
  if (!tasks_.empty() || done_) return;
  if (!launched_ && !shutting_down_) return;  // nothing launched yet
  if (client_.ended() || client_.unacknowledged_updates() == 0) {
    done_ = true;
    return;
  }
  if (!leave_by_) {
    leave_by_ = Clock::now() + client_.options().shutdown_grace_period;
    Log("every task has ended; waiting up to " +
        std::to_string(client_.options().shutdown_grace_period.count()) + " ms for " +
        std::to_string(client_.unacknowledged_updates()) + " acknowledgement(s)");
  }
}

}  // namespace keel::default_executor
