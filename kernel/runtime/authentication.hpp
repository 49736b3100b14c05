// Authentication: a daemon's authenticator modules asked as one, and what
// follows a failure (log, metrics, a delay that grows per peer).
//
// Authenticators are asked in config order; the first that recognises the
// credentials (kAuthenticated or kUnauthorized) decides. When none does, the
// answer is kUnauthorized with every authenticator's challenge, so a client
// that sent nothing learns how it may authenticate.
//
// Threading: AuthenticateHttp and the pacing on the core strand;
// AuthenticatePeer from any thread (a secured transport asks from its own).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "keel/authenticator.hpp"
#include "keel/status.hpp"

namespace keel {
class Transport;
}

namespace keel::runtime {

class Daemon;
class Metrics;

// The outcome's message when no authenticator recognised any credentials.
inline constexpr const char* kNoCredentials = "no credentials given";

class Authentication : public std::enable_shared_from_this<Authentication> {
 public:
  // `daemon_name` prefixes metrics: "master/authentication/http_failures".
  Authentication(std::string daemon_name, Metrics& metrics,
                 std::vector<std::shared_ptr<Authenticator>> authenticators);

  // The authenticator modules `daemon` loaded, in config order; kept alive
  // by the daemon for its whole run.
  static std::shared_ptr<Authentication> OfDaemon(Daemon& daemon);

  bool empty() const { return authenticators_.empty(); }

  // `realm` names what is protected ("keel-master-scheduler"); the outcome's
  // challenges are joined by "\n" when several authenticators offer one.
  AuthOutcome AuthenticateHttp(const std::map<std::string, std::string>& headers,
                               const std::string& realm) const;
  AuthOutcome AuthenticatePeer(const PeerAuthRequest& request) const;

  // REQUIRES: owned by a shared_ptr (the transport's thread holds a weak
  // reference). Hands the first authenticator's transport keys, if one has them, to
  // `transport` with that authenticator as the admission check. An error
  // (the transport cannot, the keys are bad) refuses the daemon's start.
  Status SecureTransport(Transport& transport, const std::string& transport_name);
  bool secures_transport() const { return secures_transport_; }

  // A failed attempt from `peer` (an address without port, or an agent's
  // transport peer): counted under `what` ("http", "agent") and logged by
  // the caller. Returns how long to hold the refusal back: 100 ms after the
  // first failure in a row, doubling up to 5 s; other peers wait for nothing.
  std::chrono::milliseconds RecordFailure(const std::string& peer, const std::string& what);
  void RecordSuccess(const std::string& peer, const std::string& what);

 private:
  std::string daemon_name_;
  Metrics& metrics_;
  std::vector<std::shared_ptr<Authenticator>> authenticators_;
  bool secures_transport_ = false;

  // Failures in a row per peer; a secured transport's thread records too.
  std::mutex mu_;
  std::map<std::string, int> failures_;
};

}  // namespace keel::runtime
