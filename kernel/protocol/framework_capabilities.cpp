#include "kernel/protocol/framework_capabilities.hpp"

namespace keel::protocol {

bool HasCapability(const v1::FrameworkInfo& info, v1::FrameworkInfo::Capability::Type type) {
  for (const auto& c : info.capabilities()) {
    if (c.type() == type) return true;
  }
  return false;
}

}  // namespace keel::protocol
