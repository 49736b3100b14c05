// A subscription to one of Mesos's event streams (a framework's scheduler
// SUBSCRIBE, an executor's): the chunked HTTP response carrying Events as
// RecordIO records ("<length>\n<bytes>") in the encoding the subscriber
// accepted.
#pragma once

#include <memory>
#include <string>

#include "kernel/http/http_server.hpp"

namespace google::protobuf {
class Message;
}

namespace keel::runtime {

enum class Encoding { kJson, kProtobuf };

// "application/json" or "application/x-protobuf".
const char* ContentType(Encoding encoding);
// The event as the subscriber reads it: JSON with Mesos's (snake_case) field
// names, or the serialized protobuf.
std::string Encode(const google::protobuf::Message& event, Encoding encoding);

class EventStream {
 public:
  EventStream(std::shared_ptr<http::Stream> stream, Encoding encoding, std::string id);

  void Send(const google::protobuf::Message& event);
  void Close();
  bool closed() const { return stream_->closed(); }
  const std::string& id() const { return id_; }
  Encoding encoding() const { return encoding_; }

 private:
  std::shared_ptr<http::Stream> stream_;
  Encoding encoding_;
  std::string id_;  // sent as Mesos-Stream-Id
};

}  // namespace keel::runtime
