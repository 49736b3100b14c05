#include "kernel/runtime/json_file.hpp"

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace keel::runtime {

Status ParseJsonInto(const std::string& json, const std::string& origin,
                     google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  message->Clear();
  auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    return Status::Error(origin + ": " + std::string(status.message()));
  }
  return Status::Ok();
}

Status ReadJsonFile(const std::string& path, google::protobuf::Message* message) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(path + ": cannot open: " + std::strerror(errno));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status::Error(path + ": cannot read: " + std::strerror(errno));
  return ParseJsonInto(buffer.str(), path, message);
}

}  // namespace keel::runtime
