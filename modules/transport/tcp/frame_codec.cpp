#include "modules/transport/tcp/frame_codec.hpp"

#include <algorithm>
#include <cstring>

namespace keel::modules {

void AppendFrameHeader(std::string& out, uint32_t body_size) {
  const char header[kFrameHeaderBytes] = {
      static_cast<char>(body_size >> 24), static_cast<char>(body_size >> 16),
      static_cast<char>(body_size >> 8), static_cast<char>(body_size)};
  out.append(header, kFrameHeaderBytes);
}

char* FrameDecoder::PrepareRead(size_t min_room, size_t* room) {
  // Move the unconsumed tail to the front rather than growing without end;
  // the copy is at most one partial frame.
  if (begin_ > 0 && (begin_ == end_ || begin_ >= buffer_.size() / 2)) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  size_t wanted = min_room;
  // A frame whose header has arrived tells how much room it needs; reading
  // it in one piece avoids repeated regrowth for a 16 MiB message.
  if (end_ - begin_ >= kFrameHeaderBytes) {
    const auto* h = reinterpret_cast<const unsigned char*>(buffer_.data() + begin_);
    uint64_t body = (uint64_t{h[0]} << 24) | (h[1] << 16) | (h[2] << 8) | h[3];
    if (body <= max_body_bytes_) {
      size_t frame = kFrameHeaderBytes + body;
      if (frame > end_ - begin_) wanted = std::max(wanted, frame - (end_ - begin_));
    }
  }
  if (buffer_.size() - end_ < wanted) buffer_.resize(end_ + wanted);
  *room = buffer_.size() - end_;
  return buffer_.data() + end_;
}

void FrameDecoder::CommitRead(size_t n) { end_ += n; }

FrameDecoder::Next FrameDecoder::NextFrame(std::string_view* body) {
  if (!error_.empty()) return Next::kBroken;
  size_t available = end_ - begin_;
  if (available < kFrameHeaderBytes) return Next::kNeedMore;
  const auto* h = reinterpret_cast<const unsigned char*>(buffer_.data() + begin_);
  uint64_t size = (uint64_t{h[0]} << 24) | (h[1] << 16) | (h[2] << 8) | h[3];
  if (size > max_body_bytes_) {
    error_ = "frame of " + std::to_string(size) + " bytes exceeds max_message_bytes (" +
             std::to_string(max_body_bytes_) + ")";
    return Next::kBroken;
  }
  if (available < kFrameHeaderBytes + size) return Next::kNeedMore;
  *body = std::string_view(buffer_.data() + begin_ + kFrameHeaderBytes, size);
  begin_ += kFrameHeaderBytes + size;
  return Next::kFrame;
}

}  // namespace keel::modules
