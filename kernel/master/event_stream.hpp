// A framework's subscription: the chunked HTTP response of its SUBSCRIBE,
// carrying scheduler Events as RecordIO records ("<length>\n<bytes>") in the
// encoding the subscriber accepted.
#pragma once

#include <memory>
#include <string>

#include "kernel/http/http_server.hpp"

namespace keel::v1::scheduler {
class Event;
}

namespace keel::master {

enum class Encoding { kJson, kProtobuf };

// "application/json" or "application/x-protobuf".
const char* ContentType(Encoding encoding);
// The event as the subscriber reads it: JSON with Mesos's (snake_case) field
// names, or the serialized protobuf.
std::string Encode(const v1::scheduler::Event& event, Encoding encoding);

class EventStream {
 public:
  EventStream(std::shared_ptr<http::Stream> stream, Encoding encoding, std::string id);

  void Send(const v1::scheduler::Event& event);
  void Close();
  bool closed() const { return stream_->closed(); }
  const std::string& id() const { return id_; }
  Encoding encoding() const { return encoding_; }

 private:
  std::shared_ptr<http::Stream> stream_;
  Encoding encoding_;
  std::string id_;  // sent as Mesos-Stream-Id
};

}  // namespace keel::master
