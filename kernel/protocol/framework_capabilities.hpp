// What a framework declared it can handle (FrameworkInfo.capabilities), which
// the master and the agent both consult (PARTITION_AWARE, MULTI_ROLE, ...).
#pragma once

#include "keel/v1/mesos.pb.h"

namespace keel::protocol {

bool HasCapability(const v1::FrameworkInfo& info, v1::FrameworkInfo::Capability::Type type);

}  // namespace keel::protocol
