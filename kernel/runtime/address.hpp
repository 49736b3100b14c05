// Addresses as operators write them: "10.0.0.5", "[::1]", "master.example:5050".
#pragma once

#include <cstdint>
#include <string>

#include "keel/status.hpp"

namespace keel::runtime {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// "HOST:PORT" with a port in 1..65535; IPv6 hosts in brackets.
Result<HostPort> ParseHostPort(const std::string& text);
// True for a numeric IPv4 or IPv6 address.
bool IsIpAddress(const std::string& text);

}  // namespace keel::runtime
