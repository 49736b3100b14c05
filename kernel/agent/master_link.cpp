#include "kernel/agent/master_link.hpp"

#include <glog/logging.h>
#include <google/protobuf/struct.pb.h>

#include "kernel/http/http_client.hpp"
#include "kernel/runtime/authentication.hpp"
#include "kernel/runtime/json_file.hpp"
#include "kernel/runtime/transport_status.hpp"

namespace keel::agent {

namespace {
constexpr std::chrono::milliseconds kMaxBackoff{30000};
}

MasterLink::MasterLink(runtime::Daemon& daemon, runtime::HostPort master, std::string configured,
                       const google::protobuf::Struct* parameters)
    : daemon_(daemon),
      master_(std::move(master)),
      module_(std::move(configured)),
      parameters_(parameters),
      retry_timer_(daemon.io()) {}

MasterLink::~MasterLink() {
  if (transport_) transport_->Stop();
}

void MasterLink::Start() {
  daemon_.http().Route(
      "GET", "/agent/transport", [this](const http::Request&, http::Responder responder) {
        google::protobuf::Struct body;
        auto& f = *body.mutable_fields();
        f["master"].set_string_value(master_.host + ":" + std::to_string(master_.port));
        f["transport"].set_string_value(module_);
        f["endpoint"].set_string_value(endpoint_);
        f["connected"].set_bool_value(connected_);
        if (!last_error_.empty()) f["error"].set_string_value(last_error_);
        if (transport_) runtime::AddTransportCounters(transport_->Counters(), &body);
        dispatcher_.AddTo(&body);
        responder.Respond(http::Response::Json(200, runtime::ToJson(body)));
      });
  Discover();
}

void MasterLink::Discover() {
  std::weak_ptr<MasterLink> weak = weak_from_this();
  http::Get(
      daemon_.io(), master_.host, master_.port, "/master/transport", std::chrono::seconds(5),
      [weak](Result<http::Response> response) {
        auto self = weak.lock();
        if (!self) return;
        if (!response.ok()) return self->Retry(response.status().message());
        if (response->status != 200) {
          return self->Retry("GET /master/transport answered " + std::to_string(response->status));
        }
        google::protobuf::Struct body;
        if (auto s = runtime::ParseJsonInto(response->body, "GET /master/transport", &body);
            !s.ok()) {
          return self->Retry(s.message());
        }
        const auto& f = body.fields();
        auto module = f.find("transport");
        auto endpoint = f.find("endpoint");
        if (module == f.end() || endpoint == f.end()) {
          return self->Retry("GET /master/transport: no transport or endpoint");
        }
        auto parameters = f.find("parameters");
        self->OnDiscovered(
            module->second.string_value(), endpoint->second.string_value(),
            parameters == f.end() ? google::protobuf::Struct() : parameters->second.struct_value());
      });
}

void MasterLink::OnDiscovered(const std::string& module, const std::string& endpoint,
                              const google::protobuf::Struct& master_parameters) {
  const bool learnt = module_.empty();
  if (!module_.empty() && module_ != module) {
    return Retry("the master uses transport '" + module + "' but this agent is configured for '" +
                 module_ + "'");
  }
  if (!transport_) {
    module_ = module;
    std::shared_ptr<Module> loaded = daemon_.FindModule(ModuleKind::kTransport);
    if (!loaded) {
      // A transport learnt from the master runs with the master's parameters,
      // so both ends agree on heartbeats and timeouts.
      if (learnt) {
        learnt_parameters_ = std::make_unique<google::protobuf::Struct>(master_parameters);
      }
      auto result = daemon_.LoadModule({"transport", ModuleKind::kTransport, module,
                                        learnt ? learnt_parameters_.get() : parameters_});
      if (!result.ok()) return Retry(result.status().message());
      loaded = *result;
    }
    auto transport = std::static_pointer_cast<Transport>(loaded);
    if (authentication_) {
      if (auto s = authentication_->SecureTransport(*transport, module); !s.ok()) {
        return Retry(s.message());
      }
    }
    transport_ = std::move(transport);
    if (auto s = transport_->Start(this); !s.ok()) return Retry(s.message());
  }
  if (!peer_.empty() && endpoint == endpoint_) {
    // Asked again after losing the master, which is where it was: the
    // transport keeps reconnecting by itself.
    last_error_.clear();
    return;
  }
  auto peer = transport_->Connect(endpoint);
  if (!peer.ok()) return Retry(peer.status().message());
  endpoint_ = endpoint;
  peer_ = *peer;
  last_error_.clear();
  LOG(INFO) << "connecting to the master's " << module_ << " transport at " << endpoint;
}

void MasterLink::Retry(const std::string& why) {
  last_error_ = why;
  LOG(WARNING) << "master " << master_.host << ":" << master_.port << ": " << why
               << "; asking again in " << backoff_.count() << "ms";
  const auto wait = backoff_;
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  std::weak_ptr<MasterLink> weak = weak_from_this();
  retry_timer_.Start(wait, [weak] {
    if (auto self = weak.lock()) self->Discover();
  });
}

void MasterLink::OnMessage(const PeerId& peer, TransportMessage message) {
  dispatcher_.Dispatch(peer, message);
}

bool MasterLink::Send(TransportMessage message) {
  if (!transport_ || peer_.empty()) return false;
  const std::string type = message.type;
  if (auto s = transport_->Send(peer_, std::move(message)); !s.ok()) {
    LOG_EVERY_N(WARNING, 100) << "transport refused " << type << " to the master: " << s.message();
    return false;
  }
  return true;
}

void MasterLink::OnPeerConnected(const PeerId& peer) {
  if (peer != peer_) return;  // an endpoint given up for the master's new one
  connected_ = true;
  backoff_ = std::chrono::milliseconds(500);
  LOG(INFO) << "connected to the master at " << peer;
  if (on_connection_) on_connection_(true);
}

void MasterLink::OnPeerLost(const PeerId& peer) {
  if (peer != peer_) return;
  connected_ = false;
  if (on_connection_) on_connection_(false);
  // A restarted master may listen on another port (its transport binds port
  // 0 unless told otherwise), so ask it again where; the transport keeps
  // reconnecting to the old endpoint meanwhile, in case it comes back there.
  backoff_ = std::chrono::milliseconds(500);
  Retry("lost the master's transport at " + peer);
}

}  // namespace keel::agent
