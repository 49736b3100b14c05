// What Mesos's call endpoints (POST /api/v1/scheduler, POST /api/v1) check
// of a request before they read its call, with Mesos's status codes and
// one-line reasons: the method, the body's media type, the encoding the
// client accepts back, and the body itself.
#pragma once

#include <optional>
#include <string>

#include "kernel/http/http_server.hpp"
#include "kernel/runtime/event_stream.hpp"

namespace google::protobuf {
class Message;
}

namespace keel::runtime {

// A plain-text error answer.
http::Response ErrorResponse(int status, const std::string& reason);

// The answer refusing a request that is not a POST (405) or whose body is not
// JSON or protobuf (400 without Content-Type, else 415); or nothing, and
// `*body_encoding` set.
std::optional<http::Response> CheckCallRequest(const http::Request& request,
                                               Encoding* body_encoding);

// The encoding the `Accept` header allows, JSON preferred (as Mesos);
// nothing when it allows neither (406).
std::optional<Encoding> AcceptedEncoding(const std::string& accept);

// Parses `json` into `message`; on failure the first line of the parser's
// reason. Unknown fields are ignored, as in Mesos's APIs, unless `strict`.
std::optional<std::string> ParseJson(const std::string& json, google::protobuf::Message* message,
                                     bool strict = false);

// Parses the body into `call`, checking its required fields; on failure the
// 400's reason. `what` names the message in the reason ("scheduler::Call").
std::optional<std::string> ParseCallBody(const http::Request& request, Encoding body_encoding,
                                         const std::string& what, google::protobuf::Message* call);

// `message` in `encoding`, 200 OK: JSON with Mesos's field names, or protobuf.
http::Response EncodedResponse(const google::protobuf::Message& message, Encoding encoding);

}  // namespace keel::runtime
