// Finding one task, and the agent it ran on, from what the master says:
// shared by `keelctl logs` and `keelctl kill`.
#pragma once

#include <string>

#include "tools/keelctl/master_client.hpp"

namespace keel::keelctl {

struct TaskRef {
  std::string id;
  std::string framework_id;
  std::string agent_id;
  std::string state;  // "TASK_RUNNING", ...
};

// Task `task_id` as the master knows it: in a live framework (from
// /master/tasks), else in a completed one (from /master/state); only in
// framework `framework_id` unless it is empty. A live task wins over an
// ended one of the same id and framework. Failures: kExitNotFound when no
// framework has it, kExitUsage (listing them) when several do and
// `framework_id` is empty, and the client's.
Outcome<TaskRef> FindTask(const MasterClient& client, const std::string& task_id,
                          const std::string& framework_id);

// Where agent `agent_id` serves HTTP: the ip and port of its pid
// ("slave(1)@10.0.0.5:5051"), from /master/slaves. kExitUnreachable when
// the master has no such agent (unreachable or removed).
Outcome<Endpoint> AgentEndpoint(const MasterClient& client, const std::string& agent_id);

// True for FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE and
// GONE_BY_OPERATOR, as keel::IsTerminal; false for other and unknown names.
bool IsTerminalState(const std::string& state);

}  // namespace keel::keelctl
