#include "kernel/runtime/address.hpp"

#include <arpa/inet.h>

namespace keel::runtime {

bool IsIpAddress(const std::string& text) {
  unsigned char buf[sizeof(struct in6_addr)];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

Result<HostPort> ParseHostPort(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Status::Error("'" + text + "' is not HOST:PORT (" + why + ")");
  };
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  HostPort hp;
  hp.host = text.substr(0, colon);
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  if (hp.host.empty()) return bad("no host");
  std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return bad("port must be a number");
  }
  unsigned long n = std::stoul(port);
  if (n == 0 || n > 65535) return bad("port must be 1-65535");
  hp.port = static_cast<uint16_t>(n);
  return hp;
}

}  // namespace keel::runtime
