// Authenticator: tells who a peer is.
//
// A daemon may load several authenticators and asks them in configured order;
// the first that recognises the credentials decides. An HTTP request is
// authenticated from its headers (framework and operator endpoints); a
// transport peer (an agent) from what its transport learnt of it (a CurveZMQ
// public key, a basic credential sent at registration).
//
// Threading: on the daemon's core strand; calls must not block (credential
// files are read at construction or start, not per request). One exception:
// an authenticator that secures the transport (TransportKeys() returns keys)
// has its AuthenticatePeer() called from the transport's own thread, once
// per connecting peer, so it must be safe to call from any thread (read-only
// state loaded at construction is).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "keel/module.hpp"

namespace keel {

struct AuthOutcome {
  enum class Decision {
    kNotMine,        // no credentials this authenticator understands: ask the next
    kAuthenticated,  // `principal` is who the peer is
    kUnauthorized,   // credentials missing or wrong: 401 with `challenge`
  };
  Decision decision = Decision::kNotMine;
  std::string principal;
  std::string challenge;  // a WWW-Authenticate value, e.g. `Basic realm="keel"`
  std::string message;    // why, for logs and the response body
};

struct HttpAuthRequest {
  std::string realm;                           // "keel-master-readwrite", ...
  std::map<std::string, std::string> headers;  // lower-case names
};

// A transport peer's credentials. Mechanisms and their properties:
//   "curve": "public_key" (Z85, 40 characters), "address" (the peer's IP);
//   "basic": "principal", "secret", "address" (sent by an agent at
//            registration).
struct PeerAuthRequest {
  std::string mechanism;
  std::map<std::string, std::string> properties;
};

// Key material that encrypts and authenticates a daemon's transport links
// (CurveZMQ). Keys are Z85 text, 40 characters each.
struct TransportKeys {
  std::string mechanism = "curve";
  std::string public_key;  // this daemon's
  std::string secret_key;  // this daemon's
  // The master's public key: set on agents (the server they must reach),
  // empty on the master.
  std::string server_key;
};

class Authenticator : public Module {
 public:
  virtual AuthOutcome AuthenticateHttp(const HttpAuthRequest& request) = 0;
  virtual AuthOutcome AuthenticatePeer(const PeerAuthRequest& request) = 0;
  // Keys for the daemon's transport, from an authenticator that secures it.
  // The daemon passes them to Transport::Secure() with this authenticator's
  // AuthenticatePeer() as the admission check; nullopt: not such a module.
  virtual std::optional<TransportKeys> TransportKeysOf() const { return std::nullopt; }
};

}  // namespace keel
