#include "kernel/master/role_name.hpp"

#include <vector>

namespace keel::master {

namespace {

std::vector<std::string> Components(const std::string& role) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t slash = role.find('/', start);
    out.push_back(role.substr(start, slash - start));
    if (slash == std::string::npos) return out;
    start = slash + 1;
  }
}

bool IsForbiddenCharacter(unsigned char c) {
  return c < 0x20 || c == 0x7f || c == ' ' || c == '\\';
}

}  // namespace

std::optional<std::string> InvalidRoleReason(const std::string& role) {
  const std::string quoted = "role '" + role + "'";
  if (role.empty()) return std::string("the role name is empty");
  if (role == "*") return std::nullopt;
  if (role.front() == '/') return quoted + " starts with '/'";
  if (role.back() == '/') return quoted + " ends with '/'";
  for (const std::string& component : Components(role)) {
    if (component.empty()) return quoted + " has two '/' in a row";
    if (component == "." || component == "..") {
      return quoted + " has '" + component + "' as a path component";
    }
    if (component == "*") return quoted + " has '*' as a path component";
    if (component.front() == '-') return quoted + " has a path component starting with '-'";
    for (unsigned char c : component) {
      if (IsForbiddenCharacter(c)) {
        return quoted + " contains whitespace, a backslash or a control character";
      }
    }
  }
  return std::nullopt;
}

bool IsSelfOrSubRole(const std::string& role, const std::string& ancestor) {
  return role == ancestor || (role.size() > ancestor.size() && role.starts_with(ancestor) &&
                              role[ancestor.size()] == '/');
}

}  // namespace keel::master
