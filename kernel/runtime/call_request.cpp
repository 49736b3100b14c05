#include "kernel/runtime/call_request.hpp"

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>

#include "kernel/runtime/mesos_json.hpp"

namespace keel::runtime {

namespace {

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

}  // namespace

http::Response ErrorResponse(int status, const std::string& reason) {
  return http::Response::Text(status, reason);
}

std::optional<http::Response> CheckCallRequest(const http::Request& request,
                                               Encoding* body_encoding) {
  if (request.method != "POST") {
    http::Response r = ErrorResponse(405, "Expecting 'POST', received '" + request.method + "'");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  const std::string content_type = request.Header("content-type");
  if (content_type.empty()) return ErrorResponse(400, "Expecting 'Content-Type' to be present");
  const std::string media = MediaType(content_type);
  if (media == "application/json") {
    *body_encoding = Encoding::kJson;
  } else if (media == "application/x-protobuf") {
    *body_encoding = Encoding::kProtobuf;
  } else {
    return ErrorResponse(415,
                         "Expecting 'Content-Type' of application/json or application/x-protobuf");
  }
  return std::nullopt;
}

std::optional<Encoding> AcceptedEncoding(const std::string& accept) {
  if (accept.empty()) return Encoding::kJson;
  const std::string a = Lower(accept);
  if (a.find("application/json") != std::string::npos || a.find("*/*") != std::string::npos ||
      a.find("application/*") != std::string::npos) {
    return Encoding::kJson;
  }
  if (a.find("application/x-protobuf") != std::string::npos) return Encoding::kProtobuf;
  return std::nullopt;
}

std::optional<std::string> ParseJson(const std::string& json, google::protobuf::Message* message,
                                     bool strict) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = !strict;
  auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (status.ok()) return std::nullopt;
  // protobuf's message may go on with a multi-line excerpt of the input.
  std::string why(status.message());
  return why.substr(0, why.find('\n'));
}

std::optional<std::string> ParseCallBody(const http::Request& request, Encoding body_encoding,
                                         const std::string& what, google::protobuf::Message* call) {
  if (body_encoding == Encoding::kJson) {
    if (auto why = ParseJson(request.body, call)) {
      return "Failed to convert JSON into Call protobuf: " + *why;
    }
  } else if (!call->ParseFromString(request.body)) {
    return std::string("Failed to parse body into Call protobuf");
  }
  if (!call->IsInitialized()) {
    return "Failed to validate " + what +
           ": Missing required fields: " + call->InitializationErrorString();
  }
  return std::nullopt;
}

http::Response EncodedResponse(const google::protobuf::Message& message, Encoding encoding) {
  if (encoding == Encoding::kJson) return http::Response::Json(200, MesosJson(message));
  return http::Response{
      200, {{"Content-Type", ContentType(encoding)}}, message.SerializeAsString()};
}

}  // namespace keel::runtime
