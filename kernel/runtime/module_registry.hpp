// ModuleRegistry: the modules a daemon can see, found through manifests in
// the module path. Reads manifests only; never loads a library.
#pragma once

#include <string>
#include <vector>

#include "keel/status.hpp"
#include "kernel/runtime/manifest.hpp"

namespace keel::runtime {

// The module path a daemon uses when neither flag nor config gives one: the
// build tree's (`<exe dir>/../lib/keel/modules`, so a daemon run from a build
// directory finds the modules built with it) and then the installed one.
std::vector<std::string> DefaultModulePath();

class ModuleRegistry {
 public:
  explicit ModuleRegistry(std::vector<std::string> module_path);

  const std::vector<std::string>& module_path() const { return module_path_; }

  // The manifest of `name`: the first directory of the path that holds
  // `<name>.json` wins. A malformed manifest is an error (not skipped), so a
  // broken install is never silently replaced by another one.
  Result<Manifest> Find(const std::string& name) const;

  struct Listing {
    std::vector<Manifest> manifests;  // sorted by kind, then name
    std::vector<std::string> errors;  // manifests that did not read, one line each
  };
  // Every manifest in the path; a name found twice lists the first only.
  Listing List() const;

 private:
  std::vector<std::string> module_path_;
};

}  // namespace keel::runtime
