// ModuleLoader: loads module libraries with Boost.DLL and makes instances.
//
// Loading a module runs these checks in order and stops at the first that
// fails, with one error line naming the file and the field at fault:
//   1. manifest syntax            5. ABI version (and build signature) equal
//   2. library present            6. kind and name equal to the manifest
//   3. directory not writable     7. parameters valid against the manifest
//      by group or others
//   4. descriptor symbol present
// Then the module's factory runs; a factory that throws is reported, not a
// crash. Every instance keeps its library loaded for as long as it lives.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "keel/module.hpp"
#include "kernel/runtime/manifest.hpp"
#include "kernel/runtime/module_registry.hpp"

namespace boost::dll {
class shared_library;
}
namespace google::protobuf {
class Struct;
}

namespace keel::runtime {

// A module that passed every check, ready to instantiate.
struct PreparedModule {
  Manifest manifest;
  Parameters parameters;
  const ModuleDescriptor* descriptor = nullptr;
  std::shared_ptr<boost::dll::shared_library> library;
};

// Builds the context handed to a module's factory.
using ContextFactory =
    std::function<std::unique_ptr<ModuleContext>(const Manifest&, const Parameters&)>;

class ModuleLoader {
 public:
  ModuleLoader(ModuleRegistry registry, ContextFactory context_factory);
  ~ModuleLoader();

  const ModuleRegistry& registry() const { return registry_; }

  // Checks 1-7 for module `name`, expected to be of `kind`. `where` names the
  // config field that asked for it ("master.json: allocator"), for errors.
  Result<PreparedModule> Prepare(const std::string& name, ModuleKind kind,
                                 const google::protobuf::Struct& parameters,
                                 const std::string& where);

  // Runs the factory. The instance owns its context and a reference to its
  // library.
  Result<std::shared_ptr<Module>> Create(const PreparedModule& prepared);

  // Prepare + Create, typed by kind.
  template <typename Interface>
  Result<std::shared_ptr<Interface>> Load(const std::string& name, ModuleKind kind,
                                          const google::protobuf::Struct& parameters,
                                          const std::string& where) {
    auto prepared = Prepare(name, kind, parameters, where);
    if (!prepared.ok()) return prepared.status();
    auto instance = Create(*prepared);
    if (!instance.ok()) return instance.status();
    // Safe: Create() checked the kind, and KEEL_MODULE's factory returns the
    // kind's interface converted to Module*.
    return std::shared_ptr<Interface>(*instance, static_cast<Interface*>(instance->get()));
  }

 private:
  Result<std::shared_ptr<boost::dll::shared_library>> OpenLibrary(const Manifest& manifest);

  ModuleRegistry registry_;
  ContextFactory context_factory_;
  std::map<std::string, std::shared_ptr<boost::dll::shared_library>> libraries_;
};

}  // namespace keel::runtime
