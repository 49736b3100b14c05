// Shared by the cluster tests: fast timers, and reading a task's files.
#pragma once

#include <signal.h>

#include <chrono>
#include <string>

#include "tests/support/local_cluster.hpp"
#include "tests/support/test_framework.hpp"

namespace keel::test {

// Timers short enough for tests: allocation every 100 ms, an agent silent for
// 3 x 300 ms is unreachable, updates retried from 200 ms, kills escalate
// after 1 s.
inline ClusterOptions FastCluster() {
  ClusterOptions o;
  o.master_flags = {"--allocation_interval=100ms", "--agent_ping_timeout=300ms",
                    "--max_agent_ping_timeouts=3"};
  o.agent_flags = {"--status_update_retry_min=200ms", "--status_update_retry_max=1s",
                   "--kill_grace_period=1s", "--resources=cpus:2;mem:1024;disk:1024"};
  return o;
}

// The sandbox of a task the agent ran (the agent's one run of it).
std::string SandboxOf(const LocalCluster& cluster, const std::string& framework_id,
                      const std::string& task_id);
// The same for an agent with work dir `agent_work_dir`.
std::string SandboxIn(const std::string& agent_work_dir, const std::string& framework_id,
                      const std::string& task_id);

// SandboxOf(), waiting up to 10 s for the sandbox to exist: a task's own
// process makes it, after the agent reported TASK_RUNNING.
std::string WaitForSandbox(const LocalCluster& cluster, const std::string& framework_id,
                           const std::string& task_id);

// The pid a task wrote to `pid` in its sandbox (`echo $$ > pid`), waiting up
// to 10 s for it; -1 if it never appears.
pid_t TaskPid(const LocalCluster& cluster, const std::string& framework_id,
              const std::string& task_id);
pid_t TaskPidIn(const std::string& agent_work_dir, const std::string& framework_id,
                const std::string& task_id);

// True once no process `pid` exists (or it is a zombie nobody reaped yet).
bool ProcessGone(pid_t pid, std::chrono::milliseconds timeout);

// A task of `offer` for CUSTOM executor `executor_id` (0.1 cpus) whose
// command is `command`; the task itself has none.
v1::TaskInfo ExecutorTask(const std::string& id, const v1::Offer& offer,
                          const std::string& executor_id, const std::string& command);

// An ACCEPT of `offer` with one LAUNCH_GROUP on executor `id` (0.1 cpus,
// 256 MB), its task group still empty.
v1::scheduler::Call LaunchGroupCall(const v1::Offer& offer, const std::string& id,
                                    v1::ExecutorInfo::Type type);

}  // namespace keel::test
