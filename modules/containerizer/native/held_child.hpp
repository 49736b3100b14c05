// HeldChild: a container's first process, started and then held before
// execve() until Release(), so that isolators can act on its pid (move it into
// cgroups) before it runs anything of the task.
//
// The child is cloned with CLONE_VM rather than forked: it shares the
// daemon's memory until its execve(), so starting it copies no page tables
// and the daemon takes no copy-on-write faults afterwards (fork() of the
// agent cost more than the task's own exec). The price: until then the child
// runs on a stack and reads a spec owned here, which must outlive its
// execve(); memory() hands them to whoever keeps the container until it is
// reaped.
//
// The child leads its own process group, has default signal dispositions and
// an empty signal mask, runs in the sandbox with stdin from /dev/null and
// stdout/stderr appended to the sandbox's files. If the parent closes the
// hold without releasing it, the child exits with status 126; if it cannot set
// itself up or execve() fails, it writes why to its stderr and exits with 127.
#pragma once

#include <sys/types.h>

#include <memory>

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
  // What the child reads until it execs; keep it until the child is reaped.
  std::shared_ptr<void> memory() const { return memory_; }
  // Lets the child execve(). The caller then owns reaping it.
  Status Release();
  // SIGKILLs the child's group and reaps the child before returning.
  void Abort();

 private:
  HeldChild(pid_t pid, int hold_fd, std::shared_ptr<void> memory)
      : pid_(pid), hold_fd_(hold_fd), memory_(std::move(memory)) {}

  pid_t pid_;
  int hold_fd_;  // -1 once released or aborted
  std::shared_ptr<void> memory_;
};

}  // namespace keel::modules
