#include "tools/keelctl/modules_command.hpp"

#include <filesystem>
#include <iomanip>
#include <iostream>

#include "kernel/runtime/module_registry.hpp"

namespace keel::keelctl {

namespace {

// Column widths follow the longest cell, so the table stays readable for
// long module names without wrapping short ones.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 == row.size()) {
        std::cout << row[i];
      } else {
        std::cout << std::left << std::setw(static_cast<int>(widths[i]) + 2) << row[i];
      }
    }
    std::cout << "\n";
  }
}

}  // namespace

int ModulesList(const std::vector<std::string>& module_path) {
  runtime::ModuleRegistry registry(module_path);
  auto listing = registry.List();
  std::vector<std::vector<std::string>> rows = {
      {"KIND", "NAME", "VERSION", "LIBRARY", "DESCRIPTION"}};
  for (const auto& m : listing.manifests) {
    rows.push_back({ModuleKindName(m.kind), m.name, m.version, m.library_path, m.description});
  }
  PrintTable(rows);
  for (const auto& error : listing.errors) std::cerr << "keelctl: " << error << "\n";
  return listing.errors.empty() ? 0 : 1;
}

int ModulesInspect(const std::vector<std::string>& module_path, const std::string& name) {
  runtime::ModuleRegistry registry(module_path);
  auto manifest = registry.Find(name);
  if (!manifest.ok()) {
    std::cerr << "keelctl: " << manifest.status().message() << "\n";
    return 1;
  }
  const auto& m = *manifest;
  std::error_code ec;
  bool present = std::filesystem::is_regular_file(m.library_path, ec);
  std::cout << "name:         " << m.name << "\n"
            << "kind:         " << ModuleKindName(m.kind) << "\n"
            << "version:      " << m.version << "\n"
            << "abi_version:  " << m.abi_version << "\n"
            << "library:      " << m.library_path << (present ? "" : " (missing)") << "\n"
            << "manifest:     " << m.path << "\n"
            << "description:  " << m.description << "\n\n";
  if (m.parameters.empty()) {
    std::cout << "parameters:   none\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"PARAMETER", "TYPE", "DEFAULT", "DOC"}};
  for (const auto& p : m.parameters) {
    std::string def = p.required ? "(required)" : (p.default_value ? p.default_text : "(none)");
    rows.push_back({p.name, ParameterTypeName(p.type), def, p.doc});
  }
  PrintTable(rows);
  return 0;
}

}  // namespace keel::keelctl
