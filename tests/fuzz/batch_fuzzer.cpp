// libFuzzer target for the `zmq` transport's read path: any ZeroMQ message
// body decodes to envelopes and at most one error, never a crash, a hang or
// an envelope bigger than the body; a batch re-packed from what decoded
// decodes to the same envelopes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "modules/transport/zmq/envelope_batch.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::vector<keel::TransportMessage> decoded;
  (void)keel::modules::DecodeBatch(body, [&](keel::TransportMessage m) {
    if (m.payload.size() + m.type.size() > size) std::abort();
    decoded.push_back(std::move(m));
  });
  keel::modules::EnvelopeBatch again;
  for (const auto& m : decoded) keel::modules::AppendToBatch(again, m);
  size_t i = 0;
  auto status = keel::modules::DecodeBatch(again.bytes, [&](keel::TransportMessage m) {
    if (i >= decoded.size() || m.type != decoded[i].type || m.version != decoded[i].version ||
        m.payload != decoded[i].payload) {
      std::abort();
    }
    ++i;
  });
  if (!decoded.empty() && (!status.ok() || i != decoded.size())) std::abort();
  return 0;
}
