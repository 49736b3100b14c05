#include "kernel/master/state_json.hpp"

#include <algorithm>
#include <string>

#include "keel/task_state.hpp"
#include "kernel/http/http_server.hpp"
#include "kernel/master/master.hpp"
#include "kernel/runtime/json_writer.hpp"
#include "kernel/runtime/model_resources_json.hpp"

namespace keel::master {

namespace {

using runtime::JsonWriter;

void WriteResources(JsonWriter& w, const Resources& r) { runtime::WriteModelResources(w, r); }

void WriteStatuses(JsonWriter& w, const std::vector<TaskStatusEntry>& statuses) {
  w.Key("statuses").BeginArray();
  for (const auto& s : statuses) {
    w.BeginObject();
    w.Field("state", v1::TaskState_Name(s.state));
    w.Field("timestamp", s.timestamp);
    w.EndObject();
  }
  w.EndArray();
}

void WriteCompletedTask(JsonWriter& w, const std::string& framework_id, const CompletedTask& t) {
  w.BeginObject();
  w.Field("id", t.id);
  w.Field("name", t.name);
  w.Field("framework_id", framework_id);
  w.Field("executor_id", std::string());
  w.Field("slave_id", t.agent_id);
  w.Field("state", v1::TaskState_Name(t.state));
  w.Key("resources");
  WriteResources(w, t.resources);
  w.Field("role", t.role);
  WriteStatuses(w, t.statuses);
  w.EndObject();
}

// A live task prints as an ended one does, with its current state.
void WriteTask(JsonWriter& w, const Task& t) { WriteCompletedTask(w, t.framework_id, ViewOf(t)); }

Resources UsedBy(const Framework& f) {
  Resources used;
  for (const auto& [id, t] : f.tasks) {
    if (!t.resources_recovered) used += t.resources;
  }
  return used;
}

void WriteFramework(JsonWriter& w, const Master& m, const Framework& f, bool with_tasks) {
  w.BeginObject();
  w.Field("id", f.id);
  w.Field("name", f.info.name());
  w.Field("user", f.info.user());
  w.Field("hostname", f.info.hostname());
  w.Field("webui_url", f.info.webui_url());
  w.Field("principal", f.info.principal());
  if (f.multi_role()) {
    w.Key("roles").BeginArray();
    for (const auto& r : f.info.roles()) w.String(r);
    w.EndArray();
  } else {
    w.Field("role", f.info.role().empty() ? std::string("*") : f.info.role());
  }
  w.Field("active", f.connected());
  w.Field("connected", f.connected());
  w.Field("recovered", false);
  w.Field("failover_timeout", f.info.failover_timeout());
  w.Field("checkpoint", f.info.checkpoint());
  w.Field("registered_time", f.registered_time);
  w.Field("unregistered_time", f.unregistered_time);
  w.Key("capabilities").BeginArray();
  for (const auto& c : f.info.capabilities()) {
    w.String(v1::FrameworkInfo::Capability::Type_Name(c.type()));
  }
  w.EndArray();
  w.Key("used_resources");
  WriteResources(w, UsedBy(f));
  Resources offered;
  for (const auto& id : f.offers) {
    if (auto o = m.offers().find(id); o != m.offers().end()) offered += o->second.resources;
  }
  w.Key("offered_resources");
  WriteResources(w, offered);
  if (with_tasks) {
    w.Key("tasks").BeginArray();
    for (const auto& [id, t] : f.tasks) {
      if (t.state != v1::TASK_UNREACHABLE) WriteTask(w, t);
    }
    w.EndArray();
    w.Key("unreachable_tasks").BeginArray();
    for (const auto& [id, t] : f.tasks) {
      if (t.state == v1::TASK_UNREACHABLE) WriteTask(w, t);
    }
    w.EndArray();
    w.Key("completed_tasks").BeginArray();
    for (auto it = f.completed_tasks.rbegin(); it != f.completed_tasks.rend(); ++it) {
      WriteCompletedTask(w, f.id, *it);
    }
    w.EndArray();
    w.Key("offers").BeginArray();
    for (const auto& id : f.offers) {
      auto o = m.offers().find(id);
      if (o == m.offers().end()) continue;
      w.BeginObject();
      w.Field("id", id);
      w.Field("framework_id", f.id);
      w.Field("slave_id", o->second.agent_id);
      w.Key("resources");
      WriteResources(w, o->second.resources);
      w.EndObject();
    }
    w.EndArray();
    w.Key("executors").BeginArray().EndArray();
  }
  w.EndObject();
}

std::string Pid(const std::string& name, const std::string& ip, uint32_t port) {
  return name + "@" + ip + ":" + std::to_string(port);
}

void WriteAgent(JsonWriter& w, const Master& m, const Agent& a) {
  w.BeginObject();
  w.Field("id", a.id);
  w.Field("hostname", a.info.hostname());
  w.Field("port", a.info.port());
  w.Field("pid", Pid("slave(1)", a.ip, a.info.port()));
  w.Field("registered_time", a.registered_time);
  w.Key("attributes").BeginObject();
  for (const auto& attr : a.info.attributes()) {
    if (attr.has_text()) {
      w.Field(attr.name(), attr.text().value());
    } else if (attr.has_scalar()) {
      w.Field(attr.name(), attr.scalar().value());
    }
  }
  w.EndObject();
  Resources used, offered;
  for (const auto& [fid, tid] : a.tasks) {
    auto f = m.frameworks().find(fid);
    if (f == m.frameworks().end()) continue;
    auto t = f->second.tasks.find(tid);
    if (t != f->second.tasks.end() && !t->second.resources_recovered) used += t->second.resources;
  }
  // As Mesos's: what executors hold beyond their tasks is used too.
  for (const auto& [key, executor] : a.executors) used += executor.resources;
  for (const auto& id : a.offers) {
    if (auto o = m.offers().find(id); o != m.offers().end()) offered += o->second.resources;
  }
  w.Key("resources");
  WriteResources(w, a.total);
  w.Key("used_resources");
  WriteResources(w, used);
  w.Key("offered_resources");
  WriteResources(w, offered);
  w.Key("unreserved_resources");
  WriteResources(w, a.total.Unreserved());
  w.Field("active", a.reachable && a.connected);
  w.Field("deactivated", !(a.reachable && a.connected));
  w.Field("version", std::string(KEEL_VERSION));
  w.EndObject();
}

void WriteAgents(JsonWriter& w, const Master& m) {
  w.Key("slaves").BeginArray();
  for (const auto& [id, a] : m.agents()) {
    if (a.reachable) WriteAgent(w, m, a);
  }
  w.EndArray();
  // As Mesos: agents of the registry not re-registered since a restart.
  w.Key("recovered_slaves").BeginArray();
  for (const auto& [id, a] : m.recovering_agents()) {
    w.BeginObject();
    w.Field("id", id);
    w.Field("hostname", a.hostname());
    w.Field("port", static_cast<uint64_t>(a.port()));
    w.EndObject();
  }
  w.EndArray();
}

void WriteFrameworks(JsonWriter& w, const Master& m) {
  w.Key("frameworks").BeginArray();
  for (const auto& [id, f] : m.frameworks()) WriteFramework(w, m, f, true);
  w.EndArray();
  w.Key("completed_frameworks").BeginArray();
  for (auto it = m.completed_frameworks().rbegin(); it != m.completed_frameworks().rend(); ++it) {
    WriteFramework(w, m, *it, true);
  }
  w.EndArray();
  w.Key("unregistered_frameworks").BeginArray().EndArray();
}

std::string State(const Master& m) {
  const MasterOptions& o = m.options();
  size_t active = 0, deactivated = 0, unreachable = 0;
  for (const auto& [id, a] : m.agents()) {
    if (!a.reachable) {
      ++unreachable;
    } else if (a.connected) {
      ++active;
    } else {
      ++deactivated;
    }
  }
  JsonWriter w;
  w.BeginObject();
  w.Field("version", std::string(KEEL_VERSION));
  w.Field("id", m.id());
  w.Field("pid", Pid("master", o.ip, o.port));
  w.Field("hostname", o.hostname);
  w.Field("start_time", m.start_time());
  w.Field("elected_time", m.start_time());
  w.Field("leader", Pid("master", o.ip, o.port));
  w.Field("activated_slaves", active);
  w.Field("deactivated_slaves", deactivated);
  w.Field("unreachable_slaves", unreachable);
  w.Key("capabilities").BeginArray().String("QUOTA_V2").EndArray();
  WriteAgents(w, m);
  WriteFrameworks(w, m);
  w.Key("orphan_tasks").BeginArray().EndArray();
  w.EndObject();
  return w.Take();
}

// GET /master/tasks: Mesos's limit (default 100), offset, order (asc|des,
// default des), framework_id and task_id filters, over live and completed
// tasks. As Mesos sorts them: by the time of each task's first status (those
// without one first, in ascending order).
std::string Tasks(const Master& m, const http::Request& r) {
  auto number = [&](const char* key, long fallback) {
    auto it = r.query.find(key);
    if (it == r.query.end()) return fallback;
    try {
      return std::max(0L, std::stol(it->second));
    } catch (...) {
      return fallback;
    }
  };
  const long limit = number("limit", 100);
  const long offset = number("offset", 0);
  const bool ascending = r.query.count("order") && r.query.at("order") == "asc";
  const std::string framework = r.query.count("framework_id") ? r.query.at("framework_id") : "";
  const std::string task = r.query.count("task_id") ? r.query.at("task_id") : "";

  struct Row {
    const std::string* framework_id;
    CompletedTask view;
  };
  std::vector<Row> rows;
  for (const auto& [fid, f] : m.frameworks()) {
    if (!framework.empty() && fid != framework) continue;
    for (const auto& [tid, t] : f.tasks) {
      if (task.empty() || tid == task) rows.push_back({&f.id, ViewOf(t)});
    }
    for (const auto& t : f.completed_tasks) {
      if (task.empty() || t.id == task) rows.push_back({&f.id, t});
    }
  }
  auto started = [](const Row& row) {
    return row.view.statuses.empty() ? -1.0 : row.view.statuses.front().timestamp;
  };
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const Row& a, const Row& b) { return started(a) < started(b); });
  const long total = static_cast<long>(rows.size());
  JsonWriter w;
  w.BeginObject().Key("tasks").BeginArray();
  for (long i = offset; i < total && i < offset + limit; ++i) {
    const Row& row = rows[ascending ? i : total - 1 - i];
    WriteCompletedTask(w, *row.framework_id, row.view);
  }
  w.EndArray().EndObject();
  return w.Take();
}

void Serve(http::Server& server, std::vector<std::string> paths,
           std::function<std::string(const http::Request&)> body) {
  auto handler = [body](const http::Request& r, http::Responder responder) {
    responder.Respond(http::Response::Json(200, body(r)));
  };
  for (const auto& path : paths) {
    server.Route("GET", path, handler);
    server.Route("GET", path + "/", handler);  // as Mesos: /master/frameworks/
  }
}

}  // namespace

void RouteStateEndpoints(http::Server& server, std::shared_ptr<Master> master) {
  Master* m = master.get();
  Serve(server, {"/master/state", "/master/state.json", "/state", "/state.json"},
        [m](const http::Request&) { return State(*m); });
  Serve(server, {"/master/frameworks", "/frameworks"}, [m](const http::Request&) {
    JsonWriter w;
    w.BeginObject();
    WriteFrameworks(w, *m);
    w.EndObject();
    return w.Take();
  });
  Serve(server, {"/master/slaves", "/slaves"}, [m](const http::Request&) {
    JsonWriter w;
    w.BeginObject();
    WriteAgents(w, *m);
    w.EndObject();
    return w.Take();
  });
  Serve(server, {"/master/tasks", "/tasks"}, [m](const http::Request& r) { return Tasks(*m, r); });
  // Keel's own: an operator kills one task (Mesos has only TEARDOWN of a
  // whole framework). POST, so it is in the read-write realm.
  server.Route("POST", "/master/kill_task", [m](const http::Request& r, http::Responder responder) {
    auto framework = r.query.find("framework_id");
    auto task = r.query.find("task_id");
    if (framework == r.query.end() || task == r.query.end()) {
      return responder.Respond(
          http::Response::Text(400, "Expecting 'framework_id' and 'task_id' in the query\n"));
    }
    if (auto error = m->OperatorKill(framework->second, task->second)) {
      return responder.Respond(http::Response::Text(error->status, error->message + "\n"));
    }
    http::Response accepted;
    accepted.status = 202;
    responder.Respond(std::move(accepted));
  });
}

}  // namespace keel::master
