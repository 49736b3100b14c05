// The envelope codec shared by every transport module: TransportMessage to
// frame body and back. Modules use these instead of their own encoding so
// any transport can replace any other on the wire format's terms.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "keel/status.hpp"
#include "keel/transport.hpp"

namespace keel {

// The envelope format this SDK writes and reads.
inline constexpr uint32_t kEnvelopeFormat = 1;

std::string EncodeEnvelope(const TransportMessage& message);

// Fails, saying why, on bytes that are not an envelope, an envelope of
// another format, or one without a type. Never throws.
Result<TransportMessage> DecodeEnvelope(std::string_view frame);

}  // namespace keel
