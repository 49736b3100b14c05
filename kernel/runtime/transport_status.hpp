// The JSON both daemons serve about their transport link
// (GET /master/transport, GET /agent/transport).
#pragma once

#include <string>

#include "keel/transport.hpp"

namespace google::protobuf {
class Struct;
}

namespace keel::runtime {

// Adds "counters": {messages_in, ..., reconnects} to `out`.
void AddTransportCounters(const TransportCounters& counters, google::protobuf::Struct* out);
std::string ToJson(const google::protobuf::Struct& value);

}  // namespace keel::runtime
