#include "kernel/master/event_stream.hpp"

#include <google/protobuf/util/json_util.h>

#include "keel/v1/scheduler.pb.h"

namespace keel::master {

const char* ContentType(Encoding encoding) {
  return encoding == Encoding::kJson ? "application/json" : "application/x-protobuf";
}

std::string Encode(const v1::scheduler::Event& event, Encoding encoding) {
  std::string out;
  if (encoding == Encoding::kProtobuf) return event.SerializeAsString();
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(event, &out, options);
  return out;
}

EventStream::EventStream(std::shared_ptr<http::Stream> stream, Encoding encoding, std::string id)
    : stream_(std::move(stream)), encoding_(encoding), id_(std::move(id)) {}

void EventStream::Send(const v1::scheduler::Event& event) {
  std::string record = Encode(event, encoding_);
  stream_->Write(std::to_string(record.size()) + "\n" + record);
}

void EventStream::Close() { stream_->Close(); }

}  // namespace keel::master
