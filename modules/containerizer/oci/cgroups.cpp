#include "modules/containerizer/oci/cgroups.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>

#include "modules/containerizer/oci/rooted_files.hpp"

namespace keel::modules::oci {
namespace {

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (c == sep) {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(current);
  return parts;
}

// "key value" lines (memory.stat, cpu.stat, memory.oom_control ...).
std::map<std::string, uint64_t> KeyValues(const std::string& file) {
  std::map<std::string, uint64_t> values;
  std::ifstream in(file);
  std::string key;
  uint64_t value;
  while (in >> key >> value) values[key] = value;
  return values;
}

std::optional<uint64_t> Single(const std::string& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text)) return std::nullopt;
  if (text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoull(text);
}

std::vector<pid_t> ReadPids(const std::string& file) {
  std::vector<pid_t> pids;
  std::ifstream in(file);
  long pid;
  while (in >> pid) pids.push_back(static_cast<pid_t>(pid));
  return pids;
}

}  // namespace

Result<CgroupLayout> CgroupLayout::Detect() {
  CgroupLayout layout;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    const auto before = Words(line.substr(0, dash));
    const auto after = Words(line.substr(dash + 3));
    if (before.size() < 5 || after.size() < 3) continue;
    const std::string& point = before[4];
    if (after[0] == "cgroup2") {
      layout.unified_root_ = point;
      layout.hierarchies_.push_back(point);
    } else if (after[0] == "cgroup") {
      layout.hierarchies_.push_back(point);
      for (const std::string& option : Split(after[2], ',')) {
        if (!layout.subsystems_.count(option)) layout.subsystems_[option] = point;
      }
    }
  }
  if (layout.hierarchies_.empty()) return Status::Error("no cgroup file system is mounted");
  layout.unified_ = !layout.subsystems_.count("memory") && !layout.unified_root_.empty();
  return layout;
}

std::string CgroupLayout::Dir(const std::string& subsystem, const std::string& path) const {
  if (unified_) return unified_root_ + path;
  auto it = subsystems_.find(subsystem);
  if (it == subsystems_.end()) return "";
  return it->second + path;
}

void CgroupLayout::AddUsage(const std::string& path, ResourceStatistics* stats) const {
  if (unified_) {
    const std::string dir = unified_root_ + path;
    auto cpu = KeyValues(dir + "/cpu.stat");
    stats->cpus_user_time_secs += static_cast<double>(cpu["user_usec"]) / 1e6;
    stats->cpus_system_time_secs += static_cast<double>(cpu["system_usec"]) / 1e6;
    auto memory = KeyValues(dir + "/memory.stat");
    stats->mem_rss_bytes += memory["anon"];
  } else {
    const std::string cpuacct = Dir("cpuacct", path);
    if (!cpuacct.empty()) {
      auto cpu = KeyValues(cpuacct + "/cpuacct.stat");
      const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
      stats->cpus_user_time_secs += static_cast<double>(cpu["user"]) / ticks;
      stats->cpus_system_time_secs += static_cast<double>(cpu["system"]) / ticks;
    }
    const std::string memory = Dir("memory", path);
    if (!memory.empty()) {
      auto values = KeyValues(memory + "/memory.stat");
      stats->mem_rss_bytes += values.count("total_rss") ? values["total_rss"] : values["rss"];
    }
  }
  const std::string pids = Dir("pids", path);
  if (!pids.empty()) {
    struct stat st {};
    if (::stat(pids.c_str(), &st) == 0) {
      stats->processes = ReadPids(pids + "/cgroup.procs").size();
      if (auto current = Single(pids + "/pids.current")) stats->threads = *current;
    }
  }
}

uint64_t CgroupLayout::OomKills(const std::string& path) const {
  const std::string memory = Dir("memory", path);
  if (memory.empty()) return 0;
  auto values = KeyValues(memory + (unified_ ? "/memory.events" : "/memory.oom_control"));
  return values["oom_kill"];
}

std::vector<pid_t> CgroupLayout::Pids(const std::string& path) const {
  std::string dir;
  for (const char* subsystem : {"pids", "memory", "cpu"}) {
    dir = Dir(subsystem, path);
    if (!dir.empty()) break;
  }
  if (dir.empty()) return {};
  return ReadPids(dir + "/cgroup.procs");
}

int CgroupLayout::SignalAll(const std::string& path, int signal) const {
  int reached = 0;
  for (pid_t pid : Pids(path)) {
    Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd.valid()) continue;  // gone already
    // The descriptor holds this very process: if the pid is still in the
    // cgroup now, it is ours (the same process, or a new one of ours).
    const std::vector<pid_t> now = Pids(path);
    if (std::find(now.begin(), now.end(), pid) == now.end()) continue;
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) == 0) ++reached;
  }
  return reached;
}

std::vector<std::string> CgroupLayout::Existing(const std::string& path) const {
  std::vector<std::string> dirs;
  for (const std::string& root : hierarchies_) {
    struct stat st {};
    const std::string dir = root + path;
    if (::stat(dir.c_str(), &st) == 0) dirs.push_back(dir);
  }
  return dirs;
}

Status CgroupLayout::Remove(const std::string& path) const {
  std::string failures;
  for (const std::string& dir : Existing(path)) {
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
      failures += (failures.empty() ? "" : "; ") + ErrnoText("rmdir " + dir);
    }
  }
  if (!failures.empty()) return Status::Error(failures);
  return Status::Ok();
}

}  // namespace keel::modules::oci
