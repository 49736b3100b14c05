#include "modules/isolator/cgroups/cgroup_layout.hpp"

#include <limits.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace keel::modules {
namespace {

struct MountLine {
  std::string id;
  std::string parent_id;
  std::string mount_point;
  std::string fs_type;
  std::string super_options;
};

std::vector<std::string> SplitOn(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// mountinfo writes space, tab, newline and backslash in paths as \ooo.
std::string DecodeOctalEscapes(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3' &&
        text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' && text[i + 3] <= '7') {
      out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                               (text[i + 3] - '0'));
      i += 3;
    } else {
      out += text[i];
    }
  }
  return out;
}

// "36 25 0:32 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory"
Result<MountLine> ParseMountLine(std::string_view line, size_t number) {
  std::vector<std::string> fields = SplitOn(line, ' ');
  size_t dash = 6;
  while (dash < fields.size() && fields[dash] != "-") ++dash;
  if (fields.size() < 6 || dash + 3 > fields.size()) {
    return Status::Error("/proc/self/mountinfo: line " + std::to_string(number) +
                         ": cannot parse '" + std::string(line) + "'");
  }
  MountLine m;
  m.id = fields[0];
  m.parent_id = fields[1];
  m.mount_point = DecodeOctalEscapes(fields[4]);
  m.fs_type = fields[dash + 1];
  m.super_options = dash + 3 < fields.size() ? fields[dash + 3] : "";
  return m;
}

// The controllers a v1 mount carries, from its super options
// ("rw,cpu,cpuacct"): everything that is not a mount flag.
std::set<std::string> V1Controllers(std::string_view super_options) {
  static const std::set<std::string> kFlags = {
      "rw",  "ro",   "noprefix",       "clone_children", "xattr",
      "all", "none", "cpuset_v2_mode", "favordynmods",   "sane_behavior"};
  std::set<std::string> controllers;
  for (const std::string& option : SplitOn(super_options, ',')) {
    if (option.find('=') != std::string::npos || kFlags.count(option) != 0) continue;
    controllers.insert(option);
  }
  return controllers;
}

bool IsAtOrBelow(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

size_t Depth(const std::string& path) {
  size_t depth = 0;
  for (char c : path) depth += c == '/';
  return depth;
}

std::string Join(const std::set<std::string>& words, const char* separator) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : separator) + w;
  return out;
}

std::set<std::string> Words(std::string_view text) {
  std::set<std::string> words;
  std::istringstream in{std::string(text)};
  std::string word;
  while (in >> word) words.insert(word);
  return words;
}

}  // namespace

const char* CgroupVersionName(CgroupVersion version) {
  return version == CgroupVersion::kV2 ? "v2" : "v1";
}

const char* CgroupLayoutKindName(CgroupLayoutKind kind) {
  switch (kind) {
    case CgroupLayoutKind::kLegacy:
      return "legacy (v1)";
    case CgroupLayoutKind::kHybrid:
      return "hybrid (v1 with a cgroup2 mount)";
    case CgroupLayoutKind::kUnified:
      return "unified (v2)";
  }
  return "unknown";
}

Result<CgroupLayout> DetectCgroupLayout(std::string_view mountinfo, std::string_view hierarchy) {
  if (hierarchy.empty() || hierarchy[0] != '/') {
    return Status::Error("cgroups_hierarchy '" + std::string(hierarchy) +
                         "' is not an absolute path");
  }
  std::string root = std::filesystem::path(hierarchy).lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();

  std::vector<MountLine> mounts;
  size_t number = 0;
  for (const std::string& line : SplitOn(mountinfo, '\n')) {
    ++number;
    Result<MountLine> m = ParseMountLine(line, number);
    if (!m.ok()) return m.status();
    mounts.push_back(std::move(m).value());
  }

  CgroupLayout layout;
  layout.hierarchy = root;
  for (const MountLine& m : mounts) {
    if (m.fs_type != "cgroup" && m.fs_type != "cgroup2") continue;
    if (!IsAtOrBelow(m.mount_point, root)) continue;
    bool covered = false;
    for (const MountLine& other : mounts) {
      covered = covered || (other.parent_id == m.id && other.mount_point == m.mount_point);
    }
    if (covered) continue;
    if (m.fs_type == "cgroup") {
      layout.v1_mounts[m.mount_point] = V1Controllers(m.super_options);
    } else if (!layout.v2_mount || Depth(m.mount_point) < Depth(*layout.v2_mount)) {
      layout.v2_mount = m.mount_point;
    }
  }

  if (layout.v2_mount && *layout.v2_mount == root) {
    layout.kind = CgroupLayoutKind::kUnified;
    layout.v1_mounts.clear();
  } else if (layout.v2_mount) {
    layout.kind = CgroupLayoutKind::kHybrid;
  } else if (!layout.v1_mounts.empty()) {
    layout.kind = CgroupLayoutKind::kLegacy;
  } else {
    return Status::Error("cgroups_hierarchy '" + root +
                         "' is not a cgroup mount: /proc/self/mountinfo shows no cgroup or "
                         "cgroup2 file system mounted there or below it");
  }
  return layout;
}

Result<ControllerMount> LocateController(const CgroupLayout& layout, std::string_view controller,
                                         std::string_view v2_controllers) {
  const std::string name(controller);
  const std::set<std::string> v2_listed = Words(v2_controllers);
  const std::string v2_list =
      v2_listed.empty() ? std::string("is empty") : "lists: " + Join(v2_listed, " ");

  if (layout.kind == CgroupLayoutKind::kUnified) {
    if (v2_listed.count(name) != 0) {
      return ControllerMount{name, CgroupVersion::kV2, layout.hierarchy, {}};
    }
    return Status::Error(
        "controller '" + name + "' is not available: cgroups_hierarchy '" + layout.hierarchy +
        "' is a cgroup v2 (unified) hierarchy and its cgroup.controllers " + v2_list);
  }

  const std::string* best = nullptr;
  for (const auto& [mount_point, controllers] : layout.v1_mounts) {
    if (controllers.count(name) == 0) continue;
    if (best == nullptr || Depth(mount_point) < Depth(*best)) best = &mount_point;
  }
  if (best != nullptr) {
    return ControllerMount{name, CgroupVersion::kV1, *best, layout.v1_mounts.at(*best)};
  }
  if (layout.v2_mount && v2_listed.count(name) != 0) {
    return ControllerMount{name, CgroupVersion::kV2, *layout.v2_mount, {}};
  }

  std::set<std::string> mounted;
  for (const auto& [mount_point, controllers] : layout.v1_mounts) {
    mounted.insert(controllers.empty() ? mount_point : Join(controllers, ","));
  }
  std::string message = "controller '" + name + "' is not available under cgroups_hierarchy '" +
                        layout.hierarchy + "' (" + CgroupLayoutKindName(layout.kind) +
                        "): no cgroup v1 hierarchy there carries it (mounted: " +
                        (mounted.empty() ? std::string("none") : Join(mounted, ", ")) + ")";
  if (layout.v2_mount) {
    message += " and the cgroup2 cgroup.controllers at " + *layout.v2_mount + " " + v2_list;
  }
  return Status::Error(message);
}

Result<ControllerMount> FindController(const std::string& hierarchy,
                                       const std::string& controller) {
  char resolved[PATH_MAX];
  if (::realpath(hierarchy.c_str(), resolved) == nullptr) {
    return Status::Error("cgroups_hierarchy '" + hierarchy + "': " + std::strerror(errno));
  }
  std::ifstream in("/proc/self/mountinfo");
  if (!in)
    return Status::Error("cannot read /proc/self/mountinfo: " + std::string(strerror(errno)));
  std::stringstream mountinfo;
  mountinfo << in.rdbuf();

  Result<CgroupLayout> layout = DetectCgroupLayout(mountinfo.str(), resolved);
  if (!layout.ok()) {
    if (hierarchy == resolved) return layout.status();
    return Status::Error(layout.status().message() + " (given as '" + hierarchy + "')");
  }
  std::string v2_controllers;
  if (layout->v2_mount) {
    std::ifstream file(*layout->v2_mount + "/cgroup.controllers");
    std::stringstream text;
    text << file.rdbuf();
    v2_controllers = text.str();
  }
  return LocateController(*layout, controller, v2_controllers);
}

}  // namespace keel::modules
