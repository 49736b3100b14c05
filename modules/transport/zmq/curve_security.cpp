#include "modules/transport/zmq/curve_security.hpp"

#include <zmq_addon.hpp>

#include <algorithm>
#include <cstring>
#include <exception>

namespace keel::modules {

namespace {

// Addresses remembered for their refusals; beyond this many (after those
// quiet for kForgetAfter are dropped), a new address gets the longest delay,
// so a flood of addresses cannot grow the table.
constexpr size_t kMaxTrackedAddresses = 16384;
constexpr auto kForgetAfter = std::chrono::minutes(1);

bool IsZ85Key(const std::string& text) {
  uint8_t decoded[32];
  return text.size() == 40 && zmq_z85_decode(decoded, text.c_str()) != nullptr;
}

Status CheckKey(const std::string& field, const std::string& value) {
  if (IsZ85Key(value)) return Status::Ok();
  return Status::Error("zmq: Secure(): " + field +
                       " is not a CurveZMQ key (40 Z85 characters; got " +
                       std::to_string(value.size()) + " characters" +
                       (value.size() == 40 ? " that are not Z85" : "") + ")");
}

std::string Text(const zmq::message_t& m) { return std::string(m.data<char>(), m.size()); }

}  // namespace

Status CheckCurveKeys(const TransportKeys& keys) {
  if (!zmq_has("curve")) return Status::Error("zmq: this libzmq was built without CURVE support");
  if (keys.mechanism != "curve") {
    return Status::Error("zmq: Secure(): mechanism '" + keys.mechanism +
                         "' is not supported (only \"curve\")");
  }
  if (auto s = CheckKey("public_key", keys.public_key); !s.ok()) return s;
  if (auto s = CheckKey("secret_key", keys.secret_key); !s.ok()) return s;
  char derived[41];
  if (zmq_curve_public(derived, keys.secret_key.c_str()) != 0 || keys.public_key != derived) {
    return Status::Error("zmq: Secure(): public_key is not the public half of secret_key");
  }
  if (!keys.server_key.empty()) return CheckKey("server_key", keys.server_key);
  return Status::Ok();
}

void MakeCurveServer(zmq::socket_t& socket, const TransportKeys& keys) {
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_publickey, keys.public_key);
  socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
  socket.set(zmq::sockopt::zap_domain, kZapDomain);
}

void MakeCurveClient(zmq::socket_t& socket, const TransportKeys& keys) {
  socket.set(zmq::sockopt::curve_serverkey, keys.server_key);
  socket.set(zmq::sockopt::curve_publickey, keys.public_key);
  socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
}

bool IsCurveMismatch(uint32_t protocol_error) {
  return protocol_error == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH ||
         protocol_error == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC;
}

std::string HexCode(uint32_t code) {
  static const char kDigits[] = "0123456789abcdef";
  std::string text = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) text += kDigits[(code >> shift) & 0xf];
  return text;
}

CurveDialer::CurveDialer(std::string endpoint, std::chrono::milliseconds initial,
                         std::chrono::milliseconds max)
    : endpoint_(std::move(endpoint)), initial_(initial), max_(max) {}

std::string CurveDialer::OnEvent(uint16_t event, uint32_t value, Clock::time_point now) {
  std::string line;
  if (event == ZMQ_EVENT_CONNECTED) {
    handshaking_ = true;
  } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
    handshaking_ = false;
    delay_ = std::chrono::milliseconds(0);
    reported_ = false;
  } else if (event == ZMQ_EVENT_DISCONNECTED) {
    // A CURVE server that cannot read our HELLO (we hold another server
    // key) just hangs up; libzmq dials again by itself.
    if (std::exchange(handshaking_, false)) {
      line = "zmq: " + endpoint_ +
             " hung up during the CurveZMQ handshake: is server_key its public key? retrying";
    }
  } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
             event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
    handshaking_ = false;
    delay_ = delay_.count() == 0 ? initial_ : std::min(2 * delay_, max_);
    redial_at_ = now + delay_;
    line = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
               ? "zmq: " + endpoint_ + " refused this daemon's CurveZMQ key (ZAP status " +
                     std::to_string(value) + "); retrying"
               : "zmq: CurveZMQ handshake with " + endpoint_ + " failed (protocol error " +
                     HexCode(value) + "): is it secured, and is server_key its public key? " +
                     "retrying";
  }
  if (line.empty() || std::exchange(reported_, true)) return "";
  return line;
}

void CurveDialer::RedialIfDue(zmq::socket_t& socket, Clock::time_point now) {
  if (now < redial_at_) return;
  redial_at_ = Clock::time_point::max();
  try {
    socket.disconnect(endpoint_);
  } catch (const zmq::error_t&) {
    // already forgotten by libzmq
  }
  try {
    socket.connect(endpoint_);
  } catch (const zmq::error_t&) {
    redial_at_ = now + delay_;
  }
}

std::string PrincipalPins::Check(const std::string& id, const zmq::message_t& body) {
  const char* user = zmq_msg_gets(body.handle(), "User-Id");
  const std::string principal = user ? user : "";
  auto [pin, first] = pins_.emplace(id, principal);
  if (first || pin->second == principal) return "";
  return "zmq: dropped a message from " + principal + " sent under the routing id of " +
         pin->second;
}

ZapHandler::ZapHandler(zmq::context_t& context, PeerAdmission admit,
                       std::function<void(const std::string&)> refused, Delays delays)
    : socket_(context, zmq::socket_type::router),
      admit_(std::move(admit)),
      refused_(std::move(refused)),
      delays_(delays) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("inproc://zeromq.zap.01");
}

void ZapHandler::Serve(Clock::time_point now) {
  // Requests come one per handshake; a bounded pass keeps a storm of them
  // from starving the transport's other work.
  for (int i = 0; i < 256; ++i) {
    Frames request;
    auto got = zmq::recv_multipart(socket_, std::back_inserter(request), zmq::recv_flags::dontwait);
    if (!got) return;
    Answer(request, now);
  }
}

void ZapHandler::Answer(const Frames& request, Clock::time_point now) {
  // [routing id] [empty] "1.0" request-id domain address identity mechanism
  // credentials...; without the first four there is nobody to answer.
  if (request.size() < 4 || request[1].size() != 0) return;
  auto reply = [&](const char* code, const std::string& text, const std::string& user) {
    Frames r;
    r.emplace_back(request[0].data(), request[0].size());
    r.emplace_back();
    r.emplace_back("1.0", 3);
    r.emplace_back(request[3].data(), request[3].size());
    r.emplace_back(code, 3);
    r.emplace_back(text.data(), text.size());
    r.emplace_back(user.data(), user.size());
    r.emplace_back();  // no metadata
    return r;
  };
  if (Text(request[2]) != "1.0" || request.size() < 8) {
    Send(reply("500", "unsupported ZAP request", ""));
    return;
  }
  const std::string address = Text(request[5]);
  const std::string mechanism = Text(request[7]);
  AuthOutcome outcome;
  std::string key;
  if (mechanism == "CURVE" && request.size() == 9 && request[8].size() == 32) {
    char z85[41];
    zmq_z85_encode(z85, request[8].data<uint8_t>(), 32);
    key = z85;
    try {
      if (admit_) outcome = admit_({"curve", {{"public_key", key}, {"address", address}}});
    } catch (const std::exception& e) {
      outcome = {AuthOutcome::Decision::kUnauthorized, "", "",
                 std::string("admission check failed: ") + e.what()};
    }
  } else {
    outcome.message = "mechanism " + mechanism + " is not CURVE";
  }
  if (outcome.decision == AuthOutcome::Decision::kAuthenticated) {
    failures_.erase(address);
    Send(reply("200", "OK", outcome.principal));
    return;
  }
  std::string why = "zmq: refused peer " + address + (key.empty() ? "" : " with key " + key);
  if (!outcome.message.empty()) why += ": " + outcome.message;
  if (refused_) refused_(why);
  delayed_.emplace(now + NextDelay(address, now), reply("400", "not admitted", ""));
}

std::chrono::milliseconds ZapHandler::NextDelay(const std::string& address, Clock::time_point now) {
  auto it = failures_.find(address);
  if (it == failures_.end()) {
    if (failures_.size() >= kMaxTrackedAddresses) {
      for (auto f = failures_.begin(); f != failures_.end();) {
        f = now - f->second.last > kForgetAfter ? failures_.erase(f) : std::next(f);
      }
      if (failures_.size() >= kMaxTrackedAddresses) return delays_.max;
    }
    it = failures_.emplace(address, Failures{}).first;
  } else if (now - it->second.last > kForgetAfter) {
    it->second.count = 0;
  }
  Failures& f = it->second;
  f.count = std::min<uint32_t>(f.count + 1, 32);
  f.last = now;
  auto delay = delays_.first;
  for (uint32_t i = 1; i < f.count && delay < delays_.max; ++i) delay *= 2;
  return std::min(delay, delays_.max);
}

void ZapHandler::SendDue(Clock::time_point now) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    Send(std::move(delayed_.begin()->second));
    delayed_.erase(delayed_.begin());
  }
}

ZapHandler::Clock::time_point ZapHandler::next_due() const {
  return delayed_.empty() ? Clock::time_point::max() : delayed_.begin()->first;
}

void ZapHandler::Send(Frames reply) {
  // A peer that hung up meanwhile has no route any more; its answer is
  // dropped (the ROUTER is not mandatory), which is what we want.
  try {
    (void)zmq::send_multipart(socket_, reply, zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
  }
}

}  // namespace keel::modules
