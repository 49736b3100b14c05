// libFuzzer target: any bytes a peer sends must decode to an envelope or to
// an error, never to a crash, a hang or unbounded memory; what decodes must
// re-encode to an envelope that decodes to the same message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "keel/envelope.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto decoded = keel::DecodeEnvelope(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!decoded.ok()) return 0;
  auto again = keel::DecodeEnvelope(keel::EncodeEnvelope(*decoded));
  if (!again.ok() || again->type != decoded->type || again->version != decoded->version ||
      again->payload != decoded->payload) {
    std::abort();
  }
  return 0;
}
