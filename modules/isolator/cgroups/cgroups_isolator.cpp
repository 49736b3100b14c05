#include "modules/isolator/cgroups/cgroups_isolator.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>
#include <stdexcept>

namespace keel::modules {
namespace {

constexpr const char* kHoldPrefix = "keel-held-by-";

bool ValidId(const ContainerId& id) {
  return !id.empty() && id != "." && id != ".." && id.size() <= 255 &&
         id.find_first_of(std::string("/\n\0", 3)) == std::string::npos;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : "; ") + line;
  return out;
}

}  // namespace

CgroupsParameters ReadCgroupsParameters(const Parameters& parameters) {
  CgroupsParameters p;
  p.hierarchy = parameters.GetString("cgroups_hierarchy");
  if (p.hierarchy.empty() || p.hierarchy[0] != '/') {
    throw std::invalid_argument("parameter 'cgroups_hierarchy': '" + p.hierarchy +
                                "' is not an absolute path");
  }
  const std::string& root = parameters.GetString("cgroups_root");
  std::istringstream parts(root);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    if (part == "." || part == "..") {
      throw std::invalid_argument("parameter 'cgroups_root': '" + root +
                                  "' must not contain '.' or '..'");
    }
    p.root += (p.root.empty() ? "" : "/") + part;
  }
  if (p.root.empty()) {
    throw std::invalid_argument(
        "parameter 'cgroups_root': must name a directory below the hierarchy (got '" + root +
        "'); the hierarchy's root cgroup is not the agent's to fill");
  }
  return p;
}

ControllerMount FindControllerOrThrow(const CgroupsParameters& parameters,
                                      const std::string& controller) {
  Result<ControllerMount> mount = FindController(parameters.hierarchy, controller);
  if (!mount.ok()) throw std::runtime_error(mount.status().message());
  return *mount;
}

CgroupsIsolator::CgroupsIsolator(ModuleContext& context, std::vector<ControllerMount> mounts)
    : context_(context),
      parameters_(ReadCgroupsParameters(context.parameters())),
      mounts_(std::move(mounts)) {
  hold_name_ = kHoldPrefix + context_.module_name();
  std::replace(hold_name_.begin(), hold_name_.end(), '/', '-');
  // A cgroup directory another isolator may use too needs a hold: on v2
  // (one tree for all), or a v1 mount carrying others' controllers. Where
  // every directory is this isolator's alone (v1 as usually mounted), the
  // hold's mkdir and rmdir per launch are saved.
  std::set<std::string> own;
  for (const ControllerMount& m : mounts_) own.insert(m.controller);
  for (const ControllerMount& m : mounts_) {
    if (m.version == CgroupVersion::kV2) needs_hold_ = true;
    for (const std::string& c : m.comounted) needs_hold_ = needs_hold_ || own.count(c) == 0;
  }
}

CgroupsIsolator::~CgroupsIsolator() = default;

Status CgroupsIsolator::Fail(const ContainerId& id, const std::string& what) const {
  return Status::Error(context_.module_name() + ": container '" + id + "': " + what);
}

const ControllerMount& CgroupsIsolator::MountOf(const std::string& controller) const {
  for (const ControllerMount& m : mounts_) {
    if (m.controller == controller) return m;
  }
  throw std::logic_error(context_.module_name() + ": no mount for controller " + controller);
}

Cgroup CgroupsIsolator::CgroupOf(const ContainerId& id, const std::string& controller) const {
  return Cgroup(MountOf(controller), parameters_.root + "/" + id);
}

std::vector<Cgroup> CgroupsIsolator::CgroupsOf(const ContainerId& id) const {
  std::vector<Cgroup> cgroups;
  for (const ControllerMount& m : mounts_) {
    Cgroup cgroup(m, parameters_.root + "/" + id);
    bool seen = false;
    for (const Cgroup& c : cgroups) seen = seen || c.path() == cgroup.path();
    if (!seen) cgroups.push_back(std::move(cgroup));
  }
  return cgroups;
}

Result<LaunchInfo> CgroupsIsolator::Prepare(const ContainerId& id, const ContainerConfig& config) {
  if (!ValidId(id)) return Fail(id, "not a valid container id (it names a directory)");
  if (Known(id)) return Fail(id, "already prepared");
  std::vector<std::string> errors;
  for (const Cgroup& cgroup : CgroupsOf(id)) {
    Status made = cgroup.Create();
    if (made.ok() && needs_hold_) made = cgroup.CreateChild(hold_name_);
    if (!made.ok()) {
      errors.push_back(made.message());
      break;
    }
  }
  if (errors.empty()) {
    containers_[id] = config.resources;
    Status limited = ApplyLimits(id, config.resources, /*first=*/true);
    if (limited.ok()) limited = OnPrepared(id);
    if (limited.ok()) return LaunchInfo{};
    errors.push_back(limited.message());
    OnCleanup(id);
  }
  Teardown(id, &errors);
  containers_.erase(id);
  return Fail(id, JoinLines(errors));
}

Status CgroupsIsolator::Isolate(const ContainerId& id, int pid) {
  if (!Known(id)) return Fail(id, "unknown container");
  for (const Cgroup& cgroup : CgroupsOf(id)) {
    if (Status s = cgroup.AddProcess(pid); !s.ok()) return Fail(id, s.message());
  }
  return Status::Ok();
}

Status CgroupsIsolator::Recover(const std::vector<RecoveredContainer>& containers) {
  for (const RecoveredContainer& c : containers) {
    if (!ValidId(c.id) || Known(c.id) || !CgroupsOf(c.id).front().Exists()) continue;
    std::vector<std::string> errors;
    for (const Cgroup& cgroup : CgroupsOf(c.id)) {
      if (needs_hold_) {
        if (Status s = cgroup.CreateChild(hold_name_); !s.ok()) errors.push_back(s.message());
      }
    }
    containers_[c.id] = c.config.resources;
    if (Status s = OnRecovered(c.id); !s.ok()) errors.push_back(s.message());
    if (!errors.empty()) return Fail(c.id, JoinLines(errors));
  }
  return Status::Ok();
}

bool CgroupsIsolator::Signal(const ContainerId& id, int signal) {
  if (!ValidId(id)) return false;
  Cgroup cgroup = CgroupsOf(id).front();
  if (!Known(id) && !cgroup.Exists()) return false;
  if (Status s = cgroup.Signal(signal); !s.ok()) {
    context_.Log(LogLevel::kWarning, Fail(id, s.message()).message());
  }
  return true;
}

Status CgroupsIsolator::Update(const ContainerId& id, const Resources& resources) {
  if (!Known(id)) return Fail(id, "unknown container");
  if (Status s = ApplyLimits(id, resources, /*first=*/false); !s.ok()) return s;
  containers_[id] = resources;
  return Status::Ok();
}

Status CgroupsIsolator::Usage(const ContainerId& id, ResourceStatistics* stats) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return Fail(id, "unknown container");
  if (stats->timestamp == 0) {
    stats->timestamp =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  return Measure(id, it->second, stats);
}

Status CgroupsIsolator::Cleanup(const ContainerId& id) {
  if (!ValidId(id)) return Fail(id, "not a valid container id (it names a directory)");
  if (Known(id)) OnCleanup(id);
  std::vector<std::string> errors;
  Teardown(id, &errors);
  containers_.erase(id);
  if (!errors.empty()) return Fail(id, JoinLines(errors));
  return Status::Ok();
}

void CgroupsIsolator::Teardown(const ContainerId& id, std::vector<std::string>* errors) {
  for (const Cgroup& cgroup : CgroupsOf(id)) {
    if (needs_hold_) {
      if (Status s = cgroup.RemoveChild(hold_name_); !s.ok()) errors->push_back(s.message());
    }
    if (Status s = cgroup.KillAll(kKillTimeout); !s.ok()) errors->push_back(s.message());
    Result<std::vector<std::string>> children = cgroup.Children();
    if (!children.ok()) {
      errors->push_back(children.status().message());
      continue;
    }
    const bool held = std::any_of(children->begin(), children->end(), [](const std::string& c) {
      return c.rfind(kHoldPrefix, 0) == 0;
    });
    if (held) continue;  // another isolator removes it in its Cleanup()
    if (Status s = cgroup.Remove(kRemoveTimeout); !s.ok()) errors->push_back(s.message());
  }
}

}  // namespace keel::modules
