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

constexpr const char* kInitName = "keel-container-init";

// Beside the daemon (a build tree's bin/), in ../libexec/keel/ (installed:
// /usr/sbin/keel-agent, /usr/libexec/keel/), or in ../bin/ (a build tree's
// tests/).
std::string FindContainerInit() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const std::filesystem::path dir = exe.parent_path();
  for (const auto& candidate : {dir / kInitName, dir / ".." / "libexec" / "keel" / kInitName,
                                dir / ".." / "bin" / kInitName}) {
    if (::access(candidate.c_str(), X_OK) == 0) {
      return std::filesystem::weakly_canonical(candidate, ec).string();
    }
  }
  return "";
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

NativeContainerizer::~NativeContainerizer() {
  // Every process of every container still running, wherever it went.
  for (const auto& [id, container] : containers_) {
    for (Isolator* isolator : isolators_) {
      if (isolator->Signal(id, SIGKILL)) break;
    }
  }
  // The reaper's destructor kills and reaps every group it still watches.
  reaper_.reset();
  // Then nothing of them is left behind (cgroups): the daemon destroys the
  // isolators after the containerizer that uses them.
  for (const auto& [id, container] : containers_) CleanupFirst(isolators_.size(), id);
}

Status NativeContainerizer::Start(const std::vector<Isolator*>& isolators) {
  if (reaper_) return Status::Error("native: already started");
  Result<std::unique_ptr<ProcessReaper>> reaper = ProcessReaper::Create();
  if (!reaper.ok()) return Status::Error("native: " + reaper.status().message());
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
    if ((info->clone_namespaces != 0 || !info->mounts.empty()) && init_path_.empty()) {
      // Running the task without the isolation asked for would be worse.
      CleanupFirst(i + 1, launch.id);
      return Status::Error("native: " + IsolatorName(i) + " asks for namespaces or mounts for '" +
                           launch.id + "', which need " + kInitName +
                           ", not found beside the agent nor in ../libexec/keel/ (parameter "
                           "container_init)");
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

  Result<LaunchInfo> info = PrepareAll(launch);
  if (!info.ok()) return info.status();
  Result<ChildSpec> spec = BuildChildSpec(launch, info->environment);
  if (!spec.ok()) {
    CleanupFirst(isolators_.size(), launch.id);
    return Status::Error("native: " + spec.status().message());
  }
  // With a pid namespace the first process is its init, which reports the
  // task's own wait status through this pipe.
  int status_pipe[2] = {-1, -1};
  if (info->clone_namespaces != 0 || !info->mounts.empty()) {
    if ((info->clone_namespaces & CLONE_NEWPID) != 0 &&
        ::pipe2(status_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
      CleanupFirst(isolators_.size(), launch.id);
      return Status::Error(std::string("native: cannot make a status pipe: ") +
                           std::strerror(errno));
    }
    WrapInContainerInit(*info, init_path_, status_pipe[1], &spec.value());
  }
  Result<HeldChild> child = HeldChild::Fork(*spec);
  if (status_pipe[1] >= 0) ::close(status_pipe[1]);
  // Closed with the container record, or right here if there is none.
  auto status_reader = std::shared_ptr<int>(new int(status_pipe[0]), [](int* fd) {
    if (*fd >= 0) ::close(*fd);
    delete fd;
  });
  if (!child.ok()) {
    CleanupFirst(isolators_.size(), launch.id);
    return Status::Error("native: cannot start container '" + launch.id +
                         "': " + child.status().message());
  }
  const pid_t pid = child->pid();

  Status isolated = IsolateAll(launch.id, pid);
  if (!isolated.ok()) {
    child.value().Abort();
    CleanupFirst(isolators_.size(), launch.id);
    return isolated;
  }

  const uint64_t serial = next_serial_++;
  std::weak_ptr<NativeContainerizer*> weak_self = self_;
  ModuleContext* context = &context_;
  ContainerId id = launch.id;
  Status watched = reaper_->Watch(pid, [weak_self, context, id, serial](int wait_status) {
    // On the reaper's thread: hop to the core strand.
    context->Post([weak_self, id, serial, wait_status] {
      if (auto self = weak_self.lock()) (*self)->OnExit(id, serial, wait_status);
    });
  });
  if (!watched.ok()) {
    child.value().Abort();
    CleanupFirst(isolators_.size(), launch.id);
    return Status::Error("native: cannot watch container '" + launch.id +
                         "': " + watched.message());
  }
  containers_.emplace(launch.id, Container{serial, pid, std::move(on_exit), std::nullopt,
                                           child->memory(), std::move(status_reader)});
  WatchLimits(launch.id, serial);

  Status released = child.value().Release();
  if (!released.ok()) {
    // Killed from outside before it could run; the reaper reports its end.
    context_.Log(LogLevel::kWarning, "container '" + launch.id + "': " + released.message());
  }
  return Status::Ok();
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

  // The init of a pid namespace reported how the task itself ended; without
  // a report (the init was killed) its own end is the container's.
  if (container->status_reader && *container->status_reader >= 0) {
    int task_status = 0;
    if (::read(*container->status_reader, &task_status, sizeof(task_status)) ==
        sizeof(task_status)) {
      wait_status = task_status;
    }
  }
  ContainerTermination termination;
  if (wait_status != ProcessReaper::kUnknownStatus) termination.exit_status = wait_status;
  termination.limitation = std::move(container->limitation);
  termination.message = DescribeExit(wait_status);
  TerminationCallback on_exit = std::move(container->on_exit);
  containers_.erase(id);
  if (on_exit) on_exit(termination);
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
