#include "modules/authenticator/curve/curve_authenticator.hpp"

#include <utility>

namespace keel::modules {

namespace {

Status Prefixed(const std::string& parameter, const Status& status) {
  return Status::Error(parameter + " " + status.message());
}

}  // namespace

Result<CurveKeys> LoadCurveKeys(const CurveSettings& settings) {
  if (settings.key_file.empty()) return Status::Error("key_file: must name this daemon's key pair");
  const bool master = !settings.allowed_keys_file.empty();
  if (master == !settings.master_public_key.empty()) {
    return Status::Error(
        std::string("set exactly one of allowed_keys_file (on the master) and master_public_key "
                    "(on an agent); ") +
        (master ? "both are set" : "neither is set"));
  }
  CurveKeys keys;
  keys.master = master;
  auto own = ReadKeyPairFile(settings.key_file);
  if (!own.ok()) return Prefixed("key_file", own.status());
  keys.own = std::move(own).value();
  if (master) {
    auto allowed = ReadAllowedKeysFile(settings.allowed_keys_file);
    if (!allowed.ok()) return Prefixed("allowed_keys_file", allowed.status());
    keys.allowed = std::move(allowed).value();
    return keys;
  }
  // A Z85 key is 40 characters; a path of exactly 40 that happens to decode
  // as Z85 would be taken for a key, and then fail to match the master's.
  if (IsZ85Key(settings.master_public_key)) {
    keys.server_key = settings.master_public_key;
    return keys;
  }
  auto server = ReadPublicKeyFile(settings.master_public_key);
  if (!server.ok()) {
    return Status::Error(
        "master_public_key: neither a CurveZMQ public key (40 Z85 characters) "
        "nor a usable .pub file: " +
        server.status().message());
  }
  keys.server_key = std::move(server).value();
  return keys;
}

CurveAuthenticator::CurveAuthenticator(CurveKeys keys) : keys_(std::move(keys)) {}

AuthOutcome CurveAuthenticator::AuthenticateHttp(const HttpAuthRequest&) { return {}; }

AuthOutcome CurveAuthenticator::AuthenticatePeer(const PeerAuthRequest& request) {
  if (request.mechanism != "curve") return {};
  AuthOutcome outcome;
  outcome.decision = AuthOutcome::Decision::kUnauthorized;
  auto key = request.properties.find("public_key");
  auto address = request.properties.find("address");
  const std::string from = address == request.properties.end() ? "" : " from " + address->second;
  if (key == request.properties.end() || key->second.empty()) {
    outcome.message = "curve: no public key" + from;
    return outcome;
  }
  if (!keys_.master) {
    outcome.message = "curve: public key " + key->second + from +
                      " refused: this daemon admits no peers (no allowed_keys_file)";
    return outcome;
  }
  auto entry = keys_.allowed.find(key->second);
  if (entry == keys_.allowed.end()) {
    outcome.message = "curve: public key " + key->second + from + " is not in allowed_keys_file";
    return outcome;
  }
  outcome.decision = AuthOutcome::Decision::kAuthenticated;
  outcome.principal = entry->second;
  return outcome;
}

std::optional<TransportKeys> CurveAuthenticator::TransportKeysOf() const {
  TransportKeys keys;
  keys.mechanism = "curve";
  keys.public_key = keys_.own.public_key;
  keys.secret_key = keys_.own.secret_key;
  keys.server_key = keys_.server_key;
  return keys;
}

}  // namespace keel::modules
