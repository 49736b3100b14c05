#include "kernel/runtime/event_stream.hpp"

#include <google/protobuf/message.h>

#include "kernel/runtime/mesos_json.hpp"

namespace keel::runtime {

const char* ContentType(Encoding encoding) {
  return encoding == Encoding::kJson ? "application/json" : "application/x-protobuf";
}

std::string Encode(const google::protobuf::Message& event, Encoding encoding) {
  if (encoding == Encoding::kProtobuf) return event.SerializeAsString();
  return MesosJson(event);
}

EventStream::EventStream(std::shared_ptr<http::Stream> stream, Encoding encoding, std::string id)
    : stream_(std::move(stream)), encoding_(encoding), id_(std::move(id)) {}

void EventStream::Send(const google::protobuf::Message& event) {
  if (encoding_ == Encoding::kJson) {
    std::string record = MesosJson(event);
    stream_->Write(std::to_string(record.size()) + "\n" + record);
    return;
  }
  // The RecordIO length, then the event serialized after it into the same
  // string: one allocation and no copy of the record per event.
  const size_t size = event.ByteSizeLong();
  std::string framed = std::to_string(size) + "\n";
  framed.reserve(framed.size() + size);
  event.AppendToString(&framed);
  stream_->Write(std::move(framed));
}

void EventStream::Close() { stream_->Close(); }

}  // namespace keel::runtime
