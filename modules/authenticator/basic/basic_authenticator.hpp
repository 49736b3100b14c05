// BasicAuthenticator (`basic`): HTTP Basic credentials, and the basic
// credentials an agent sends at registration, checked against a Mesos
// credentials file (see credentials_file.hpp for its format and checks,
// secret_check.hpp for plain and hashed secrets).
//
// Decisions, for HTTP:
//   no Authorization header, or another scheme   kNotMine
//   Basic, but undecodable, no ':', unknown
//   principal or wrong secret                    kUnauthorized
//   Basic with a known principal and its secret  kAuthenticated
// Every HTTP outcome carries the challenge `Basic realm="<request.realm>"`,
// so the kernel can offer Basic when no authenticator recognised a request.
// For peers, mechanism "basic" is checked the same way; others are kNotMine.
// Messages say what was wrong and never quote a secret.
//
// Verified-secret cache: a hashed secret (argon2id, SHA-512 crypt) costs its
// work factor per check, and clients send their credentials on every
// request, so a (principal, secret) that matched once is remembered and its
// repeats are answered without hashing again. Entries are keyed BLAKE2b
// digests of principal + '\0' + secret, under a random key made at
// construction (never the secret itself, nor a digest one could test guesses
// against without the key); they hold nothing but "verified". Only matches
// are kept, so a wrong secret is hashed every time. At most
// `cache_capacity` entries; when full, the cache is emptied. Plain secrets
// are cheap to check and are not cached.
//
// Threading: the credentials are read at construction and never change; the
// cache is guarded by a mutex, held only to look up or insert (never while
// hashing). Both Authenticate calls are safe from any thread at once and do
// not block beyond that, but a first or wrong check of a hashed secret costs
// its hash's work factor (see README.md).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "keel/authenticator.hpp"
#include "modules/authenticator/basic/credentials_file.hpp"

namespace keel::modules {

class BasicAuthenticator : public Authenticator {
 public:
  // Reads the credentials file at `credentials_path`. Throws
  // std::invalid_argument, naming the file and the field at fault, when it
  // cannot be used (the loader reports it and the daemon does not start).
  // `cache_capacity` bounds the verified-secret cache (0 turns it off).
  explicit BasicAuthenticator(const std::string& credentials_path,
                              size_t cache_capacity = kDefaultCacheCapacity);
  ~BasicAuthenticator() override;

  BasicAuthenticator(const BasicAuthenticator&) = delete;
  BasicAuthenticator& operator=(const BasicAuthenticator&) = delete;

  AuthOutcome AuthenticateHttp(const HttpAuthRequest& request) override;
  AuthOutcome AuthenticatePeer(const PeerAuthRequest& request) override;

  static constexpr size_t kDefaultCacheCapacity = 1024;

  size_t principal_count() const { return credentials_.size(); }

  // How many hashed secrets (argon2id, SHA-512 crypt) have been checked by
  // hashing, i.e. not answered from the cache. Plain secrets do not count.
  uint64_t hash_verifications() const { return hash_verifications_.load(); }

 private:
  using CacheKey = std::array<unsigned char, 32>;
  struct CacheKeyHash {
    // The key is a keyed BLAKE2b digest, uniform already: any 8 bytes do.
    size_t operator()(const CacheKey& key) const {
      size_t h;
      std::memcpy(&h, key.data(), sizeof(h));
      return h;
    }
  };

  // kAuthenticated or kUnauthorized for this principal and secret.
  AuthOutcome Check(std::string_view principal, std::string_view secret, AuthOutcome outcome);

  // A hashed secret's check, through the cache.
  bool MatchesHashed(const StoredSecret& stored, std::string_view principal,
                     std::string_view secret);
  CacheKey CacheKeyOf(std::string_view principal, std::string_view secret) const;

  const CredentialMap credentials_;
  const size_t cache_capacity_;
  std::array<unsigned char, 32> cache_key_{};  // BLAKE2b key: random, set once

  std::mutex cache_mutex_;
  std::unordered_set<CacheKey, CacheKeyHash> verified_;  // guarded by cache_mutex_
  std::atomic<uint64_t> hash_verifications_{0};
};

}  // namespace keel::modules
