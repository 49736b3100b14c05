// The HTTP side of authentication: a gate on the daemon's HTTP server that
// asks for credentials where the operator turned authentication on, in the
// realms Mesos has (scheduler API, read-only and read-write endpoints).
//
// A refused request gets 401 with `WWW-Authenticate` (one per authenticator
// that offers a challenge), held back by the per-peer delay of
// Authentication::RecordFailure on a timer, so one client that keeps
// guessing waits longer and longer while every other client is served at
// once. The refusal is logged with the request, the peer address and the
// authenticator's reason (which names the principal tried).
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace keel::http {
struct Request;
}

namespace keel::runtime {

class Authentication;
class Daemon;

enum class HttpRealm {
  kOpen,       // never authenticated: /health, the transport's address
  kScheduler,  // the v1 scheduler API
  kReadOnly,   // state, metrics, GETs
  kReadWrite,  // the v1 operator API and every change
};

struct HttpAuthPolicy {
  bool scheduler = false;   // --authenticate_frameworks
  bool read_only = false;   // --authenticate_http_readonly
  bool read_write = false;  // --authenticate_http_readwrite
  std::function<HttpRealm(const http::Request&)> classify;
};

// "keel-master-scheduler", "keel-master-readonly", "keel-master-readwrite".
std::string RealmName(const std::string& daemon_name, HttpRealm realm);

// Installs the gate on `daemon`'s HTTP server, if the policy asks for any
// authentication. REQUIRES: before the server starts; `authentication`
// non-empty when it does.
void GuardHttp(Daemon& daemon, std::shared_ptr<Authentication> authentication,
               HttpAuthPolicy policy);

}  // namespace keel::runtime
