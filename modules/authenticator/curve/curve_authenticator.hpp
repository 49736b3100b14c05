// CurveAuthenticator (`curve`): CurveZMQ keys for the daemon's transport.
//
// It hands the daemon this daemon's key pair (and, on an agent, the master's
// public key) for Transport::Secure(), and on the master answers the
// transport's admission check: a peer whose public key is in the allow-list
// is authenticated as that entry's principal, any other is refused. HTTP
// requests are not its business (kNotMine).
//
// Threading: every file is read when the instance is made; afterwards it is
// immutable, so AuthenticatePeer() is safe from the transport's thread (as
// authenticator.hpp requires) and any other.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "keel/authenticator.hpp"
#include "modules/authenticator/curve/key_files.hpp"

namespace keel::modules {

// The module's parameters (README.md): exactly one of the last two is set.
struct CurveSettings {
  std::string key_file;           // this daemon's key pair
  std::string allowed_keys_file;  // master: the agents admitted
  std::string master_public_key;  // agent: a Z85 key, or the path of a .pub file
};

// What the settings' files hold, checked.
struct CurveKeys {
  CurveKeyPair own;
  std::string server_key;                      // agent: the master's key; master: empty
  std::map<std::string, std::string> allowed;  // master: public key -> principal
  bool master = false;
};

// Reads and checks every file the settings name. The error names the
// parameter, and the file (and line) at fault.
Result<CurveKeys> LoadCurveKeys(const CurveSettings& settings);

class CurveAuthenticator : public Authenticator {
 public:
  explicit CurveAuthenticator(CurveKeys keys);

  AuthOutcome AuthenticateHttp(const HttpAuthRequest& request) override;
  // "curve" requests: kAuthenticated with the entry's principal when
  // properties["public_key"] is allowed, else kUnauthorized naming the key
  // (and properties["address"] if given). Other mechanisms: kNotMine.
  AuthOutcome AuthenticatePeer(const PeerAuthRequest& request) override;
  // {"curve", own public, own secret, server_key}.
  std::optional<TransportKeys> TransportKeysOf() const override;

  const CurveKeys& keys() const { return keys_; }

 private:
  const CurveKeys keys_;
};

}  // namespace keel::modules
