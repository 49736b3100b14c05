#include "kernel/runtime/module_loader.hpp"

#include <dlfcn.h>
#include <sys/stat.h>

#include <boost/dll/shared_library.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "kernel/runtime/parameter_binding.hpp"

namespace keel::runtime {

namespace fs = std::filesystem;

namespace {

std::string Octal(mode_t mode) {
  std::ostringstream out;
  out << "0" << std::oct << (mode & 07777);
  return out.str();
}

// A library that others can replace would run their code in the daemon.
Status CheckNotWritableByOthers(const std::string& path, const char* what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Error(path + ": cannot stat " + what + ": " + std::strerror(errno));
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return Status::Error(path + ": " + what + " is writable by group or others (mode " +
                         Octal(st.st_mode) + "); refusing to load modules from it");
  }
  return Status::Ok();
}

// Owns, in this order of destruction: the instance, its context, then the
// library reference, so the module's code outlives every object it made.
struct InstanceDeleter {
  std::shared_ptr<boost::dll::shared_library> library;
  std::shared_ptr<ModuleContext> context;
  void operator()(Module* module) const { delete module; }
};

}  // namespace

ModuleLoader::ModuleLoader(ModuleRegistry registry, ContextFactory context_factory)
    : registry_(std::move(registry)), context_factory_(std::move(context_factory)) {}

ModuleLoader::~ModuleLoader() = default;

Result<std::shared_ptr<boost::dll::shared_library>> ModuleLoader::OpenLibrary(
    const Manifest& manifest) {
  std::error_code ec;
  std::string canonical = fs::canonical(manifest.library_path, ec).string();
  if (ec) canonical = manifest.library_path;
  if (auto it = libraries_.find(canonical); it != libraries_.end()) return it->second;

  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code load_error;
  library->load(canonical, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
                load_error);
  if (load_error) {
    // Boost's error_code loses dlopen's reason (an unresolved symbol, a
    // missing dependency); ask the dynamic loader again for it.
    std::string detail = load_error.message();
    if (void* handle = ::dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      ::dlclose(handle);
    } else if (const char* reason = ::dlerror()) {
      detail = reason;
    }
    return Status::Error(manifest.library_path + ": cannot load library: " + detail);
  }
  libraries_[canonical] = library;
  return library;
}

Result<PreparedModule> ModuleLoader::Prepare(const std::string& name, ModuleKind kind,
                                             const google::protobuf::Struct& parameters,
                                             const std::string& where) {
  // 1. Manifest syntax.
  auto manifest = registry_.Find(name);
  if (!manifest.ok()) return Status::Error(where + ": " + manifest.status().message());
  const Manifest& m = *manifest;
  if (m.kind != kind) {
    return Status::Error(where + ": module '" + name + "' is " + ModuleKindName(m.kind) + " (" +
                         m.path + "), not " + ModuleKindName(kind));
  }

  // 2. Library present.
  std::error_code ec;
  if (!fs::is_regular_file(m.library_path, ec)) {
    return Status::Error(m.path + ": field 'library': " + m.library_path + " does not exist");
  }

  // 3. Neither directory nor file writable by group or others.
  if (auto s = CheckNotWritableByOthers(fs::path(m.library_path).parent_path().string(),
                                        "module directory");
      !s.ok()) {
    return s;
  }
  if (auto s = CheckNotWritableByOthers(m.library_path, "module library"); !s.ok()) return s;

  // 4. Descriptor symbol present.
  auto library = OpenLibrary(m);
  if (!library.ok()) return library.status();
  if (!(*library)->has(kLibraryDescriptorSymbol)) {
    return Status::Error(m.library_path + ": no descriptor symbol '" + kLibraryDescriptorSymbol +
                         "' (not a Keel module? it must use KEEL_MODULE_LIBRARY)");
  }
  const auto& lib = (*library)->get_alias<const LibraryDescriptor>(kLibraryDescriptorSymbol);

  // 5. ABI version, then what else must match for shared C++ types to agree.
  if (lib.abi_version != kModuleAbiVersion) {
    return Status::Error(m.library_path + ": field 'abi_version': library has " +
                         std::to_string(lib.abi_version) + ", this daemon needs " +
                         std::to_string(kModuleAbiVersion));
  }
  if (m.abi_version != kModuleAbiVersion) {
    return Status::Error(m.path + ": field 'abi_version': manifest says " +
                         std::to_string(m.abi_version) + ", this daemon needs " +
                         std::to_string(kModuleAbiVersion));
  }
  if (lib.descriptor_size != sizeof(ModuleDescriptor)) {
    return Status::Error(m.library_path + ": field 'descriptor_size': library has " +
                         std::to_string(lib.descriptor_size) + ", this daemon needs " +
                         std::to_string(sizeof(ModuleDescriptor)));
  }
  if (lib.build_signature == nullptr || std::strcmp(lib.build_signature, BuildSignature()) != 0) {
    return Status::Error(m.library_path + ": field 'build_signature': library has '" +
                         (lib.build_signature ? lib.build_signature : "") +
                         "', this daemon needs '" + BuildSignature() + "'");
  }

  // 6. Kind and name as the manifest says.
  const ModuleDescriptor* descriptor = nullptr;
  std::string provided;
  for (size_t i = 0; i < lib.module_count; ++i) {
    const ModuleDescriptor& d = lib.modules[i];
    provided += (provided.empty() ? "'" : ", '") + std::string(d.name ? d.name : "") + "'";
    if (d.name != nullptr && name == d.name) descriptor = &d;
  }
  if (descriptor == nullptr) {
    return Status::Error(m.path + ": field 'name': '" + name + "' is not in " + m.library_path +
                         " (it provides " + (provided.empty() ? "no modules" : provided) + ")");
  }
  if (descriptor->kind != m.kind) {
    return Status::Error(m.path + ": field 'kind': manifest says " + ModuleKindName(m.kind) +
                         ", library " + m.library_path + " says " +
                         ModuleKindName(descriptor->kind));
  }
  if (descriptor->create == nullptr) {
    return Status::Error(m.library_path + ": module '" + name + "' has no factory");
  }

  // 7. Parameters.
  std::vector<std::string> errors;
  auto params = BindParameters(m, parameters, where + ".parameters", &errors);
  if (!params.ok()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
    return Status::Error(all);
  }
  return PreparedModule{m, std::move(params).value(), descriptor, *library};
}

Result<std::shared_ptr<Module>> ModuleLoader::Create(const PreparedModule& prepared) {
  std::shared_ptr<ModuleContext> context = context_factory_(prepared.manifest, prepared.parameters);
  Module* raw = nullptr;
  try {
    raw = prepared.descriptor->create(*context);
  } catch (const std::exception& e) {
    return Status::Error("module '" + prepared.manifest.name + "' (" +
                         prepared.manifest.library_path + "): factory failed: " + e.what());
  } catch (...) {
    return Status::Error("module '" + prepared.manifest.name + "' (" +
                         prepared.manifest.library_path +
                         "): factory failed with a non-standard exception");
  }
  if (raw == nullptr) {
    return Status::Error("module '" + prepared.manifest.name + "' (" +
                         prepared.manifest.library_path + "): factory returned nothing");
  }
  return std::shared_ptr<Module>(raw, InstanceDeleter{prepared.library, std::move(context)});
}

}  // namespace keel::runtime
