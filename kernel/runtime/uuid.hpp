// Random (version 4) UUIDs: ids of the master, streams, containers, and the
// 16 raw bytes that identify a status update.
#pragma once

#include <string>

namespace keel::runtime {

// 16 random bytes, RFC 4122 version 4 layout.
std::string RandomUuidBytes();
// "3d6c2e0e-5a1f-4b7e-9d0c-2b8f6f1a7c11"
std::string UuidToString(const std::string& bytes);
std::string RandomUuid();

}  // namespace keel::runtime
