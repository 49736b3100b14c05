#include "modules/authenticator/basic/secret_check.hpp"

#include <crypt.h>
#include <sodium.h>

#include <cstring>
#include <memory>

namespace keel::modules {
namespace {

constexpr std::string_view kArgon2idPrefix = "$argon2id$";
constexpr std::string_view kSha512Prefix = "$6$";

using Digest = std::array<unsigned char, 32>;

// Plain secrets are compared through a digest: equal-size values whatever
// the lengths, so the comparison's time says nothing about the stored one.
Digest DigestOf(std::string_view text) {
  Digest digest;
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size(), nullptr, 0);
  return digest;
}

// The scheme id between the first two '$', when it looks like one; never
// more of the string, which could be a plain secret that starts with '$'.
std::string SchemeId(std::string_view text) {
  auto end = text.find('$', 1);
  if (end == std::string_view::npos || end > 12) return "";
  for (char c : text.substr(1, end - 1)) {
    bool id_char = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!id_char) return "";
  }
  return std::string(text.substr(0, end + 1));
}

// crypt(3) with the phrase copied and wiped afterwards; empty when crypt
// fails (phrases over CRYPT_MAX_PASSPHRASE_SIZE, a bad setting).
//
// libxcrypt's crypt_rn rather than crypt_r: AddressSanitizer intercepts
// crypt_r, and in a daemon that dlopens this module (and so libcrypt) after
// start its interceptor has no real crypt_r to call and jumps to null.
std::string CryptOrEmpty(std::string_view phrase, const std::string& setting) {
  if (phrase.find('\0') != std::string_view::npos) return "";  // crypt would stop there
  std::string copy(phrase);
  auto data = std::make_unique<crypt_data>();  // zeroed, as crypt_rn requires
  const char* out =
      crypt_rn(copy.c_str(), setting.c_str(), data.get(), static_cast<int>(sizeof(crypt_data)));
  std::string result = (out == nullptr || out[0] == '*') ? "" : out;
  sodium_memzero(copy.data(), copy.size());
  sodium_memzero(data.get(), sizeof(crypt_data));
  return result;
}

// "$6$[rounds=N$]salt$hash" with an 86-character hash, and a setting that
// crypt reproduces unchanged (it clamps out-of-range rounds and truncates
// long salts, which would make the hash unmatchable).
bool IsSha512Crypt(const std::string& text) {
  auto last = text.rfind('$');
  if (last < kSha512Prefix.size() || text.size() - last - 1 != 86) return false;
  for (char c : std::string_view(text).substr(last + 1)) {
    bool b64 = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '/';
    if (!b64) return false;
  }
  std::string probe = CryptOrEmpty("", text);
  return probe.size() == text.size() && probe.compare(0, last, text, 0, last) == 0;
}

}  // namespace

Result<StoredSecret> StoredSecret::Parse(std::string text) {
  if (sodium_init() < 0) return Status::Error("cannot initialise libsodium");
  std::string_view view(text);
  if (view.empty() || view[0] != '$') {
    Digest digest = DigestOf(view);
    sodium_memzero(text.data(), text.size());
    return StoredSecret(Scheme::kPlain, "", digest);
  }
  if (view.substr(0, kArgon2idPrefix.size()) == kArgon2idPrefix) {
    // needs_rehash decodes the string and answers -1 when it cannot.
    if (text.size() >= crypto_pwhash_STRBYTES || text.find('\0') != std::string::npos ||
        crypto_pwhash_argon2id_str_needs_rehash(text.c_str(), crypto_pwhash_OPSLIMIT_MIN,
                                                crypto_pwhash_MEMLIMIT_MIN) == -1) {
      return Status::Error("not a valid argon2id hash (make one with crypto_pwhash_str)");
    }
    return StoredSecret(Scheme::kArgon2id, std::move(text), Digest{});
  }
  if (view.substr(0, kSha512Prefix.size()) == kSha512Prefix) {
    if (!IsSha512Crypt(text)) {
      return Status::Error("not a valid SHA-512 crypt hash (make one with `openssl passwd -6`)");
    }
    return StoredSecret(Scheme::kSha512Crypt, std::move(text), Digest{});
  }
  std::string id = SchemeId(view);
  return Status::Error((id.empty() ? "starts with '$' but is not a known hash"
                                   : "unknown hash scheme '" + id + "'") +
                       " (known: $argon2id$, $6$; a plain secret must not start with '$')");
}

bool StoredSecret::Matches(std::string_view presented) const {
  switch (scheme_) {
    case Scheme::kPlain: {
      Digest digest = DigestOf(presented);
      return sodium_memcmp(digest.data(), digest_.data(), digest.size()) == 0;
    }
    case Scheme::kArgon2id:
      return crypto_pwhash_str_verify(hash_.c_str(), presented.data(), presented.size()) == 0;
    case Scheme::kSha512Crypt: {
      std::string out = CryptOrEmpty(presented, hash_);
      return out.size() == hash_.size() &&
             sodium_memcmp(out.data(), hash_.data(), hash_.size()) == 0;
    }
  }
  return false;
}

}  // namespace keel::modules
