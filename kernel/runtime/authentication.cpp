#include "kernel/runtime/authentication.hpp"

#include <glog/logging.h>

#include <algorithm>

#include "keel/transport.hpp"
#include "kernel/runtime/daemon.hpp"
#include "kernel/runtime/metrics.hpp"

namespace keel::runtime {

namespace {

constexpr std::chrono::milliseconds kFirstDelay{100};
constexpr std::chrono::milliseconds kMaxDelay{5000};
// Peers remembered at most; beyond, the oldest entries go (an attacker with
// many addresses must not grow the map without bound).
constexpr size_t kMaxPeers = 10000;

template <typename Ask>
AuthOutcome AskInOrder(const std::vector<std::shared_ptr<Authenticator>>& authenticators, Ask ask) {
  AuthOutcome none;
  none.decision = AuthOutcome::Decision::kUnauthorized;
  for (const auto& a : authenticators) {
    AuthOutcome o = ask(*a);
    if (o.decision != AuthOutcome::Decision::kNotMine) return o;
    if (!o.challenge.empty()) {
      none.challenge += (none.challenge.empty() ? "" : "\n") + o.challenge;
    }
  }
  none.message = kNoCredentials;
  return none;
}

}  // namespace

std::shared_ptr<Authentication> Authentication::OfDaemon(Daemon& daemon) {
  std::vector<std::shared_ptr<Authenticator>> authenticators;
  for (const auto& m : daemon.FindModules(ModuleKind::kAuthenticator)) {
    authenticators.push_back(std::static_pointer_cast<Authenticator>(m));
  }
  auto authentication =
      std::make_shared<Authentication>(daemon.name(), daemon.metrics(), authenticators);
  daemon.Keep(authentication);
  return authentication;
}

Authentication::Authentication(std::string daemon_name, Metrics& metrics,
                               std::vector<std::shared_ptr<Authenticator>> authenticators)
    : daemon_name_(std::move(daemon_name)),
      metrics_(metrics),
      authenticators_(std::move(authenticators)) {}

AuthOutcome Authentication::AuthenticateHttp(const std::map<std::string, std::string>& headers,
                                             const std::string& realm) const {
  HttpAuthRequest request{realm, headers};
  return AskInOrder(authenticators_, [&](Authenticator& a) { return a.AuthenticateHttp(request); });
}

AuthOutcome Authentication::AuthenticatePeer(const PeerAuthRequest& request) const {
  AuthOutcome o =
      AskInOrder(authenticators_, [&](Authenticator& a) { return a.AuthenticatePeer(request); });
  if (o.decision == AuthOutcome::Decision::kUnauthorized && o.message == kNoCredentials) {
    o.message = "no authenticator accepts mechanism '" + request.mechanism + "'";
  }
  return o;
}

Status Authentication::SecureTransport(Transport& transport, const std::string& transport_name) {
  for (const auto& a : authenticators_) {
    auto keys = a->TransportKeysOf();
    if (!keys) continue;
    std::weak_ptr<Authentication> weak = weak_from_this();
    std::shared_ptr<Authenticator> admitter = a;
    Status s = transport.Secure(*keys, [admitter, weak](const PeerAuthRequest& request) {
      auto self = weak.lock();
      if (!self) {
        AuthOutcome closing;
        closing.decision = AuthOutcome::Decision::kUnauthorized;
        closing.message = "the daemon is stopping";
        return closing;
      }
      AuthOutcome o = admitter->AuthenticatePeer(request);
      const auto address = request.properties.find("address");
      const std::string peer = address == request.properties.end() ? "?" : address->second;
      if (o.decision == AuthOutcome::Decision::kAuthenticated) {
        self->RecordSuccess(peer, "agent");
      } else {
        const auto key = request.properties.find("public_key");
        LOG(WARNING) << "transport peer " << peer << " refused ("
                     << (key == request.properties.end() ? std::string("no key")
                                                         : "key " + key->second)
                     << "): " << o.message;
        self->RecordFailure(peer, "agent");
      }
      return o;
    });
    if (!s.ok()) {
      return Status::Error("transport '" + transport_name + "' with authenticator keys (" +
                           keys->mechanism + "): " + s.message());
    }
    secures_transport_ = true;
    return Status::Ok();
  }
  return Status::Ok();
}

std::chrono::milliseconds Authentication::RecordFailure(const std::string& peer,
                                                        const std::string& what) {
  metrics_.Increment(daemon_name_ + "/authentication/" + what + "_failures");
  std::lock_guard<std::mutex> lock(mu_);
  if (failures_.size() >= kMaxPeers && !failures_.count(peer)) failures_.clear();
  const int n = ++failures_[peer];
  auto delay = kFirstDelay * (1LL << std::min(n - 1, 6));
  return std::min<std::chrono::milliseconds>(delay, kMaxDelay);
}

void Authentication::RecordSuccess(const std::string& peer, const std::string& what) {
  metrics_.Increment(daemon_name_ + "/authentication/" + what + "_successes");
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(peer);
}

}  // namespace keel::runtime
