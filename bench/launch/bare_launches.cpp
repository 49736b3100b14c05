// The baselines: processes started by hand, the way the containerizers start
// theirs minus Keel (a, b), and runc run by hand (d).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "bench/launch/launch_bench.hpp"
#include "keel/resources.hpp"
#include "modules/containerizer/oci/runtime_spec.hpp"

namespace keel::bench {
namespace fs = std::filesystem;

ReadySignal::ReadySignal(const std::string& dir) : dir_(dir) {
  fs::create_directories(dir_);
  const std::string path = fifo();
  if (::mkfifo(path.c_str(), 0666) != 0 && errno != EEXIST) {
    throw std::runtime_error("mkfifo " + path + ": " + std::strerror(errno));
  }
  // Read-write: the bench is a writer too, so the FIFO never reports a hang
  // up before the task wrote.
  fd_ = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
}

ReadySignal::~ReadySignal() {
  if (fd_ >= 0) ::close(fd_);
}

bool ReadySignal::Wait(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  int n;
  do {
    n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  char buffer[16];
  (void)!::read(fd_, buffer, sizeof(buffer));
  return true;
}

std::string TaskScript(const std::string& fifo) { return "echo > " + fifo; }

namespace {

// Starts /bin/sh -c `script`, held until `before_exec(pid)` returned.
pid_t StartHeld(const std::string& script, const std::function<void(pid_t)>& before_exec) {
  int hold[2];
  if (::pipe2(hold, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(hold[1]);
    char go;
    if (::read(hold[0], &go, 1) != 1) ::_exit(126);
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(hold[0]);
  before_exec(pid);
  (void)!::write(hold[1], "g", 1);
  ::close(hold[1]);
  return pid;
}

void WaitExit(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void WriteFile(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

CaseResult RunCase(const std::string& name, const std::string& work, int launches,
                   const std::function<LaunchTiming(int, ReadySignal&)>& launch_and_wait) {
  CaseResult result;
  result.name = name;
  try {
    for (int i = 0; i < launches; ++i) {
      ReadySignal ready(work + "/" + name + "/" + std::to_string(i));
      result.launches.push_back(launch_and_wait(i, ready));
      fs::remove_all(ready.dir());
    }
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  return result;
}

CaseResult BareForkExec(const std::string& work, int launches) {
  return RunCase("bare", work, launches, [&](int, ReadySignal& ready) {
    const auto start = Clock::now();
    const pid_t pid = StartHeld(TaskScript(ready.fifo()), [](pid_t) {});
    if (!ready.Wait(std::chrono::seconds(10))) throw std::runtime_error("task never ran");
    const auto ran = Clock::now();
    WaitExit(pid);
    return LaunchTiming{MillisSince(start, ran), MillisSince(start, Clock::now())};
  });
}

CaseResult ForkExecIntoCgroups(const std::string& work, int launches) {
  const std::string base = "keel-bench-launch-" + std::to_string(::getpid());
  return RunCase("cgroups", work, launches, [&](int i, ReadySignal& ready) {
    const std::string leaf = "/" + base + "-" + std::to_string(i);
    const std::string cpu = "/sys/fs/cgroup/cpu" + leaf;
    const std::string memory = "/sys/fs/cgroup/memory" + leaf;
    const std::string pids = "/sys/fs/cgroup/pids" + leaf;
    const auto start = Clock::now();
    for (const std::string& dir : {cpu, memory, pids}) {
      if (::mkdir(dir.c_str(), 0755) != 0) {
        throw std::runtime_error("mkdir " + dir + ": " + std::strerror(errno));
      }
    }
    WriteFile(cpu + "/cpu.shares", "102");
    WriteFile(memory + "/memory.limit_in_bytes", std::to_string(64 << 20));
    WriteFile(pids + "/pids.max", "1024");
    const pid_t pid = StartHeld(TaskScript(ready.fifo()), [&](pid_t child) {
      for (const std::string& dir : {cpu, memory, pids}) {
        WriteFile(dir + "/cgroup.procs", std::to_string(child));
      }
    });
    if (!ready.Wait(std::chrono::seconds(10))) throw std::runtime_error("task never ran");
    const auto ran = Clock::now();
    WaitExit(pid);
    for (const std::string& dir : {cpu, memory, pids}) ::rmdir(dir.c_str());
    return LaunchTiming{MillisSince(start, ran), MillisSince(start, Clock::now())};
  });
}

CaseResult BareRunc(const std::string& rootfs, const std::string& work, int launches) {
  const std::string state = work + "/runc-state";
  fs::create_directories(state);
  return RunCase("runc", work, launches, [&](int i, ReadySignal& ready) {
    const std::string id = "keel-bench-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    const std::string bundle = ready.dir() + "/bundle";
    const auto start = Clock::now();
    fs::create_directories(bundle);
    // The config the oci containerizer writes (its own code makes it), over
    // the image's root file system read-only: what is left to compare is
    // the containerizer's work around runc.
    ContainerLaunch launch;
    launch.id = id;
    launch.config.sandbox_dir = ready.dir();
    launch.config.resources = *Resources::Parse("cpus:0.1;mem:64");
    modules::oci::ProcessSpec process;
    process.args = {"/bin/sh", "-c", "echo > /mnt/mesos/sandbox/ready"};
    process.env = {"PATH=/bin:/sbin:/usr/bin", "MESOS_SANDBOX=/mnt/mesos/sandbox"};
    process.cwd = "/";
    modules::oci::RuntimeOptions options;
    options.rootfs = rootfs;
    options.readonly_rootfs = true;
    options.cgroups_path = "/keel-bench/" + id;
    options.max_pids = 1024;
    std::ofstream(bundle + "/config.json")
        << modules::oci::RuntimeConfigJson(process, launch, options);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork");
    if (pid == 0) {
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execlp("runc", "runc", "--root", state.c_str(), "run", "--bundle", bundle.c_str(),
               id.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (!ready.Wait(std::chrono::seconds(20))) {
      ::kill(pid, SIGKILL);
      WaitExit(pid);
      throw std::runtime_error("runc's task never ran (is runc installed? see " + bundle + ")");
    }
    const auto ran = Clock::now();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return LaunchTiming{MillisSince(start, ran), MillisSince(start, Clock::now())};
  });
}

}  // namespace keel::bench
