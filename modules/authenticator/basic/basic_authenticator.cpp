#include "modules/authenticator/basic/basic_authenticator.hpp"

#include <sodium.h>

#include <cstdio>
#include <stdexcept>
#include <vector>

namespace keel::modules {
namespace {

static_assert(crypto_generichash_KEYBYTES == 32);

CredentialMap ReadOrThrow(const std::string& path) {
  auto credentials = ReadCredentialsFile(path);
  if (!credentials.ok()) throw std::invalid_argument(credentials.status().message());
  return std::move(credentials).value();
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

// A quoted-string (RFC 9110 5.6.4) holding `text`.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A principal as it may appear in a log line or response body: quoted,
// control bytes escaped, cut short. It came from the client.
std::string Printable(std::string_view principal) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  for (size_t i = 0; i < principal.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(principal[i]);
    if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (principal.size() > kMax) out += "...";
  return out + "'";
}

AuthOutcome Unauthorized(AuthOutcome outcome, std::string message) {
  outcome.decision = AuthOutcome::Decision::kUnauthorized;
  outcome.message = std::move(message);
  return outcome;
}

// Standard base64 with padding; false for anything else.
bool DecodeBase64(std::string_view text, std::string* out) {
  std::vector<unsigned char> bin(text.size() / 4 * 3 + 3);
  size_t length = 0;
  // With b64_end null, libsodium fails unless the whole input decodes.
  if (sodium_base642bin(bin.data(), bin.size(), text.data(), text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return false;
  }
  out->assign(reinterpret_cast<const char*>(bin.data()), length);
  sodium_memzero(bin.data(), bin.size());
  return true;
}

}  // namespace

BasicAuthenticator::BasicAuthenticator(const std::string& credentials_path, size_t cache_capacity)
    : credentials_(ReadOrThrow(credentials_path)), cache_capacity_(cache_capacity) {
  // ReadOrThrow has initialised libsodium (StoredSecret::Parse); once more
  // costs nothing and does not depend on that.
  if (sodium_init() < 0) throw std::runtime_error("cannot initialise libsodium");
  crypto_generichash_keygen(cache_key_.data());
}

BasicAuthenticator::~BasicAuthenticator() { sodium_memzero(cache_key_.data(), cache_key_.size()); }

AuthOutcome BasicAuthenticator::AuthenticateHttp(const HttpAuthRequest& request) {
  AuthOutcome outcome;
  outcome.challenge = "Basic realm=" + Quoted(request.realm);
  auto header = request.headers.find("authorization");
  if (header == request.headers.end()) {
    outcome.message = "no Authorization header";
    return outcome;
  }
  std::string_view value = Trim(header->second);
  std::string_view scheme = value.substr(0, value.find_first_of(" \t"));
  if (!EqualsIgnoreCase(scheme, "basic")) {
    outcome.message = "Authorization is not Basic";
    return outcome;
  }
  std::string_view encoded = Trim(value.substr(scheme.size()));
  if (encoded.empty()) return Unauthorized(std::move(outcome), "Basic without credentials");
  std::string decoded;
  if (!DecodeBase64(encoded, &decoded)) {
    return Unauthorized(std::move(outcome), "Basic credentials are not valid base64");
  }
  auto colon = decoded.find(':');
  if (colon == std::string::npos) {
    sodium_memzero(decoded.data(), decoded.size());
    return Unauthorized(std::move(outcome),
                        "Basic credentials have no ':' between principal and secret");
  }
  std::string_view text(decoded);
  outcome = Check(text.substr(0, colon), text.substr(colon + 1), std::move(outcome));
  sodium_memzero(decoded.data(), decoded.size());
  return outcome;
}

AuthOutcome BasicAuthenticator::AuthenticatePeer(const PeerAuthRequest& request) {
  AuthOutcome outcome;
  if (request.mechanism != "basic") {
    outcome.message = "mechanism is not basic";
    return outcome;
  }
  auto principal = request.properties.find("principal");
  if (principal == request.properties.end() || principal->second.empty()) {
    return Unauthorized(std::move(outcome), "basic credentials without a principal");
  }
  auto secret = request.properties.find("secret");
  if (secret == request.properties.end()) {
    return Unauthorized(std::move(outcome), "basic credentials of " + Printable(principal->second) +
                                                " without a secret");
  }
  return Check(principal->second, secret->second, std::move(outcome));
}

BasicAuthenticator::CacheKey BasicAuthenticator::CacheKeyOf(std::string_view principal,
                                                            std::string_view secret) const {
  crypto_generichash_state state;
  crypto_generichash_init(&state, cache_key_.data(), cache_key_.size(), sizeof(CacheKey));
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(principal.data()),
                            principal.size());
  const unsigned char separator = '\0';  // principals hold no control characters
  crypto_generichash_update(&state, &separator, 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                            secret.size());
  CacheKey key;
  crypto_generichash_final(&state, key.data(), key.size());
  sodium_memzero(&state, sizeof(state));
  return key;
}

bool BasicAuthenticator::MatchesHashed(const StoredSecret& stored, std::string_view principal,
                                       std::string_view secret) {
  CacheKey key{};
  if (cache_capacity_ > 0) {
    key = CacheKeyOf(principal, secret);
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (verified_.count(key) != 0) return true;
  }
  // Hashed without the lock: threads checking at once do not queue on it
  // (two first checks of the same secret may both hash; both then insert).
  ++hash_verifications_;
  if (!stored.Matches(secret)) return false;  // wrong secrets are never cached
  if (cache_capacity_ > 0) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (verified_.size() >= cache_capacity_ && verified_.count(key) == 0) verified_.clear();
    verified_.insert(key);
  }
  return true;
}

AuthOutcome BasicAuthenticator::Check(std::string_view principal, std::string_view secret,
                                      AuthOutcome outcome) {
  auto entry = credentials_.find(principal);
  if (entry == credentials_.end()) {
    return Unauthorized(std::move(outcome), "unknown principal " + Printable(principal));
  }
  const StoredSecret& stored = entry->second;
  bool matches = stored.scheme() == StoredSecret::Scheme::kPlain
                     ? stored.Matches(secret)
                     : MatchesHashed(stored, principal, secret);
  if (!matches) {
    return Unauthorized(std::move(outcome), "wrong secret for principal " + Printable(principal));
  }
  outcome.decision = AuthOutcome::Decision::kAuthenticated;
  outcome.principal = entry->first;
  outcome.message.clear();
  return outcome;
}

}  // namespace keel::modules
