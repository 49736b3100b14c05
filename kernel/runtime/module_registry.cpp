#include "kernel/runtime/module_registry.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace keel::runtime {

namespace fs = std::filesystem;

std::vector<std::string> DefaultModulePath() {
  std::vector<std::string> path;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path build_dir = exe.parent_path().parent_path() / "lib" / "keel" / "modules";
    if (fs::is_directory(build_dir, ec)) path.push_back(build_dir.lexically_normal().string());
  }
  path.push_back(KEEL_INSTALL_MODULE_DIR);
  return path;
}

ModuleRegistry::ModuleRegistry(std::vector<std::string> module_path)
    : module_path_(std::move(module_path)) {}

Result<Manifest> ModuleRegistry::Find(const std::string& name) const {
  const std::string file = ManifestFileName(name);
  for (const auto& dir : module_path_) {
    fs::path candidate = fs::path(dir) / file;
    std::error_code ec;
    if (!fs::exists(candidate, ec)) continue;
    auto manifest = ReadManifest(candidate.string());
    if (!manifest.ok()) return manifest.status();
    if (manifest->name != name) {
      return Status::Error(candidate.string() + ": field 'name': manifest says '" + manifest->name +
                           "', but its file name is for module '" + name + "'");
    }
    return manifest;
  }
  std::string searched;
  for (const auto& dir : module_path_) searched += (searched.empty() ? "" : ":") + dir;
  return Status::Error("module '" + name + "': no manifest " + file + " in the module path (" +
                       searched + ")");
}

ModuleRegistry::Listing ModuleRegistry::List() const {
  Listing listing;
  std::set<std::string> seen;
  for (const auto& dir : module_path_) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto manifest = ReadManifest(f.string());
      if (!manifest.ok()) {
        listing.errors.push_back(manifest.status().message());
        continue;
      }
      if (seen.insert(manifest->name).second)
        listing.manifests.push_back(std::move(manifest).value());
    }
  }
  std::sort(listing.manifests.begin(), listing.manifests.end(),
            [](const Manifest& a, const Manifest& b) {
              return std::make_pair(a.kind, a.name) < std::make_pair(b.kind, b.name);
            });
  return listing;
}

}  // namespace keel::runtime
