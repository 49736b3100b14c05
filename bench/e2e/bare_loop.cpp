// The baseline: the same command forked and exec'd by hand, with no daemon,
// protocol or sandbox in between.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "bench/e2e/e2e.hpp"

namespace keel::bench {

Result<double> BareForkExec(int count, int concurrency) {
  const auto start = std::chrono::steady_clock::now();
  int started = 0, running = 0;
  while (started < count || running > 0) {
    while (started < count && running < concurrency) {
      pid_t pid = ::fork();
      if (pid < 0) return Status::Error(std::string("fork: ") + std::strerror(errno));
      if (pid == 0) {
        ::execl("/bin/sh", "sh", "-c", kCommand, static_cast<char*>(nullptr));
        ::_exit(127);
      }
      ++started;
      ++running;
    }
    int status = 0;
    if (::waitpid(-1, &status, 0) < 0) {
      return Status::Error(std::string("waitpid: ") + std::strerror(errno));
    }
    --running;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return Status::Error("/bin/sh -c " + std::string(kCommand) + " failed: status " +
                           std::to_string(status));
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace keel::bench
