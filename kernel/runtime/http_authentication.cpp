#include "kernel/runtime/http_authentication.hpp"

#include <glog/logging.h>

#include <boost/asio/steady_timer.hpp>
#include <sstream>

#include "kernel/http/http_server.hpp"
#include "kernel/runtime/authentication.hpp"
#include "kernel/runtime/daemon.hpp"

namespace keel::runtime {

namespace {

// "127.0.0.1:53412" -> "127.0.0.1", "[::1]:80" -> "[::1]": failures are
// paced per host, not per connection.
std::string HostOf(const std::string& address) {
  const auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

bool Required(const HttpAuthPolicy& policy, HttpRealm realm) {
  switch (realm) {
    case HttpRealm::kScheduler:
      return policy.scheduler;
    case HttpRealm::kReadOnly:
      return policy.read_only;
    case HttpRealm::kReadWrite:
      return policy.read_write;
    case HttpRealm::kOpen:
      return false;
  }
  return false;
}

}  // namespace

std::string RealmName(const std::string& daemon_name, HttpRealm realm) {
  const std::string base = "keel-" + daemon_name + "-";
  switch (realm) {
    case HttpRealm::kScheduler:
      return base + "scheduler";
    case HttpRealm::kReadOnly:
      return base + "readonly";
    case HttpRealm::kReadWrite:
      return base + "readwrite";
    case HttpRealm::kOpen:
      break;
  }
  return base + "open";
}

void GuardHttp(Daemon& daemon, std::shared_ptr<Authentication> authentication,
               HttpAuthPolicy policy) {
  if (!policy.scheduler && !policy.read_only && !policy.read_write) return;
  auto& io = daemon.io();
  const std::string name = daemon.name();
  daemon.http().SetGate([authentication, policy = std::move(policy), &io, name](
                            http::Request& request, http::Responder& responder) {
    const HttpRealm realm = policy.classify(request);
    if (!Required(policy, realm)) return true;
    const std::string host = HostOf(request.remote_address);
    AuthOutcome o = authentication->AuthenticateHttp(request.headers, RealmName(name, realm));
    if (o.decision == AuthOutcome::Decision::kAuthenticated) {
      authentication->RecordSuccess(host, "http");
      request.principal = o.principal;
      return true;
    }
    LOG(WARNING) << "authentication failed: " << request.method << " " << request.path << " from "
                 << request.remote_address << ": " << o.message;
    const auto delay = authentication->RecordFailure(host, "http");
    // The reason stays in the log: telling the client "unknown principal"
    // apart from "wrong secret" would tell it which principals exist.
    const bool sent_none = o.message == kNoCredentials;
    http::Response response = http::Response::Text(
        401, sent_none ? "Authentication required\n" : "Authentication failed\n");
    std::istringstream challenges(o.challenge);
    for (std::string c; std::getline(challenges, c);) {
      if (!c.empty()) response.headers.emplace_back("WWW-Authenticate", c);
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(io, delay);
    timer->async_wait([timer, responder,
                       response = std::move(response)](const boost::system::error_code&) mutable {
      responder.Respond(std::move(response));
    });
    return false;
  });
}

}  // namespace keel::runtime
