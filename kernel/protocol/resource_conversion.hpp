// Between the wire's keel.v1.Resource lists and the SDK's Resources, which do
// the arithmetic. A role comes from `reservations` (the last, most refined
// one), else the deprecated `role`; "*" is unreserved.
#pragma once

#include <string>

#include "keel/resources.hpp"
#include "keel/status.hpp"

namespace google::protobuf {
template <typename T>
class RepeatedPtrField;
}
namespace keel::v1 {
class Resource;
}

namespace keel::protocol {

using ResourceList = google::protobuf::RepeatedPtrField<v1::Resource>;

// Errors name the entry at fault: "resources[2] 'cpus': negative scalar".
Result<Resources> FromProto(const ResourceList& list);

// Fills `out` (cleared first). With `allocation_role`, every resource carries
// allocation_info{role} (offers to MULTI_ROLE frameworks).
void ToProto(const Resources& resources, ResourceList* out,
             const std::string& allocation_role = "");

}  // namespace keel::protocol
