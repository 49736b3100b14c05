#include "modules/isolator/cgroups/cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

namespace keel::modules {
namespace {

using Clock = std::chrono::steady_clock;

std::string FailedTo(const std::string& what, const std::string& path, int error) {
  return "cannot " + what + " " + path + ": " + DescribeErrno(error);
}

Status WriteFile(const std::string& path, std::string_view value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::Error(FailedTo("open", path, errno));
  ssize_t written = ::write(fd, value.data(), value.size());
  int error = errno;
  ::close(fd);
  if (written < 0) {
    return Status::Error("cannot write '" + std::string(value) + "' to " + path + ": " +
                         DescribeErrno(error));
  }
  if (static_cast<size_t>(written) != value.size()) {
    return Status::Error("short write of '" + std::string(value) + "' to " + path);
  }
  return Status::Ok();
}

// ENOENT is reported through `missing` (when given) instead of an error.
Result<std::string> ReadFile(const std::string& path, bool* missing = nullptr) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && missing != nullptr) {
      *missing = true;
      return std::string();
    }
    return Status::Error(FailedTo("open", path, errno));
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      // A cgroup removed between open and read answers ENODEV.
      if ((error == ENODEV || error == ENOENT) && missing != nullptr) {
        *missing = true;
        return std::string();
      }
      return Status::Error(FailedTo("read", path, error));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

Result<std::vector<std::string>> ChildDirectories(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return names;
    return Status::Error(FailedTo("list", path, errno));
  }
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = ::stat((path + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) names.push_back(name);
  }
  ::closedir(dir);
  return names;
}

Status CollectProcesses(const std::string& path, std::vector<pid_t>* pids) {
  bool missing = false;
  Result<std::string> procs = ReadFile(path + "/cgroup.procs", &missing);
  if (!procs.ok()) return procs.status();
  if (missing) return Status::Ok();
  std::istringstream in(*procs);
  long pid = 0;
  while (in >> pid) pids->push_back(static_cast<pid_t>(pid));
  Result<std::vector<std::string>> children = ChildDirectories(path);
  if (!children.ok()) return children.status();
  for (const std::string& child : *children) {
    if (Status s = CollectProcesses(path + "/" + child, pids); !s.ok()) return s;
  }
  return Status::Ok();
}

Status RemoveTree(const std::string& path, Clock::time_point deadline) {
  Result<std::vector<std::string>> children = ChildDirectories(path);
  if (!children.ok()) return children.status();
  for (const std::string& child : *children) {
    if (Status s = RemoveTree(path + "/" + child, deadline); !s.ok()) return s;
  }
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return Status::Ok();
    const int error = errno;
    if (error != EBUSY || Clock::now() >= deadline) {
      std::string message = FailedTo("remove", path, error);
      if (error == EBUSY) {
        std::vector<pid_t> left;
        if (CollectProcesses(path, &left).ok() && !left.empty()) {
          message += " (processes left:";
          for (pid_t pid : left) message += " " + std::to_string(pid);
          message += ")";
        }
      }
      return Status::Error(message);
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(16));
  }
}

}  // namespace

std::string DescribeErrno(int error) {
  const char* name = nullptr;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  name = ::strerrorname_np(error);
#endif
  std::string text = name != nullptr ? std::string(name) : "errno " + std::to_string(error);
  return text + " (" + std::strerror(error) + ")";
}

std::map<std::string, uint64_t> ParseFlatKeyed(std::string_view text) {
  std::map<std::string, uint64_t> values;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key, value, extra;
    if (!(fields >> key >> value) || (fields >> extra)) continue;
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos) continue;
    try {
      values[key] = std::stoull(value);
    } catch (const std::exception&) {
      // Out of range: not a counter we can use.
    }
  }
  return values;
}

Cgroup::Cgroup(ControllerMount mount, std::string relative)
    : mount_(std::move(mount)), path_(mount_.mount_point + "/" + relative) {}

bool Cgroup::Exists() const {
  struct stat st;
  return ::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status Cgroup::Create() const {
  // The directories from the mount down to this cgroup.
  std::vector<std::string> levels;
  std::string relative = path_.substr(mount_.mount_point.size());
  std::string current = mount_.mount_point;
  std::istringstream parts(relative);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    current += "/" + part;
    levels.push_back(current);
  }

  const bool v2 = mount_.version == CgroupVersion::kV2;
  std::string parent = mount_.mount_point;
  for (const std::string& level : levels) {
    if (v2) {
      const std::string control = parent + "/cgroup.subtree_control";
      Result<std::string> enabled = ReadFile(control);
      if (!enabled.ok()) return enabled.status();
      std::istringstream words(*enabled);
      std::string word;
      bool on = false;
      while (words >> word) on = on || word == mount_.controller;
      if (!on) {
        if (Status s = WriteFile(control, "+" + mount_.controller); !s.ok()) return s;
      }
    }
    if (::mkdir(level.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::Error(FailedTo("create", level, errno));
    }
    parent = level;
  }
  return Status::Ok();
}

Status Cgroup::Write(std::string_view file, std::string_view value) const {
  return WriteFile(path_ + "/" + std::string(file), value);
}

Result<std::string> Cgroup::Read(std::string_view file) const {
  return ReadFile(path_ + "/" + std::string(file));
}

Result<std::map<std::string, uint64_t>> Cgroup::ReadFlatKeyed(std::string_view file) const {
  Result<std::string> text = Read(file);
  if (!text.ok()) return text.status();
  return ParseFlatKeyed(*text);
}

Status Cgroup::AddProcess(pid_t pid) const { return Write("cgroup.procs", std::to_string(pid)); }

Result<std::vector<pid_t>> Cgroup::Processes() const {
  std::vector<pid_t> pids;
  if (Status s = CollectProcesses(path_, &pids); !s.ok()) return s;
  return pids;
}

Status Cgroup::Signal(int signal) const {
  if (signal == SIGKILL && mount_.version == CgroupVersion::kV2 &&
      ::access((path_ + "/cgroup.kill").c_str(), F_OK) == 0) {
    return Write("cgroup.kill", "1");
  }
  Result<std::vector<pid_t>> pids = Processes();
  if (!pids.ok()) return pids.status();
  for (pid_t pid : *pids) {
    if (::kill(pid, signal) != 0 && errno != ESRCH) {
      return Status::Error("cannot send signal " + std::to_string(signal) + " to process " +
                           std::to_string(pid) + " of " + path_ + ": " + DescribeErrno(errno));
    }
  }
  return Status::Ok();
}

Status Cgroup::KillAll(std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    Result<std::vector<pid_t>> pids = Processes();
    if (!pids.ok()) return pids.status();
    if (pids->empty()) return Status::Ok();
    if (Clock::now() >= deadline) {
      std::string left;
      for (pid_t pid : *pids) left += " " + std::to_string(pid);
      return Status::Error("processes still in " + path_ + " after " +
                           std::to_string(timeout.count()) + "ms of SIGKILL:" + left);
    }
    // Each round kills what it sees; a process forked meanwhile is caught by
    // the next round (or, on v2, by cgroup.kill itself).
    if (Status s = Signal(SIGKILL); !s.ok() && Exists()) return s;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(16));
  }
}

Result<std::vector<std::string>> Cgroup::Children() const { return ChildDirectories(path_); }

Status Cgroup::CreateChild(const std::string& name) const {
  const std::string child = path_ + "/" + name;
  if (::mkdir(child.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::Error(FailedTo("create", child, errno));
  }
  return Status::Ok();
}

Status Cgroup::RemoveChild(const std::string& name) const {
  const std::string child = path_ + "/" + name;
  if (::rmdir(child.c_str()) != 0 && errno != ENOENT) {
    return Status::Error(FailedTo("remove", child, errno));
  }
  return Status::Ok();
}

Status Cgroup::Remove(std::chrono::milliseconds timeout) const {
  return RemoveTree(path_, Clock::now() + timeout);
}

}  // namespace keel::modules
