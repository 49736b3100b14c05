// A connecting side's identity: random per transport instance, kept across
// its reconnects, so the binding side knows a reconnecting peer as the same
// peer while a restarted process is a new one.
#pragma once

#include <random>
#include <string>

namespace keel::modules {

inline std::string RandomPeerIdentity() {
  static const char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string id = "keel-";
  for (int i = 0; i < 16; ++i) id += kHex[rd() % 16];
  return id;
}

}  // namespace keel::modules
