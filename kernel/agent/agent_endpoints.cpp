// The agent's own endpoints in Mesos's shapes: GET /state (also
// /slave(1)/state and /state.json) and GET /monitor/statistics (also
// /monitor/statistics.json), the usage of every running container as the
// containerizer and its isolators measure it.
#include "keel/task_state.hpp"
#include "kernel/agent/agent.hpp"
#include "kernel/http/http_server.hpp"
#include "kernel/protocol/resource_conversion.hpp"
#include "kernel/runtime/json_writer.hpp"
#include "kernel/runtime/model_resources_json.hpp"

namespace keel::agent {

using runtime::JsonWriter;

std::string Agent::StateJson() const {
  JsonWriter w;
  w.BeginObject();
  w.Field("version", std::string(KEEL_VERSION));
  w.Field("id", agent_id_);
  w.Field("pid", "slave(1)@" + options_.ip + ":" + std::to_string(options_.port));
  w.Field("hostname", options_.hostname);
  w.Field("start_time", start_time_);
  w.Key("resources");
  runtime::WriteModelResources(w, options_.resources);
  w.Key("frameworks").BeginArray();
  for (const auto& [framework_id, info] : frameworks_) {
    w.BeginObject();
    w.Field("id", framework_id);
    w.Field("name", info.name());
    w.Field("user", info.user());
    w.Field("role", info.role().empty() ? std::string("*") : info.role());
    // Command tasks: each task is its own executor, as in Mesos.
    w.Key("executors").BeginArray();
    for (const auto& [key, c] : containers_) {
      if (key.first != framework_id) continue;
      Resources resources;
      if (auto r = protocol::FromProto(c.task.resources()); r.ok()) resources = *r;
      w.BeginObject();
      w.Field("id", c.task.task_id().value());
      w.Field("name", "Command Executor (Task: " + c.task.task_id().value() + ")");
      w.Field("source", c.task.task_id().value());
      w.Field("container", c.container_id);
      w.Field("directory", c.sandbox);
      w.Key("resources");
      runtime::WriteModelResources(w, resources);
      w.Key("tasks").BeginArray().BeginObject();
      w.Field("id", c.task.task_id().value());
      w.Field("name", c.task.name());
      w.Field("framework_id", framework_id);
      w.Field("executor_id", std::string());
      w.Field("slave_id", agent_id_);
      w.Field("state", v1::TaskState_Name(c.state));
      w.Key("resources");
      runtime::WriteModelResources(w, resources);
      w.EndObject().EndArray();
      w.Key("queued_tasks").BeginArray().EndArray();
      w.Key("completed_tasks").BeginArray().EndArray();
      w.EndObject();
    }
    // Executors the frameworks named, with the tasks they run.
    for (const auto& [key, e] : executors_) {
      if (key.first != framework_id) continue;
      w.BeginObject();
      w.Field("id", key.second);
      w.Field("name", e.info.name());
      w.Field("source", e.info.source());
      w.Field("container", e.container_id);
      w.Field("directory", e.sandbox);
      w.Key("resources");
      runtime::WriteModelResources(w, e.resources);
      for (const bool ended : {false, true}) {
        w.Key(ended ? "completed_tasks" : "tasks").BeginArray();
        for (const auto& [task_key, t] : executor_tasks_) {
          if (task_key.first != framework_id || t.executor_id != key.second) continue;
          if (IsTerminal(t.state) != ended) continue;
          Resources resources;
          if (auto r = protocol::FromProto(t.task.resources()); r.ok()) resources = *r;
          w.BeginObject();
          w.Field("id", task_key.second);
          w.Field("name", t.task.name());
          w.Field("framework_id", framework_id);
          w.Field("executor_id", key.second);
          w.Field("slave_id", agent_id_);
          w.Field("state", v1::TaskState_Name(t.state));
          w.Key("resources");
          runtime::WriteModelResources(w, resources);
          w.EndObject();
        }
        w.EndArray();
      }
      w.Key("queued_tasks").BeginArray().EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.Key("completed_executors").BeginArray().EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("completed_frameworks").BeginArray().EndArray();
  w.EndObject();
  return w.Take();
}

std::string Agent::StatisticsJson() const {
  JsonWriter w;
  w.BeginArray();
  // One entry per container: each command task's, each executor's.
  struct Entry {
    const std::string& framework_id;
    std::string executor_id, executor_name, source;
    Containerizer* containerizer;
    const ContainerId& container_id;
  };
  std::vector<Entry> entries;
  for (const auto& [key, c] : containers_) {
    const std::string& id = c.task.task_id().value();
    entries.push_back(Entry{key.first, id, "Command Executor (Task: " + id + ")", id,
                            c.containerizer, c.container_id});
  }
  for (const auto& [key, e] : executors_) {
    entries.push_back(Entry{key.first, key.second, e.info.name(), e.info.source(), e.containerizer,
                            e.container_id});
  }
  for (const Entry& entry : entries) {
    auto usage = entry.containerizer->Usage(entry.container_id);
    if (!usage.ok()) continue;  // exited a moment ago
    const ResourceStatistics& s = *usage;
    w.BeginObject();
    w.Field("executor_id", entry.executor_id);
    w.Field("executor_name", entry.executor_name);
    w.Field("framework_id", entry.framework_id);
    w.Field("source", entry.source);
    w.Key("statistics").BeginObject();
    w.Field("timestamp", s.timestamp);
    w.Field("cpus_user_time_secs", s.cpus_user_time_secs);
    w.Field("cpus_system_time_secs", s.cpus_system_time_secs);
    if (s.cpus_limit) w.Field("cpus_limit", *s.cpus_limit);
    w.Field("mem_rss_bytes", s.mem_rss_bytes);
    if (s.mem_limit_bytes) w.Field("mem_limit_bytes", *s.mem_limit_bytes);
    if (s.processes) w.Field("processes", *s.processes);
    if (s.threads) w.Field("threads", *s.threads);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  return w.Take();
}

void Agent::RouteEndpoints() {
  std::weak_ptr<Agent> weak = weak_from_this();
  auto serve = [&](const std::string& path, std::string (Agent::*body)() const) {
    daemon_.http().Route("GET", path, [weak, body](const http::Request&, http::Responder r) {
      auto self = weak.lock();
      if (!self) return r.Respond(http::Response::Text(503, "the agent is stopping\n"));
      http::Response response = http::Response::Json(200, ((*self).*body)());
      // The master's web UI reads these from its own origin.
      response.headers.emplace_back("Access-Control-Allow-Origin", "*");
      r.Respond(std::move(response));
    });
  };
  for (const char* path : {"/state", "/state.json", "/slave(1)/state", "/slave(1)/state.json"}) {
    serve(path, &Agent::StateJson);
  }
  for (const char* path : {"/monitor/statistics", "/monitor/statistics.json"}) {
    serve(path, &Agent::StatisticsJson);
  }
  // Mesos's agent process answers its health under its own name too.
  daemon_.http().Route("GET", "/slave(1)/health", [](const http::Request&, http::Responder r) {
    r.Respond(http::Response::Text(200, ""));
  });
}

}  // namespace keel::agent
