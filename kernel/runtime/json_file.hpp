// Reads a JSON file into a protobuf message, strictly: unknown fields are
// errors, and every error starts with the file's path so the operator knows
// where to look.
#pragma once

#include <string>

#include "keel/status.hpp"

namespace google::protobuf {
class Message;
}

namespace keel::runtime {

Status ParseJsonInto(const std::string& json, const std::string& origin,
                     google::protobuf::Message* message);
Status ReadJsonFile(const std::string& path, google::protobuf::Message* message);

}  // namespace keel::runtime
