#include "modules/isolator/posix_usage/proc_stat.hpp"

#include <dirent.h>

#include <fstream>
#include <sstream>

namespace keel::modules {

std::optional<ProcStat> ParseProcStat(const std::string& line) {
  ProcStat s;
  auto open = line.find('(');
  auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return {};
  try {
    s.pid = static_cast<pid_t>(std::stol(line.substr(0, open)));
  } catch (...) {
    return {};
  }
  // After ") ": state(3) ppid(4) ... utime(14) stime(15) ... num_threads(20).
  std::istringstream rest(line.substr(close + 1));
  std::string field;
  std::vector<std::string> fields;
  while (rest >> field) fields.push_back(field);
  if (fields.size() < 18) return {};
  try {
    s.state = fields[0].empty() ? '?' : fields[0][0];
    s.ppid = static_cast<pid_t>(std::stol(fields[1]));
    s.utime_ticks = std::stoull(fields[11]);
    s.stime_ticks = std::stoull(fields[12]);
    s.num_threads = std::stoll(fields[17]);
  } catch (...) {
    return {};
  }
  return s;
}

std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  return ParseProcStat(line);
}

std::optional<uint64_t> ReadRssPages(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
  uint64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return {};
  return resident;
}

std::vector<pid_t> ListPids() {
  std::vector<pid_t> pids;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return pids;
  while (dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end == '\0' && pid > 0) pids.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(dir);
  return pids;
}

}  // namespace keel::modules
