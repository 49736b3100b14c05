#include "modules/allocator/core/role_path.hpp"

namespace keel::modules {

std::vector<std::string> SelfAndAncestors(const std::string& role) {
  std::vector<std::string> out;
  for (size_t pos = role.find('/'); pos != std::string::npos; pos = role.find('/', pos + 1)) {
    out.push_back(role.substr(0, pos));
  }
  out.push_back(role);
  return out;
}

std::string ParentRole(const std::string& role) {
  auto slash = role.rfind('/');
  return slash == std::string::npos ? "" : role.substr(0, slash);
}

}  // namespace keel::modules
