// Protobuf messages as Mesos prints them (stout's JSON codec), for what the
// master and agent serve to frameworks and operators: field names as in the
// .proto, enums by name, bytes in base64, only fields that are set, and
// 64-bit integers as JSON numbers. protobuf's own JSON printer quotes 64-bit
// integers ("begin": "31000"), which Mesos clients do not expect.
#pragma once

#include <string>

namespace google::protobuf {
class Message;
}

namespace keel::runtime {

std::string MesosJson(const google::protobuf::Message& message);

}  // namespace keel::runtime
