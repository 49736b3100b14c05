// Where the cgroup controllers of a host are, read from /proc/self/mountinfo.
//
// Three layouts exist, and the cgroups isolators support all of them:
//   legacy   cgroup v1 only: one hierarchy per controller or group of
//            controllers, each a `cgroup` mount below the hierarchy root
//            (/sys/fs/cgroup/memory, /sys/fs/cgroup/cpu,cpuacct ...);
//   hybrid   the same v1 hierarchies plus a `cgroup2` mount below the root
//            (usually /sys/fs/cgroup/unified), most often with no controllers;
//   unified  cgroup v2: one `cgroup2` mount at the root itself, its
//            controllers listed in its cgroup.controllers.
//
// The layout is read from the mount table, never guessed from directory
// names: on a hybrid host /sys/fs/cgroup/cpu,cpuacct can be an empty
// directory while cpu and cpuacct are separate mounts. DetectCgroupLayout()
// and LocateController() are pure functions of their inputs (so that each
// layout can be tested from sample texts); FindController() feeds them the
// host's files.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "keel/status.hpp"

namespace keel::modules {

enum class CgroupVersion { kV1, kV2 };
const char* CgroupVersionName(CgroupVersion version);  // "v1", "v2"

enum class CgroupLayoutKind { kLegacy, kHybrid, kUnified };
const char* CgroupLayoutKindName(CgroupLayoutKind kind);  // "legacy (v1)", ...

struct CgroupLayout {
  CgroupLayoutKind kind = CgroupLayoutKind::kLegacy;
  std::string hierarchy;  // the root asked for, normalized ("/sys/fs/cgroup")
  // Each visible cgroup v1 mount at or below `hierarchy` and the controllers
  // it carries ("cpu", "cpuacct"; named hierarchies such as name=systemd
  // carry none).
  std::map<std::string, std::set<std::string>> v1_mounts;
  // The cgroup2 mount: `hierarchy` itself when unified, a mount below it
  // when hybrid, none on a legacy host.
  std::optional<std::string> v2_mount;
};

// Where one controller's cgroups go: <mount_point>/<cgroups_root>/<id>.
struct ControllerMount {
  std::string controller;  // "memory"
  CgroupVersion version = CgroupVersion::kV1;
  std::string mount_point;  // "/sys/fs/cgroup/memory", or "/sys/fs/cgroup" on v2
  // v1: every controller the mount carries ("cpu", "cpuacct" when
  // co-mounted); v2: empty (every controller shares the one tree).
  std::set<std::string> comounted;
};

// The layout below `hierarchy` (an absolute path) according to `mountinfo`
// (the text of /proc/self/mountinfo). A mount covered by another mount on
// the same point (one whose parent is it) does not count. Fails, naming the
// parameter `cgroups_hierarchy`, when no cgroup file system is mounted at or
// below `hierarchy`, and on a mountinfo line it cannot parse.
Result<CgroupLayout> DetectCgroupLayout(std::string_view mountinfo, std::string_view hierarchy);

// Where `controller` lives in `layout`. `v2_controllers` is the text of
// cgroup.controllers at layout.v2_mount ("" when there is none). On a unified
// layout the controller must be listed there. Otherwise a v1 mount carrying
// it wins (the one closest to the root if several do), and failing that the
// hybrid cgroup2 mount if it lists the controller. The error names the
// controller, the hierarchy and what is mounted instead.
Result<ControllerMount> LocateController(const CgroupLayout& layout, std::string_view controller,
                                         std::string_view v2_controllers);

// LocateController() on this host: resolves `hierarchy` (symlinks too),
// reads /proc/self/mountinfo and, when there is a cgroup2 mount, its
// cgroup.controllers. Reads only; writes nothing.
Result<ControllerMount> FindController(const std::string& hierarchy, const std::string& controller);

}  // namespace keel::modules
