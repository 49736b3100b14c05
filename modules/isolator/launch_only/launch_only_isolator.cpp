#include "modules/isolator/launch_only/launch_only_isolator.hpp"

namespace keel::modules {

Status LaunchOnlyIsolator::Known(const ContainerId& id) const {
  if (prepared_.count(id) == 0) return Status::Error(name_ + ": unknown container '" + id + "'");
  return Status::Ok();
}

Result<LaunchInfo> LaunchOnlyIsolator::Prepare(const ContainerId& id,
                                               const ContainerConfig& config) {
  if (prepared_.count(id) != 0) {
    return Status::Error(name_ + ": container '" + id + "' is already prepared");
  }
  Result<LaunchInfo> info = LaunchFor(config);
  if (!info.ok()) return Status::Error(name_ + ": " + info.status().message());
  prepared_.insert(id);
  return info;
}

Status LaunchOnlyIsolator::Isolate(const ContainerId& id, int) { return Known(id); }

Status LaunchOnlyIsolator::Recover(const std::vector<RecoveredContainer>& containers) {
  for (const RecoveredContainer& c : containers) prepared_.insert(c.id);
  return Status::Ok();
}

Status LaunchOnlyIsolator::Update(const ContainerId& id, const Resources&) { return Known(id); }

Status LaunchOnlyIsolator::Usage(const ContainerId& id, ResourceStatistics*) { return Known(id); }

Status LaunchOnlyIsolator::Cleanup(const ContainerId& id) {
  prepared_.erase(id);
  return Status::Ok();
}

}  // namespace keel::modules
