// POST /api/v1/executor: Mesos's v1 executor HTTP API. An executor the agent
// started SUBSCRIBEs (200, a RecordIO stream of its events), then sends
// UPDATEs (its tasks' states, delivered reliably to the framework and
// ACKNOWLEDGED back) and MESSAGEs for its scheduler (202 each). Bodies are
// JSON with Mesos's field names or protobuf, by Content-Type; events come
// in the encoding Accept asks for.
#include <glog/logging.h>

#include "kernel/agent/agent.hpp"
#include "kernel/runtime/call_request.hpp"
#include "kernel/runtime/event_stream.hpp"
#include "kernel/runtime/uuid.hpp"

namespace keel::agent {

void Agent::RouteExecutorApi() {
  std::weak_ptr<Agent> weak = weak_from_this();
  auto handle = [weak](const http::Request& request, http::Responder responder) {
    auto self = weak.lock();
    if (!self) return responder.Respond(http::Response::Text(503, "the agent is stopping\n"));
    runtime::Encoding body_encoding = runtime::Encoding::kJson;
    if (auto refused = runtime::CheckCallRequest(request, &body_encoding)) {
      return responder.Respond(std::move(*refused));
    }
    v1::executor::Call call;
    if (auto bad = runtime::ParseCallBody(request, body_encoding, "executor::Call", &call)) {
      return responder.Respond(runtime::ErrorResponse(400, *bad));
    }
    using Call = v1::executor::Call;
    auto missing = [&](bool present, const char* field) {
      if (present) return false;
      responder.Respond(runtime::ErrorResponse(
          400, std::string("Failed to validate executor::Call: Expecting '") + field +
                   "' to be present"));
      return true;
    };
    switch (call.type()) {
      case Call::SUBSCRIBE:
        if (missing(call.has_subscribe(), "subscribe")) return;
        break;
      case Call::UPDATE:
        if (missing(call.has_update(), "update")) return;
        break;
      case Call::MESSAGE:
        if (missing(call.has_message(), "message")) return;
        break;
      default:
        return responder.Respond(
            runtime::ErrorResponse(400, "Failed to validate executor::Call: Unknown call type " +
                                            std::to_string(static_cast<int>(call.type()))));
    }
    if (auto refused = self->CheckExecutorCall(call)) {
      return responder.Respond(runtime::ErrorResponse(refused->status, refused->reason));
    }
    if (call.type() == Call::SUBSCRIBE) {
      auto encoding = runtime::AcceptedEncoding(request.Header("accept"));
      if (!encoding) {
        return responder.Respond(runtime::ErrorResponse(
            406, "Expecting 'Accept' to allow 'application/json' or 'application/x-protobuf'"));
      }
      auto stream = responder.StartStream(200, {{"Content-Type", runtime::ContentType(*encoding)}});
      return self->OnExecutorSubscribe(
          call, std::make_shared<runtime::EventStream>(stream, *encoding, runtime::RandomUuid()));
    }
    if (call.type() == Call::UPDATE) {
      if (auto refused = self->OnExecutorUpdate(call)) {
        return responder.Respond(runtime::ErrorResponse(refused->status, refused->reason));
      }
    } else {
      self->OnExecutorMessage(call);
    }
    http::Response accepted;
    accepted.status = 202;
    responder.Respond(std::move(accepted));
  };
  for (const char* path : {"/api/v1/executor", "/slave(1)/api/v1/executor"}) {
    daemon_.http().Route("*", path, handle);
  }
}

}  // namespace keel::agent
