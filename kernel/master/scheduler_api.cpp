#include "kernel/master/scheduler_api.hpp"

#include "kernel/http/http_server.hpp"
#include "kernel/master/master.hpp"
#include "kernel/runtime/call_request.hpp"

namespace keel::master {

namespace {

using v1::scheduler::Call;

// Which sub-message a call type needs.
std::optional<std::string> MissingPayload(const Call& call) {
  switch (call.type()) {
    case Call::SUBSCRIBE:
      return call.has_subscribe() ? std::nullopt : std::optional<std::string>("subscribe");
    case Call::ACCEPT:
      return call.has_accept() ? std::nullopt : std::optional<std::string>("accept");
    case Call::DECLINE:
      return call.has_decline() ? std::nullopt : std::optional<std::string>("decline");
    case Call::KILL:
      return call.has_kill() ? std::nullopt : std::optional<std::string>("kill");
    case Call::ACKNOWLEDGE:
      return call.has_acknowledge() ? std::nullopt : std::optional<std::string>("acknowledge");
    case Call::RECONCILE:
      return call.has_reconcile() ? std::nullopt : std::optional<std::string>("reconcile");
    case Call::MESSAGE:
      return call.has_message() ? std::nullopt : std::optional<std::string>("message");
    default:
      return std::nullopt;
  }
}

// Parses the body into `call` and checks the call's shape; on failure the
// 400's reason.
std::optional<std::string> ParseCall(const http::Request& request, runtime::Encoding body_encoding,
                                     Call* call) {
  if (auto bad = runtime::ParseCallBody(request, body_encoding, "scheduler::Call", call))
    return bad;
  if (!call->has_type() || call->type() == Call::UNKNOWN) {
    return std::string("Failed to validate scheduler::Call: Expecting 'type' to be present");
  }
  if (auto missing = MissingPayload(*call)) {
    return "Failed to validate scheduler::Call: Expecting '" + *missing + "' to be present";
  }
  if (call->type() == Call::ACKNOWLEDGE && call->acknowledge().uuid().size() != 16) {
    return std::string("Failed to validate scheduler::Call: 'acknowledge.uuid' is not a UUID");
  }
  return std::nullopt;
}

// With framework authentication on, `principal` is who sent the call. A
// SUBSCRIBE without a principal takes it (as Mesos); one naming another
// principal, or taking over a framework of another principal, is refused
// (403); a later call from another principal than its framework's is a bad
// request (400, as Mesos answers it).
std::optional<http::Response> CheckPrincipal(const Master& master, const std::string& principal,
                                             Call* call) {
  if (principal.empty()) return std::nullopt;
  if (call->type() == Call::SUBSCRIBE) {
    auto* info = call->mutable_subscribe()->mutable_framework_info();
    if (!info->has_principal()) info->set_principal(principal);
    if (info->principal() != principal) {
      return runtime::ErrorResponse(403, "Authenticated principal '" + principal +
                                             "' does not match principal '" + info->principal() +
                                             "' set in `FrameworkInfo`");
    }
    if (info->has_id()) {
      auto owner = master.FrameworkPrincipal(info->id().value());
      if (owner && *owner != principal) {
        return runtime::ErrorResponse(403, "Framework " + info->id().value() +
                                               " belongs to another principal than '" + principal +
                                               "'");
      }
    }
    return std::nullopt;
  }
  if (!call->has_framework_id()) return std::nullopt;
  auto owner = master.FrameworkPrincipal(call->framework_id().value());
  if (owner && *owner != principal) {
    return runtime::ErrorResponse(400, "Authenticated principal '" + principal +
                                           "' does not match principal '" + *owner +
                                           "' of framework " + call->framework_id().value());
  }
  return std::nullopt;
}

void HandleScheduler(Master& master, const http::Request& request, http::Responder responder) {
  runtime::Encoding body_encoding = runtime::Encoding::kJson;
  if (auto refused = runtime::CheckCallRequest(request, &body_encoding)) {
    return responder.Respond(std::move(*refused));
  }
  Call call;
  if (auto bad = ParseCall(request, body_encoding, &call)) {
    return responder.Respond(runtime::ErrorResponse(400, *bad));
  }
  if (auto refused = CheckPrincipal(master, request.principal, &call)) {
    return responder.Respond(std::move(*refused));
  }
  const std::string stream_id = request.Header("mesos-stream-id");
  if (call.type() == Call::SUBSCRIBE) {
    if (!stream_id.empty()) {
      return responder.Respond(runtime::ErrorResponse(
          400, "Subscribe calls should not include the 'Mesos-Stream-Id' header"));
    }
    auto encoding = runtime::AcceptedEncoding(request.Header("accept"));
    if (!encoding) {
      return responder.Respond(runtime::ErrorResponse(
          406, "Expecting 'Accept' to allow application/json or application/x-protobuf"));
    }
    return master.Subscribe(call, *encoding, std::move(responder));
  }
  if (auto error = master.Handle(call, stream_id)) {
    return responder.Respond(runtime::ErrorResponse(error->status, error->message));
  }
  http::Response accepted;
  accepted.status = 202;
  responder.Respond(std::move(accepted));
}

}  // namespace

void RouteSchedulerApi(http::Server& server, std::shared_ptr<Master> master) {
  for (const char* path : {"/api/v1/scheduler", "/master/api/v1/scheduler"}) {
    server.Route("*", path, [master](const http::Request& request, http::Responder responder) {
      HandleScheduler(*master, request, std::move(responder));
    });
  }
}

}  // namespace keel::master
