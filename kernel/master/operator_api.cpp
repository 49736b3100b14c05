#include "kernel/master/operator_api.hpp"

#include "keel/v1/master.pb.h"
#include "keel/v1/quota.pb.h"
#include "kernel/http/http_server.hpp"
#include "kernel/master/master.hpp"
#include "kernel/master/operator_reads.hpp"
#include "kernel/master/policy_protos.hpp"
#include "kernel/runtime/call_request.hpp"
#include "kernel/runtime/metrics.hpp"

namespace keel::master {

namespace {

using v1::master::Call;
using v1::master::Response;

// The answer to a call: a Response to encode, or an error.
struct Answer {
  std::optional<Response> response;  // nothing and no error: 200 with no body
  std::optional<CallError> error;
};

Answer Refuse(int status, std::string reason) { return {std::nullopt, CallError{status, reason}}; }

Answer GetWeights(const Master& master) {
  Response response;
  response.set_type(Response::GET_WEIGHTS);
  WriteWeights(master.weights(), response.mutable_get_weights()->mutable_weight_infos());
  return {response, std::nullopt};
}

Answer UpdateWeights(Master& master, const Call& call) {
  if (!call.has_update_weights()) {
    return Refuse(400, "Failed to validate master::Call: Expecting 'update_weights' to be present");
  }
  auto weights = ReadWeights(call.update_weights().weight_infos(), "update_weights.weight_infos");
  if (!weights.ok()) return Refuse(400, "Invalid UPDATE_WEIGHTS: " + weights.status().message());
  return {std::nullopt, master.UpdateWeights(*weights)};
}

Answer GetQuota(const Master& master) {
  Response response;
  response.set_type(Response::GET_QUOTA);
  WriteQuotaStatus(master.quotas(), response.mutable_get_quota()->mutable_status());
  return {response, std::nullopt};
}

Answer UpdateQuota(Master& master, const Call& call) {
  if (!call.has_update_quota()) {
    return Refuse(400, "Failed to validate master::Call: Expecting 'update_quota' to be present");
  }
  auto quotas = ReadQuotaConfigs(call.update_quota().quota_configs(), "update_quota.quota_configs");
  if (!quotas.ok()) return Refuse(400, "Invalid UPDATE_QUOTA: " + quotas.status().message());
  return {std::nullopt, master.UpdateQuotas(*quotas, call.update_quota().force())};
}

// The calls that change the master's state.
bool IsChange(Call::Type type) {
  return type == Call::UPDATE_WEIGHTS || type == Call::UPDATE_QUOTA;
}

Answer Dispatch(Master& master, const Call& call, const OperatorApiContext& context) {
  Response read;
  if (AnswerRead(call.type(), {&master, context.flags, context.metrics->Snapshot()}, &read)) {
    return {read, std::nullopt};
  }
  switch (call.type()) {
    case Call::GET_WEIGHTS:
      return GetWeights(master);
    case Call::UPDATE_WEIGHTS:
      return UpdateWeights(master, call);
    case Call::GET_QUOTA:
      return GetQuota(master);
    case Call::UPDATE_QUOTA:
      return UpdateQuota(master, call);
    default:
      return Refuse(501, "Operator call " + Call::Type_Name(call.type()) +
                             " is not implemented by this master yet");
  }
}

void HandleOperatorCall(Master& master, const OperatorApiContext& context,
                        const http::Request& request, http::Responder responder) {
  runtime::Encoding body_encoding = runtime::Encoding::kJson;
  if (auto refused = runtime::CheckCallRequest(request, &body_encoding)) {
    return responder.Respond(std::move(*refused));
  }
  const auto response_encoding = runtime::AcceptedEncoding(request.Header("accept"));
  if (!response_encoding) {
    return responder.Respond(runtime::ErrorResponse(
        406, "Expecting 'Accept' to allow application/json or application/x-protobuf"));
  }
  Call call;
  if (auto bad = runtime::ParseCallBody(request, body_encoding, "master::Call", &call)) {
    return responder.Respond(runtime::ErrorResponse(400, *bad));
  }
  if (!call.has_type() || call.type() == Call::UNKNOWN) {
    return responder.Respond(runtime::ErrorResponse(
        400, "Failed to validate master::Call: Expecting 'type' to be present"));
  }
  if (call.type() == Call::SUBSCRIBE) {
    return master.SubscribeOperator(std::move(responder), *response_encoding);
  }
  if (body_encoding == runtime::Encoding::kJson && IsChange(call.type())) {
    // A misspelt field of a change must not pass for an absent one: a quota
    // config whose "limit" is ignored would reset the role's quota.
    Call strict;
    if (auto bad = runtime::ParseJson(request.body, &strict, /*strict=*/true)) {
      return responder.Respond(
          runtime::ErrorResponse(400, "Invalid " + Call::Type_Name(call.type()) + ": " + *bad));
    }
  }
  Answer answer = Dispatch(master, call, context);
  if (answer.error) {
    return responder.Respond(runtime::ErrorResponse(answer.error->status, answer.error->message));
  }
  if (answer.response) {
    return responder.Respond(runtime::EncodedResponse(*answer.response, *response_encoding));
  }
  responder.Respond(http::Response{200, {}, ""});
}

}  // namespace

void RouteOperatorApi(http::Server& server, std::shared_ptr<Master> master,
                      OperatorApiContext context) {
  auto handler = [master, context](const http::Request& request, http::Responder responder) {
    HandleOperatorCall(*master, context, request, std::move(responder));
  };
  for (const char* path : {"/api/v1", "/master/api/v1"}) server.Route("*", path, handler);
  // As Mesos: /api/v1/operator and any longer path under /api/v1 reach the
  // operator API (the scheduler's exact route comes first).
  for (const char* prefix : {"/api/v1/", "/master/api/v1/"}) {
    server.RoutePrefix("*", prefix, handler);
  }
}

}  // namespace keel::master
