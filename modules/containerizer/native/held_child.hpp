// HeldChild: a container's first process, forked and then held before
// execve() until Release(), so that isolators can act on its pid (move it into
// cgroups) before it runs anything of the task.
//
// The child leads its own process group, has default signal dispositions and
// an empty signal mask, runs in the sandbox with stdin from /dev/null and
// stdout/stderr appended to the sandbox's files. If the parent closes the
// hold without releasing it, the child exits with status 126; if it cannot set
// itself up or execve() fails, it writes why to its stderr and exits with 127.
#pragma once

#include <sys/types.h>

#include "keel/status.hpp"
#include "modules/containerizer/native/child_spec.hpp"

namespace keel::modules {

class HeldChild {
 public:
  static Result<HeldChild> Fork(const ChildSpec& spec);

  HeldChild(HeldChild&& other) noexcept;
  HeldChild& operator=(HeldChild&&) = delete;
  HeldChild(const HeldChild&) = delete;
  HeldChild& operator=(const HeldChild&) = delete;
  // Abort()s a child neither released nor aborted.
  ~HeldChild();

  pid_t pid() const { return pid_; }
  // Lets the child execve(). The caller then owns reaping it.
  Status Release();
  // SIGKILLs the child's group and reaps the child before returning.
  void Abort();

 private:
  HeldChild(pid_t pid, int hold_fd) : pid_(pid), hold_fd_(hold_fd) {}

  pid_t pid_;
  int hold_fd_;  // -1 once released or aborted
};

}  // namespace keel::modules
