// StoredSecret: a secret as written in a credentials file, and how a secret
// presented by a client is compared with it.
//
// Three forms, told apart by their first characters:
//   plain text  anything not starting with '$'; compared in constant time
//   argon2id    "$argon2id$v=19$m=...,t=...,p=...$salt$hash" (libsodium,
//               crypto_pwhash_str)
//   SHA-512     "$6$[rounds=N$]salt$hash" (crypt(3), `openssl passwd -6`)
// A '$' string that is neither is refused at load rather than compared as
// plain text: it is almost surely a hash of a scheme we do not know (bcrypt's
// "$2b$", say), and taking it literally would make its hash text the password.
//
// Threading: a StoredSecret is immutable once parsed; Matches() is safe to
// call from any thread at once.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "keel/status.hpp"

namespace keel::modules {

class StoredSecret {
 public:
  enum class Scheme { kPlain, kArgon2id, kSha512Crypt };

  // Checks `text` (well-formed hash, known scheme); on failure the message
  // says what is wrong without quoting the secret. Initialises libsodium.
  static Result<StoredSecret> Parse(std::string text);

  // True when `presented` is the secret. Costs what the scheme costs: a hash
  // of `presented` for plain text, the hash's own work factor otherwise.
  bool Matches(std::string_view presented) const;

  Scheme scheme() const { return scheme_; }

 private:
  using Digest = std::array<unsigned char, 32>;

  StoredSecret(Scheme scheme, std::string hash, const Digest& digest)
      : scheme_(scheme), hash_(std::move(hash)), digest_(digest) {}

  Scheme scheme_;
  std::string hash_;  // the stored hash; empty for plain text
  Digest digest_{};   // BLAKE2b of a plain secret, which itself is not kept
};

}  // namespace keel::modules
