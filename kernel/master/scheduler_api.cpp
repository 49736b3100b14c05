#include "kernel/master/scheduler_api.hpp"

#include <google/protobuf/util/json_util.h>

#include <algorithm>

#include "kernel/http/http_server.hpp"
#include "kernel/master/master.hpp"

namespace keel::master {

namespace {

using v1::scheduler::Call;

http::Response Error(int status, const std::string& reason) {
  return http::Response::Text(status, reason);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The media type without parameters: "application/json; charset=utf-8" ->
// "application/json".
std::string MediaType(const std::string& header) {
  std::string type = Lower(header.substr(0, header.find(';')));
  type.erase(std::remove(type.begin(), type.end(), ' '), type.end());
  return type;
}

// The event encoding a subscriber accepts; JSON preferred, as Mesos does.
std::optional<Encoding> Accepted(const std::string& accept) {
  if (accept.empty()) return Encoding::kJson;
  const std::string a = Lower(accept);
  if (a.find("application/json") != std::string::npos || a.find("*/*") != std::string::npos ||
      a.find("application/*") != std::string::npos) {
    return Encoding::kJson;
  }
  if (a.find("application/x-protobuf") != std::string::npos) return Encoding::kProtobuf;
  return std::nullopt;
}

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

// Parses the body into `call`; on failure returns the 400's reason.
std::optional<std::string> ParseCall(const http::Request& request, bool json, Call* call) {
  if (json) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;  // as Mesos's API does; configs stay strict
    auto status = google::protobuf::util::JsonStringToMessage(request.body, call, options);
    if (!status.ok()) {
      // protobuf's message may go on with a multi-line excerpt of the input.
      std::string why(status.message());
      return "Failed to convert JSON into Call protobuf: " + why.substr(0, why.find('\n'));
    }
  } else if (!call->ParseFromString(request.body)) {
    return std::string("Failed to parse body into Call protobuf");
  }
  if (!call->IsInitialized()) {
    return "Failed to validate scheduler::Call: Missing required fields: " +
           call->InitializationErrorString();
  }
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

void HandleScheduler(Master& master, const http::Request& request, http::Responder responder) {
  if (request.method != "POST") {
    http::Response r = Error(405, "Expecting 'POST', received '" + request.method + "'");
    r.headers.emplace_back("Allow", "POST");
    return responder.Respond(std::move(r));
  }
  const std::string content_type = request.Header("content-type");
  if (content_type.empty()) {
    return responder.Respond(Error(400, "Expecting 'Content-Type' to be present"));
  }
  const std::string media = MediaType(content_type);
  if (media != "application/json" && media != "application/x-protobuf") {
    return responder.Respond(
        Error(415, "Expecting 'Content-Type' of application/json or application/x-protobuf"));
  }
  Call call;
  if (auto bad = ParseCall(request, media == "application/json", &call)) {
    return responder.Respond(Error(400, *bad));
  }
  const std::string stream_id = request.Header("mesos-stream-id");
  if (call.type() == Call::SUBSCRIBE) {
    if (!stream_id.empty()) {
      return responder.Respond(
          Error(400, "Subscribe calls should not include the 'Mesos-Stream-Id' header"));
    }
    auto encoding = Accepted(request.Header("accept"));
    if (!encoding) {
      return responder.Respond(
          Error(406, "Expecting 'Accept' to allow application/json or application/x-protobuf"));
    }
    return master.Subscribe(call, *encoding, std::move(responder));
  }
  if (auto error = master.Handle(call, stream_id)) {
    return responder.Respond(Error(error->status, error->message));
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
