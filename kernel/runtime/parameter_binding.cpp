#include "kernel/runtime/parameter_binding.hpp"

#include <google/protobuf/struct.pb.h>

#include "kernel/runtime/json_value.hpp"

namespace keel::runtime {

Result<Parameters> BindParameters(const Manifest& manifest, const google::protobuf::Struct& given,
                                  const std::string& where, std::vector<std::string>* errors) {
  const size_t errors_before = errors->size();
  Parameters params;

  std::string accepted;
  for (const auto& spec : manifest.parameters) {
    accepted += (accepted.empty() ? "" : ", ") + spec.name;
  }
  if (accepted.empty()) accepted = "none";

  // protobuf's Struct is a map; walk it in name order so errors are stable.
  std::map<std::string, const google::protobuf::Value*> sorted;
  for (const auto& [name, value] : given.fields()) sorted[name] = &value;

  for (const auto& [name, value] : sorted) {
    const ParameterSpec* spec = manifest.FindParameter(name);
    if (spec == nullptr) {
      errors->push_back(where + "." + name + ": unknown parameter of module '" + manifest.name +
                        "' (it accepts: " + accepted + ")");
      continue;
    }
    auto typed = ParameterFromJson(*value, spec->type);
    if (!typed.ok()) {
      errors->push_back(where + "." + name + ": " + ParameterTypeName(spec->type) +
                        " parameter: " + typed.status().message());
      continue;
    }
    params.Set(name, std::move(typed).value());
  }
  for (const auto& spec : manifest.parameters) {
    if (params.Has(spec.name)) continue;
    if (spec.default_value) {
      params.Set(spec.name, *spec.default_value);
    } else if (spec.required) {
      errors->push_back(where + "." + spec.name + ": required parameter of module '" +
                        manifest.name + "' is missing");
    }
  }
  if (errors->size() != errors_before) return Status::Error((*errors)[errors_before]);
  return params;
}

}  // namespace keel::runtime
