// Packing protocol messages into transport envelopes and back. The envelope
// type is the message's full protobuf name, the version kProtocolVersion.
#pragma once

#include <cstdint>
#include <string>

#include "keel/transport.hpp"

namespace keel::protocol {

inline constexpr uint32_t kProtocolVersion = 1;

template <typename M>
std::string TypeOf() {
  return std::string(M::descriptor()->full_name());
}

template <typename M>
TransportMessage Pack(const M& message) {
  return TransportMessage{TypeOf<M>(), kProtocolVersion, message.SerializeAsString()};
}

// False when the payload does not parse as M.
template <typename M>
bool Unpack(const TransportMessage& envelope, M* out) {
  return out->ParseFromString(envelope.payload);
}

}  // namespace keel::protocol
