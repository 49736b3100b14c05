// `keelctl keys generate --output=PATH [--force]`: a CurveZMQ key pair for
// the `curve` authenticator (modules/authenticator/curve/README.md).
//
// Writes PATH.key, {"public_key":"<z85>","secret_key":"<z85>"} and a
// newline, created 0600 and never over an existing file unless --force; and
// PATH.pub, the Z85 public key and a newline, 0644. A PATH ending in .key or
// .pub names the same pair. Prints the public key on stdout.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace keel::keelctl {

// `flags`: output (required), force ("true"/"false"). `words`: after `keys`.
// Returns 0 on success, 1 when a file cannot be written, 2 on bad usage.
int Keys(const std::map<std::string, std::string>& flags, const std::vector<std::string>& words);

}  // namespace keel::keelctl
