#include "kernel/master/transport_service.hpp"

#include <glog/logging.h>
#include <google/protobuf/struct.pb.h>

#include "keel/internal/agent_protocol.pb.h"
#include "kernel/http/http_server.hpp"
#include "kernel/protocol/protocol_message.hpp"
#include "kernel/runtime/transport_status.hpp"

namespace keel::master {

namespace {

const std::string& ChannelType() {
  static const std::string type = protocol::TypeOf<internal::ChannelMessage>();
  return type;
}

}  // namespace

TransportService::TransportService(runtime::Daemon& daemon, std::string module_name,
                                   const google::protobuf::Struct& parameters,
                                   std::shared_ptr<Transport> transport)
    : daemon_(daemon),
      module_name_(std::move(module_name)),
      parameters_(parameters),
      transport_(std::move(transport)) {
  dispatcher_.Register("keel.internal.Ping", 1, 1, [this](const PeerId& peer, TransportMessage& m) {
    (void)Send(peer, {"keel.internal.Pong", 1, std::move(m.payload)});
  });
}

TransportService::~TransportService() { transport_->Stop(); }

Status TransportService::Start(const std::string& endpoint) {
  if (auto s = transport_->Start(this); !s.ok()) return s;
  auto bound = transport_->Bind(endpoint);
  if (!bound.ok())
    return Status::Error("transport '" + module_name_ + "': " + bound.status().message());
  endpoint_ = *bound;
  LOG(INFO) << "transport '" << module_name_ << "' listening on " << endpoint_;

  daemon_.http().Route("GET", "/master/transport",
                       [this](const http::Request& request, http::Responder responder) {
                         google::protobuf::Struct body;
                         auto& f = *body.mutable_fields();
                         f["transport"].set_string_value(module_name_);
                         f["endpoint"].set_string_value(AdvertisedEndpoint(request.local_address));
                         f["peers"].set_number_value(static_cast<double>(peers_.size()));
                         f["channels"].set_number_value(static_cast<double>(channel_count_));
                         f["malformed_channel_messages"].set_number_value(
                             static_cast<double>(malformed_channel_messages_));
                         *f["parameters"].mutable_struct_value() = parameters_;
                         runtime::AddTransportCounters(transport_->Counters(), &body);
                         dispatcher_.AddTo(&body);
                         responder.Respond(http::Response::Json(200, runtime::ToJson(body)));
                       });
  return Status::Ok();
}

std::string TransportService::AdvertisedEndpoint(const std::string& local_address) const {
  const std::string scheme = "tcp://";
  if (endpoint_.rfind(scheme, 0) != 0 || local_address.empty()) return endpoint_;
  auto colon = endpoint_.rfind(':');
  std::string host = endpoint_.substr(scheme.size(), colon - scheme.size());
  if (host != "0.0.0.0" && host != "*" && host != "[::]") return endpoint_;
  std::string reachable =
      local_address.find(':') == std::string::npos ? local_address : "[" + local_address + "]";
  return scheme + reachable + endpoint_.substr(colon);
}

void TransportService::OnMessage(const PeerId& peer, TransportMessage message) {
  if (message.type != ChannelType()) {
    dispatcher_.Dispatch(peer, message);
    return;
  }
  internal::ChannelMessage wrapped;
  if (!wrapped.ParseFromString(message.payload) || wrapped.channel().empty() ||
      wrapped.channel().find('#') != std::string::npos || wrapped.type().empty()) {
    ++malformed_channel_messages_;
    LOG_EVERY_N(WARNING, 100) << "malformed ChannelMessage from " << peer << "; dropped";
    return;
  }
  if (channels_[peer].insert(wrapped.channel()).second) ++channel_count_;
  TransportMessage inner{std::move(*wrapped.mutable_type()), wrapped.version(),
                         std::move(*wrapped.mutable_payload())};
  dispatcher_.Dispatch(peer + "#" + wrapped.channel(), inner);
}

void TransportService::OnPeerConnected(const PeerId& peer) {
  peers_.insert(peer);
  LOG(INFO) << "transport peer connected: " << peer;
}

void TransportService::OnPeerLost(const PeerId& peer) {
  peers_.erase(peer);
  std::unordered_set<std::string> channels;
  if (auto it = channels_.find(peer); it != channels_.end()) {
    channels.swap(it->second);
    channels_.erase(it);
    channel_count_ -= channels.size();
  }
  LOG(WARNING) << "transport peer lost: " << peer << " (" << channels.size() << " channels)";
  if (!on_lost_) return;
  on_lost_(peer);
  for (const std::string& channel : channels) on_lost_(peer + "#" + channel);
}

bool TransportService::Send(const PeerId& peer, TransportMessage message) {
  const std::string type = message.type;
  PeerId connection = peer;
  // A channel's peer: its connection carries channels (a peer id a
  // transport made itself is sent as it is, '#' or not).
  if (auto hash = peer.find('#'); hash != std::string::npos) {
    auto it = channels_.find(peer.substr(0, hash));
    if (it != channels_.end()) {
      internal::ChannelMessage wrapped;
      wrapped.set_channel(peer.substr(hash + 1));
      wrapped.set_type(std::move(message.type));
      wrapped.set_version(message.version);
      wrapped.set_payload(std::move(message.payload));
      message =
          TransportMessage{ChannelType(), protocol::kProtocolVersion, wrapped.SerializeAsString()};
      connection = it->first;
    }
  }
  if (auto s = transport_->Send(connection, std::move(message)); !s.ok()) {
    LOG_EVERY_N(WARNING, 100) << "transport refused " << type << " to " << peer << ": "
                              << s.message();
    return false;
  }
  return true;
}

}  // namespace keel::master
