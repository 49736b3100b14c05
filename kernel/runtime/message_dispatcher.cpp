#include "kernel/runtime/message_dispatcher.hpp"

#include <glog/logging.h>
#include <google/protobuf/struct.pb.h>

namespace keel::runtime {

void MessageDispatcher::Register(const std::string& type, uint32_t min_version,
                                 uint32_t max_version, Handler handler) {
  CHECK(routes_.count(type) == 0) << "message type registered twice: " << type;
  routes_[type] = Route{min_version, max_version, std::move(handler)};
}

bool MessageDispatcher::Dispatch(const PeerId& peer, TransportMessage& message) {
  auto it = routes_.find(message.type);
  if (it == routes_.end()) {
    counters_.unknown_type++;
    // A misbehaving peer can send thousands a second; the counter tells how
    // many, the log only the first of each thousand.
    LOG_EVERY_N(WARNING, 1000) << "dropped message of unknown type '" << message.type << "' from "
                               << peer << " (" << google::COUNTER << " so far)";
    return false;
  }
  const Route& route = it->second;
  if (message.version < route.min_version || message.version > route.max_version) {
    counters_.unknown_version++;
    LOG_EVERY_N(WARNING, 1000) << "dropped '" << message.type << "' version " << message.version
                               << " from " << peer << ": this daemon reads versions "
                               << route.min_version << " to " << route.max_version << " ("
                               << google::COUNTER << " so far)";
    return false;
  }
  counters_.dispatched++;
  route.handler(peer, message);
  return true;
}

void MessageDispatcher::AddTo(google::protobuf::Struct* out) const {
  auto& d = *(*out->mutable_fields())["dispatch"].mutable_struct_value()->mutable_fields();
  d["dispatched"].set_number_value(static_cast<double>(counters_.dispatched));
  d["unknown_type"].set_number_value(static_cast<double>(counters_.unknown_type));
  d["unknown_version"].set_number_value(static_cast<double>(counters_.unknown_version));
}

}  // namespace keel::runtime
