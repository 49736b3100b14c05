// Module manifests: what a module is and accepts, read without loading code.
//
// A manifest is `<name>.json` (a '/' in the name written as '_') in a
// directory of the module path, beside the library it names. Reading one
// never opens the library, so listing modules and validating configs is cheap
// and cannot run untrusted code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "keel/module.hpp"
#include "keel/parameters.hpp"
#include "keel/status.hpp"

namespace keel::runtime {

struct ParameterSpec {
  std::string name;
  ParameterType type = ParameterType::kString;
  std::optional<Parameters::Value> default_value;
  bool required = false;
  std::string doc;
  std::string default_text;  // the default as written, for listings
};

struct Manifest {
  std::string path;  // the manifest file
  std::string name;
  ModuleKind kind = ModuleKind::kAllocator;
  std::string library;       // as written
  std::string library_path;  // resolved against the manifest's directory
  std::string version;
  uint32_t abi_version = 0;
  std::string description;
  std::vector<ParameterSpec> parameters;

  const ParameterSpec* FindParameter(const std::string& name) const;
};

// "cgroups/mem" -> "cgroups_mem.json".
std::string ManifestFileName(const std::string& module_name);

// Reads and checks one manifest. Errors name the file and the field:
//   "/lib/keel/modules/drf.json: field 'kind': 'alocator' is not a module kind".
Result<Manifest> ReadManifest(const std::string& path);

}  // namespace keel::runtime
