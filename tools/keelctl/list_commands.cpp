#include "tools/keelctl/list_commands.hpp"

#include <iostream>
#include <map>
#include <vector>

#include "tools/keelctl/json_fields.hpp"
#include "tools/keelctl/table.hpp"

namespace keel::keelctl {

namespace {

using Entries = std::vector<const Struct*>;

// The master's answer to GET `target`, or why there is none.
Outcome<Struct> Fetch(const FlagMap& flags, const std::string& target) {
  auto client = MasterClient::FromFlags(flags);
  if (!client.ok()) return client.failure();
  return client->GetJson(target);
}

// Appends the objects of `object`'s list `key` to `out`.
Outcome<bool> Append(const Struct& object, const std::string& key, const std::string& where,
                     Entries* out) {
  auto list = Objects(object, key, where);
  if (!list.ok()) return list.failure();
  out->insert(out->end(), list->begin(), list->end());
  return true;
}

std::string Scalar(const Struct& entry, const std::string& resources, const std::string& name) {
  return FormatNumber(Number(ObjectOr(entry, resources), name));
}

std::string UsedOfTotal(const Struct& agent, const std::string& name) {
  return Scalar(agent, "used_resources", name) + "/" + Scalar(agent, "resources", name);
}

std::string Role(const Struct& framework) {
  const Value* roles = Find(framework, "roles");
  if (roles == nullptr || !roles->has_list_value()) return Text(framework, "role");
  std::string out;
  for (const Value& r : roles->list_value().values()) {
    out += (out.empty() ? "" : ",") + r.string_value();
  }
  return out.empty() ? "-" : out;
}

size_t CountOf(const Struct& object, const std::string& key) {
  auto list = Objects(object, key, "");
  return list.ok() ? list->size() : 0;
}

int Print(const FlagMap& flags, const Entries& entries, const Table& table) {
  if (FlagOn(flags, "json")) {
    std::cout << JsonArray(entries) << "\n";
  } else {
    table.Print(std::cout);
  }
  return kExitOk;
}

}  // namespace

int Agents(const FlagMap& flags) {
  auto answer = Fetch(flags, "/master/slaves");
  if (!answer.ok()) return Report(answer.failure());
  Entries agents;
  if (auto s = Append(*answer, "slaves", "the master's /master/slaves", &agents); !s.ok()) {
    return Report(s.failure());
  }
  Table table({"ID", "HOSTNAME", "CPUS", "MEM", "ACTIVE"});
  for (const Struct* a : agents) {
    table.Add({Text(*a, "id"), Text(*a, "hostname"), UsedOfTotal(*a, "cpus"),
               UsedOfTotal(*a, "mem"), Boolean(*a, "active") ? "yes" : "no"});
  }
  return Print(flags, agents, table);
}

int Frameworks(const FlagMap& flags) {
  auto answer = Fetch(flags, "/master/frameworks");
  if (!answer.ok()) return Report(answer.failure());
  const std::string where = "the master's /master/frameworks";
  Entries frameworks;
  if (auto s = Append(*answer, "frameworks", where, &frameworks); !s.ok()) {
    return Report(s.failure());
  }
  if (FlagOn(flags, "all")) {
    if (auto s = Append(*answer, "completed_frameworks", where, &frameworks); !s.ok()) {
      return Report(s.failure());
    }
  }
  Table table({"ID", "NAME", "ROLE", "ACTIVE", "TASKS", "CPUS", "MEM"});
  for (const Struct* f : frameworks) {
    table.Add({Text(*f, "id"), Text(*f, "name"), Role(*f), Boolean(*f, "active") ? "yes" : "no",
               std::to_string(CountOf(*f, "tasks") + CountOf(*f, "unreachable_tasks")),
               Scalar(*f, "used_resources", "cpus"), Scalar(*f, "used_resources", "mem")});
  }
  return Print(flags, frameworks, table);
}

int Tasks(const FlagMap& flags) {
  auto state = Fetch(flags, "/master/state");
  if (!state.ok()) return Report(state.failure());
  const std::string where = "the master's /master/state";
  const bool all = FlagOn(flags, "all");
  Entries frameworks;
  if (auto s = Append(*state, "frameworks", where, &frameworks); !s.ok()) {
    return Report(s.failure());
  }
  if (all) {
    if (auto s = Append(*state, "completed_frameworks", where, &frameworks); !s.ok()) {
      return Report(s.failure());
    }
  }
  Entries agents;
  if (auto s = Append(*state, "slaves", where, &agents); !s.ok()) return Report(s.failure());
  std::map<std::string, std::string> hostnames;
  for (const Struct* a : agents) hostnames[Text(*a, "id", "")] = Text(*a, "hostname");

  Entries tasks;
  for (const Struct* f : frameworks) {
    const std::string of = "framework " + Text(*f, "id") + " in " + where;
    if (auto s = Append(*f, "tasks", of, &tasks); !s.ok()) return Report(s.failure());
    // Lists a master without such tasks may leave out.
    (void)Append(*f, "unreachable_tasks", of, &tasks);
    if (all) (void)Append(*f, "completed_tasks", of, &tasks);
  }
  Table table({"ID", "NAME", "STATE", "FRAMEWORK", "AGENT", "CPUS", "MEM"});
  for (const Struct* t : tasks) {
    const std::string agent = Text(*t, "slave_id");
    auto host = hostnames.find(agent);
    table.Add({Text(*t, "id"), Text(*t, "name"), Text(*t, "state"), Text(*t, "framework_id"),
               host != hostnames.end() ? host->second : agent, Scalar(*t, "resources", "cpus"),
               Scalar(*t, "resources", "mem")});
  }
  return Print(flags, tasks, table);
}

}  // namespace keel::keelctl
