#include "modules/transport/zmq/envelope_batch.hpp"

#include "keel/envelope.hpp"

namespace keel::modules {

void AppendToBatch(EnvelopeBatch& batch, const TransportMessage& message) {
  if (batch.bytes.empty()) batch.bytes.push_back(kBatchMarker);
  size_t size = EnvelopeSize(message);
  for (size_t v = size;; v >>= 7) {
    if (v < 0x80) {
      batch.bytes.push_back(static_cast<char>(v));
      break;
    }
    batch.bytes.push_back(static_cast<char>(v | 0x80));
  }
  size_t at = batch.bytes.size();
  batch.bytes.resize(at + size);
  EncodeEnvelopeTo(message, batch.bytes.data() + at);
  batch.messages++;
}

Status DecodeBatch(std::string_view body, const std::function<void(TransportMessage)>& on_message) {
  if (body.empty() || body[0] != kBatchMarker) {
    auto message = DecodeEnvelope(body);
    if (!message.ok()) return message.status();
    on_message(std::move(message).value());
    return Status::Ok();
  }
  size_t at = 1;
  while (at < body.size()) {
    uint64_t size = 0;
    int shift = 0;
    for (;;) {
      if (at >= body.size() || shift > 35)
        return Status::Error("batch entry length is cut or too long");
      auto byte = static_cast<unsigned char>(body[at++]);
      size |= uint64_t{byte & 0x7fu} << shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    if (size > body.size() - at) {
      return Status::Error("batch entry of " + std::to_string(size) +
                           " bytes overruns the message");
    }
    auto message = DecodeEnvelope(body.substr(at, size));
    if (!message.ok()) return message.status();
    on_message(std::move(message).value());
    at += size;
  }
  return Status::Ok();
}

}  // namespace keel::modules
