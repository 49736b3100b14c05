#include "kernel/runtime/uuid.hpp"

#include <random>

namespace keel::runtime {

std::string RandomUuidBytes() {
  // One seeded engine per thread: std::random_device may be a syscall each
  // call, and uuids are made per status update.
  thread_local std::mt19937_64 engine(std::random_device{}());
  std::string bytes(16, '\0');
  for (int i = 0; i < 16; i += 8) {
    uint64_t r = engine();
    for (int j = 0; j < 8; ++j) bytes[i + j] = static_cast<char>(r >> (8 * j));
  }
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);
  return bytes;
}

std::string UuidToString(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    const auto b = static_cast<unsigned char>(bytes[i]);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string RandomUuid() { return UuidToString(RandomUuidBytes()); }

}  // namespace keel::runtime
