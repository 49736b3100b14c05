#include "keel/envelope.hpp"

#include <cstring>

#include "keel/wire/envelope.pb.h"

namespace keel {

// The encoder writes protobuf's wire format for wire::Envelope by hand, byte
// for byte what SerializeAsString() writes (fields in number order, proto3
// defaults left out), without building a message that copies the payload.
namespace {

constexpr char kFormatTag = 0x08, kTypeTag = 0x12, kVersionTag = 0x18, kPayloadTag = 0x22;

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

char* PutVarint(char* out, uint64_t v) {
  while (v >= 0x80) {
    *out++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<char>(v);
  return out;
}

char* PutBytes(char* out, char tag, const std::string& bytes) {
  if (bytes.empty()) return out;
  *out++ = tag;
  out = PutVarint(out, bytes.size());
  std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

size_t BytesSize(const std::string& bytes) {
  return bytes.empty() ? 0 : 1 + VarintSize(bytes.size()) + bytes.size();
}

}  // namespace

size_t EnvelopeSize(const TransportMessage& message) {
  return 1 + VarintSize(kEnvelopeFormat) + BytesSize(message.type) +
         (message.version ? 1 + VarintSize(message.version) : 0) + BytesSize(message.payload);
}

void EncodeEnvelopeTo(const TransportMessage& message, char* out) {
  *out++ = kFormatTag;
  out = PutVarint(out, kEnvelopeFormat);
  out = PutBytes(out, kTypeTag, message.type);
  if (message.version) {
    *out++ = kVersionTag;
    out = PutVarint(out, message.version);
  }
  PutBytes(out, kPayloadTag, message.payload);
}

std::string EncodeEnvelope(const TransportMessage& message) {
  std::string out(EnvelopeSize(message), '\0');
  EncodeEnvelopeTo(message, out.data());
  return out;
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
