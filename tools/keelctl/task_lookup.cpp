#include "tools/keelctl/task_lookup.hpp"

#include <vector>

#include "keel/task_state.hpp"
#include "tools/keelctl/json_fields.hpp"

namespace keel::keelctl {

namespace {

// Adds `task` to `found` unless its framework already has an entry there.
Outcome<bool> Collect(const Struct& task, const std::string& where, std::vector<TaskRef>* found) {
  TaskRef ref;
  ref.id = Text(task, "id", "");
  auto framework = RequiredText(task, "framework_id", where);
  if (!framework.ok()) return framework.failure();
  ref.framework_id = *framework;
  ref.agent_id = Text(task, "slave_id", "");
  ref.state = Text(task, "state", "");
  for (const auto& other : *found) {
    if (other.framework_id == ref.framework_id) return false;
  }
  found->push_back(ref);
  return true;
}

// Tasks `task_id` of frameworks that ended, from /master/state.
Outcome<bool> CollectCompleted(const MasterClient& client, const std::string& task_id,
                               const std::string& framework_id, std::vector<TaskRef>* found) {
  auto state = client.GetJson("/master/state");
  if (!state.ok()) return state.failure();
  auto frameworks = Objects(*state, "completed_frameworks", "the master's /master/state");
  if (!frameworks.ok()) return frameworks.failure();
  for (const Struct* f : *frameworks) {
    if (!framework_id.empty() && Text(*f, "id", "") != framework_id) continue;
    for (const char* list : {"tasks", "unreachable_tasks", "completed_tasks"}) {
      auto tasks = Objects(*f, list, "a completed framework in /master/state");
      if (!tasks.ok()) continue;  // an older master may lack a list: the others still count
      for (const Struct* t : *tasks) {
        if (Text(*t, "id", "") != task_id) continue;
        if (auto added = Collect(*t, "task '" + task_id + "' in /master/state", found); !added.ok())
          return added;
      }
    }
  }
  return true;
}

}  // namespace

Outcome<TaskRef> FindTask(const MasterClient& client, const std::string& task_id,
                          const std::string& framework_id) {
  std::string target = "/master/tasks?limit=1000&task_id=" + QueryEncode(task_id);
  if (!framework_id.empty()) target += "&framework_id=" + QueryEncode(framework_id);
  auto answer = client.GetJson(target);
  if (!answer.ok()) return answer.failure();
  auto tasks = Objects(*answer, "tasks", "the master's answer to GET " + target);
  if (!tasks.ok()) return tasks.failure();
  std::vector<TaskRef> found;
  for (const Struct* t : *tasks) {
    if (Text(*t, "id", "") != task_id) continue;
    if (auto added = Collect(*t, "task '" + task_id + "' in /master/tasks", &found); !added.ok())
      return added.failure();
  }
  if (found.empty()) {
    if (auto added = CollectCompleted(client, task_id, framework_id, &found); !added.ok())
      return added.failure();
  }
  if (found.empty()) {
    return Failure{kExitNotFound,
                   "the master knows no task '" + task_id + "'" +
                       (framework_id.empty() ? std::string() : " in framework " + framework_id)};
  }
  if (found.size() > 1) {
    std::string list;
    for (const auto& t : found) {
      list += (list.empty() ? "" : ", ") + t.framework_id + " (" + t.state + ")";
    }
    return Failure{kExitUsage, "task '" + task_id + "' is in " + std::to_string(found.size()) +
                                   " frameworks: " + list + "; pick one with --framework=ID"};
  }
  return found.front();
}

Outcome<Endpoint> AgentEndpoint(const MasterClient& client, const std::string& agent_id) {
  auto answer = client.GetJson("/master/slaves");
  if (!answer.ok()) return answer.failure();
  auto agents = Objects(*answer, "slaves", "the master's /master/slaves");
  if (!agents.ok()) return agents.failure();
  for (const Struct* a : *agents) {
    if (Text(*a, "id", "") != agent_id) continue;
    // The pid has the address the agent bound; the hostname may not resolve here.
    const std::string pid = Text(*a, "pid", "");
    if (auto at = pid.find('@'); at != std::string::npos) {
      if (auto e = ParseEndpoint(pid.substr(at + 1), "agent pid"); e.ok()) return *e;
    }
    const std::string hostname = Text(*a, "hostname", "");
    const double port = Number(*a, "port", 0);
    if (hostname.empty() || !(port >= 1 && port <= 65535)) {
      return Failure{kExitFailed, "the master's entry for agent " + agent_id +
                                      " has neither a pid 'NAME@IP:PORT' nor a hostname and port"};
    }
    return Endpoint{hostname, static_cast<uint16_t>(port)};
  }
  return Failure{kExitUnreachable, "the master has no agent " + agent_id +
                                       " (unreachable or removed): its sandboxes cannot be read"};
}

bool IsTerminalState(const std::string& state) {
  v1::TaskState parsed;
  return v1::TaskState_Parse(state, &parsed) && IsTerminal(parsed);
}

}  // namespace keel::keelctl
