// Authenticator: tells who a peer is.
//
// A daemon may load several authenticators and asks them in configured order;
// the first that recognises the credentials decides. An HTTP request is
// authenticated from its headers (framework and operator endpoints); a
// transport peer (an agent) from what its transport learnt of it (a CurveZMQ
// public key, a basic credential sent at registration).
//
// Threading: on the daemon's core strand; calls must not block (credential
// files are read at construction or start, not per request).
#pragma once

#include <map>
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

struct PeerAuthRequest {
  std::string mechanism;                          // "curve", "basic", ...
  std::map<std::string, std::string> properties;  // "public_key", "principal", ...
};

class Authenticator : public Module {
 public:
  virtual AuthOutcome AuthenticateHttp(const HttpAuthRequest& request) = 0;
  virtual AuthOutcome AuthenticatePeer(const PeerAuthRequest& request) = 0;
};

}  // namespace keel
