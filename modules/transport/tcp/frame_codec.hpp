// The `tcp` transport's wire format: each frame is a 4-byte big-endian body
// length followed by that many bytes of envelope. A length above the
// configured maximum can only be garbage or an attack, and since the stream
// cannot be resynchronised after it, the decoder stops for good.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace keel::modules {

inline constexpr size_t kFrameHeaderBytes = 4;

// Appends the header for a body of `body_size` bytes to `out`.
void AppendFrameHeader(std::string& out, uint32_t body_size);

class FrameDecoder {
 public:
  explicit FrameDecoder(uint64_t max_body_bytes) : max_body_bytes_(max_body_bytes) {}

  // Where the next read should land, and how much room there is: at least
  // `min_room` bytes, more when a large frame is known to be coming.
  char* PrepareRead(size_t min_room, size_t* room);
  // Records that `n` bytes were written at PrepareRead()'s pointer.
  void CommitRead(size_t n);

  // Hands each complete frame body to `on_frame` (valid only during the call)
  // and returns false when the stream broke the format; `error()` then says
  // how. Bodies stay in order; a partial frame waits for more bytes.
  template <typename OnFrame>
  bool Drain(OnFrame&& on_frame) {
    for (;;) {
      std::string_view body;
      Next next = NextFrame(&body);
      if (next == Next::kNeedMore) return true;
      if (next == Next::kBroken) return false;
      on_frame(body);
    }
  }

  const std::string& error() const { return error_; }
  // Bytes received and not yet returned as frames.
  size_t buffered() const { return end_ - begin_; }

 private:
  enum class Next { kFrame, kNeedMore, kBroken };
  Next NextFrame(std::string_view* body);

  const uint64_t max_body_bytes_;
  std::string buffer_;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last received byte
  std::string error_;
};

}  // namespace keel::modules
