#include "modules/containerizer/oci/oci_containerizer.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "modules/containerizer/oci/json.hpp"
#include "modules/containerizer/oci/rooted_files.hpp"
#include "modules/containerizer/oci/runc.hpp"
#include "modules/containerizer/oci/runtime_spec.hpp"

namespace keel::modules::oci {
namespace {

using namespace std::chrono_literals;

constexpr auto kOomPollInterval = 500ms;
constexpr auto kDestroyRetryInterval = 100ms;
// SIGKILL rounds at kDestroyRetryInterval before runc itself is killed.
constexpr int kDestroyRoundsBeforeRunc = 20;

Status WriteBundleFile(const std::string& path, const std::string& text) {
  // The bundle lives as long as its container: no fsync.
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::Error(ErrnoText("create " + path));
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Error(ErrnoText("write " + path));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// The last error runc logged (its --log, JSON lines), empty if none.
std::string RuncError(const std::string& log_path) {
  Result<std::string> text = ReadFile(log_path);
  if (!text.ok()) return "";
  std::istringstream lines(*text);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    Result<JsonValue> entry = ParseJson(line, log_path);
    if (!entry.ok()) continue;
    const std::string level = StringField(*entry, "level");
    if (level == "error" || level == "fatal") last = StringField(*entry, "msg");
  }
  return last;
}

// Whether an overlay mount works under `dir` (not on every file system).
Status ProbeOverlay(const std::string& dir) {
  const std::string probe = dir + "/.overlay-probe-" + RandomHex(4);
  std::string error;
  if (Status s = MakeDirs(probe + "/lower"); !s.ok()) return s;
  for (const char* sub : {"upper", "work", "merged"}) {
    if (::mkdir((probe + "/" + sub).c_str(), 0755) != 0) error = ErrnoText("mkdir");
  }
  const std::string options =
      "lowerdir=" + probe + "/lower,upperdir=" + probe + "/upper,workdir=" + probe + "/work";
  const std::string merged = probe + "/merged";
  if (error.empty()) {
    if (::mount("overlay", merged.c_str(), "overlay", 0, options.c_str()) != 0) {
      error = ErrnoText("mount -t overlay on " + dir);
    } else {
      ::umount2(merged.c_str(), MNT_DETACH);
    }
  }
  (void)RemoveTree(probe);
  if (!error.empty()) return Status::Error(error);
  return Status::Ok();
}

std::string DescribeEnd(int wait_status, std::optional<int>* exit_status) {
  if (wait_status == ProcessReaper::kUnknownStatus) return "Command exited with unknown status";
  if (WIFEXITED(wait_status)) {
    const int code = WEXITSTATUS(wait_status);
    // runc's way of saying a signal ended the container's process.
    if (code > kSignalExitOffset && code <= kSignalExitOffset + 64) {
      const int sig = code - kSignalExitOffset;
      *exit_status = sig;  // a wait status for "killed by `sig`"
      return "Command terminated by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
    }
    *exit_status = wait_status;
    return "Command exited with status " + std::to_string(code);
  }
  *exit_status = wait_status;
  return "runc " + DescribeWaitStatus(wait_status);
}

}  // namespace

OciContainerizer::OciContainerizer(ModuleContext& context)
    : context_(context),
      runc_(context.parameters().GetString("runc")),
      runc_root_(context.parameters().GetString("runc_root")),
      max_pids_(context.parameters().GetInt("max_pids")),
      cfs_quota_(context.parameters().GetBool("cfs_quota")),
      cgroups_root_(context.parameters().GetString("cgroups_root")),
      rootfs_parameter_(context.parameters().GetString("rootfs")),
      self_(std::make_shared<OciContainerizer*>(this)) {}

OciContainerizer::~OciContainerizer() {
  if (!started_) return;
  // A container still being prepared is left half-made; the next Recover()
  // removes it (no init record: it never ran).
  worker_.Stop();
  reaper_.reset();
}

std::vector<std::string> OciContainerizer::Runc(std::vector<std::string> args) const {
  std::vector<std::string> argv = {runc_, "--root", runc_root_};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Status OciContainerizer::Start(const std::vector<Isolator*>& isolators) {
  if (started_) return Status::Error("oci: already started");
  if (::geteuid() != 0) {
    return Status::Error("oci: runc needs root, and the agent runs as uid " +
                         std::to_string(::geteuid()));
  }
  const std::string work_dir = context_.work_dir();
  if (work_dir.empty()) return Status::Error("oci: needs the agent's work_dir for its image store");
  const std::string wanted = runc_.empty() ? "runc" : runc_;
  runc_ = FindExecutable(wanted);
  if (runc_.empty()) {
    return Status::Error("oci: runc not found (parameter 'runc' is '" + wanted +
                         "'; searched PATH and /usr/sbin:/usr/bin:/sbin:/bin); install Debian's "
                         "runc package or set the parameter to its path");
  }
  if (runc_root_.empty()) runc_root_ = work_dir + "/runc";
  init_path_ = FindContainerInit();
  if (init_path_.empty()) {
    return Status::Error(
        "oci: keel-container-init not found (beside the agent, in ../libexec/keel/ or ../bin/); "
        "it supervises runc so that containers outlive the agent");
  }
  if (cgroups_root_.empty() || cgroups_root_.find_first_of("/ ") != std::string::npos) {
    return Status::Error("oci: parameter 'cgroups_root' must be one name without '/'");
  }
  Result<CgroupLayout> cgroups = CgroupLayout::Detect();
  if (!cgroups.ok()) return Status::Error("oci: " + cgroups.status().message());
  cgroups_ = *cgroups;

  store_ = std::make_unique<ImageStore>(work_dir);
  records_ = std::make_unique<ContainerRecords>(store_->containers_dir());
  for (const std::string& dir : {store_->images_dir(), store_->containers_dir(), runc_root_}) {
    if (Status s = MakeDirs(dir, 0700); !s.ok()) return Status::Error("oci: " + s.message());
  }
  if (rootfs_parameter_ == "readonly") {
    rootfs_mode_ = RootfsMode::kReadOnly;
  } else if (rootfs_parameter_ == "overlay" || rootfs_parameter_ == "auto") {
    Status overlay = ProbeOverlay(store_->containers_dir());
    if (overlay.ok()) {
      rootfs_mode_ = RootfsMode::kOverlay;
    } else if (rootfs_parameter_ == "overlay") {
      return Status::Error(
          "oci: parameter 'rootfs' is 'overlay', but overlayfs does not work "
          "here: " +
          overlay.message());
    } else {
      rootfs_mode_ = RootfsMode::kReadOnly;
      context_.Log(LogLevel::kInfo, "overlayfs does not work here (" + overlay.message() +
                                        "): containers get their image's rootfs read-only");
    }
  } else {
    return Status::Error("oci: parameter 'rootfs' must be 'auto', 'overlay' or 'readonly', not '" +
                         rootfs_parameter_ + "'");
  }

  Result<std::unique_ptr<ProcessReaper>> reaper = ProcessReaper::Create();
  if (!reaper.ok()) return Status::Error("oci: " + reaper.status().message());
  reaper_ = std::move(reaper).value();
  if (Status s = worker_.Start(); !s.ok()) return Status::Error("oci: " + s.message());
  if (!isolators.empty()) {
    context_.Log(LogLevel::kInfo, "runc enforces cpu, memory and pids through cgroups; the " +
                                      std::to_string(isolators.size()) +
                                      " isolators configured are not used for oci containers");
  }
  started_ = true;
  return Status::Ok();
}

Status OciContainerizer::Launch(const ContainerLaunch& launch, TerminationCallback on_exit) {
  if (!started_) return Status::Error("oci: Launch() before Start()");
  if (!launch.image)
    return Status::Error("oci: the task names no image; oci runs image tasks only");
  if (!ValidContainerId(launch.id)) {
    return Status::Error("oci: container id '" + launch.id + "' is not one runc accepts");
  }
  if (containers_.count(launch.id)) {
    return Status::Error("oci: container '" + launch.id + "' already exists");
  }
  Result<ImageReference> reference = ParseImageReference(*launch.image);
  if (!reference.ok()) return Status::Error("oci: " + reference.status().message());
  Result<std::optional<StoredImage>> found = store_->Find(*reference);
  if (!found.ok()) return Status::Error("oci: " + found.status().message());
  if (!found->has_value()) {
    return Status::Error("image '" + reference->ToString() +
                         "' is not in the agent's image store (" + store_->images_dir() +
                         "); import it with keelctl image import");
  }
  const StoredImage& image = **found;
  Result<ProcessSpec> process = BuildProcess(launch, image);
  if (!process.ok()) {
    return Status::Error("oci: cannot launch container '" + launch.id +
                         "': " + process.status().message());
  }

  Plan plan;
  plan.id = launch.id;
  plan.bundle = BundleOf(launch.id);
  plan.image_dir = image.dir;
  plan.image_rootfs = image.rootfs;
  plan.sandbox = launch.config.sandbox_dir;
  plan.cgroups_path = CgroupsPathOf(launch.id);
  plan.uid = process->uid;
  plan.gid = process->gid;
  plan.rootfs_mode = rootfs_mode_;
  RuntimeOptions options;
  options.readonly_rootfs = rootfs_mode_ == RootfsMode::kReadOnly;
  options.rootfs = options.readonly_rootfs ? image.rootfs : plan.bundle + "/rootfs";
  options.cgroups_path = plan.cgroups_path;
  options.max_pids = max_pids_;
  options.cfs_quota = cfs_quota_;
  plan.config_json = RuntimeConfigJson(*process, launch, options);

  Container container;
  container.serial = next_serial_++;
  container.plan = plan;
  container.memory_limit = MemoryLimitBytes(launch);
  container.cpus = CpusOf(launch);
  container.on_exit = std::move(on_exit);
  container.cancelled = std::make_shared<std::atomic<bool>>(false);
  const uint64_t serial = container.serial;
  auto cancelled = container.cancelled;
  containers_.emplace(launch.id, std::move(container));
  worker_.Submit([this, plan, serial, cancelled] { PrepareAndStart(plan, serial, cancelled); });
  return Status::Ok();
}

Status OciContainerizer::PrepareBundle(const Plan& plan) {
  if (::mkdir(plan.bundle.c_str(), 0700) != 0)
    return Status::Error(ErrnoText("mkdir " + plan.bundle));
  // Tells the image store the image is in use (ImageStore::UsersOf).
  if (Status s = WriteBundleFile(plan.bundle + "/image", plan.image_dir + "\n"); !s.ok()) return s;
  if (Status s = MakeDirs(plan.sandbox); !s.ok()) return s;
  if (plan.uid != 0 && ::chown(plan.sandbox.c_str(), plan.uid, plan.gid) != 0) {
    return Status::Error(ErrnoText("chown " + plan.sandbox));
  }
  if (plan.rootfs_mode == RootfsMode::kOverlay) {
    const std::string rootfs = plan.bundle + "/rootfs";
    for (const char* sub : {"rootfs", "upper", "work"}) {
      const std::string dir = plan.bundle + "/" + sub;
      if (::mkdir(dir.c_str(), 0755) != 0) return Status::Error(ErrnoText("mkdir " + dir));
    }
    for (const std::string& path : {plan.image_rootfs, plan.bundle}) {
      if (path.find_first_of(",:\\") != std::string::npos) {
        return Status::Error("cannot mount an overlay of " + path + ": ',', ':' or '\\' in it");
      }
    }
    const std::string options = "lowerdir=" + plan.image_rootfs + ",upperdir=" + plan.bundle +
                                "/upper,workdir=" + plan.bundle + "/work";
    if (::mount("overlay", rootfs.c_str(), "overlay", 0, options.c_str()) != 0) {
      return Status::Error(ErrnoText("mount -t overlay -o " + options + " overlay " + rootfs));
    }
  }
  return WriteBundleFile(plan.bundle + "/config.json", plan.config_json);
}

void OciContainerizer::PrepareAndStart(const Plan& plan, uint64_t serial,
                                       std::shared_ptr<std::atomic<bool>> cancelled) {
  std::weak_ptr<OciContainerizer*> weak = self_;
  const ContainerId id = plan.id;
  auto fail = [&](const std::string& message) {
    const std::string failed = TearDown(plan.id, plan.bundle, plan.cgroups_path);
    if (!failed.empty()) context_.Log(LogLevel::kWarning, "container '" + id + "': " + failed);
    context_.Post([weak, id, serial, message] {
      if (auto self = weak.lock()) (*self)->OnStartFailed(id, serial, message);
    });
  };
  if (*cancelled) return fail("");
  if (Status s = PrepareBundle(plan); !s.ok()) return fail(s.message());
  Fd out(
      ::open((plan.sandbox + "/stdout").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  Fd err(
      ::open((plan.sandbox + "/stderr").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!out.valid() || !err.valid())
    return fail(ErrnoText("cannot open the sandbox's stdout/stderr"));
  if (*cancelled) return fail("");
  // keel-container-init runs `runc run` and records how it ended in the
  // bundle, for an agent that is not there when it does.
  std::vector<std::string> argv = {init_path_, "--record=" + plan.bundle, "--"};
  const std::vector<std::string> runc =
      Runc({"--log", plan.bundle + "/runc.log", "--log-format", "json", "run", "--keep", "--bundle",
            plan.bundle, plan.id});
  argv.push_back(runc.front());
  argv.insert(argv.end(), runc.begin(), runc.end());
  Result<pid_t> pid = SpawnProcess(argv, out.get(), err.get());
  if (!pid.ok()) return fail(pid.status().message());
  const pid_t runc_pid = *pid;
  // Before anything can reap it: its start time names it for the next agent.
  if (auto start_time = ProcessStartTime(runc_pid)) {
    if (Status s = records_->WriteInit(plan.id, {runc_pid, *start_time}); !s.ok()) {
      context_.Log(LogLevel::kWarning,
                   "container '" + id + "': " + s.message() + "; it will not outlive the agent");
    }
  }
  // Posted before the reaper can post the exit: the strand sees them in order.
  context_.Post([weak, id, serial, runc_pid] {
    if (auto self = weak.lock()) (*self)->OnStarted(id, serial, runc_pid);
  });
  Status watched = WatchInit(id, serial, runc_pid, -1);
  if (!watched.ok()) {
    context_.Log(LogLevel::kError,
                 "container '" + id + "': cannot watch runc: " + watched.message());
    ::killpg(runc_pid, SIGKILL);
    while (::waitpid(runc_pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    context_.Post([weak, id, serial] {
      if (auto self = weak.lock()) (*self)->OnRuncExit(id, serial, ProcessReaper::kUnknownStatus);
    });
  }
}

std::string OciContainerizer::BundleOf(const ContainerId& id) const {
  return store_->containers_dir() + "/" + id;
}

std::string OciContainerizer::CgroupsPathOf(const ContainerId& id) const {
  return "/" + cgroups_root_ + "-oci/" + id;
}

Status OciContainerizer::WatchInit(const ContainerId& id, uint64_t serial, pid_t pid, int pidfd) {
  std::weak_ptr<OciContainerizer*> weak = self_;
  ModuleContext* context = &context_;
  auto exited = [weak, context, id, serial](int wait_status) {
    context->Post([weak, id, serial, wait_status] {
      if (auto self = weak.lock()) (*self)->OnRuncExit(id, serial, wait_status);
    });
  };
  return pidfd < 0 ? reaper_->Watch(pid, std::move(exited))
                   : reaper_->Adopt(pid, pidfd, std::move(exited));
}

OciContainerizer::Container* OciContainerizer::Find(const ContainerId& id, uint64_t serial) {
  auto it = containers_.find(id);
  if (it == containers_.end() || it->second.serial != serial) return nullptr;
  return &it->second;
}

void OciContainerizer::OnStarted(const ContainerId& id, uint64_t serial, pid_t pid) {
  Container* c = Find(id, serial);
  if (c == nullptr) return;
  c->state = State::kRunning;
  c->runc_pid = pid;
  if (c->destroying) KillAll(*c);
  ArmTimer(id, serial);
}

void OciContainerizer::OnStartFailed(const ContainerId& id, uint64_t serial,
                                     const std::string& message) {
  Container* c = Find(id, serial);
  if (c == nullptr) return;
  ContainerTermination termination;
  termination.message = message.empty() ? "Container destroyed before it started"
                                        : "oci: cannot start container '" + id + "': " + message;
  TerminationCallback on_exit = std::move(c->on_exit);
  containers_.erase(id);
  if (on_exit) on_exit(termination);
}

void OciContainerizer::OnRuncExit(const ContainerId& id, uint64_t serial, int wait_status) {
  Container* c = Find(id, serial);
  if (c == nullptr) return;
  c->state = State::kEnding;
  if (c->timer) c->timer->Cancel();
  const Plan plan = c->plan;
  worker_.Submit([this, plan, serial, wait_status] { CleanUp(plan, serial, wait_status); });
}

void OciContainerizer::CleanUp(const Plan& plan, uint64_t serial, int wait_status) {
  // runc's own status, as keel-container-init recorded it (its own exit
  // code only echoes it); none if init was killed before runc ended.
  if (auto recorded = records_->ReadExitStatus(plan.id)) wait_status = *recorded;
  // Read before runc delete removes the cgroup.
  const uint64_t oom_kills = cgroups_.OomKills(plan.cgroups_path);
  const std::string runc_error = RuncError(plan.bundle + "/runc.log");
  const std::string failed = TearDown(plan.id, plan.bundle, plan.cgroups_path);
  if (!failed.empty()) context_.Log(LogLevel::kWarning, "container '" + plan.id + "': " + failed);
  std::weak_ptr<OciContainerizer*> weak = self_;
  const ContainerId id = plan.id;
  context_.Post([weak, id, serial, wait_status, oom_kills, runc_error] {
    if (auto self = weak.lock())
      (*self)->OnCleanedUp(id, serial, wait_status, oom_kills, runc_error);
  });
}

void OciContainerizer::OnCleanedUp(const ContainerId& id, uint64_t serial, int wait_status,
                                   uint64_t oom_kills, const std::string& runc_error) {
  Container* c = Find(id, serial);
  if (c == nullptr) return;
  ContainerTermination termination;
  termination.message = DescribeEnd(wait_status, &termination.exit_status);
  if (!runc_error.empty()) termination.message += " (runc: " + runc_error + ")";
  termination.limitation = std::move(c->limitation);
  if (!termination.limitation && oom_kills > 0) termination.limitation = MemoryLimitation(*c);
  TerminationCallback on_exit = std::move(c->on_exit);
  containers_.erase(id);
  if (on_exit) on_exit(termination);
}

ContainerLimitation OciContainerizer::MemoryLimitation(const Container& c) const {
  ContainerLimitation limitation;
  limitation.reason = "REASON_CONTAINER_LIMITATION_MEMORY";
  limitation.message = "Memory limit exceeded: the container needed more than its " +
                       std::to_string(c.memory_limit >> 20) +
                       " MB and the kernel's OOM killer ended a process of it";
  return limitation;
}

void OciContainerizer::ArmTimer(const ContainerId& id, uint64_t serial) {
  Container* c = Find(id, serial);
  if (c == nullptr) return;
  if (c->timer) c->timer->Cancel();
  std::weak_ptr<OciContainerizer*> weak = self_;
  c->timer = context_.RunAfter(c->destroying ? kDestroyRetryInterval : kOomPollInterval,
                               [weak, id, serial] {
                                 if (auto self = weak.lock()) (*self)->OnTimer(id, serial);
                               });
}

void OciContainerizer::OnTimer(const ContainerId& id, uint64_t serial) {
  Container* c = Find(id, serial);
  if (c == nullptr || c->state != State::kRunning) return;
  if (c->destroying) {
    KillAll(*c);
  } else if (c->memory_limit > 0 && cgroups_.OomKills(c->plan.cgroups_path) > 0) {
    c->limitation = MemoryLimitation(*c);
    context_.Log(LogLevel::kInfo, "container '" + id + "' hit its memory limit; destroying it");
    KillAll(*c);
  }
  ArmTimer(id, serial);
}

void OciContainerizer::KillAll(Container& c) {
  c.destroying = true;
  cgroups_.SignalAll(c.plan.cgroups_path, SIGKILL);
  // runc may still be making the container, or be stuck: in the end, it goes too.
  if (++c.destroy_rounds > kDestroyRoundsBeforeRunc && c.runc_pid > 0) {
    reaper_->SignalGroup(c.runc_pid, SIGKILL);
  }
}

Status OciContainerizer::Kill(const ContainerId& id, int signal) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return Status::Error("oci: unknown container '" + id + "'");
  Container& c = it->second;
  switch (c.state) {
    case State::kPreparing:
      // Nothing of the task runs yet to be asked to stop.
      *c.cancelled = true;
      c.destroying = true;
      break;
    case State::kRunning:
      // Every process: the task's first one is the init of its pid
      // namespace, which ignores signals it has no handler for.
      if (cgroups_.SignalAll(c.plan.cgroups_path, signal) == 0) {
        reaper_->SignalGroup(c.runc_pid, signal);  // runc passes it on once the task runs
      }
      break;
    case State::kEnding:
      break;
  }
  return Status::Ok();
}

Status OciContainerizer::Destroy(const ContainerId& id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return Status::Error("oci: unknown container '" + id + "'");
  Container& c = it->second;
  switch (c.state) {
    case State::kPreparing:
      *c.cancelled = true;
      c.destroying = true;  // OnStarted() kills it if runc was already on its way
      break;
    case State::kRunning:
      if (!c.destroying) {
        KillAll(c);
        ArmTimer(id, c.serial);
      }
      break;
    case State::kEnding:
      break;
  }
  return Status::Ok();
}

Result<ResourceStatistics> OciContainerizer::Usage(const ContainerId& id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return Status::Error("oci: unknown container '" + id + "'");
  const Container& c = it->second;
  ResourceStatistics stats;
  stats.timestamp =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (c.cpus > 0) stats.cpus_limit = c.cpus;
  if (c.memory_limit > 0) stats.mem_limit_bytes = c.memory_limit;
  if (c.state != State::kPreparing) cgroups_.AddUsage(c.plan.cgroups_path, &stats);
  return stats;
}

std::vector<ContainerId> OciContainerizer::Containers() const {
  std::vector<ContainerId> ids;
  ids.reserve(containers_.size());
  for (const auto& [id, c] : containers_) ids.push_back(id);
  return ids;
}

std::string OciContainerizer::TearDown(const ContainerId& id, const std::string& bundle,
                                       const std::string& cgroups_path) {
  std::vector<std::string> failures;
  // Whatever is left (runc killed half-way) goes first.
  cgroups_.SignalAll(cgroups_path, SIGKILL);
  Result<RunOutput> deleted = RunToEnd(Runc({"delete", "--force", id}));
  if (!deleted.ok()) {
    failures.push_back(deleted.status().message());
  } else if (deleted->wait_status != 0 &&
             deleted->output.find("does not exist") == std::string::npos &&
             deleted->output.find("not exist") == std::string::npos) {
    failures.push_back("runc delete " + DescribeWaitStatus(deleted->wait_status) + ": " +
                       deleted->output);
  }
  const std::string rootfs = bundle + "/rootfs";
  if (::umount2(rootfs.c_str(), 0) != 0 && errno != EINVAL && errno != ENOENT) {
    if (::umount2(rootfs.c_str(), MNT_DETACH) != 0 && errno != EINVAL) {
      failures.push_back(ErrnoText("umount " + rootfs));
    }
  }
  if (HasMountUnder(bundle)) {
    failures.push_back(bundle + " still has something mounted; left in place");
  } else if (Status s = RemoveTree(bundle); !s.ok()) {
    failures.push_back(s.message());
  }
  // Killed processes take a moment to leave their cgroup.
  for (int i = 0; i < 100 && !cgroups_.Pids(cgroups_path).empty(); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  if (Status s = cgroups_.Remove(cgroups_path); !s.ok()) failures.push_back(s.message());
  std::string summary;
  for (const auto& f : failures) summary += (summary.empty() ? "" : "; ") + f;
  return summary;
}

}  // namespace keel::modules::oci
