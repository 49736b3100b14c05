#include "modules/containerizer/native/native_containerizer.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "modules/containerizer/native/child_spec.hpp"
#include "modules/containerizer/native/held_child.hpp"

namespace keel::modules {
namespace {

std::string IsolatorName(size_t index) { return "isolator #" + std::to_string(index + 1); }

std::string DescribeExit(int wait_status) {
  if (wait_status == ProcessReaper::kUnknownStatus) return "Command exited with unknown status";
  if (WIFEXITED(wait_status)) {
    return "Command exited with status " + std::to_string(WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return "Command terminated by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "Command ended with wait status " + std::to_string(wait_status);
}

}  // namespace

NativeContainerizer::NativeContainerizer(ModuleContext& context)
    : context_(context), self_(std::make_shared<NativeContainerizer*>(this)) {
  const Parameters& p = context.parameters();
  init_path_ = p.Has("container_init") ? p.GetString("container_init") : "";
  if (init_path_.empty()) {
    init_path_ = FindContainerInit();
  } else if (::access(init_path_.c_str(), X_OK) != 0) {
    throw std::runtime_error("parameter 'container_init': " + init_path_ +
                             " is not an executable file");
  }
}

// The reaper's thread stops first (it is declared last); the containers'
// processes run on, reparented to the host's init.
NativeContainerizer::~NativeContainerizer() = default;

Status NativeContainerizer::Start(const std::vector<Isolator*>& isolators) {
  if (reaper_) return Status::Error("native: already started");
  if (init_path_.empty()) {
    return Status::Error(std::string("native: ") + "keel-container-init" +
                         " not found beside the agent nor in ../libexec/keel/ (parameter "
                         "container_init)");
  }
  if (context_.work_dir().empty()) {
    return Status::Error("native: needs a work directory to keep its containers' records");
  }
  auto records = std::make_unique<ContainerRecords>(context_.work_dir() + "/containers");
  if (auto s = records->Init(); !s.ok()) return Status::Error("native: " + s.message());
  Result<std::unique_ptr<ProcessReaper>> reaper = ProcessReaper::Create();
  if (!reaper.ok()) return Status::Error("native: " + reaper.status().message());
  records_ = std::move(records);
  reaper_ = std::move(reaper).value();
  isolators_ = isolators;
  return Status::Ok();
}

Result<LaunchInfo> NativeContainerizer::PrepareAll(const ContainerLaunch& launch) {
  LaunchInfo merged;
  for (size_t i = 0; i < isolators_.size(); ++i) {
    Result<LaunchInfo> info = isolators_[i]->Prepare(launch.id, launch.config);
    if (!info.ok()) {
      CleanupFirst(i, launch.id);
      return Status::Error("native: " + IsolatorName(i) + " cannot prepare container '" +
                           launch.id + "': " + info.status().message());
    }
    merged.clone_namespaces |= info->clone_namespaces;
    merged.mounts.insert(merged.mounts.end(), info->mounts.begin(), info->mounts.end());
    for (const auto& [name, value] : info->environment) merged.environment[name] = value;
  }
  return merged;
}

Status NativeContainerizer::IsolateAll(const ContainerId& id, pid_t pid) {
  for (size_t i = 0; i < isolators_.size(); ++i) {
    Status status = isolators_[i]->Isolate(id, pid);
    if (!status.ok()) {
      return Status::Error("native: " + IsolatorName(i) + " cannot isolate container '" + id +
                           "': " + status.message());
    }
  }
  return Status::Ok();
}

void NativeContainerizer::CleanupFirst(size_t count, const ContainerId& id) {
  for (size_t i = count; i-- > 0;) {
    Status status = isolators_[i]->Cleanup(id);
    if (!status.ok()) {
      context_.Log(LogLevel::kWarning, IsolatorName(i) + " cannot clean up container '" + id +
                                           "': " + status.message());
    }
  }
}

Status NativeContainerizer::Launch(const ContainerLaunch& launch, TerminationCallback on_exit) {
  if (!reaper_) return Status::Error("native: Launch() before Start()");
  if (containers_.count(launch.id) != 0) {
    return Status::Error("native: container '" + launch.id + "' already exists");
  }
  if (launch.id.empty() || launch.id == "." || launch.id == ".." ||
      launch.id.find_first_of(std::string("/\n\0", 3)) != std::string::npos) {
    return Status::Error("native: '" + launch.id +
                         "' is not a valid container id (it names a directory)");
  }

  // The record comes first: whatever the isolators make for the container
  // can then be found and removed after a crash at any point of the launch.
  if (auto s = records_->Create(launch.id); !s.ok()) return Status::Error("native: " + s.message());
  Result<LaunchInfo> info = PrepareAll(launch);
  if (!info.ok()) {
    records_->Remove(launch.id);
    return info.status();
  }
  Result<ChildSpec> spec = BuildChildSpec(launch, info->environment);
  if (!spec.ok()) {
    records_->Remove(launch.id);
    CleanupFirst(isolators_.size(), launch.id);
    return Status::Error("native: " + spec.status().message());
  }
  WrapInContainerInit(*info, init_path_, records_->DirOf(launch.id), &spec.value());
  Result<HeldChild> child = HeldChild::Fork(*spec);
  if (!child.ok()) {
    records_->Remove(launch.id);
    CleanupFirst(isolators_.size(), launch.id);
    return Status::Error("native: cannot start container '" + launch.id +
                         "': " + child.status().message());
  }
  const pid_t pid = child->pid();
  // Held, the child cannot have exited: its start time names it.
  const std::optional<uint64_t> start_time = ProcessStartTime(pid);
  Status recorded =
      start_time ? records_->WriteInit(launch.id, {pid, *start_time})
                 : Status::Error("cannot read the start time of process " + std::to_string(pid));
  Status isolated = recorded.ok() ? IsolateAll(launch.id, pid) : recorded;
  Status tracked =
      isolated.ok() ? Track(launch.id, pid, -1, std::move(on_exit), child->memory()) : isolated;
  if (!tracked.ok()) {
    child.value().Abort();
    records_->Remove(launch.id);
    CleanupFirst(isolators_.size(), launch.id);
    return Status::Error("native: container '" + launch.id + "': " + tracked.message());
  }

  Status released = child.value().Release();
  if (!released.ok()) {
    // Killed from outside before it could run; the reaper reports its end.
    context_.Log(LogLevel::kWarning, "container '" + launch.id + "': " + released.message());
  }
  return Status::Ok();
}

Status NativeContainerizer::Track(const ContainerId& id, pid_t pid, int pidfd,
                                  TerminationCallback on_exit, std::shared_ptr<void> child_memory) {
  const uint64_t serial = next_serial_++;
  std::weak_ptr<NativeContainerizer*> weak_self = self_;
  ModuleContext* context = &context_;
  auto exited = [weak_self, context, id, serial](int wait_status) {
    // On the reaper's thread: hop to the core strand.
    context->Post([weak_self, id, serial, wait_status] {
      if (auto self = weak_self.lock()) (*self)->OnExit(id, serial, wait_status);
    });
  };
  Status watched = pidfd < 0 ? reaper_->Watch(pid, std::move(exited))
                             : reaper_->Adopt(pid, pidfd, std::move(exited));
  if (!watched.ok()) return Status::Error("cannot watch it: " + watched.message());
  containers_.emplace(
      id, Container{serial, pid, std::move(on_exit), std::nullopt, std::move(child_memory)});
  WatchLimits(id, serial);
  return Status::Ok();
}

Status NativeContainerizer::Recover(const std::vector<RecoveredContainer>& listed,
                                    RecoveredCallback on_exit) {
  if (!reaper_) return Status::Error("native: Recover() before Start()");
  // Which of them still run: those the isolators take back with their pid.
  std::vector<RecoveredContainer> existing;
  std::map<ContainerId, std::pair<std::optional<InitProcess>, int>> found;  // init, pidfd
  for (RecoveredContainer c : listed) {
    std::optional<InitProcess> init = records_->ReadInit(c.id);
    const int pidfd = init ? OpenIfRunning(*init) : -1;
    c.pid = pidfd >= 0 ? init->pid : 0;
    found[c.id] = {init, pidfd};
    existing.push_back(std::move(c));
  }
  for (size_t i = 0; i < isolators_.size(); ++i) {
    if (Status s = isolators_[i]->Recover(existing); !s.ok()) {
      for (auto& [id, f] : found) {
        if (f.second >= 0) ::close(f.second);
      }
      return Status::Error("native: " + IsolatorName(i) + " cannot recover: " + s.message());
    }
  }
  // Records of containers the agent did not list: launched by an agent that
  // died before it checkpointed them, or abandoned.
  for (const std::string& id : records_->List()) {
    if (found.count(id) != 0) continue;
    context_.Log(LogLevel::kWarning, "destroying orphan container '" + id + "'");
    Discard(id, records_->ReadInit(id));
  }
  for (auto& [id, f] : found) {
    const auto& [init, pidfd] = f;
    auto report = [on_exit, id = id](const ContainerTermination& t) { on_exit(id, t); };
    if (pidfd >= 0) {
      if (Status s = Track(id, init->pid, pidfd, report, nullptr); s.ok()) {
        context_.Log(LogLevel::kInfo,
                     "recovered container '" + id + "' (pid " + std::to_string(init->pid) + ")");
        continue;
      } else {
        context_.Log(LogLevel::kWarning, "container '" + id + "': " + s.message());
      }
    }
    // Ended while no agent ran (or never started): its record says how.
    ContainerTermination termination;
    termination.exit_status = records_->ReadExitStatus(id);
    termination.message =
        termination.exit_status
            ? DescribeExit(*termination.exit_status)
            : (init ? "Container ended while the agent was down, without a recorded status"
                    : "Container was never started: the agent stopped while launching it");
    Discard(id, init);
    // After Recover() returns, as a later end would be.
    context_.Post([report, termination] { report(termination); });
  }
  return Status::Ok();
}

void NativeContainerizer::Discard(const ContainerId& id, const std::optional<InitProcess>& init) {
  if (init) {
    if (const int pidfd = OpenIfRunning(*init); pidfd >= 0) {
      ::killpg(init->pid, SIGKILL);
      ::close(pidfd);
    }
  }
  for (Isolator* isolator : isolators_) {
    if (isolator->Signal(id, SIGKILL)) break;
  }
  CleanupFirst(isolators_.size(), id);
  records_->Remove(id);
}

void NativeContainerizer::SignalAll(const ContainerId& id, pid_t pid, int signal) {
  reaper_->SignalGroup(pid, signal);
  for (Isolator* isolator : isolators_) {
    // One isolator that knows every process is enough.
    if (isolator->Signal(id, signal)) break;
  }
}

void NativeContainerizer::WatchLimits(const ContainerId& id, uint64_t serial) {
  std::weak_ptr<NativeContainerizer*> weak_self = self_;
  for (Isolator* isolator : isolators_) {
    isolator->Watch(id, [weak_self, id, serial](const ContainerLimitation& limitation) {
      if (auto self = weak_self.lock()) (*self)->OnLimit(id, serial, limitation);
    });
  }
}

NativeContainerizer::Container* NativeContainerizer::Find(const ContainerId& id, uint64_t serial) {
  auto it = containers_.find(id);
  if (it == containers_.end() || it->second.serial != serial) return nullptr;
  return &it->second;
}

void NativeContainerizer::OnLimit(const ContainerId& id, uint64_t serial,
                                  const ContainerLimitation& limitation) {
  Container* container = Find(id, serial);
  if (container == nullptr) return;
  // The first limit is why the container ends; later ones are consequences.
  if (container->limitation) return;
  container->limitation = limitation;
  context_.Log(LogLevel::kInfo, "container '" + id + "' hit a limit (" + limitation.reason +
                                    "): " + limitation.message + "; destroying it");
  SignalAll(id, container->pid, SIGKILL);
}

void NativeContainerizer::OnExit(const ContainerId& id, uint64_t serial, int wait_status) {
  Container* container = Find(id, serial);
  if (container == nullptr) return;
  // The reaper already SIGKILLed the rest of the group; processes that left
  // it (setsid, double fork) die through the isolators that know them, so
  // that Cleanup()'s requirement holds.
  for (Isolator* isolator : isolators_) {
    if (isolator->Signal(id, SIGKILL)) break;
  }
  CleanupFirst(isolators_.size(), id);

  // keel-container-init recorded how the task itself ended; without a
  // record (the init was killed) its own end is the container's.
  if (std::optional<int> task_status = records_->ReadExitStatus(id)) wait_status = *task_status;
  ContainerTermination termination;
  if (wait_status != ProcessReaper::kUnknownStatus) termination.exit_status = wait_status;
  termination.limitation = std::move(container->limitation);
  termination.message = DescribeExit(wait_status);
  TerminationCallback on_exit = std::move(container->on_exit);
  containers_.erase(id);
  if (on_exit) on_exit(termination);
  // Only once the agent has it: an agent that dies in between finds the
  // record again and reports the end again, which it can tell is the same.
  records_->Remove(id);
}

Status NativeContainerizer::Destroy(const ContainerId& id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return Status::Error("native: unknown container '" + id + "'");
  // When the leader was just reaped its exit is already on the way to
  // OnExit(), which reports the termination.
  SignalAll(id, it->second.pid, SIGKILL);
  return Status::Ok();
}

Status NativeContainerizer::Kill(const ContainerId& id, int signal) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return Status::Error("native: unknown container '" + id + "'");
  SignalAll(id, it->second.pid, signal);
  return Status::Ok();
}

Result<ResourceStatistics> NativeContainerizer::Usage(const ContainerId& id) {
  if (containers_.count(id) == 0) {
    return Status::Error("native: unknown container '" + id + "'");
  }
  ResourceStatistics stats;
  stats.timestamp =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (size_t i = 0; i < isolators_.size(); ++i) {
    Status status = isolators_[i]->Usage(id, &stats);
    if (!status.ok()) {
      return Status::Error("native: " + IsolatorName(i) + " cannot measure container '" + id +
                           "': " + status.message());
    }
  }
  return stats;
}

std::vector<ContainerId> NativeContainerizer::Containers() const {
  std::vector<ContainerId> ids;
  ids.reserve(containers_.size());
  for (const auto& [id, container] : containers_) ids.push_back(id);
  return ids;
}

}  // namespace keel::modules
