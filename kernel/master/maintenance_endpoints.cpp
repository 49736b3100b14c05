#include "kernel/master/maintenance_endpoints.hpp"

#include <arpa/inet.h>
#include <glog/logging.h>

#include <algorithm>
#include <set>

#include "keel/internal/master_registry.pb.h"
#include "kernel/http/http_server.hpp"
#include "kernel/master/master.hpp"
#include "kernel/runtime/call_request.hpp"
#include "kernel/runtime/mesos_json.hpp"

namespace keel::master {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Describe(const internal::MachineID& id) { return runtime::MesosJson(id); }

http::Response GetSchedule(const Master& master) {
  const auto& schedule = master.maintenance_schedule();
  return http::Response::Json(200,
                              schedule.windows_size() == 0 ? "{}" : runtime::MesosJson(schedule));
}

http::Response PostSchedule(Master& master, const http::Request& request) {
  internal::MaintenanceSchedule schedule;
  if (auto bad = runtime::ParseJson(request.body, &schedule)) {
    return runtime::ErrorResponse(400, "Failed to parse maintenance schedule JSON: " + *bad);
  }
  if (!schedule.IsInitialized()) {
    return runtime::ErrorResponse(
        400, "Failed to validate maintenance schedule: Missing required fields: " +
                 schedule.InitializationErrorString());
  }
  if (auto bad = ValidateMaintenanceSchedule(schedule)) {
    return runtime::ErrorResponse(400, "Failed to validate maintenance schedule: " + *bad);
  }
  if (auto error = master.UpdateMaintenanceSchedule(schedule)) {
    return runtime::ErrorResponse(error->status, error->message);
  }
  return http::Response{200, {}, ""};
}

}  // namespace

std::optional<std::string> ValidateMaintenanceSchedule(const internal::MaintenanceSchedule& s) {
  std::set<std::pair<std::string, std::string>> seen;
  for (int w = 0; w < s.windows_size(); ++w) {
    const auto& window = s.windows(w);
    const std::string where = "windows[" + std::to_string(w) + "]";
    if (window.machine_ids_size() == 0) {
      return where + ": List of machines in the maintenance window is empty";
    }
    for (const auto& id : window.machine_ids()) {
      if (id.hostname().empty() && id.ip().empty()) {
        return where + ": Both 'hostname' and 'ip' for a machine are empty";
      }
      in_addr address{};
      if (!id.ip().empty() && ::inet_pton(AF_INET, id.ip().c_str(), &address) != 1) {
        return where + ": Failed to parse IP address '" + id.ip() + "'";
      }
      if (!seen.insert({Lower(id.hostname()), id.ip()}).second) {
        return where + ": Machine " + Describe(id) + " appears more than once in the schedule";
      }
    }
    const auto& unavailability = window.unavailability();
    if (unavailability.has_duration() && unavailability.duration().nanoseconds() < 0) {
      return where + ": Unavailability 'duration' is negative";
    }
  }
  return std::nullopt;
}

std::optional<CallError> Master::UpdateMaintenanceSchedule(
    const internal::MaintenanceSchedule& schedule) {
  if (auto s = registry_.SetMaintenanceSchedule(schedule); !s.ok()) {
    return CallError{500, "Failed to update maintenance schedule: " + s.message()};
  }
  LOG(INFO) << "maintenance schedule: " << schedule.windows_size()
            << " window(s), stored (agents are not drained)";
  return std::nullopt;
}

void RouteMaintenanceEndpoints(http::Server& server, std::shared_ptr<Master> master) {
  for (const std::string prefix : {"", "/master"}) {
    for (const std::string& path :
         {prefix + "/maintenance/schedule", prefix + "/maintenance/schedule/"}) {
      server.Route("GET", path, [master](const http::Request&, http::Responder r) {
        r.Respond(GetSchedule(*master));
      });
      server.Route("POST", path, [master](const http::Request& request, http::Responder r) {
        r.Respond(PostSchedule(*master, request));
      });
    }
  }
}

}  // namespace keel::master
