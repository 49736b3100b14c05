#include "kernel/agent/resource_detection.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace keel::agent {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Mesos's reserve for the host: half of a small total, else a fixed amount.
double LessReserve(double total_mb, double fixed_mb) {
  return total_mb < 2 * fixed_mb ? total_mb / 2 : total_mb - fixed_mb;
}

Result<double> MemTotalMb() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemTotal:") return kb / 1024.0;
  }
  return Status::Error("/proc/meminfo: no MemTotal line");
}

}  // namespace

Result<Resources> DetectResources(const std::string& work_dir) {
  Resources r;
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  r += Resources::Scalar("cpus", cpus > 0 ? static_cast<double>(cpus) : 1.0);
  auto mem = MemTotalMb();
  if (!mem.ok()) return mem.status();
  r += Resources::Scalar("mem", static_cast<double>(static_cast<int64_t>(LessReserve(*mem, 1024))));
  struct statvfs fs {};
  if (::statvfs(work_dir.c_str(), &fs) != 0) {
    return Status::Error("work_dir " + work_dir + ": cannot measure its file system");
  }
  const double disk_mb = static_cast<double>(fs.f_blocks) * fs.f_frsize / kMiB;
  r += Resources::Scalar("disk",
                         static_cast<double>(static_cast<int64_t>(LessReserve(disk_mb, 5120))));
  auto ports = Resources::Parse("ports:[31000-32000]");
  r += *ports;
  return r;
}

Result<Resources> AgentResources(const std::string& work_dir, const std::string& given) {
  auto detected = DetectResources(work_dir);
  if (!detected.ok()) return detected;
  if (given.empty()) return detected;
  auto parsed = Resources::Parse(given);
  if (!parsed.ok()) return parsed.status();
  Resources out;
  for (const Resource& entry : detected->entries()) {
    if (!parsed->Names().count(entry.name)) (void)out.Add(entry);
  }
  out += *parsed;
  return out;
}

}  // namespace keel::agent
