// libFuzzer target for the `tcp` transport's read path: any byte stream, cut
// into reads of any size, yields frames no longer than the maximum, each
// decoded to an envelope or an error, or stops the decoder with a reason;
// never a crash, a hang or a frame bigger than what arrived.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "keel/envelope.hpp"
#include "modules/transport/tcp/frame_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the read size, as a socket would cut the stream.
  const size_t chunk = 1 + data[0] % 64;
  const uint64_t kMax = 4096;
  keel::modules::FrameDecoder decoder(kMax);
  size_t fed = 0, framed = 0;
  for (size_t at = 1; at < size;) {
    size_t room = 0;
    char* to = decoder.PrepareRead(chunk, &room);
    size_t n = std::min({chunk, room, size - at});
    std::memcpy(to, data + at, n);
    decoder.CommitRead(n);
    at += n;
    fed += n;
    bool ok = decoder.Drain([&](std::string_view body) {
      if (body.size() > kMax) std::abort();
      framed += keel::modules::kFrameHeaderBytes + body.size();
      (void)keel::DecodeEnvelope(body);
    });
    if (framed + decoder.buffered() != fed) std::abort();
    if (!ok) {
      if (decoder.error().empty()) std::abort();
      break;
    }
  }
  return 0;
}
