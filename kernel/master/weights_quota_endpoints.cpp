#include "kernel/master/weights_quota_endpoints.hpp"

#include <google/protobuf/struct.pb.h>

#include "keel/v1/master.pb.h"
#include "keel/v1/quota.pb.h"
#include "kernel/http/http_server.hpp"
#include "kernel/master/master.hpp"
#include "kernel/master/policy_protos.hpp"
#include "kernel/master/role_name.hpp"
#include "kernel/runtime/call_request.hpp"
#include "kernel/runtime/mesos_json.hpp"

namespace keel::master {

namespace {

http::Response Ok() { return http::Response{200, {}, ""}; }

http::Response Answer(const std::optional<CallError>& error) {
  return error ? runtime::ErrorResponse(error->status, error->message) : Ok();
}

http::Response GetWeights(const Master& master) {
  v1::master::Call::UpdateWeights list;
  WriteWeights(master.weights(), list.mutable_weight_infos());
  std::string body = "[";
  for (const v1::WeightInfo& info : list.weight_infos()) {
    if (body.size() > 1) body += ",";
    body += runtime::MesosJson(info);
  }
  return http::Response::Json(200, body + "]");
}

http::Response PutWeights(Master& master, const http::Request& request) {
  // The body must be exactly one JSON array; read as UPDATE_WEIGHTS's list.
  google::protobuf::ListValue array;
  v1::master::Call::UpdateWeights list;
  auto bad = runtime::ParseJson(request.body, &array);
  if (!bad) bad = runtime::ParseJson("{\"weight_infos\":" + request.body + "}", &list);
  if (bad) {
    return runtime::ErrorResponse(
        400,
        "Failed to parse update weights request: expecting a JSON array of "
        "WeightInfo: " +
            *bad);
  }
  auto weights = ReadWeights(list.weight_infos(), "weights");
  if (!weights.ok()) {
    return runtime::ErrorResponse(400,
                                  "Invalid update weights request: " + weights.status().message());
  }
  return Answer(master.UpdateWeights(*weights));
}

http::Response GetQuota(const Master& master) {
  v1::quota::QuotaStatus status;
  WriteQuotaStatus(master.quotas(), &status);
  return http::Response::Json(200, runtime::MesosJson(status));
}

http::Response SetQuota(Master& master, const http::Request& request) {
  v1::quota::QuotaRequest body;
  if (auto bad = runtime::ParseJson(request.body, &body)) {
    return runtime::ErrorResponse(400, "Failed to parse set quota request JSON: " + *bad);
  }
  auto quota = ReadQuotaRequest(body);
  if (!quota.ok()) {
    return runtime::ErrorResponse(
        400, "Failed to validate set quota request: " + quota.status().message());
  }
  const auto& [role, config] = *quota;
  if (master.quotas().count(role)) {
    // The legacy call only ever created quotas; UPDATE_QUOTA changes them.
    return runtime::ErrorResponse(400, "Failed to validate set quota request: role '" + role +
                                           "' already has a quota (DELETE /quota/" + role +
                                           " first, or use UPDATE_QUOTA)");
  }
  return Answer(master.UpdateQuotas({{role, config}}, body.force()));
}

http::Response RemoveQuota(Master& master, const std::string& role) {
  if (role.empty()) {
    return runtime::ErrorResponse(400,
                                  "Failed to remove quota: expecting the role in the path, as "
                                  "DELETE /quota/<role>");
  }
  if (auto bad = InvalidRoleReason(role)) {
    return runtime::ErrorResponse(400, "Failed to remove quota: " + *bad);
  }
  if (!master.quotas().count(role)) {
    return runtime::ErrorResponse(400,
                                  "Failed to remove quota: role '" + role + "' has no quota set");
  }
  return Answer(master.UpdateQuotas({{role, Quota{}}}, /*force=*/true));
}

}  // namespace

void RouteWeightsAndQuotaEndpoints(http::Server& server, std::shared_ptr<Master> master) {
  for (const std::string prefix : {"", "/master"}) {
    server.Route("GET", prefix + "/weights", [master](const http::Request&, http::Responder r) {
      r.Respond(GetWeights(*master));
    });
    server.Route("PUT", prefix + "/weights",
                 [master](const http::Request& request, http::Responder r) {
                   r.Respond(PutWeights(*master, request));
                 });
    server.Route("GET", prefix + "/quota", [master](const http::Request&, http::Responder r) {
      r.Respond(GetQuota(*master));
    });
    server.Route("POST", prefix + "/quota",
                 [master](const http::Request& request, http::Responder r) {
                   r.Respond(SetQuota(*master, request));
                 });
    server.Route("DELETE", prefix + "/quota", [master](const http::Request&, http::Responder r) {
      r.Respond(RemoveQuota(*master, ""));
    });
    const std::string quota_of = prefix + "/quota/";
    server.RoutePrefix("DELETE", quota_of,
                       [master, quota_of](const http::Request& request, http::Responder r) {
                         r.Respond(RemoveQuota(*master, request.path.substr(quota_of.size())));
                       });
  }
}

}  // namespace keel::master
