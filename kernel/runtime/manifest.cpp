#include "kernel/runtime/manifest.hpp"

#include <filesystem>

#include "keel/config/config.pb.h"
#include "kernel/runtime/json_file.hpp"
#include "kernel/runtime/json_value.hpp"

namespace keel::runtime {

namespace fs = std::filesystem;

const ParameterSpec* Manifest::FindParameter(const std::string& name) const {
  for (const auto& p : parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string ManifestFileName(const std::string& module_name) {
  std::string file = module_name;
  for (char& c : file) {
    if (c == '/') c = '_';
  }
  return file + ".json";
}

Result<Manifest> ReadManifest(const std::string& path) {
  config::ModuleManifest proto;
  if (auto s = ReadJsonFile(path, &proto); !s.ok()) return s;

  auto field_error = [&](const std::string& field, const std::string& what) {
    return Status::Error(path + ": field '" + field + "': " + what);
  };

  Manifest m;
  m.path = path;
  m.name = proto.name();
  if (m.name.empty()) return field_error("name", "missing");
  if (proto.kind().empty()) return field_error("kind", "missing");
  if (!ParseModuleKind(proto.kind(), &m.kind)) {
    return field_error("kind", "'" + proto.kind() +
                                   "' is not a module kind (allocator, isolator, "
                                   "containerizer, authenticator, transport)");
  }
  m.library = proto.library();
  if (m.library.empty()) return field_error("library", "missing");
  if (m.library.find('/') != std::string::npos) {
    return field_error("library",
                       "'" + m.library + "' must be a file name in the manifest's directory");
  }
  m.library_path =
      fs::absolute(fs::path(path).parent_path() / m.library).lexically_normal().string();
  m.version = proto.version();
  if (m.version.empty()) return field_error("version", "missing");
  m.abi_version = proto.abi_version();
  if (m.abi_version == 0) return field_error("abi_version", "missing");
  m.description = proto.description();

  for (int i = 0; i < proto.parameters_size(); ++i) {
    const auto& p = proto.parameters(i);
    std::string field = "parameters[" + std::to_string(i) + "]";
    ParameterSpec spec;
    spec.name = p.name();
    if (spec.name.empty()) return field_error(field + ".name", "missing");
    if (m.FindParameter(spec.name) != nullptr) {
      return field_error(field + ".name", "'" + spec.name + "' is declared twice");
    }
    field = "parameters." + spec.name;
    if (!ParseParameterType(p.type(), &spec.type)) {
      return field_error(field + ".type",
                         "'" + p.type() +
                             "' is not a parameter type (string, int, double, bool, duration, "
                             "bytes, list)");
    }
    spec.required = p.required();
    spec.doc = p.doc();
    if (p.has_default_()) {
      auto value = ParameterFromJson(p.default_(), spec.type);
      if (!value.ok()) return field_error(field + ".default", value.status().message());
      spec.default_value = std::move(value).value();
      spec.default_text = JsonValueText(p.default_());
    }
    if (spec.required && spec.default_value) {
      return field_error(field + ".default", "a required parameter cannot have a default");
    }
    m.parameters.push_back(std::move(spec));
  }
  return m;
}

}  // namespace keel::runtime
