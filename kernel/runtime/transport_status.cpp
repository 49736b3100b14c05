#include "kernel/runtime/transport_status.hpp"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

namespace keel::runtime {

void AddTransportCounters(const TransportCounters& c, google::protobuf::Struct* out) {
  auto& fields = *(*out->mutable_fields())["counters"].mutable_struct_value()->mutable_fields();
  fields["messages_in"].set_number_value(static_cast<double>(c.messages_in));
  fields["messages_out"].set_number_value(static_cast<double>(c.messages_out));
  fields["bytes_in"].set_number_value(static_cast<double>(c.bytes_in));
  fields["bytes_out"].set_number_value(static_cast<double>(c.bytes_out));
  fields["dropped"].set_number_value(static_cast<double>(c.dropped));
  fields["malformed"].set_number_value(static_cast<double>(c.malformed));
  fields["reconnects"].set_number_value(static_cast<double>(c.reconnects));
}

std::string ToJson(const google::protobuf::Struct& value) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(value, &json);
  return json;
}

}  // namespace keel::runtime
