#include "keel/envelope.hpp"

#include "keel/wire/envelope.pb.h"

namespace keel {

std::string EncodeEnvelope(const TransportMessage& message) {
  wire::Envelope envelope;
  envelope.set_format(kEnvelopeFormat);
  envelope.set_type(message.type);
  envelope.set_version(message.version);
  envelope.set_payload(message.payload);
  return envelope.SerializeAsString();
}

Result<TransportMessage> DecodeEnvelope(std::string_view frame) {
  wire::Envelope envelope;
  if (!envelope.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return Status::Error("frame of " + std::to_string(frame.size()) + " bytes is not an envelope");
  }
  if (envelope.format() != kEnvelopeFormat) {
    return Status::Error("envelope format " + std::to_string(envelope.format()) + " is not " +
                         std::to_string(kEnvelopeFormat));
  }
  if (envelope.type().empty()) return Status::Error("envelope has no type");
  TransportMessage message;
  message.type = std::move(*envelope.mutable_type());
  message.version = envelope.version();
  message.payload = std::move(*envelope.mutable_payload());
  return message;
}

}  // namespace keel
