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

// The same bytes written straight into a transport's own buffer, which must
// hold EnvelopeSize(message) bytes: saves a copy per message on hot paths.
size_t EnvelopeSize(const TransportMessage& message);
void EncodeEnvelopeTo(const TransportMessage& message, char* out);

// Fails, saying why, on bytes that are not an envelope, an envelope of
// another format, or one without a type. Never throws.
Result<TransportMessage> DecodeEnvelope(std::string_view frame);

}  // namespace keel
