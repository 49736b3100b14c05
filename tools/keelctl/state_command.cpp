#include "tools/keelctl/state_command.hpp"

#include <chrono>
#include <iostream>
#include <map>
#include <vector>

#include "tools/keelctl/json_fields.hpp"

namespace keel::keelctl {

namespace {

std::string Uptime(double seconds) {
  if (!(seconds >= 0)) return "-";
  long s = static_cast<long>(seconds);
  const long days = s / 86400, hours = s / 3600 % 24, minutes = s / 60 % 60;
  s %= 60;
  if (days > 0) return std::to_string(days) + "d" + std::to_string(hours) + "h";
  if (hours > 0) return std::to_string(hours) + "h" + std::to_string(minutes) + "m";
  if (minutes > 0) return std::to_string(minutes) + "m" + std::to_string(s) + "s";
  return std::to_string(s) + "s";
}

// "TASK_RUNNING" -> "running".
std::string Lower(const std::string& state) {
  std::string out = state.rfind("TASK_", 0) == 0 ? state.substr(5) : state;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "2 running, 5 finished": live states first, then ended ones, then any
// state this keelctl does not know.
std::string TaskCounts(const std::map<std::string, int>& counts) {
  static const char* kOrder[] = {
      "TASK_STAGING",  "TASK_STARTING", "TASK_RUNNING",          "TASK_KILLING", "TASK_UNREACHABLE",
      "TASK_FINISHED", "TASK_FAILED",   "TASK_KILLED",           "TASK_ERROR",   "TASK_LOST",
      "TASK_DROPPED",  "TASK_GONE",     "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN"};
  std::string out;
  auto add = [&](const std::string& state, int n) {
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + Lower(state);
  };
  std::map<std::string, int> rest = counts;
  for (const char* state : kOrder) {
    if (auto it = rest.find(state); it != rest.end()) {
      add(state, it->second);
      rest.erase(it);
    }
  }
  for (const auto& [state, n] : rest) add(state, n);
  return out.empty() ? "none" : out;
}

void CountTasks(const std::vector<const Struct*>& frameworks, std::map<std::string, int>* counts) {
  for (const Struct* f : frameworks) {
    for (const char* list : {"tasks", "unreachable_tasks", "completed_tasks"}) {
      auto tasks = Objects(*f, list, "a framework");
      if (!tasks.ok()) continue;
      for (const Struct* t : *tasks) ++(*counts)[Text(*t, "state", "TASK_UNKNOWN")];
    }
  }
}

int Summary(const Struct& state) {
  const std::string where = "the master's /master/state";
  auto agents = Objects(state, "slaves", where);
  if (!agents.ok()) return Report(agents.failure());
  auto frameworks = Objects(state, "frameworks", where);
  if (!frameworks.ok()) return Report(frameworks.failure());
  auto completed = Objects(state, "completed_frameworks", where);
  if (!completed.ok()) return Report(completed.failure());

  double cpus_used = 0, cpus_total = 0, mem_used = 0, mem_total = 0;
  int active_agents = 0;
  for (const Struct* a : *agents) {
    if (Boolean(*a, "active")) ++active_agents;
    cpus_used += Number(ObjectOr(*a, "used_resources"), "cpus");
    mem_used += Number(ObjectOr(*a, "used_resources"), "mem");
    cpus_total += Number(ObjectOr(*a, "resources"), "cpus");
    mem_total += Number(ObjectOr(*a, "resources"), "mem");
  }
  int active_frameworks = 0;
  for (const Struct* f : *frameworks) active_frameworks += Boolean(*f, "active") ? 1 : 0;
  std::map<std::string, int> counts;
  CountTasks(*frameworks, &counts);
  CountTasks(*completed, &counts);

  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double started = Number(state, "start_time", -1);
  const int unreachable = static_cast<int>(Number(state, "unreachable_slaves", 0));
  std::string agent_line = std::to_string(active_agents) + " active / " +
                           std::to_string(agents->size() + unreachable) + " total";
  if (unreachable > 0) agent_line += " (" + std::to_string(unreachable) + " unreachable)";

  std::cout << "master:      " << Text(state, "id") << " at " << Text(state, "pid") << " ("
            << Text(state, "hostname") << ")\n"
            << "version:     " << Text(state, "version") << "\n"
            << "uptime:      " << (started < 0 ? "-" : Uptime(now - started)) << "\n"
            << "agents:      " << agent_line << "\n"
            << "frameworks:  " << active_frameworks << " active / " << frameworks->size()
            << " total, " << completed->size() << " completed\n"
            << "tasks:       " << TaskCounts(counts) << "\n"
            << "cpus:        " << FormatNumber(cpus_used) << " / " << FormatNumber(cpus_total)
            << " used\n"
            << "mem:         " << FormatNumber(mem_used) << " / " << FormatNumber(mem_total)
            << " MB used\n";
  return kExitOk;
}

}  // namespace

int State(const FlagMap& flags) {
  auto client = MasterClient::FromFlags(flags);
  if (!client.ok()) return Report(client.failure());
  auto body = client->GetText("/master/state");
  if (!body.ok()) return Report(body.failure());
  if (FlagOn(flags, "json")) {
    std::cout << *body << (body->empty() || body->back() != '\n' ? "\n" : "");
    return kExitOk;
  }
  auto state = ParseObject(*body, "the master's answer to GET /master/state");
  if (!state.ok()) return Report(state.failure());
  return Summary(*state);
}

}  // namespace keel::keelctl
