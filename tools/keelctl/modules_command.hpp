// `keelctl modules list|inspect`: what modules a module path offers, read
// from manifests alone (no module code runs).
#pragma once

#include <string>
#include <vector>

namespace keel::keelctl {

int ModulesList(const std::vector<std::string>& module_path);
int ModulesInspect(const std::vector<std::string>& module_path, const std::string& name);

}  // namespace keel::keelctl
