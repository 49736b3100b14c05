// The files the `curve` authenticator reads (`keelctl keys generate` writes
// the first two):
//
//   NAME.key   {"public_key":"<z85>","secret_key":"<z85>"}, mode 0600
//   NAME.pub   the Z85 public key and a newline
//   allowed    one `<z85 public key> [principal]` per line; blank lines and
//              lines starting with '#' are ignored, as is anything from a
//              word starting with '#' on (no Z85 key starts with '#': its
//              first digit is at most '%', or the value would overflow)
//
// Keys are CurveZMQ keys written in Z85: 40 characters. Each reader refuses
// a file that someone else could have written (or, for a key pair, read),
// and its errors start with the path (and line) at fault. Pure functions of
// the file system; call them from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "keel/status.hpp"

namespace keel::modules {

struct CurveKeyPair {
  std::string public_key;
  std::string secret_key;
};

// True if `text` is 40 characters that decode as Z85.
bool IsZ85Key(std::string_view text);

// The principal of an allow-list entry that names none: "agent-" and the
// key's first 8 characters.
std::string DefaultPrincipal(const std::string& key);

// Reads a key pair; refuses a file with any group or other permission bit
// (mode & 0077), a key that is not Z85, or a public key that is not the
// secret key's ("PATH: field 'public_key': ...").
Result<CurveKeyPair> ReadKeyPairFile(const std::string& path);

// Reads a `.pub` file: one Z85 key, surrounding white space ignored. Refuses
// a file writable by group or others.
Result<std::string> ReadPublicKeyFile(const std::string& path);

// Reads an allow-list into key -> principal. Refuses a file writable by group
// or others, and a malformed or repeated entry ("PATH:LINE: ...").
Result<std::map<std::string, std::string>> ReadAllowedKeysFile(const std::string& path);

}  // namespace keel::modules
