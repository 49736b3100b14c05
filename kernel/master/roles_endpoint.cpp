#include "kernel/master/roles_endpoint.hpp"

#include <map>
#include <set>
#include <string>

#include "kernel/http/http_server.hpp"
#include "kernel/master/master.hpp"
#include "kernel/runtime/json_writer.hpp"
#include "kernel/runtime/model_resources_json.hpp"

namespace keel::master {

namespace {

using runtime::JsonWriter;

// The roles a framework subscribed with ("*" when it named none).
std::vector<std::string> RolesOf(const Framework& f) {
  if (f.multi_role() && f.info.roles_size() > 0)
    return {f.info.roles().begin(), f.info.roles().end()};
  return {f.info.role().empty() ? std::string("*") : f.info.role()};
}

std::string Roles(const Master& m) {
  std::map<std::string, std::set<std::string>> frameworks;  // role -> framework ids
  for (const auto& [id, f] : m.frameworks()) {
    for (const auto& role : RolesOf(f)) frameworks[role].insert(id);
  }
  for (const auto& [role, weight] : m.weights()) frameworks[role];
  for (const auto& [role, quota] : m.quotas()) frameworks[role];
  // Exactly the role's own offers and tasks (Consumption adds sub-roles).
  std::map<std::string, Resources> offered, allocated;
  for (const auto& [id, offer] : m.offers()) {
    offered[offer.role] += offer.resources;
    frameworks[offer.role];
  }
  for (const auto& [id, f] : m.frameworks()) {
    for (const auto& [task_id, task] : f.tasks) {
      if (task.resources_recovered || task.role.empty()) continue;
      allocated[task.role] += task.resources;
      frameworks[task.role];
    }
  }

  JsonWriter w;
  w.BeginObject().Key("roles").BeginArray();
  for (const auto& [role, ids] : frameworks) {
    w.BeginObject();
    w.Field("name", role);
    auto weight = m.weights().find(role);
    w.Field("weight", weight == m.weights().end() ? 1.0 : weight->second);
    w.Key("frameworks").BeginArray();
    for (const auto& id : ids) w.String(id);
    w.EndArray();
    const Resources consumed = m.Consumption(role);
    w.Key("resources");
    runtime::WriteModelResources(w, consumed);
    w.Key("allocated");
    runtime::WriteModelResources(w, allocated[role]);
    w.Key("offered");
    runtime::WriteModelResources(w, offered[role]);
    auto quota = m.quotas().find(role);
    w.Key("quota").BeginObject();
    w.Field("role", role);
    w.Key("guarantee");
    runtime::WriteModelResources(
        w, quota == m.quotas().end() ? Resources{} : quota->second.guarantees);
    w.Key("limit");
    runtime::WriteModelResources(w, quota == m.quotas().end() ? Resources{} : quota->second.limits);
    w.Key("consumed");
    runtime::WriteModelResources(w, consumed);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace

void RouteRolesEndpoint(http::Server& server, std::shared_ptr<Master> master) {
  auto handler = [master](const http::Request&, http::Responder responder) {
    responder.Respond(http::Response::Json(200, Roles(*master)));
  };
  for (const char* path : {"/master/roles", "/roles", "/master/roles.json", "/roles.json"}) {
    server.Route("GET", path, handler);
    server.Route("GET", std::string(path) + "/", handler);
  }
}

}  // namespace keel::master
