// Reading /proc/<pid>/stat and /proc/<pid>/statm: the little of procfs the
// POSIX usage isolator needs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace keel::modules {

struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  int64_t num_threads = 0;
};

// Parses one stat line. The command name sits in parentheses and may hold
// spaces and ')' itself, so fields are counted from the last ')'.
std::optional<ProcStat> ParseProcStat(const std::string& line);

std::optional<ProcStat> ReadProcStat(pid_t pid);
// Resident pages from /proc/<pid>/statm, or nothing if the process is gone.
std::optional<uint64_t> ReadRssPages(pid_t pid);
std::vector<pid_t> ListPids();

}  // namespace keel::modules
